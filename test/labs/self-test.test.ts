// `formicary labs test`: a lab that teaches passes; labs whose checks or solutions are wrong fail
// with the first thing that went wrong; the exit code says so.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runLabsTest } from '../../src/cli/labs-test.ts';
import { startTestCluster } from './cluster.ts';
import { sampleLab, writeLab } from './fixtures.ts';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'formicary-labs-selftest-'));
  const labs = join(root, 'labs');
  await writeLab(labs, 'good', sampleLab);
  // The exists check already passes before the solution: it tests nothing.
  await writeLab(labs, 'lazy-check', {
    ...sampleLab,
    'lab.yaml': sampleLab['lab.yaml'].replace('      - kind: exists\n        resource: deploy\n        name: web\n', '      - kind: exists\n        resource: configmap\n        name: settings\n'),
  });
  await writeLab(labs, 'bad-solution', { ...sampleLab, 'lab.yaml': sampleLab['lab.yaml'].replace('kubectl scale deployment web --replicas=2', 'kubectl scale deployment webb --replicas=2') });
  await writeLab(labs, 'wrong-solution', { ...sampleLab, 'lab.yaml': sampleLab['lab.yaml'].replace('kubectl scale deployment web --replicas=2', 'kubectl scale deployment web --replicas=3') });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function capture() {
  let text = '';
  return { write: (chunk: string) => (text += chunk), get text() { return text; } };
}

describe('formicary labs test', () => {
  it('passes a lab that teaches and fails the others with their first failure', async () => {
    const stdout = capture();
    const stderr = capture();
    const code = await runLabsTest(['good', 'lazy-check', 'bad-solution', 'wrong-solution', '--root', root, '--concurrency', '2'], { stdout, stderr });
    expect(code, stderr.text).toBe(1);
    const lines = stdout.text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^LAB\s+STEPS\s+RESULT\s+SECONDS\s+FIRST FAILURE$/);
    const row = (lab: string) => lines.find((line) => line.startsWith(`${lab} `)) ?? '';
    expect(row('good')).toMatch(/^good\s+2\/2\s+pass\s+\d+\.\d$/);
    expect(row('lazy-check')).toMatch(/^lazy-check\s+0\/2\s+FAIL\s+\d+\.\d\s+step create, before-solution: check 1 \(exists\) already passes before the solution \("ConfigMap settings exists\."\), so it does not test this step/);
    expect(row('bad-solution')).toMatch(/^bad-solution\s+1\/2\s+FAIL\s+\d+\.\d\s+step scale, solution: `kubectl scale deployment webb --replicas=2` exited with code 1: .*deployments\.apps "webb" not found/);
    expect(row('wrong-solution')).toMatch(/^wrong-solution\s+1\/2\s+FAIL\s+\d+\.\d\s+step scale, after-solution: check 1 \(field\) fails after the solution: \.spec\.replicas of Deployment web is 3; this step asks for 2\. \(found: 3\)$/);
    expect(lines.at(-1)).toBe('labs test: 4 labs, 1 passed, 3 failed');
  }, 240_000);

  it('runs a lab that needs a cluster of its own (labs/drain-a-node) in a cluster started for it', async () => {
    const stdout = capture();
    const stderr = capture();
    const code = await runLabsTest(['drain-a-node', '--root', join(import.meta.dirname, '..', '..')], { stdout, stderr });
    expect(code, stderr.text).toBe(0);
    expect(stdout.text).toMatch(/^drain-a-node\s+3\/3\s+pass\s+\d+\.\d$/m);
    expect(stdout.text.trimEnd().split('\n').at(-1)).toBe('labs test: 1 lab, 1 passed, 0 failed');
  }, 300_000);

  it('runs that lab with --kubeconfig on a cluster standing for a real one: the learner\'s cluster is a pod of the portal image there', async () => {
    const company = await startTestCluster();
    try {
      const kubeconfig = join(company.dir, 'admin.kubeconfig');
      await writeFile(kubeconfig, company.cluster.kubeconfig(), { mode: 0o600 });
      const stdout = capture();
      const stderr = capture();
      const code = await runLabsTest(['drain-a-node', '--kubeconfig', kubeconfig, '--root', join(import.meta.dirname, '..', '..')], { stdout, stderr });
      expect(code, stderr.text).toBe(0);
      expect(stdout.text).toMatch(/^drain-a-node\s+3\/3\s+pass\s+\d+\.\d$/m);
      // The cordon and drain happened in the learner's cluster: the company's nodes were never touched.
      const nodes = await company.client.list(await company.client.resolve('nodes'), undefined);
      expect(nodes.map((node) => [node.metadata.name, (node.spec as { unschedulable?: boolean } | undefined)?.unschedulable ?? false, node.metadata.labels?.['maintenance'] ?? null])).toEqual([
        ['node-1', false, null],
        ['node-2', false, null],
      ]);
    } finally {
      await company.stop();
    }
  }, 300_000);

  it('refuses unknown labs and bad options before starting anything', async () => {
    const stderr = capture();
    expect(await runLabsTest(['nope', '--root', root], { stdout: capture(), stderr })).toBe(2);
    expect(stderr.text).toContain('no lab "nope" in');
    expect(stderr.text).toContain('labs are bad-solution, good, lazy-check, wrong-solution');
    const options = capture();
    expect(await runLabsTest(['--concurrency', 'many', '--root', root], { stdout: capture(), stderr: options })).toBe(2);
    expect(options.text).toContain('--concurrency: "many" is not a positive whole number');
    const env = capture();
    expect(await runLabsTest(['--root', root], { stdout: capture(), stderr: env }, { LAB_CLUSTER: 'kubernetes' })).toBe(2);
    expect(env.text).toContain('LAB_CLUSTER=kubernetes needs KUBECONFIG (or pass --kubeconfig FILE)');
  });
});
