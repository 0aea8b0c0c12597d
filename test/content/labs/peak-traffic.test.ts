// The labs of "Operating for peak traffic" against learners' plausible wrong answers and right
// alternatives (see attempts.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectAllPassed, failures, startLabBench, type LabBench } from './attempts.ts';

let bench: LabBench;

beforeAll(async () => {
  bench = await startLabBench();
}, 60_000);
afterAll(async () => {
  await bench?.stop();
});

describe.concurrent('peak-traffic labs', () => {
  it('peak-right-size: requests below the measured peak, or no equal limits, fail; a patch with 0.2 CPU and 120Mi passes', async () => {
    await bench.attempt('peak-right-size', async (lab) => {
      await lab.run('echo quota > ~/blocked-by.txt');
      expect(failures(await lab.check('find-out'))).toEqual(['~/blocked-by.txt says "quota"; write only the quota\'s name, as the FailedCreate event gives it after "exceeded quota:".']);
      await lab.reach('right-size');
      await lab.run('kubectl scale deployment checkout --replicas=2');
      // Burstable: requests right, limits above them.
      await lab.run('kubectl set resources deployment checkout --requests=cpu=250m,memory=128Mi --limits=cpu=300m,memory=256Mi');
      await lab.run('kubectl rollout status deployment/checkout --timeout=110s && kubectl scale deployment checkout --replicas=4 && kubectl rollout status deployment/checkout --timeout=110s');
      expect(failures(await lab.check('right-size', 30_000))).toEqual([expect.stringMatching(/^4 checkout pods are not Guaranteed \(Burstable, Burstable, Burstable, Burstable\): set CPU and memory limits equal to the requests\.$/)]);
      // Guaranteed, but below the peak the team measured.
      await lab.run('kubectl set resources deployment checkout --requests=cpu=100m,memory=64Mi --limits=cpu=100m,memory=64Mi && kubectl rollout status deployment/checkout --timeout=110s');
      expect(failures(await lab.check('right-size', 30_000))).toEqual([
        'The CPU request is below what checkout used at peak (180m); under load it would get less CPU than it needs, and as a limit it would be throttled.',
        'The memory request is below what checkout used at peak (100Mi); with a limit equal to it, the container would be OOMKilled under load.',
      ]);
      await lab.run(`kubectl patch deployment checkout -p '{"spec":{"template":{"spec":{"containers":[{"name":"checkout","resources":{"requests":{"cpu":"0.2","memory":"120Mi"},"limits":{"cpu":"0.2","memory":"120Mi"}}}]}}}}'`);
      await lab.run('kubectl rollout status deployment/checkout --timeout=110s');
      expectAllPassed(await lab.check('right-size', 60_000));
    });
  }, 400_000);
});
