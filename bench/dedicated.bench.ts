// A lab that needs a cluster of its own (labs/drain-a-node), as the portal runs it: the lab
// cluster a `formicary cluster` child process, the learner's cluster another one. "Start lab"
// until the workbench there is Ready and the setup ran (its setup waits for 4 replicas to roll
// out), how much of that is the learner's cluster's process getting ready and then its workbench,
// that process's memory, and End until the process is gone.
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabCatalog } from '../src/labs/index.ts';
import { startDedicatedClusters } from '../src/server/cluster/index.ts';
import { createLogger } from '../src/server/log.ts';
import { Sandboxes } from '../src/server/sandboxes/index.ts';
import { startClusterProcess } from './cluster-process.ts';
import { percentile, round } from './stats.ts';

const STARTS = 4;
const LAB = 'drain-a-node';

/** Resident memory of the process whose command line names `dataDir`, in MB. */
async function rssOf(dataDir: string): Promise<number> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const command = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (!command.split('\0').includes(dataDir)) continue;
    const kb = /VmRSS:\s+(\d+) kB/.exec(await readFile(`/proc/${entry}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  }
  throw new Error(`no process runs the cluster in ${dataDir}`);
}

export default async function bench(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'formicary-bench-dedicated-'));
  await chmod(dir, 0o711);
  const cluster = await startClusterProcess(dir);
  const catalog = new LabCatalog(join(import.meta.dirname, '..', 'labs'));
  const host = await startDedicatedClusters({ dir: join(dir, 'dedicated'), root: join(import.meta.dirname, '..'), hiddenPaths: [dir], limit: 1, log: createLogger({ level: 'silent' }) });
  const sandboxes = new Sandboxes({ kubeConfig: cluster.kubeConfig, catalog, dedicatedClusters: host });
  try {
    const lab = await catalog.get(LAB);
    const startMs: number[] = [];
    const clusterReadyMs: number[] = [];
    const workbenchReadyMs: number[] = [];
    const endMs: number[] = [];
    const rssMb: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const started = performance.now();
      let clusterStarted = 0;
      let clusterReady = 0;
      const sandbox = await sandboxes.start(lab, `bench-dedicated-${i}`, {
        onProgress: (progress) => {
          if (progress.phase === 'starting-cluster') clusterStarted = performance.now();
          if (progress.phase === 'granting-access') {
            clusterReady = performance.now();
            clusterReadyMs.push(clusterReady - clusterStarted);
          }
          if (progress.phase === 'running-setup') workbenchReadyMs.push(performance.now() - clusterReady);
        },
      });
      startMs.push(performance.now() - started);
      rssMb.push(await rssOf(join(dir, 'dedicated', sandbox.namespace)));
      const ending = performance.now();
      await sandboxes.end(sandbox.namespace, lab);
      endMs.push(performance.now() - ending);
    }
    return {
      dedicated_lab_start_ms_p50: round(percentile(startMs, 50), 0),
      dedicated_lab_start_ms_max: round(Math.max(...startMs), 0),
      dedicated_cluster_ready_ms_p50: round(percentile(clusterReadyMs, 50), 0),
      dedicated_workbench_ready_ms_p50: round(percentile(workbenchReadyMs, 50), 0),
      dedicated_cluster_rss_mb: round(percentile(rssMb, 50), 0),
      dedicated_lab_end_ms_p50: round(percentile(endMs, 50), 0),
    };
  } finally {
    await sandboxes.stop();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
