// Pod Security admission, tried as a hostile learner from a sandbox's own token: every way to
// reach the node through a pod spec is refused with upstream's message, workload templates get
// upstream's warnings (their pods are then refused), a pod that follows the restricted level is
// admitted; namespace labels are validated and raising a level warns about existing pods.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasKubectl } from '../cluster/apiserver/harness.ts';
import { startSecurityFixture, type Learner, type SecurityFixture } from './learner.ts';

const lab = (podSecurity: string | undefined) => ({
  'lab.yaml': `title: Pods
summary: The learner runs pods.
duration: 5
timeLimit: 30
${podSecurity ? `podSecurity: ${podSecurity}\n` : ''}steps:
  - id: run
    title: Run a pod
    instructions: Run one.
    checks:
      - kind: exists
        resource: pod
        name: workbench
        passesBefore: true
    solution:
      - kubectl get pods
`,
});

interface PodOptions {
  podContext?: Record<string, unknown>;
  containerContext?: Record<string, unknown>;
  spec?: Record<string, unknown>;
  container?: Record<string, unknown>;
}

/** A pod with one container `shell`, as JSON (a YAML subset kubectl reads from stdin). */
function pod(name: string, options: PodOptions = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name },
    spec: {
      ...(options.podContext ? { securityContext: options.podContext } : {}),
      containers: [{ name: 'shell', image: 'busybox:1.36', command: ['sleep', '3600'], ...(options.containerContext ? { securityContext: options.containerContext } : {}), ...options.container }],
      ...options.spec,
    },
  });
}

/** What the restricted level asks of a pod and of each container. */
const restrictedPod = { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
const restrictedContainer = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };
const compliant = (name: string, extra: PodOptions = {}) =>
  pod(name, { ...extra, podContext: { ...restrictedPod, ...extra.podContext }, containerContext: { ...restrictedContainer, ...extra.containerContext } });

/** The restricted reasons a container `name` that says nothing about security gets, in upstream's order. */
const plainRestricted = (name: string) =>
  `allowPrivilegeEscalation != false (container "${name}" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container "${name}" must set securityContext.capabilities.drop=["ALL"]), runAsNonRoot != true (pod or container "${name}" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container "${name}" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")`;

const refusal = (name: string, level: string, reasons: string) => `Error from server (Forbidden): error when creating "STDIN": pods "${name}" is forbidden: violates PodSecurity "${level}:latest": ${reasons}\n`;

let fixture: SecurityFixture;

beforeAll(async () => {
  fixture = await startSecurityFixture({ restricted: lab(undefined), baseline: lab('baseline') });
}, 60_000);
afterAll(async () => {
  await fixture?.stop();
});

const versions = ['1.27', '1.33'].filter(hasKubectl);

describe.each(versions)('a restricted sandbox (kubectl %s)', (version) => {
  let learner: Learner;
  beforeAll(async () => {
    learner = await fixture.learner('restricted');
  }, 60_000);

  const apply = (manifest: string) => learner.kubectl(['apply', '-f', '-'], { version, stdin: manifest });

  it('is labelled restricted for enforce, warn and audit, and its workbench follows the level', async () => {
    const labels = JSON.parse((await fixture.admin(['get', 'namespace', learner.namespace, '-o', 'jsonpath={.metadata.labels}'])).stdout) as Record<string, string>;
    expect(labels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted', 'pod-security.kubernetes.io/warn': 'restricted', 'pod-security.kubernetes.io/audit': 'restricted' });
    const workbench = JSON.parse((await fixture.admin(['get', 'pod', 'workbench', '-n', learner.namespace, '-o', 'json'])).stdout) as { spec: { securityContext: unknown } };
    expect(workbench.spec.securityContext).toMatchObject(restrictedPod);
  });

  it('refuses a privileged pod that says nothing else, listing every reason in upstream order', async () => {
    const result = await apply(pod('root-shell', { containerContext: { privileged: true } }));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(refusal('root-shell', 'restricted', `privileged (container "shell" must not set securityContext.privileged=true), ${plainRestricted('shell')}`));
  });

  it.each([
    ['hostNetwork', { spec: { hostNetwork: true } }, 'host namespaces (hostNetwork)'],
    ['hostPID', { spec: { hostPID: true } }, 'host namespaces (hostPID)'],
    ['hostIPC', { spec: { hostIPC: true } }, 'host namespaces (hostIPC)'],
    ['all three', { spec: { hostNetwork: true, hostPID: true, hostIPC: true } }, 'host namespaces (hostIPC, hostNetwork, hostPID)'],
    [
      'a hostPath volume of /',
      { spec: { volumes: [{ name: 'host', hostPath: { path: '/' } }] }, container: { volumeMounts: [{ name: 'host', mountPath: '/host' }] } },
      'restricted volume types (volume "host" uses restricted volume type "hostPath")',
    ],
    ['a hostPort', { container: { ports: [{ containerPort: 8080, hostPort: 8080 }] } }, 'hostPort (container "shell" uses hostPort 8080)'],
    ['added capabilities', { containerContext: { capabilities: { drop: ['ALL'], add: ['SYS_ADMIN', 'NET_BIND_SERVICE'] } } }, 'unrestricted capabilities (container "shell" must not include "SYS_ADMIN" in securityContext.capabilities.add)'],
    ['runAsUser 0', { podContext: { runAsUser: 0 } }, 'runAsUser=0 (pod must not set runAsUser=0)'],
    ['an Unconfined seccomp profile', { containerContext: { seccompProfile: { type: 'Unconfined' } } }, 'seccompProfile (container "shell" must not set securityContext.seccompProfile.type to "Unconfined")'],
    ['a forbidden sysctl', { podContext: { sysctls: [{ name: 'kernel.msgmax', value: '65536' }] } }, 'forbidden sysctls (kernel.msgmax)'],
    ['an Unconfined AppArmor profile', { podContext: { appArmorProfile: { type: 'Unconfined' } } }, 'forbidden AppArmor profile (pod must not set AppArmor profile type to "Unconfined")'],
    ['an SELinux type of spc_t', { containerContext: { seLinuxOptions: { type: 'spc_t' } } }, 'seLinuxOptions (container "shell" set forbidden securityContext.seLinuxOptions: type "spc_t")'],
    ['procMount Unmasked', { containerContext: { procMount: 'Unmasked' } }, 'procMount (container "shell" must not set securityContext.procMount to "Unmasked")'],
  ])('refuses %s on an otherwise restricted pod', async (_name, attack, reasons) => {
    const result = await apply(compliant('attack', attack as PodOptions));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(refusal('attack', 'restricted', reasons));
  });

  it('refuses a pod without a seccomp profile', async () => {
    const result = await apply(pod('no-seccomp', { podContext: { runAsNonRoot: true }, containerContext: restrictedContainer }));
    expect(result.stderr).toBe(refusal('no-seccomp', 'restricted', 'seccompProfile (pod or container "shell" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")'));
  });

  it('refuses kubectl run, whose pod says nothing about security', async () => {
    const result = await learner.kubectl(['run', 'box', '--image=busybox:1.36', '--', 'sleep', '3600'], { version });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`Error from server (Forbidden): pods "box" is forbidden: violates PodSecurity "restricted:latest": ${plainRestricted('box')}\n`);
  });

  it('admits a pod that follows the restricted level, without a warning', async () => {
    const result = await apply(compliant(`ok-${version.replace('.', '-')}`));
    expect(result).toMatchObject({ code: 0, stdout: `pod/ok-${version.replace('.', '-')} created\n`, stderr: '' });
  });

  it('cannot make an admitted pod privileged afterwards: a pod spec is immutable but for images', async () => {
    const name = `later-${version.replace('.', '-')}`;
    expect((await apply(compliant(name))).code).toBe(0);
    const result = await learner.kubectl(['patch', 'pod', name, '-p', JSON.stringify({ spec: { hostPID: true, containers: [{ name: 'shell', securityContext: { privileged: true } }] } })], { version });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`The Pod "${name}" is invalid: spec: Forbidden: pod updates may not change fields other than`);
  });

  it('warns about a Deployment whose template would be refused, and the refusal reaches its ReplicaSet', async () => {
    const name = `web-${version.replace('.', '-')}`;
    const result = await learner.kubectl(['create', 'deployment', name, '--image=nginx:1.27'], { version });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`deployment.apps/${name} created\n`);
    expect(result.stderr).toBe(`Warning: would violate PodSecurity "restricted:latest": ${plainRestricted('nginx')}\n`);
    let message = '';
    for (let i = 0; i < 100 && message === ''; i++) {
      message = (await fixture.admin(['get', 'events', '-n', learner.namespace, '--field-selector', 'reason=FailedCreate', '-o', 'jsonpath={.items[0].message}'])).stdout;
      if (message === '') await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(message).toMatch(new RegExp(`^Error creating: pods "${name}-[a-z0-9]+-[a-z0-9]{5}" is forbidden: violates PodSecurity "restricted:latest": `));
  });

  it('the learner cannot lower its namespace\'s level', async () => {
    const result = await learner.kubectl(['label', 'namespace', learner.namespace, 'pod-security.kubernetes.io/enforce=privileged', '--overwrite'], { version });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`namespaces "${learner.namespace}" is forbidden: User "${learner.username}" cannot patch resource "namespaces"`);
  });
});

describe('a baseline sandbox', () => {
  let learner: Learner;
  beforeAll(async () => {
    learner = await fixture.learner('baseline');
  }, 60_000);

  it('admits a plain pod without a warning, and refuses a privileged one with the baseline reason alone', async () => {
    expect(await learner.kubectl(['run', 'box', '--image=busybox:1.36', '--', 'sleep', '3600'])).toMatchObject({ code: 0, stdout: 'pod/box created\n', stderr: '' });
    const result = await learner.kubectl(['apply', '-f', '-'], { stdin: pod('root-shell', { containerContext: { privileged: true } }) });
    expect(result.stderr).toBe(refusal('root-shell', 'baseline', 'privileged (container "shell" must not set securityContext.privileged=true)'));
  });
});

describe('namespace labels', () => {
  it('are validated: an unknown level or version is Invalid', async () => {
    const name = 'psa-invalid';
    const result = await fixture.admin(['create', '-f', '-'], {
      stdin: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'pod-security.kubernetes.io/enforce': 'strict', 'pod-security.kubernetes.io/warn-version': '1.30' } } }),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `The Namespace "${name}" is invalid: \n* metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted\n* metadata.labels[pod-security.kubernetes.io/warn-version]: Invalid value: "1.30": must be "latest" or "v1.x"\n`,
    );
  });

  it('raising the enforce level warns about the pods already there that it would refuse', async () => {
    const ns = 'psa-existing';
    expect((await fixture.admin(['create', 'namespace', ns])).code).toBe(0);
    for (const name of ['host-a', 'host-b', 'host-c']) expect((await fixture.admin(['apply', '-n', ns, '-f', '-'], { stdin: pod(name, { spec: { hostPID: true } }) })).code).toBe(0);
    expect((await fixture.admin(['apply', '-n', ns, '-f', '-'], { stdin: pod('root', { containerContext: { privileged: true } }) })).code).toBe(0);
    const result = await fixture.admin(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=baseline']);
    expect(result.stdout).toBe(`namespace/${ns} labeled\n`);
    expect(result.stderr).toBe(
      `Warning: existing pods in namespace "${ns}" violate the new PodSecurity enforce level "baseline:latest"\nWarning: host-a (and 2 other pods): host namespaces\nWarning: root: privileged\n`,
    );
  });

  it('warn may be stricter than enforce: the pod is admitted with the warning kubectl prints', async () => {
    const ns = 'psa-warn';
    await fixture.admin(['create', 'namespace', ns]);
    await fixture.admin(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=baseline', 'pod-security.kubernetes.io/warn=restricted']);
    const result = await fixture.admin(['apply', '-n', ns, '-f', '-'], { stdin: pod('plain') });
    expect(result).toMatchObject({ code: 0, stdout: 'pod/plain created\n', stderr: `Warning: would violate PodSecurity "restricted:latest": ${plainRestricted('shell')}\n` });
  });

  it('an older policy version applies the checks of that version', async () => {
    const ns = 'psa-v1-22';
    await fixture.admin(['create', 'namespace', ns]);
    await fixture.admin(['label', 'namespace', ns, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/enforce-version=v1.22']);
    // runAsUser=0 is checked from v1.23 on.
    const root = compliant('root', { podContext: { runAsUser: 0 } });
    expect(await fixture.admin(['apply', '-n', ns, '-f', '-'], { stdin: root })).toMatchObject({ code: 0, stdout: 'pod/root created\n' });
  });

  it('kube-system has none and stays privileged', async () => {
    const result = await fixture.admin(['run', 'node-shell', '-n', 'kube-system', '--image=busybox:1.36', '--privileged', '--dry-run=server']);
    // The only warning is the pod sandbox's (it runs privileged containers unprivileged); Pod Security has none.
    expect(result).toMatchObject({
      code: 0,
      stdout: 'pod/node-shell created (server dry run)\n',
      stderr: "Warning: spec.containers[0].securityContext.privileged: this cluster's pod sandbox runs the container unprivileged, with only the capabilities it can grant\n",
    });
  });
});
