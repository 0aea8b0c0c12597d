// Learners' own clusters (labs with `needs: cluster`) on the portal's host: each a supervised
// `formicary cluster` process, like the embedded lab cluster, with its own data dir
// (DATA_DIR/dedicated/<sandbox>), port and admin kubeconfig. Its pods cannot see the portal's
// DATA_DIR (database, session secret, the other learners' clusters). A process that never serves
// is stopped and reported; stopping one removes its data, halting it (the portal stops) keeps it
// for the next run of the portal to start again.

import { createHash } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../log.ts';
import { startEmbeddedCluster } from './embedded.ts';

export interface DedicatedClustersOptions {
  /** DATA_DIR/dedicated: one folder a learner's cluster. */
  dir: string;
  /** The project root, where src/cli/main.ts is. */
  root: string;
  /** Folders no pod of a learner's cluster may see: the portal's DATA_DIR. */
  hiddenPaths: string[];
  /** At most this many at once (DEDICATED_CLUSTER_LIMIT). */
  limit: number;
  log: Logger;
  /** Pod shells without bubblewrap (`formicary labs test --unsafe-local-shell`). */
  unsafeLocalShell?: boolean;
  /** How long a cluster may take to serve. Default 60 s. */
  readyTimeoutMs?: number;
}

export interface DedicatedClusters {
  readonly id: string;
  readonly limit: number;
  start(name: string): Promise<{ kubeconfigPath: string; stop(): Promise<void>; halt(): Promise<void> }>;
  leftovers(): Promise<string[]>;
  remove(name: string): Promise<void>;
}

const SANDBOX_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Where each learner's cluster keeps its data; what an earlier run left there is `leftovers()`. */
export async function startDedicatedClusters(options: DedicatedClustersOptions): Promise<DedicatedClusters> {
  const dir = path.resolve(options.dir);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const readyTimeoutMs = options.readyTimeoutMs ?? 60_000;
  const dataDirOf = (name: string) => {
    // The name is the portal's own (a sandbox namespace); checked anyway, since it becomes a path.
    if (!SANDBOX_NAME.test(name)) throw new Error(`"${name}" is not a sandbox name; a learner's cluster is named after its sandbox namespace`);
    return path.join(dir, name);
  };
  return {
    // The same DATA_DIR is the same portal, started again: it recognises its own records by this.
    id: createHash('sha256').update(dir).digest('hex').slice(0, 16),
    limit: options.limit,
    async leftovers() {
      return (await readdir(dir, { withFileTypes: true })).filter((entry) => entry.isDirectory() && SANDBOX_NAME.test(entry.name)).map((entry) => entry.name);
    },
    async remove(name) {
      await rm(dataDirOf(name), { recursive: true, force: true });
    },
    async start(name) {
      const dataDir = dataDirOf(name);
      const cluster = startEmbeddedCluster({
        name: `the learner's cluster ${name}`,
        dataDir,
        root: options.root,
        hiddenPaths: options.hiddenPaths,
        log: options.log.child({ cluster: name }),
        readyTimeoutMs,
        // A learner's cluster that dies is started again from its data, at most a few times in a lab's life.
        backoff: { initialMs: 500, maxMs: 10_000 },
        ...(options.unsafeLocalShell ? { unsafeLocalShell: true } : {}),
      });
      const halt = () => cluster.stop();
      const stop = async () => {
        await cluster.stop();
        await rm(dataDir, { recursive: true, force: true });
      };
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the cluster did not serve within ${Math.round(readyTimeoutMs / 1000)} s (${cluster.detail})`)), readyTimeoutMs + 1_000);
      });
      try {
        await Promise.race([cluster.whenReady(), late]);
      } catch (error) {
        await stop();
        throw error;
      } finally {
        clearTimeout(timer);
      }
      return { kubeconfigPath: cluster.kubeconfigPath ?? path.join(dataDir, 'kubeconfig'), stop, halt };
    },
  };
}
