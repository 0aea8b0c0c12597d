// kubectl debug with ephemeral containers: pods/ephemeralcontainers adds one (validated as
// upstream validates it, never removed or changed), the kubelet runs it in the pod's sandbox where
// it sees the target's processes, kubectl attaches to it, and its status is reported.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerStatus, type KubeletCluster, phase, startKubeletCluster, versionedKubectl } from '../kubelet/harness.ts';

let lab: KubeletCluster;
const ns = 'observe-debug';

type Status = { name: string; state: Record<string, Record<string, unknown>> };

function ephemeralStatus(name: string, namespace = ns): Status | undefined {
  const statuses = (lab.pod(namespace, 'app')?.status as { ephemeralContainerStatuses?: Status[] } | undefined)?.ephemeralContainerStatuses ?? [];
  return statuses.find((status) => status.name === name);
}

beforeAll(async () => {
  lab = await startKubeletCluster();
  await lab.kubectl(['create', 'namespace', ns]);
  await lab.apply(
    `apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  containers:
  - {name: app, image: busybox, command: [sh, -c, 'exec sleep 3600']}
`,
    ns,
  );
  await lab.until('app Running', () => phase(lab.pod(ns, 'app')) === 'Running' && containerStatus(lab.pod(ns, 'app'))?.['ready'] === true);
}, 60_000);

afterAll(async () => {
  await lab?.stop();
});

describe('kubectl debug with an ephemeral container', () => {
  it.each(['1.27', '1.33'])('runs a command that sees the target container\'s processes (kubectl %s)', async (version) => {
    const name = `ps-${version.replace('.', '')}`;
    const result = await lab.kubectl(['debug', 'pod/app', '-n', ns, '--image=busybox', '--target=app', '-c', name, '--', 'ps', '-o', 'pid,args'], { binary: versionedKubectl(version) });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Targeting container "app". If you don\'t see processes from this container it may be because the container runtime doesn\'t support this feature.');
    await lab.until(`${name} terminated`, () => ephemeralStatus(name)?.state['terminated']);
    const logs = await lab.kubectl(['logs', 'app', '-n', ns, '-c', name]);
    expect(logs.stdout).toMatch(/sleep 3600/);
    const spec = JSON.parse((await lab.kubectl(['get', 'pod', 'app', '-n', ns, '-o', 'json'])).stdout).spec;
    expect(spec.ephemeralContainers.find((c: { name: string }) => c.name === name)).toMatchObject({ image: 'busybox', targetContainerName: 'app', terminationMessagePolicy: 'File', imagePullPolicy: 'Always' });
  });

  it('without --target, runs in a PID namespace of its own, as upstream', async () => {
    const result = await lab.kubectl(['debug', 'pod/app', '-n', ns, '--image=busybox', '-c', 'alone', '--', 'ps', '-o', 'pid,args']);
    expect(result.code).toBe(0);
    await lab.until('alone terminated', () => ephemeralStatus('alone')?.state['terminated']);
    const logs = (await lab.kubectl(['logs', 'app', '-n', ns, '-c', 'alone'])).stdout;
    expect(logs).not.toMatch(/sleep 3600/);
    expect(logs).toMatch(/^\s*1 ps -o pid,args$/m);
  });

  it('attaches to an interactive debug container', async () => {
    const result = await lab.kubectl(['debug', '-i', 'pod/app', '-n', ns, '--image=busybox', '--target=app', '-c', 'shell', '--', 'sh'], { stdin: 'echo from-debug-$((6*7)); ps -o args | grep -c \"^sleep 3600\"; exit\n' });
    expect(result.stdout).toContain('from-debug-42');
    expect(result.stdout).toMatch(/^1$/m);
    await lab.until('shell terminated', () => ephemeralStatus('shell')?.state['terminated']);
    expect(containerStatus(lab.pod(ns, 'app'))?.['restartCount']).toBe(0);
  });

  it('refuses a target that is not one of the pod\'s containers', async () => {
    const result = await lab.kubectl(['debug', 'pod/app', '-n', ns, '--image=busybox', '--target=nosuch', '-c', 'lost']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Pod "app" is invalid: spec.ephemeralContainers[');
    expect(result.stderr).toContain('].targetContainerName: Not found: "nosuch"');
  });

  it('never removes or changes an ephemeral container once added', async () => {
    await lab.until('an ephemeral container', () => ephemeralStatus('shell'));
    const pod = JSON.parse((await lab.kubectl(['get', '--raw', `/api/v1/namespaces/${ns}/pods/app/ephemeralcontainers`])).stdout);
    expect(pod.kind).toBe('Pod');
    const without = { ...pod, spec: { ...pod.spec, ephemeralContainers: pod.spec.ephemeralContainers.filter((c: { name: string }) => c.name !== 'shell') } };
    const removed = await lab.kubectl(['replace', '--raw', `/api/v1/namespaces/${ns}/pods/app/ephemeralcontainers`, '-f', '-'], { stdin: JSON.stringify(without) });
    expect(removed.stderr).toContain('The Pod "app" is invalid: spec.ephemeralContainers: Forbidden: existing ephemeral containers "shell" may not be removed');
    const restricted = await lab.kubectl(['debug', 'pod/app', '-n', ns, '--image=busybox', '-c', 'ported', '--', 'true'], { binary: versionedKubectl('1.33') });
    expect(restricted.code).toBe(0);
    const withPorts = JSON.parse((await lab.kubectl(['get', '--raw', `/api/v1/namespaces/${ns}/pods/app/ephemeralcontainers`])).stdout);
    // Unconditional: the kubelet writes the pod's status meanwhile.
    delete withPorts.metadata.resourceVersion;
    withPorts.spec.ephemeralContainers.push({ name: 'server', image: 'busybox', ports: [{ containerPort: 80 }] });
    const ports = await lab.kubectl(['replace', '--raw', `/api/v1/namespaces/${ns}/pods/app/ephemeralcontainers`, '-f', '-'], { stdin: JSON.stringify(withPorts) });
    expect(ports.stderr).toMatch(/spec\.ephemeralContainers\[\d+\]\.ports: Forbidden: cannot be set for an Ephemeral Container/);
  });

  it('copies a pod with --copy-to and --share-processes, the debug container beside the app', async () => {
    const result = await lab.kubectl(['debug', 'app', '-n', ns, '-i', '--image=busybox', '--copy-to=app-copy', '--share-processes', '-c', 'copier', '--', 'sh'], {
      // The copy's containers start side by side: wait (bounded) for the app's process to be there.
      stdin: 'for i in 1 2 3 4 5 6 7 8 9 10; do ps -o args | grep -q \"^sleep 3600\" && break; sleep 0.5; done; ps -o args | grep -c \"^sleep 3600\"; exit\n',
    });
    expect(result.stdout).toMatch(/^1$/m);
    const copy = JSON.parse((await lab.kubectl(['get', 'pod', 'app-copy', '-n', ns, '-o', 'json'])).stdout);
    expect(copy.spec.shareProcessNamespace).toBe(true);
    expect(copy.spec.containers.map((c: { name: string }) => c.name)).toEqual(['app', 'copier']);
  });

  it('is judged by Pod Security admission: a restricted namespace refuses the legacy profile and admits the restricted one', async () => {
    await lab.kubectl(['create', 'namespace', 'observe-restricted']);
    await lab.kubectl(['label', 'namespace', 'observe-restricted', 'pod-security.kubernetes.io/enforce=restricted']);
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: app}
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 1000, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: busybox
    command: [sh, -c, 'exec sleep 3600']
    securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`,
      'observe-restricted',
    );
    const legacy = await lab.kubectl(['debug', 'pod/app', '-n', 'observe-restricted', '--image=busybox', '--target=app', '-c', 'plain', '--', 'true'], { binary: versionedKubectl('1.33') });
    expect(legacy.code).toBe(1);
    expect(legacy.stderr).toContain('Error from server (Forbidden): pods "app" is forbidden: violates PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "plain" must set securityContext.allowPrivilegeEscalation=false)');
    const restricted = await lab.kubectl(['debug', 'pod/app', '-n', 'observe-restricted', '--image=busybox', '--target=app', '-c', 'safe', '--profile=restricted', '--', 'true'], { binary: versionedKubectl('1.33') });
    expect(restricted.stderr).not.toContain('forbidden');
    expect(restricted.code).toBe(0);
    const safe = await lab.until('safe ended', () => ephemeralStatus('safe', 'observe-restricted')?.state['terminated']);
    expect(safe['exitCode']).toBe(0);
  });
});
