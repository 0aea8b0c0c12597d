// The portal's Check: one step's checks against a learner's sandbox, before and after the work.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabCatalog, UnknownLabError } from '../../../src/labs/index.ts';
import { LabChecks, UnknownStepError } from '../../../src/server/checks/index.ts';
import { Sandboxes, type Sandbox } from '../../../src/server/sandboxes/index.ts';
import { startTestCluster, type TestCluster } from '../../labs/cluster.ts';
import { sampleLab, writeLab } from '../../labs/fixtures.ts';

let cluster: TestCluster;
let sandboxes: Sandboxes;
let checks: LabChecks;
let sandbox: Sandbox;

beforeAll(async () => {
  cluster = await startTestCluster();
  const labsDir = join(cluster.dir, 'labs');
  await writeLab(labsDir, 'sample', sampleLab);
  const catalog = new LabCatalog(labsDir);
  sandboxes = new Sandboxes({ kubeConfig: cluster.kubeConfig, catalog });
  checks = new LabChecks({ kubeConfig: cluster.kubeConfig, catalog });
  sandbox = await sandboxes.start('sample', 'grace');
}, 90_000);
afterAll(async () => {
  if (sandbox) await sandboxes.end(sandbox.namespace).catch(() => undefined);
  await cluster?.stop();
});

describe('checking a step', () => {
  it('fails with what it expected and found, passes once the learner did the work, and completes the lab on the last step', async () => {
    const before = await checks.checkStep({ sandbox, stepId: 'create' });
    expect(before).toMatchObject({ labId: 'sample', stepId: 'create', stepIndex: 0, passed: false, completesLab: false });
    expect(before.results).toEqual([
      { kind: 'exists', passed: false, expected: 'Deployment web exists', found: 'no Deployment named web', message: 'There is no Deployment web in your namespace yet.' },
      { kind: 'field', passed: true, expected: '.metadata.annotations.prepared = yes', found: 'yes', message: '.metadata.annotations.prepared of ConfigMap settings is "yes".' },
    ]);

    expect((await sandboxes.exec(sandbox.namespace, 'kubectl create deployment web --image=nginx:1.27')).exitCode).toBe(0);
    const after = await checks.checkStep({ sandbox, stepId: 'create' });
    expect(after.passed).toBe(true);
    expect(after.completesLab).toBe(false);

    expect((await sandboxes.exec(sandbox.namespace, 'kubectl scale deployment web --replicas=2')).exitCode).toBe(0);
    const last = await checks.checkStep({ sandbox, stepId: 'scale' });
    expect(last).toMatchObject({ stepIndex: 1, passed: true, completesLab: true });
  }, 60_000);

  it('names the steps and labs that exist when asked for one that does not', async () => {
    const error = await checks.checkStep({ sandbox, stepId: 'deploy' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownStepError);
    expect((error as Error).message).toBe('lab sample has no step "deploy"; its steps are create, scale');
    await expect(checks.checkStep({ sandbox: { ...sandbox, labId: 'nope' }, stepId: 'create' })).rejects.toBeInstanceOf(UnknownLabError);
  });

  it('answers within 200 ms (p95 over 40 checks)', async () => {
    const times: number[] = [];
    for (let i = 0; i < 40; i++) {
      const started = performance.now();
      await checks.checkStep({ sandbox, stepId: i % 2 ? 'create' : 'scale' });
      times.push(performance.now() - started);
    }
    times.sort((a, b) => a - b);
    const p95 = times[Math.ceil(times.length * 0.95) - 1] as number;
    expect(p95).toBeLessThan(200);
  }, 60_000);
});
