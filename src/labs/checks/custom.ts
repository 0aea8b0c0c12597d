// Custom checks: functions exported from labs/<id>/checks.ts, for what the declarative kinds
// cannot say. They get read-only access to the sandbox and answer like any other check.
import { stat } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import type { KubeObject } from '../kube/index.ts';
import type { Check } from '../schema.ts';
import { readWorkbenchFile } from './observe.ts';
import { fail, pass, type CheckTarget, type Outcome } from './context.ts';

/** What a custom check may look at: the sandbox namespace, read-only. */
export interface CustomCheckContext {
  readonly namespace: string;
  /** The object, or null when it does not exist. `resource` as kubectl takes it (deploy, svc, …). */
  get(resource: string, name: string): Promise<KubeObject | null>;
  list(resource: string, options?: { selector?: string; fieldSelector?: string }): Promise<KubeObject[]>;
  /** A container's log (the last 2,000 lines). */
  logs(pod: string, container?: string): Promise<string>;
  /** A file in the workbench (`~/…` is the learner's home); null when it does not exist. */
  readFile(path: string): Promise<string | null>;
}

export interface CustomCheckResult {
  passed: boolean;
  expected: string;
  found: string;
  /** One sentence for the learner; a default is made from expected and found. */
  message?: string;
}

export type CustomCheck = (ctx: CustomCheckContext) => Promise<CustomCheckResult>;

const resultSchema = z.object({ passed: z.boolean(), expected: z.string(), found: z.string(), message: z.string().optional() });

const modules = new Map<string, { mtimeMs: number; module: Promise<Record<string, unknown>> }>();

/** Imports checks.ts again when it changed, so an author sees an edit without restarting. */
async function importChecks(file: string): Promise<Record<string, unknown>> {
  const { mtimeMs } = await stat(file);
  const cached = modules.get(file);
  if (cached && cached.mtimeMs === mtimeMs) return cached.module;
  // A whole number: Vite (the tests' loader) takes the text after the URL's last dot as the file's
  // extension, so `?v=1796393311386.7122` would be read as JavaScript and `import type` would fail.
  const module = import(`${pathToFileURL(file).href}?v=${Math.round(mtimeMs * 1000)}`) as Promise<Record<string, unknown>>;
  modules.set(file, { mtimeMs, module });
  return module;
}

export async function custom(check: Extract<Check, { kind: 'custom' }>, target: CheckTarget): Promise<Outcome> {
  if (!target.customChecksFile) throw new Error(`the custom check ${check.name} needs the lab's checks.ts, and this lab has none`);
  const module = await importChecks(target.customChecksFile);
  const fn = module[check.name];
  if (typeof fn !== 'function') throw new Error(`checks.ts does not export a function ${check.name}`);
  const { client, namespace } = target;
  const ctx: CustomCheckContext = {
    namespace,
    get: async (resource, name) => client.get(await client.resolve(resource), namespace, name),
    list: async (resource, options = {}) => client.list(await client.resolve(resource), namespace, { labelSelector: options.selector, fieldSelector: options.fieldSelector }),
    logs: (pod, container) => client.logs(namespace, pod, { ...(container ? { container } : {}), tailLines: 2000 }),
    readFile: (path) => readWorkbenchFile(target, path),
  };
  const parsed = resultSchema.safeParse(await (fn as CustomCheck)(ctx));
  if (!parsed.success) throw new Error(`the custom check ${check.name} must resolve to { passed, expected, found, message? }`);
  const { passed, expected, found, message } = parsed.data;
  const sentence = message ?? (passed ? `${expected}: yes.` : `Found ${found}; this step asks for ${expected}.`);
  return passed ? pass(expected, found, sentence) : fail(expected, found, sentence);
}
