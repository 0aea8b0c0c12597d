// On cgroup v2 (the only hierarchy of most distributions now) the kernel lets a process into a
// cgroup only when that cgroup hands no controller to its children (the "no internal process
// constraint": the write to cgroup.procs fails with EBUSY). A container's cgroup hands its
// controllers to its process leaves, so exec probes, exec hooks and what an exec session leaves
// running must live in a leaf of the container's too: a probe whose shell could not join fails
// before its command runs, and a liveness probe then restarts the container over and over.
//
// Runs for real only where the kubelet's cgroups are v2 (/sys/fs/cgroup is the unified hierarchy)
// and the kernel lets it hand controllers down; elsewhere (a cgroup v1 host) it is skipped, saying why.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SandboxCgroup } from '../../../src/cluster/kubelet/sandbox/index.ts';
import { containerStatus, type KubeletCluster, startKubeletCluster } from './harness.ts';
import { pidsRunning } from '../../support/processes.ts';

const ROOT = '/sys/fs/cgroup';
const unified = existsSync(join(ROOT, 'cgroup.controllers'));
const probe = unified ? await SandboxCgroup.parent(`formicary-probe-${process.pid}`, {}) : null;
await probe?.remove(1);
const why = !unified ? `${ROOT} is not a cgroup v2 hierarchy here (cgroup v1): the kernel's rule cannot be exercised` : probe ? undefined : 'this process may not make cgroups here';
const ns = 'cgroup-v2';

let lab: KubeletCluster | undefined;

beforeAll(async () => {
  if (why) return;
  lab = await startKubeletCluster();
  expect((await lab.kubectl(['create', 'namespace', ns])).code).toBe(0);
  await lab.serviceAccountReady(ns);
}, 60_000);
afterAll(async () => {
  await lab?.stop();
});


/** The directory of a process's v2 cgroup. */
function cgroupOf(pid: number): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((entry) => entry.startsWith('0::'));
  return join(ROOT, line?.slice(3) ?? '/');
}

describe('cgroup v2: probes, hooks and what a session leaves running live in leaves of the container', () => {
  it('passes exec probes and a postStart hook without a restart, and keeps a survivor of a session in the container', async (context) => {
    if (why || !lab) return context.skip(why);
    const cluster = lab;
    await cluster.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: probed}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: debian:12
    command: [sh, -c, 'touch /tmp/healthy; exec sleep 7261.25']
    resources: {limits: {memory: 128Mi, cpu: 500m}}
    lifecycle:
      postStart: {exec: {command: [sh, -c, 'echo started > /tmp/hook']}}
    livenessProbe:
      exec: {command: [sh, -c, 'echo x >> /tmp/probes; test -e /tmp/healthy']}
      periodSeconds: 10
      failureThreshold: 1
    readinessProbe:
      exec: {command: [test, -e, /tmp/healthy]}
      periodSeconds: 10
`,
      ns,
    );
    const main = await cluster.until('the container runs', () => pidsRunning(['sleep', '7261.25'])[0], 30_000);
    const container = dirname(cgroupOf(main));
    // The kernel's rule holds only where the container's cgroup hands controllers to its leaves.
    const handed = readFileSync(join(container, 'cgroup.subtree_control'), 'utf8').trim();
    if (handed === '') return context.skip(`the kernel gave the kubelet no controller to hand down under ${container}: no limits, and no rule to exercise`);

    await cluster.until('Ready through the exec readiness probe', () => containerStatus(cluster.pod(ns, 'probed'), 'app')?.ready === true, 30_000);
    const probes = await cluster.eventually('five liveness probes ran', async () => {
      const result = await cluster.kubectl(['exec', '-n', ns, 'probed', '--', 'sh', '-c', 'cat /tmp/hook; wc -l < /tmp/probes']);
      const [hook, count] = result.stdout.trim().split('\n');
      return result.code === 0 && Number(count) >= 5 ? { hook, count: Number(count) } : undefined;
    }, 60_000);
    expect(probes.hook).toBe('started');
    expect(containerStatus(cluster.pod(ns, 'probed'), 'app')?.restartCount).toBe(0);
    expect(cluster.events(ns, 'probed').filter((event) => event.reason === 'Unhealthy' || event.reason === 'FailedPostStartHook')).toEqual([]);
    expect(pidsRunning(['sleep', '7261.25'])[0]).toBe(main);

    // A terminal session leaves a process behind (nohup): it outlives the session in the container.
    const stdout = new PassThrough();
    const stdin = new PassThrough();
    let status: k8s.V1Status | undefined;
    await new k8s.Exec(cluster.kubeConfig()).exec(ns, 'probed', 'app', ['sh', '-c', 'nohup sleep 7262.25 >/dev/null 2>&1 & sleep 0.5; exit 0'], stdout, null, stdin, true, (s) => (status = s));
    await cluster.until('the session ended', () => status);
    expect(status?.status).toBe('Success');
    const survivor = await cluster.until('the survivor out of the session leaf', () => {
      const pid = pidsRunning(['sleep', '7262.25'])[0];
      if (pid === undefined) return undefined;
      const leaf = cgroupOf(pid);
      return leaf !== dirname(cgroupOf(main)) && existsSync(leaf) && !leaf.includes('/process-') ? { pid, leaf } : undefined;
    });
    // Inside the container's cgroup (its limits and usage count it), in a leaf the kernel let it into.
    expect(dirname(survivor.leaf)).toBe(container);
    expect(readFileSync(join(survivor.leaf, 'cgroup.subtree_control'), 'utf8').trim()).toBe('');
    expect(readFileSync(join(survivor.leaf, 'cgroup.procs'), 'utf8').split('\n')).toContain(String(survivor.pid));
    expect(containerStatus(cluster.pod(ns, 'probed'), 'app')?.restartCount).toBe(0);
  }, 120_000);
});
