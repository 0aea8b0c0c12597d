// LAB_CLUSTER=embedded: Formicary's own cluster (`formicary cluster`) as a supervised child
// process on 127.0.0.1. Its state (certificates, objects) lives in DATA_DIR/cluster, so a
// restarted child carries on where the last one stopped. The child stops when the portal dies
// (it watches its standard input, the supervisor's pipe), and refuses to start while another
// cluster holds DATA_DIR/cluster (DATA_DIR/cluster/cluster.lock).

import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from '../log.ts';
import { freePort } from './ports.ts';
import { Supervisor, type ChildCommand } from './supervisor.ts';
import type { LabCluster } from './types.ts';

export interface EmbeddedClusterOptions {
  /** DATA_DIR/cluster. */
  dataDir: string;
  /** The project root, where src/cli/main.ts is. */
  root: string;
  log: Logger;
  readyTimeoutMs?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** Between SIGTERM and SIGKILL when stopping. */
  stopTimeoutMs?: number;
  /** For logs and /api/ready: "the embedded cluster" by default. */
  name?: string;
  /** Folders no pod may see; default the parent of dataDir (the portal's DATA_DIR). */
  hiddenPaths?: string[];
  /** Pod shells without bubblewrap (`formicary labs test --unsafe-local-shell`). */
  unsafeLocalShell?: boolean;
  /** What to run instead of `formicary cluster` (tests of the supervisor itself). */
  command?: (port: number, kubeconfigPath: string, dataDir: string) => ChildCommand;
}

/** After this many starts in a row that never got ready, the port may be taken: pick another. */
const FAILURES_BEFORE_NEW_PORT = 3;

export function startEmbeddedCluster(options: EmbeddedClusterOptions): LabCluster {
  const kubeconfigPath = path.join(options.dataDir, 'kubeconfig');
  const cli = path.join(options.root, 'src', 'cli', 'main.ts');
  let port: number | null = null;

  const supervisor = new Supervisor({
    name: options.name ?? 'the embedded cluster',
    readyLine: /\bready\b/i,
    readyTimeoutMs: options.readyTimeoutMs ?? 60_000,
    backoff: options.backoff ?? { initialMs: 1_000, maxMs: 30_000 },
    stableMs: 60_000,
    stopTimeoutMs: options.stopTimeoutMs ?? 10_000,
    log: options.log,
    async command({ failuresSinceReady }) {
      // The same port across restarts keeps kubeconfigs that others already loaded valid.
      if (port === null || (failuresSinceReady > 0 && failuresSinceReady % FAILURES_BEFORE_NEW_PORT === 0)) port = await freePort();
      await mkdir(options.dataDir, { recursive: true });
      if (options.command) return options.command(port, kubeconfigPath, options.dataDir);
      await access(cli).catch(() => {
        throw new Error(`${cli} is missing; the portal needs the formicary CLI to run the embedded cluster`);
      });
      return {
        file: process.execPath,
        // --stop-on-stdin-close: the child watches the pipe the supervisor holds, so it stops when the portal dies in any way.
        // DATA_DIR/cluster: its parent, the portal's DATA_DIR (database, session secret), is hidden from every pod too.
        args: [
          cli,
          'cluster',
          '--kubeconfig',
          kubeconfigPath,
          '--data',
          options.dataDir,
          '--port',
          String(port),
          '--stop-on-stdin-close',
          ...(options.hiddenPaths ?? [path.dirname(path.resolve(options.dataDir))]).flatMap((hidden) => ['--hide-path', hidden]),
          ...(options.unsafeLocalShell ? ['--unsafe-local-shell'] : []),
        ],
        cwd: options.root,
      };
    },
  });
  supervisor.start();

  return {
    mode: 'embedded',
    kubeconfigPath,
    get ready() {
      return supervisor.state === 'ready';
    },
    get detail() {
      return supervisor.detail;
    },
    get restarts() {
      return supervisor.restarts;
    },
    get state() {
      return supervisor.state;
    },
    whenReady: () => supervisor.whenReady(),
    loadKubeConfig() {
      const kubeConfig = new KubeConfig();
      kubeConfig.loadFromFile(kubeconfigPath);
      return kubeConfig;
    },
    stop: () => supervisor.stop(),
  };
}
