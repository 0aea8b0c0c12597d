// An embedded cluster for a test file (port 0, its own temp dir) and client-node against it.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { startCluster, type RunningCluster } from '../../src/cluster/index.ts';
import { KubeClient, type KubeObject } from '../../src/labs/index.ts';

export interface TestCluster {
  cluster: RunningCluster;
  kubeConfig: KubeConfig;
  client: KubeClient;
  dir: string;
  /** Creates a namespace with a unique name and returns it. */
  namespace(prefix?: string): Promise<string>;
  /** Creates objects (manifests) in a namespace, in order. */
  create(namespace: string, ...objects: KubeObject[]): Promise<void>;
  stop(): Promise<void>;
}

let counter = 0;

export async function startTestCluster(): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'formicary-labs-'));
  const cluster = await startCluster({ dataDir: join(dir, 'cluster'), port: 0 });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(cluster.kubeconfig());
  const client = new KubeClient(kubeConfig);
  return {
    cluster,
    kubeConfig,
    client,
    dir,
    async namespace(prefix = 'test') {
      const name = `${prefix}-${process.pid}-${++counter}`;
      await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, undefined);
      return name;
    },
    async create(namespace, ...objects) {
      for (const object of objects) await client.create(object, namespace);
    },
    async stop() {
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
