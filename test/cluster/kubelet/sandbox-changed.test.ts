// A pod whose sandbox dies under it (its pause process killed, as a learner with enough access or
// the OOM killer could do): the kubelet finds the sandbox no longer ready, says SandboxChanged,
// kills the pod and makes a new sandbox with a new address, where the init containers run again
// and the containers restart. A restartPolicy Never pod that already ran is only killed, and a pod
// being deleted is left to its end.
import { readdirSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerStatus, type KubeletCluster, phase, startKubeletCluster } from './harness.ts';
import { pidsRunning } from '../../support/processes.ts';

let lab: KubeletCluster;
const ns = 'sandbox-changed';

beforeAll(async () => {
  lab = await startKubeletCluster();
  await lab.kubectl(['create', 'namespace', ns]);
  await lab.serviceAccountReady(ns);
});
afterAll(async () => {
  await lab?.stop();
});

/**
 * The pod's PID 1 on the host: bubblewrap's init in the pod sandbox. bubblewrap's own process has
 * the same command line but stays in the host's network namespace; the init is in the pod's, on its address.
 */
function podInit(hostname: string, podIP: string): number | undefined {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (!argv[0]?.endsWith('bwrap') || !argv.includes('--info-fd') || argv[argv.indexOf('--hostname') + 1] !== hostname) continue;
      if (readFileSync(`/proc/${entry}/net/fib_trie`, 'utf8').split(/\s+/).includes(podIP)) return Number(entry);
    } catch {
      // Gone meanwhile.
    }
  }
  return undefined;
}


function podIPOf(name: string): string | undefined {
  const ip = (lab.pod(ns, name)?.status as { podIP?: string } | undefined)?.podIP;
  return ip || undefined;
}

async function killPodSandbox(name: string): Promise<void> {
  const ip = await lab.until(`${name}'s pod IP`, () => podIPOf(name));
  const pid = await lab.until(`the pod sandbox of ${name}`, () => podInit(name, ip));
  process.kill(pid, 'SIGKILL');
}

async function describePod(name: string): Promise<string> {
  const result = await lab.kubectl(['describe', 'pod', '-n', ns, name]);
  expect(result.stderr).toBe('');
  return result.stdout;
}

describe('a pod whose sandbox dies', () => {
  it('is killed and gets a new sandbox: SandboxChanged, init containers again, containers restarted, exec working', async () => {
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: lost-keeper}
spec:
  initContainers:
  - {name: count, image: busybox, command: [sh, -c, 'echo run >> /data/runs'], volumeMounts: [{name: data, mountPath: /data}]}
  containers:
  - name: app
    image: busybox
    command: [sh, -c, 'sleep 7654321 & exec sleep 3600']
    env: [{name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}]
    volumeMounts: [{name: data, mountPath: /data}]
  - {name: web, image: nginx:1.27}
  volumes: [{name: data, emptyDir: {}}]
`,
      ns,
    );
    await lab.until('lost-keeper ready', () => phase(lab.pod(ns, 'lost-keeper')) === 'Running' && containerStatus(lab.pod(ns, 'lost-keeper'), 'app')?.['ready'] && containerStatus(lab.pod(ns, 'lost-keeper'), 'web')?.['ready']);
    const oldIP = podIPOf('lost-keeper') as string;
    // A process the container started beside its command, in the old sandbox.
    const [background] = await lab.until('the background sleep', () => pidsRunning(['sleep', '7654321']).length === 1 && pidsRunning(['sleep', '7654321']));

    await killPodSandbox('lost-keeper');

    await lab.eventually('SandboxChanged in kubectl get events', async () => {
      const events = await lab.kubectl(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=lost-keeper,reason=SandboxChanged', '-o', 'jsonpath={range .items[*]}{.type}|{.message}{"\\n"}{end}']);
      return events.stdout.includes('Normal|Pod sandbox changed, it will be killed and re-created.');
    });
    const restarted = await lab.until('lost-keeper running again with each container restarted once', () => {
      const pod = lab.pod(ns, 'lost-keeper');
      const app = containerStatus(pod, 'app');
      const web = containerStatus(pod, 'web');
      return phase(pod) === 'Running' && app?.['ready'] && web?.['ready'] && app['restartCount'] === 1 && web['restartCount'] === 1 && pod;
    });
    // The kubelet stopped both (SIGTERM, SIGKILL after the grace period): the server's clean exit restarts it too.
    const app = containerStatus(restarted, 'app')?.['lastState']?.['terminated'];
    expect(app?.['reason']).toBe('Error');
    expect([137, 143]).toContain(app?.['exitCode']);
    expect(containerStatus(restarted, 'web')?.['lastState']?.['terminated']).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(containerStatus(restarted, 'count', true)?.['state']?.['terminated']).toMatchObject({ exitCode: 0, reason: 'Completed' });
    // A new sandbox gets its address from the pod network again, as a CNI ADD gives it.
    const newIP = podIPOf('lost-keeper') as string;
    expect(newIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
    expect(newIP).not.toBe(oldIP);
    // What the old sandbox ran is gone; the new container started its own.
    await lab.until('one background sleep, the new one', () => pidsRunning(['sleep', '7654321']).length === 1);
    expect(pidsRunning(['sleep', '7654321'])).not.toContain(background);

    const description = await describePod('lost-keeper');
    expect(description).toMatch(/Normal\s+SandboxChanged\s+.*\s+Pod sandbox changed, it will be killed and re-created\./);
    expect(description).toMatch(/Normal\s+Killing\s+.*\s+Stopping container app/);
    expect(description).toMatch(/Normal\s+Killing\s+.*\s+Stopping container web/);

    const exec = await lab.kubectl(['exec', '-n', ns, 'lost-keeper', '-c', 'app', '--', 'sh', '-c', 'hostname; echo "$POD_IP"; cat /data/runs']);
    expect(exec.stderr).toBe('');
    expect(exec.stdout).toBe(`lost-keeper\n${newIP}\nrun\nrun\n`);
    expect(exec.code).toBe(0);
  });

  it('ends the containers that share its PID namespace with it, and runs them again in the new one', async () => {
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: lost-shared}
spec:
  shareProcessNamespace: true
  containers:
  - {name: app, image: busybox, command: [sh, -c, 'exec sleep 3600']}
`,
      ns,
    );
    await lab.until('lost-shared ready', () => containerStatus(lab.pod(ns, 'lost-shared'), 'app')?.['ready']);

    await killPodSandbox('lost-shared');

    const restarted = await lab.until('lost-shared running again', () => {
      const pod = lab.pod(ns, 'lost-shared');
      return phase(pod) === 'Running' && containerStatus(pod, 'app')?.['ready'] && containerStatus(pod, 'app')?.['restartCount'] === 1 && pod;
    });
    // The kernel ended the command as the pod's PID 1 exited, or the kubelet's kill did first.
    const last = containerStatus(restarted, 'app')?.['lastState']?.['terminated'];
    expect(last?.['reason']).toBe('Error');
    expect(last?.['exitCode']).toBeGreaterThan(0);
    expect(lab.events(ns, 'lost-shared').filter((event) => event.reason === 'SandboxChanged')).toHaveLength(1);
    // An exec joins the pod's PID namespace: the new sandbox's, whose PID 1 runs.
    const exec = await lab.kubectl(['exec', '-n', ns, 'lost-shared', '--', 'sh', '-c', 'ps -o comm | grep -c sleep']);
    expect(exec.stderr).toBe('');
    expect(exec.stdout.trim()).toBe('2');
  });

  it('with restartPolicy OnFailure, starts again what it killed, not a container that had already succeeded', async () => {
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: lost-onfailure}
spec:
  restartPolicy: OnFailure
  containers:
  - {name: done, image: busybox, command: [sh, -c, 'exit 0']}
  - {name: app, image: busybox, command: [sh, -c, 'exec sleep 3600']}
`,
      ns,
    );
    await lab.until('done completed, app ready', () => containerStatus(lab.pod(ns, 'lost-onfailure'), 'done')?.['state']?.['terminated'] && containerStatus(lab.pod(ns, 'lost-onfailure'), 'app')?.['ready']);

    await killPodSandbox('lost-onfailure');

    const restarted = await lab.until('app running again', () => {
      const pod = lab.pod(ns, 'lost-onfailure');
      return containerStatus(pod, 'app')?.['ready'] && containerStatus(pod, 'app')?.['restartCount'] === 1 && pod;
    });
    expect(phase(restarted)).toBe('Running');
    expect(containerStatus(restarted, 'done')?.['state']?.['terminated']).toMatchObject({ exitCode: 0, reason: 'Completed' });
    expect(containerStatus(restarted, 'done')?.['restartCount']).toBe(0);
    expect(lab.events(ns, 'lost-onfailure').filter((event) => event.reason === 'SandboxChanged')).toHaveLength(1);
  });

  it('with restartPolicy Never, after its containers ran, is only killed: Failed, no new sandbox, no restart', async () => {
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: lost-once}
spec:
  restartPolicy: Never
  containers:
  - {name: app, image: busybox, command: [sh, -c, 'exec sleep 3600']}
`,
      ns,
    );
    await lab.until('lost-once running', () => phase(lab.pod(ns, 'lost-once')) === 'Running');

    await killPodSandbox('lost-once');

    const failed = await lab.until('lost-once Failed', () => phase(lab.pod(ns, 'lost-once')) === 'Failed' && lab.pod(ns, 'lost-once'));
    const terminated = containerStatus(failed, 'app')?.['state']?.['terminated'];
    expect(terminated?.['reason']).toBe('Error');
    expect([137, 143]).toContain(terminated?.['exitCode']);
    expect(containerStatus(failed, 'app')?.['restartCount']).toBe(0);
    expect(await describePod('lost-once')).toMatch(/Normal\s+Killing\s+.*\s+Stopping container app/);
    expect(lab.events(ns, 'lost-once').map((event) => event.reason)).not.toContain('SandboxChanged');
    const exec = await lab.kubectl(['exec', '-n', ns, 'lost-once', '--', 'true']);
    expect(exec.code).not.toBe(0);
    expect(exec.stderr).toContain('cannot exec into a container in a completed pod; current phase is Failed');
  });

  it('being deleted, is left to end: no SandboxChanged, no new sandbox', async () => {
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: lost-leaving}
spec:
  terminationGracePeriodSeconds: 100
  containers:
  - {name: app, image: busybox, command: [sh, -c, 'trap "" TERM; while true; do sleep 1; done']}
`,
      ns,
    );
    await lab.until('lost-leaving running', () => phase(lab.pod(ns, 'lost-leaving')) === 'Running');
    const ip = podIPOf('lost-leaving') as string;
    const pid = await lab.until('the pod sandbox of lost-leaving', () => podInit('lost-leaving', ip));
    expect((await lab.kubectl(['delete', 'pod', '-n', ns, 'lost-leaving', '--wait=false'])).code).toBe(0);
    await lab.until('lost-leaving terminating', () => lab.pod(ns, 'lost-leaving')?.metadata.deletionTimestamp);
    process.kill(pid, 'SIGKILL');

    await lab.until('lost-leaving gone', () => lab.pod(ns, 'lost-leaving') === undefined);
    expect(lab.events(ns, 'lost-leaving').map((event) => event.reason)).not.toContain('SandboxChanged');
    expect(podInit('lost-leaving', ip)).toBeUndefined();
  });
});
