// Pods come alive as on a real node: phases and container states with the upstream reasons,
// restarts with back-off, image pull failures, configuration errors, init containers, probes,
// graceful termination — seen through real kubectl and the objects the API serves.
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { pidsRunning } from '../../support/processes.ts';
import { condition, containerStatus, type KubeletCluster, phase, startKubeletCluster, waitingReason } from './harness.ts';

let lab: KubeletCluster;
let namespaces = 0;

beforeAll(async () => {
  lab = await startKubeletCluster();
});
afterAll(async () => {
  await lab?.stop();
});

async function namespace(): Promise<string> {
  const name = `life-${++namespaces}`;
  const result = await lab.kubectl(['create', 'namespace', name]);
  expect(result.code, result.stderr).toBe(0);
  await lab.until(`the default ServiceAccount in ${name}`, () => lab.cluster.registry.list(lab.cluster.registry.lookup('', 'v1', 'serviceaccounts')!, { namespace: name }).items.length > 0);
  return name;
}

function reasons(ns: string, name: string): string[] {
  return lab.events(ns, name).map((event) => `${event.reason}: ${event.message}`);
}

describe('pod lifecycle', () => {
  it('goes from Pending (ContainerCreating) to Running and Ready, with the kubelet events a learner knows', async () => {
    const ns = await namespace();
    const seen: string[] = [];
    const registry = lab.cluster.registry;
    const watch = registry.watch(registry.lookup('', 'v1', 'pods')!, { namespace: ns }, (event) => {
      const pod = event.object;
      seen.push(`${phase(pod)}/${waitingReason(pod) ?? (containerStatus(pod)?.['state']?.['running'] ? 'running' : '-')}`);
    });
    try {
      expect((await lab.kubectl(['run', 'web', '-n', ns, '--image=nginx:1.27'])).code).toBe(0);
      const pod = await lab.until('web Ready', () => (condition(lab.pod(ns, 'web'), 'Ready') === 'True' ? lab.pod(ns, 'web') : undefined));
      expect(seen).toContain('Pending/ContainerCreating');
      expect(seen.at(-1)).toBe('Running/running');
      const status = pod.status as Record<string, any>;
      expect(status['podIP']).toMatch(/^10\.244\.\d+\.\d+$/);
      expect(status['hostIP']).toMatch(/^172\.18\.0\.\d+$/);
      expect(containerStatus(pod)).toMatchObject({ name: 'web', ready: true, restartCount: 0, started: true, image: 'docker.io/library/nginx:1.27' });
      expect(containerStatus(pod)?.['imageID']).toMatch(/^docker\.io\/library\/nginx@sha256:[0-9a-f]{64}$/);
      expect(containerStatus(pod)?.['containerID']).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
      for (const type of ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']) expect(condition(pod, type), type).toBe('True');
      const events = await lab.until('the Started event', () => (reasons(ns, 'web').some((e) => e.startsWith('Started')) ? reasons(ns, 'web') : undefined));
      expect(events).toEqual(
        expect.arrayContaining([
          'Pulling: Pulling image "nginx:1.27"',
          expect.stringMatching(/^Pulled: Successfully pulled image "nginx:1.27" in [\d.]+m?s \([\d.]+m?s including waiting\)\. Image size: \d+ bytes\.$/),
          'Created: Created container: web',
          'Started: Started container web',
        ]),
      );
      const table = await lab.kubectl(['get', 'pod', 'web', '-n', ns]);
      expect(table.stdout).toMatch(/web\s+1\/1\s+Running\s+0/);
    } finally {
      watch.stop();
    }
  });

  it('runs a busybox shell command for real: its output is the log, its exit code the container exit code', async () => {
    const ns = await namespace();
    expect((await lab.kubectl(['run', 'hi', '-n', ns, '--image=busybox', '--restart=Never', '--', 'sh', '-c', 'echo hi; exit 3'])).code).toBe(0);
    const pod = await lab.until('hi to fail', () => (phase(lab.pod(ns, 'hi')) === 'Failed' ? lab.pod(ns, 'hi') : undefined));
    expect(containerStatus(pod)?.['state']?.['terminated']).toMatchObject({ exitCode: 3, reason: 'Error' });
    const logs = await lab.kubectl(['logs', 'hi', '-n', ns]);
    expect(logs.stdout).toBe('hi\n');
    expect((await lab.kubectl(['get', 'pod', 'hi', '-n', ns])).stdout).toMatch(/hi\s+0\/1\s+Error\s+0/);
  });

  it('restarts a crashing container with back-off: CrashLoopBackOff, restartCount, lastState, BackOff events', async () => {
    const ns = await namespace();
    expect((await lab.kubectl(['run', 'crash', '-n', ns, '--image=busybox', '--', 'sh', '-c', 'echo crashing; exit 1'])).code).toBe(0);
    const pod = await lab.until('a second back-off', () => {
      const current = lab.pod(ns, 'crash');
      const message = containerStatus(current)?.['state']?.['waiting']?.['message'] as string | undefined;
      return message?.startsWith('back-off 20s') ? current : undefined;
    });
    const status = containerStatus(pod) as Record<string, any>;
    expect(phase(pod)).toBe('Running');
    expect(status['state']['waiting']).toEqual({ reason: 'CrashLoopBackOff', message: `back-off 20s restarting failed container=crash pod=crash_${ns}(${pod.metadata.uid})` });
    expect(status['restartCount']).toBeGreaterThanOrEqual(2);
    expect(status['lastState']['terminated']).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(reasons(ns, 'crash')).toContain(`BackOff: Back-off restarting failed container crash in pod crash_${ns}(${pod.metadata.uid})`);
    // Back-off is sped up here: watch the table for a few seconds rather than catch one moment.
    const watched = await lab.kubectl(['get', 'pod', 'crash', '-n', ns, '--watch', '--request-timeout=4s']);
    expect(watched.stdout).toMatch(/crash\s+0\/1\s+CrashLoopBackOff\s+\d+/);
    const previous = await lab.kubectl(['logs', 'crash', '-n', ns, '--previous']);
    expect(previous.stdout).toBe('crashing\n');
  });

  it('fails to pull a misspelt image (ErrImagePull, then ImagePullBackOff) and recovers after set image', async () => {
    const ns = await namespace();
    expect((await lab.kubectl(['run', 'typo', '-n', ns, '--image=ngnix:1.27'])).code).toBe(0);
    await lab.until('ImagePullBackOff', () => waitingReason(lab.pod(ns, 'typo')) === 'ImagePullBackOff');
    const events = reasons(ns, 'typo');
    expect(events).toContain('Failed: Error: ErrImagePull');
    expect(events).toContain('Failed: Error: ImagePullBackOff');
    expect(events).toContain('BackOff: Back-off pulling image "ngnix:1.27"');
    expect(events.find((e) => e.startsWith('Failed: Failed to pull image'))).toContain(
      'Failed to pull image "ngnix:1.27": rpc error: code = Unknown desc = failed to pull and unpack image "docker.io/library/ngnix:1.27": failed to resolve reference "docker.io/library/ngnix:1.27": pull access denied, repository does not exist or may require authorization',
    );
    const message = containerStatus(lab.pod(ns, 'typo'))?.['state']?.['waiting']?.['message'];
    expect(message).toMatch(/^Back-off pulling image "ngnix:1.27": ErrImagePull: rpc error/);
    const logs = await lab.kubectl(['logs', 'typo', '-n', ns]);
    expect(logs.stderr).toContain('container "typo" in pod "typo" is waiting to start: trying and failing to pull image');

    expect((await lab.kubectl(['set', 'image', 'pod/typo', '-n', ns, 'typo=nginx:1.27'])).code).toBe(0);
    await lab.until('typo Running after the fix', () => phase(lab.pod(ns, 'typo')) === 'Running' && containerStatus(lab.pod(ns, 'typo'))?.['ready'] === true);
  });

  it('restarts a running container of a restartPolicy Never pod with its new image after set image, as computePodActions does', async () => {
    const ns = await namespace();
    expect((await lab.kubectl(['run', 'once', '-n', ns, '--image=nginx:1.27', '--restart=Never'])).code).toBe(0);
    await lab.until('once Running', () => phase(lab.pod(ns, 'once')) === 'Running' && containerStatus(lab.pod(ns, 'once'))?.['ready'] === true);
    expect((await lab.kubectl(['set', 'image', 'pod/once', '-n', ns, 'once=nginx:1.28'])).code).toBe(0);
    await lab.until('once running nginx:1.28', () => {
      const status = containerStatus(lab.pod(ns, 'once'));
      return status?.['image'] === 'docker.io/library/nginx:1.28' && status?.['state']?.['running'] !== undefined ? status : undefined;
    });
    const pod = lab.pod(ns, 'once');
    expect(phase(pod)).toBe('Running');
    expect(containerStatus(pod)?.['restartCount']).toBe(1);
    expect(containerStatus(pod)?.['lastState']?.['terminated']).toBeDefined();
    expect(reasons(ns, 'once')).toContain('Killing: Container once definition changed, will be restarted');
  });

  it('pulls from a private repository once the pod has registry credentials (imagePullSecrets)', async () => {
    const ns = await namespace();
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: private}
spec:
  imagePullSecrets: [{name: regcred}]
  containers:
  - {name: app, image: formicary/private-app:1.0}
`,
      ns,
    );
    await lab.until('the denied pull', () => reasons(ns, 'private').some((e) => e.includes('pull access denied')));
    const created = await lab.kubectl(['create', 'secret', 'docker-registry', 'regcred', '-n', ns, '--docker-username=learner', '--docker-password=secret']);
    expect(created.code, created.stderr).toBe(0);
    await lab.until('private Running', () => phase(lab.pod(ns, 'private')) === 'Running');
  });

  it('refuses a tag the repository does not have with the registry message', async () => {
    const ns = await namespace();
    expect((await lab.kubectl(['run', 'old', '-n', ns, '--image=nginx:0.99'])).code).toBe(0);
    await lab.until('ErrImagePull or back-off', () => ['ErrImagePull', 'ImagePullBackOff'].includes(waitingReason(lab.pod(ns, 'old')) ?? ''));
    expect(reasons(ns, 'old').join('\n')).toContain('docker.io/library/nginx:0.99: not found');
  });

  it('reports CreateContainerConfigError for a missing ConfigMap, then a missing key, and starts once both exist', async () => {
    const ns = await namespace();
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  containers:
  - name: app
    image: nginx:1.27
    env:
    - name: COLOR
      valueFrom: {configMapKeyRef: {name: app-config, key: color}}
`,
      ns,
    );
    await lab.until('CreateContainerConfigError', () => waitingReason(lab.pod(ns, 'app')) === 'CreateContainerConfigError');
    expect(containerStatus(lab.pod(ns, 'app'))?.['state']['waiting']['message']).toBe('configmap "app-config" not found');
    expect(reasons(ns, 'app')).toContain('Failed: Error: configmap "app-config" not found');
    expect((await lab.kubectl(['get', 'pod', 'app', '-n', ns])).stdout).toMatch(/app\s+0\/1\s+CreateContainerConfigError/);

    expect((await lab.kubectl(['create', 'configmap', 'app-config', '-n', ns, '--from-literal=shape=round'])).code).toBe(0);
    await lab.until('the missing key', () => containerStatus(lab.pod(ns, 'app'))?.['state']?.['waiting']?.['message'] === `couldn't find key color in ConfigMap ${ns}/app-config`);

    await lab.kubectl(['patch', 'configmap', 'app-config', '-n', ns, '-p', '{"data":{"color":"blue"}}']);
    await lab.until('app Running', () => phase(lab.pod(ns, 'app')) === 'Running');
  });

  it('keeps a pod ContainerCreating with FailedMount while a ConfigMap volume is missing', async () => {
    const ns = await namespace();
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: mounted}
spec:
  containers:
  - {name: web, image: nginx:1.27, volumeMounts: [{name: config, mountPath: /etc/app}]}
  volumes:
  - {name: config, configMap: {name: web-config}}
`,
      ns,
    );
    await lab.until('FailedMount', () => reasons(ns, 'mounted').includes('FailedMount: MountVolume.SetUp failed for volume "config" : configmap "web-config" not found'));
    expect(waitingReason(lab.pod(ns, 'mounted'))).toBe('ContainerCreating');
    expect(phase(lab.pod(ns, 'mounted'))).toBe('Pending');
    await lab.kubectl(['create', 'configmap', 'web-config', '-n', ns, '--from-literal=a=b']);
    await lab.until('mounted Running', () => phase(lab.pod(ns, 'mounted')) === 'Running');
  });

  it('runs init containers one after the other before the app container', async () => {
    const ns = await namespace();
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: ordered}
spec:
  initContainers:
  - {name: first, image: busybox, command: [sh, -c, 'echo first; sleep 0.3']}
  - {name: second, image: busybox, command: [sh, -c, 'echo second']}
  containers:
  - {name: app, image: nginx:1.27}
`,
      ns,
    );
    const states = new Set<string>();
    const pod = await lab.until('ordered Running', () => {
      const current = lab.pod(ns, 'ordered');
      const status = (current?.status ?? {}) as Record<string, any>;
      const init = (status['initContainerStatuses'] ?? []) as Array<Record<string, any>>;
      states.add(init.map((c) => Object.keys(c['state'] ?? {})[0]).join(','));
      return phase(current) === 'Running' ? current : undefined;
    });
    const init = ((pod.status as Record<string, any>)['initContainerStatuses'] as Array<Record<string, any>>).map((c) => c['state']['terminated']);
    expect(init.map((t) => t.exitCode)).toEqual([0, 0]);
    expect(Date.parse(init[0].finishedAt)).toBeLessThanOrEqual(Date.parse(init[1].startedAt) + 1000);
    expect([...states]).toContain('running,waiting');
    expect((await lab.kubectl(['logs', 'ordered', '-n', ns, '-c', 'first'])).stdout).toBe('first\n');
    expect(condition(pod, 'Initialized')).toBe('True');
  });

  it('fails the pod when an init container fails and restartPolicy is Never (Init:Error)', async () => {
    const ns = await namespace();
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: broken-init}
spec:
  restartPolicy: Never
  initContainers:
  - {name: check, image: busybox, command: [sh, -c, 'echo missing dependency >&2; exit 2']}
  containers:
  - {name: app, image: nginx:1.27}
`,
      ns,
    );
    await lab.until('broken-init Failed', () => phase(lab.pod(ns, 'broken-init')) === 'Failed');
    expect((await lab.kubectl(['get', 'pod', 'broken-init', '-n', ns])).stdout).toMatch(/broken-init\s+0\/1\s+Init:Error/);
    expect(waitingReason(lab.pod(ns, 'broken-init'), 'app')).toBe('PodInitializing');
  });

  it('honours restartPolicy OnFailure: success completes the pod, failure restarts', async () => {
    const ns = await namespace();
    await lab.kubectl(['run', 'ok', '-n', ns, '--image=busybox', '--restart=OnFailure', '--', 'sh', '-c', 'exit 0']);
    await lab.kubectl(['run', 'retry', '-n', ns, '--image=busybox', '--restart=OnFailure', '--', 'sh', '-c', 'exit 1']);
    await lab.until('ok Succeeded', () => phase(lab.pod(ns, 'ok')) === 'Succeeded');
    expect((await lab.kubectl(['get', 'pod', 'ok', '-n', ns])).stdout).toMatch(/ok\s+0\/1\s+Completed\s+0/);
    await lab.until('retry restarted', () => (containerStatus(lab.pod(ns, 'retry'))?.['restartCount'] ?? 0) >= 1);
    expect(phase(lab.pod(ns, 'retry'))).toBe('Running');
  });

  it('becomes Ready only when its readiness probe passes, and unready when the app says so', async () => {
    const ns = await namespace();
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: web
    image: formicary/demo-web:1.1
    env: [{name: READY_AFTER_SECONDS, value: "20"}]
    readinessProbe: {httpGet: {path: /ready, port: 8080}, periodSeconds: 5, failureThreshold: 1}
`,
      ns,
    );
    await lab.until('web Running', () => phase(lab.pod(ns, 'web')) === 'Running');
    expect(condition(lab.pod(ns, 'web'), 'Ready')).toBe('False');
    await lab.until('a failed readiness probe', () => reasons(ns, 'web').includes('Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 503'));
    await lab.until('web Ready', () => condition(lab.pod(ns, 'web'), 'Ready') === 'True');
    const exec = await lab.kubectl(['exec', 'web', '-n', ns, '--', 'touch', '/tmp/not-ready']);
    expect(exec.code, exec.stderr).toBe(0);
    await lab.until('web unready again', () => condition(lab.pod(ns, 'web'), 'Ready') === 'False');
    expect((await lab.kubectl(['get', 'pod', 'web', '-n', ns])).stdout).toMatch(/web\s+0\/1\s+Running/);
  });

  it('restarts a container whose liveness probe fails, with Unhealthy and Killing events', async () => {
    const ns = await namespace();
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: liveness-http}
spec:
  containers:
  - name: liveness
    image: registry.k8s.io/e2e-test-images/agnhost:2.40
    args: [liveness]
    livenessProbe: {httpGet: {path: /healthz, port: 8080}, initialDelaySeconds: 3, periodSeconds: 3}
`,
      ns,
    );
    await lab.until('a restart', () => (containerStatus(lab.pod(ns, 'liveness-http'))?.['restartCount'] ?? 0) >= 1);
    const events = reasons(ns, 'liveness-http');
    expect(events).toContain('Unhealthy: Liveness probe failed: HTTP probe failed with statuscode: 500');
    expect(events).toContain('Killing: Container liveness failed liveness probe, will be restarted');
  });

  it('runs exec probes in the container: the docs liveness example with cat /tmp/healthy', async () => {
    const ns = await namespace();
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: liveness-exec}
spec:
  containers:
  - name: liveness
    image: registry.k8s.io/busybox
    args: [/bin/sh, -c, 'touch /tmp/healthy; sleep 1; rm -f /tmp/healthy; sleep 600']
    livenessProbe: {exec: {command: [cat, /tmp/healthy]}, periodSeconds: 15}
`,
      ns,
    );
    await lab.until('a liveness restart', () => reasons(ns, 'liveness-exec').includes('Killing: Container liveness failed liveness probe, will be restarted'), 20_000);
    expect(reasons(ns, 'liveness-exec').some((e) => e.startsWith('Unhealthy: Liveness probe failed: cat:') && e.includes('/tmp/healthy'))).toBe(true);
  });

  it('answers tcpSocket probes on the ports the image listens on', async () => {
    const ns = await namespace();
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: cache}
spec:
  containers:
  - name: redis
    image: redis:7.2
    readinessProbe: {tcpSocket: {port: 6380}, periodSeconds: 2}
`,
      ns,
    );
    await lab.until('a refused connection', () => reasons(ns, 'cache').some((e) => /^Unhealthy: Readiness probe failed: dial tcp 10\.244\.\d+\.\d+:6380: connect: connection refused$/.test(e)));
    expect(condition(lab.pod(ns, 'cache'), 'Ready')).toBe('False');
  });

  // The Python client's port-forward case runs `python` from the python image and waits on a
  // tcpSocket startup probe: the kubelet dials the pod's IP, so a server on 0.0.0.0 is reached and
  // one bound to 127.0.0.1 only is refused, as on a node.
  it("answers tcpSocket probes of a real process from what listens on the pod's address, with the python image's own `python`", async () => {
    const ns = await namespace();
    const listen = (address: string, port: number) => `s${port} = socket.socket(); s${port}.bind(("${address}", ${port})); s${port}.listen(); `;
    // The kubelet's clock runs 50 times faster here, the process's does not: the startup probe gives it 20 s.
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: py-server}
spec:
  restartPolicy: Never
  containers:
  - name: server
    image: python
    command: [python, -u, -c, 'import socket, time; ${listen('0.0.0.0', 1235)}time.sleep(600)']
    startupProbe: {tcpSocket: {port: 1235}, periodSeconds: 10, failureThreshold: 100}
---
apiVersion: v1
kind: Pod
metadata: {name: py-loopback}
spec:
  containers:
  - name: server
    image: python:3.12
    command: [python, -u, -c, 'import socket, time; ${listen('127.0.0.1', 1235)}${listen('0.0.0.0', 1236)}time.sleep(600)']
    startupProbe: {tcpSocket: {port: 1236}, periodSeconds: 10, failureThreshold: 100}
    readinessProbe: {tcpSocket: {port: 1235}, periodSeconds: 1}
`,
      ns,
    );
    await lab.until('py-server Ready', () => condition(lab.pod(ns, 'py-server'), 'Ready') === 'True', 60_000);
    expect(containerStatus(lab.pod(ns, 'py-server'))).toMatchObject({ started: true, ready: true, restartCount: 0 });
    const exec = await lab.kubectl(['exec', '-n', ns, 'py-server', '--', 'python', '-c', 'print("from python")']);
    expect([exec.code, exec.stdout, exec.stderr]).toEqual([0, 'from python\n', '']);
    // Readiness probes start once the startup probe passed, when both sockets already listen.
    await lab.until('py-loopback started', () => containerStatus(lab.pod(ns, 'py-loopback'))?.['started'] === true, 60_000);
    await lab.until('a refused readiness probe', () => reasons(ns, 'py-loopback').some((e) => /^Unhealthy: Readiness probe failed: dial tcp 10\.244\.\d+\.\d+:1235: connect: connection refused$/.test(e)), 30_000);
    expect(condition(lab.pod(ns, 'py-loopback'), 'Ready')).toBe('False');
  }, 90_000);

  it('is OOMKilled when the simulated memory use passes the limit', async () => {
    const ns = await namespace();
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: hungry, annotations: {formicary.dev/simulate-memory: 300Mi}}
spec:
  containers:
  - {name: app, image: nginx:1.27, resources: {limits: {memory: 128Mi}}}
`,
      ns,
    );
    await lab.until('OOMKilled', () => {
      const status = containerStatus(lab.pod(ns, 'hungry'));
      return status?.['state']?.['terminated']?.['reason'] === 'OOMKilled' || status?.['lastState']?.['terminated']?.['reason'] === 'OOMKilled';
    });
    const status = containerStatus(lab.pod(ns, 'hungry')) as Record<string, any>;
    expect((status['state']['terminated'] ?? status['lastState']['terminated'])['exitCode']).toBe(137);
  });

  it('reports the CPU a lab drives through the annotation', async () => {
    const ns = await namespace();
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: busy, annotations: {formicary.dev/simulate-cpu: 450m}}
spec:
  containers:
  - {name: app, image: nginx:1.27}
`,
      ns,
    );
    await lab.until('busy Running', () => phase(lab.pod(ns, 'busy')) === 'Running');
    // metrics-server's first window needs two scrapes.
    const metrics = await lab.until('a usage window', () => lab.cluster.kubelet?.podMetrics(ns, 'busy'));
    expect(metrics.containers).toEqual([{ name: 'app', usage: { cpu: '450m', memory: expect.stringMatching(/^\d+(Ki|Mi)?$/) } }]);
    expect(lab.cluster.kubelet?.podUsage(lab.pod(ns, 'busy') as KubeObject)?.cpuMillis).toBe(450);
    await lab.kubectl(['annotate', 'pod', 'busy', '-n', ns, '--overwrite', 'formicary.dev/simulate-cpu=900m']);
    await lab.until('900m', () => lab.cluster.kubelet?.podMetrics(ns, 'busy')?.containers[0]?.usage.cpu === '900m');
  });

  it('fails a pod that outlives its activeDeadlineSeconds (DeadlineExceeded)', async () => {
    const ns = await namespace();
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: bounded}
spec:
  activeDeadlineSeconds: 50
  containers:
  - {name: work, image: busybox, command: [sh, -c, 'exec sleep 3600']}
`,
      ns,
    );
    await lab.until('bounded Failed', () => phase(lab.pod(ns, 'bounded')) === 'Failed');
    expect(lab.pod(ns, 'bounded')?.status).toMatchObject({ reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' });
    expect(reasons(ns, 'bounded')).toContain('DeadlineExceeded: Pod was active on the node longer than the specified deadline');
  });

  it('runs lifecycle hooks: a failing postStart kills the container, preStop runs before it stops', async () => {
    const ns = await namespace();
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: hooked}
spec:
  volumes: [{name: shared, hostPath: {path: /var/hooks, type: DirectoryOrCreate}}]
  containers:
  - name: app
    image: busybox
    command: [sh, -c, 'exec sleep 3600']
    volumeMounts: [{name: shared, mountPath: /shared}]
    lifecycle:
      postStart: {exec: {command: [sh, -c, 'echo started > /shared/post-start']}}
      preStop: {exec: {command: [sh, -c, 'echo stopping > /shared/pre-stop']}}
  - name: watcher
    image: busybox
    command: [sh, -c, 'exec sleep 3600']
    volumeMounts: [{name: shared, mountPath: /shared}]
---
apiVersion: v1
kind: Pod
metadata: {name: bad-hook}
spec:
  containers:
  - name: app
    image: nginx:1.27
    lifecycle: {postStart: {exec: {command: [sh, -c, 'exit 1']}}}
`,
      ns,
    );
    await lab.until('hooked Running', () => phase(lab.pod(ns, 'hooked')) === 'Running');
    await lab.eventually('the postStart file', async () => (await lab.kubectl(['exec', '-n', ns, 'hooked', '-c', 'watcher', '--', 'cat', '/shared/post-start'])).stdout === 'started\n');
    await lab.until('FailedPostStartHook', () => reasons(ns, 'bad-hook').some((e) => e.startsWith('FailedPostStartHook: Exec lifecycle hook ([sh -c exit 1]) for Container "app" in Pod "bad-hook_') && e.includes("error: command 'sh -c exit 1' exited with 1")));
    // A hostPath volume is the simulated node's directory: it outlives the pod.
    const nodeName = (lab.pod(ns, 'hooked')?.spec as Record<string, string>)['nodeName'];
    const podDir = `${lab.kubeletDir}/nodes/${nodeName}/hostpath/var/hooks`;
    await lab.kubectl(['delete', 'pod', 'hooked', '-n', ns, '--wait=false']);
    await lab.until('the preStop file', () => {
      try {
        return execFileSync('cat', [`${podDir}/pre-stop`], { encoding: 'utf8' }) === 'stopping\n';
      } catch {
        return false;
      }
    });
  });

  it('terminates gracefully on delete: Killing event, the real process ends, the pod object goes', async () => {
    const ns = await namespace();
    expect((await lab.kubectl(['run', 'sleeper', '-n', ns, '--image=busybox', '--', 'sh', '-c', 'echo up; exec sleep 3617'])).code).toBe(0);
    await lab.until('sleeper up', () => phase(lab.pod(ns, 'sleeper')) === 'Running');
    await lab.until('the real process', () => pidsRunning(['sleep', '3617']).length > 0);
    const deleted = await lab.kubectl(['delete', 'pod', 'sleeper', '-n', ns, '--wait=true']);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(lab.pod(ns, 'sleeper')).toBeUndefined();
    expect(reasons(ns, 'sleeper')).toContain('Killing: Stopping container sleeper');
    await lab.until('no process left', () => pidsRunning(['sleep', '3617']).length === 0, 5_000);
  });
});
