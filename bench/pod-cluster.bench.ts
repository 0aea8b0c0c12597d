// A lab that needs a cluster of its own (labs/drain-a-node) on a real lab cluster
// (LAB_CLUSTER=kubernetes): a `formicary cluster` process stands for the company's cluster, and the
// learner's cluster is a pod of the portal image in the sandbox namespace. "Start lab" until the
// workbench is Ready and the setup ran (4 replicas rolled out in the learner's cluster), how much
// of that is the learner's cluster serving (its pod started, its kubeconfig written), and End.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LabCatalog } from '../src/labs/index.ts';
import { Sandboxes } from '../src/server/sandboxes/index.ts';
import { startClusterProcess } from './cluster-process.ts';
import { percentile, round } from './stats.ts';

const STARTS = 3;
const LAB = 'drain-a-node';

export default async function bench(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'formicary-bench-pod-cluster-'));
  await chmod(dir, 0o711);
  const cluster = await startClusterProcess(dir);
  const catalog = new LabCatalog(join(import.meta.dirname, '..', 'labs'));
  const sandboxes = new Sandboxes({ kubeConfig: cluster.kubeConfig, catalog, podClusters: { limit: 1 } });
  try {
    const lab = await catalog.get(LAB);
    const startMs: number[] = [];
    const servingMs: number[] = [];
    const endMs: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const started = performance.now();
      let clusterStarted = 0;
      const sandbox = await sandboxes.start(lab, `bench-pod-cluster-${i}`, {
        onProgress: (progress) => {
          if (progress.phase === 'starting-cluster') clusterStarted = performance.now();
          if (progress.phase === 'granting-access') servingMs.push(performance.now() - clusterStarted);
        },
      });
      startMs.push(performance.now() - started);
      const ending = performance.now();
      await sandboxes.end(sandbox.namespace, lab);
      endMs.push(performance.now() - ending);
    }
    return {
      pod_cluster_lab_start_ms_p50: round(percentile(startMs, 50), 0),
      pod_cluster_lab_start_ms_max: round(Math.max(...startMs), 0),
      pod_cluster_serving_ms_p50: round(percentile(servingMs, 50), 0),
      pod_cluster_lab_end_ms_p50: round(percentile(endMs, 50), 0),
    };
  } finally {
    await sandboxes.stop();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
