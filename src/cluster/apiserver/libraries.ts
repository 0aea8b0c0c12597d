// Libraries a request may need but start-up does not. Each loads on first use and is kept, so
// the cluster is ready sooner and a learner's first `kubectl apply` pays the load once.
import { createRequire } from 'node:module';

function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined;
  return () => (loading ??= load());
}

export const libraries = {
  patch: once(() => import('./patch/index.ts')),
  protobuf: once(() => import('./protobuf/index.ts')),
  tables: once(() => import('./tables/index.ts')),
  openapi: once(() => import('./openapi/index.ts')),
};

const require = createRequire(import.meta.url);
let yamlModule: typeof import('yaml') | undefined;

/** The yaml package, loaded synchronously on first use (YAML bodies and replies are rare). */
export function yaml(): typeof import('yaml') {
  return (yamlModule ??= require('yaml') as typeof import('yaml'));
}
