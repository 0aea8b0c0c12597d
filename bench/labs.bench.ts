// Lab figures against the embedded cluster run as the portal runs it (a `formicary cluster` child
// process, realistic start-up delays): "Start lab" from nothing (cold) and from the warm pool
// (warm), until the workbench is Ready and the setup ran; and one step's Check once the learner
// has done the work.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { evaluateChecks, LabCatalog } from '../src/labs/index.ts';
import { KubeClient } from '../src/labs/kube/index.ts';
import { Sandboxes } from '../src/server/sandboxes/index.ts';
import { startClusterProcess } from './cluster-process.ts';
import { percentile, round } from './stats.ts';

const STARTS = 8;
const CHECKS = 100;
const LAB = 'scale-and-rollback';

export default async function bench(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'formicary-bench-labs-'));
  await chmod(dir, 0o711);
  const cluster = await startClusterProcess(dir);
  const catalog = new LabCatalog(join(import.meta.dirname, '..', 'labs'));
  try {
    const lab = await catalog.get(LAB);
    const cold = new Sandboxes({ kubeConfig: cluster.kubeConfig, catalog });
    // The first start pulls the workbench image onto the nodes; learners after it do not wait for that.
    await cold.end((await cold.start(lab, 'bench-warmup')).namespace, lab);
    const coldMs: number[] = [];
    for (let i = 0; i < STARTS; i++) {
      const started = performance.now();
      const sandbox = await cold.start(lab, `bench-cold-${i}`);
      coldMs.push(performance.now() - started);
      await cold.end(sandbox.namespace, lab);
    }

    const warm = new Sandboxes({ kubeConfig: cluster.kubeConfig, catalog, warmPool: { [LAB]: STARTS } });
    await warm.fillWarmPool();
    const warmMs: number[] = [];
    const claimed: string[] = [];
    for (let i = 0; i < STARTS; i++) {
      const started = performance.now();
      const sandbox = await warm.start(lab, `bench-warm-${i}`);
      warmMs.push(performance.now() - started);
      claimed.push(sandbox.namespace);
    }
    await warm.stop();

    // Check: the first step of the lab, done, as a learner presses Check again and again.
    const client = new KubeClient(cluster.kubeConfig);
    const step = lab.steps.find((candidate) => candidate.id === 'scale');
    if (!step) throw new Error(`lab ${LAB} has no step scale`);
    const sandbox = await cold.get(claimed[0] as string);
    if (!sandbox) throw new Error('the claimed sandbox is gone');
    await cold.exec(sandbox.namespace, 'kubectl scale deployment web --replicas=4 && kubectl rollout status deployment/web --timeout=120s');
    const checkMs: number[] = [];
    for (let i = 0; i < CHECKS; i++) {
      const started = performance.now();
      // As the portal's Check runs them: a check's timeout waits at most 5 s.
      const results = await evaluateChecks(step.checks, { client, namespace: sandbox.namespace, workbench: sandbox.workbench, customChecksFile: lab.customChecksFile }, { maxWaitMs: 5_000 });
      if (!results.every((result) => result.passed)) throw new Error(`the check failed: ${results.map((result) => result.message).join(' ')}`);
      checkMs.push(performance.now() - started);
    }
    for (const namespace of claimed) await cold.end(namespace);
    for (const left of await cold.list({ labId: LAB })) await cold.end(left.namespace);

    return {
      lab_start_ms_cold_p50: round(percentile(coldMs, 50), 0),
      lab_start_ms_cold_p95: round(percentile(coldMs, 95), 0),
      lab_start_ms_warm_p50: round(percentile(warmMs, 50), 0),
      lab_start_ms_warm_p95: round(percentile(warmMs, 95), 0),
      check_ms_p50: round(percentile(checkMs, 50), 1),
      check_ms_p95: round(percentile(checkMs, 95), 1),
    };
  } finally {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
