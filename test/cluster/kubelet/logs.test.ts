// `kubectl logs` against the simulated kubelet: container selection and its errors, --tail,
// --timestamps, --since, --limit-bytes, --previous, -f that ends with the container.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeletCluster, phase, startKubeletCluster } from './harness.ts';

let lab: KubeletCluster;
const ns = 'logs';

beforeAll(async () => {
  lab = await startKubeletCluster();
  await lab.kubectl(['create', 'namespace', ns]);
  await lab.serviceAccountReady(ns);
  await lab.apply(
    `apiVersion: v1
kind: Pod
metadata: {name: multi}
spec:
  containers:
  - {name: web, image: nginx:1.27, readinessProbe: {httpGet: {path: /, port: 80}, periodSeconds: 1}}
  - {name: counter, image: busybox, command: [sh, -c, 'for i in 1 2 3 4 5; do echo line $i; done; exec sleep 3600']}
`,
    ns,
  );
  await lab.until('multi Running', () => phase(lab.pod(ns, 'multi')) === 'Running');
});
afterAll(async () => {
  await lab?.stop();
});

async function logs(...args: string[]) {
  return lab.kubectl(['logs', '-n', ns, ...args]);
}

describe('kubectl logs', () => {
  it('asks for a container name when the pod has several, naming them, as the API server does', async () => {
    const raw = await lab.kubectl(['get', '--raw', `/api/v1/namespaces/${ns}/pods/multi/log`]);
    expect(raw.code).not.toBe(0);
    expect(raw.stderr).toContain('a container name must be specified for pod multi, choose one of: [web counter]');
    const defaulted = await logs('multi');
    expect(defaulted.stderr).toContain('Defaulted container "web" out of: web, counter');
    const unknown = await logs('multi', '-c', 'nope');
    expect(unknown.stderr).toContain('container nope is not valid for pod multi');
  });

  it('prints a container log with --tail, --timestamps and --limit-bytes', async () => {
    const full = await lab.eventually('five lines', async () => {
      const text = (await logs('multi', '-c', 'counter')).stdout;
      return text.includes('line 5') ? text : undefined;
    });
    expect(full).toBe('line 1\nline 2\nline 3\nline 4\nline 5\n');
    expect((await logs('multi', '-c', 'counter', '--tail=2')).stdout).toBe('line 4\nline 5\n');
    expect((await logs('multi', '-c', 'counter', '--tail=0')).stdout).toBe('');
    expect((await logs('multi', '-c', 'counter', '--limit-bytes=9')).stdout).toBe('line 1\nli');
    const stamped = (await logs('multi', '-c', 'counter', '--timestamps', '--tail=1')).stdout;
    expect(stamped).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z line 5\n$/);
    expect((await logs('multi', '-c', 'counter', '--since=1h')).stdout).toBe(full);
    expect((await logs('multi', '-c', 'counter', `--since-time=${new Date(Date.now() + 60_000).toISOString()}`)).stdout).toBe('');
  });

  it('shows what a simulated server logs: nginx start-up and its probe requests', async () => {
    const text = await lab.eventually('a probe request in the log', async () => {
      const log = (await logs('multi', '-c', 'web')).stdout;
      return log.includes('kube-probe') ? log : undefined;
    });
    expect(text).toContain('/docker-entrypoint.sh: Configuration complete; ready for start up');
    expect(text).toMatch(/\[notice\] 1#1: nginx\/1\.27/);
    expect(text).toMatch(/^10\.244\.\d+\.1 - - \[.+\] "GET \/ HTTP\/1\.1" 200 615 "-" "kube-probe\/1\.33" "-"$/m);
  });

  it('says there is no previous container before the first restart', async () => {
    const previous = await logs('multi', '-c', 'counter', '--previous');
    expect(previous.code).not.toBe(0);
    expect(previous.stderr).toContain('previous terminated container "counter" in pod "multi" not found');
  });

  it('follows a log until the container ends', async () => {
    await lab.kubectl(['run', 'ticker', '-n', ns, '--image=busybox', '--restart=Never', '--', 'sh', '-c', 'for i in 1 2 3; do echo tick $i; sleep 0.3; done']);
    await lab.until('ticker started', () => ['Running', 'Succeeded'].includes(phase(lab.pod(ns, 'ticker')) ?? ''));
    const followed = await logs('ticker', '-f');
    expect(followed.code).toBe(0);
    expect(followed.stdout).toBe('tick 1\ntick 2\ntick 3\n');
  });

  it('tells why a container that is not running yet has no log', async () => {
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: waiting}
spec:
  containers:
  - {name: app, image: nginx:1.27, volumeMounts: [{name: config, mountPath: /etc/app}]}
  volumes:
  - {name: config, configMap: {name: not-there}}
`,
      ns,
    );
    await lab.until('waiting scheduled', () => (lab.pod(ns, 'waiting')?.spec as Record<string, unknown> | undefined)?.['nodeName']);
    const stderr = await lab.eventually('the kubelet to see it', async () => {
      const result = await logs('waiting');
      return result.stderr.includes('waiting to start') ? result.stderr : undefined;
    });
    expect(stderr).toContain('container "app" in pod "waiting" is waiting to start: ContainerCreating');
  });
});
