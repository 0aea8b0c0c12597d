// PodSecurity's policy versions and label rules, through the registry's admission chain (the
// kubectl-level cases are in test/security/pod-security.test.ts): which checks a pinned version
// runs, how warn follows enforce, and which namespace updates look at existing pods.
import { afterEach, describe, expect, it } from 'vitest';
import { admissionPlugins } from '../../../src/cluster/apiserver/admission/index.ts';
import { StatusError, type KubeObject } from '../../../src/cluster/types.ts';
import { openTestRegistry, statusOf, type TestRegistry } from '../registry/helpers.ts';

let t: TestRegistry;
afterEach(async () => {
  await t?.registry.close();
});

const psa = (labels: Record<string, string>) => Object.fromEntries(Object.entries(labels).map(([mode, value]) => [`pod-security.kubernetes.io/${mode}`, value]));

async function namespaceWith(labels: Record<string, string>): Promise<void> {
  t = await openTestRegistry({ admission: admissionPlugins() });
  t.registry.create(t.def('', 'v1', 'namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lab', labels: psa(labels) } });
}

const restrictedPod = { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } };
const restrictedContainer = { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } };

function pod(name: string, spec: { pod?: Record<string, unknown>; container?: Record<string, unknown>; extra?: Record<string, unknown>; annotations?: Record<string, string> } = {}): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, ...(spec.annotations ? { annotations: spec.annotations } : {}) },
    spec: { securityContext: spec.pod ?? {}, containers: [{ name: 'app', image: 'busybox:1.36', securityContext: spec.container ?? {} }], ...spec.extra },
  };
}

/** Creates the pod; the message of the refusal, or 'admitted' with the warnings it got. */
function create(object: KubeObject): string {
  const warnings: string[] = [];
  try {
    t.registry.create(t.def('', 'v1', 'pods'), 'lab', object, { warnings });
  } catch (error) {
    if (error instanceof StatusError) return error.status.message ?? '';
    throw error;
  }
  return ['admitted', ...warnings].join('\n');
}

describe('policy versions', () => {
  it('v1.18 reads the seccomp annotations, not the field (added in 1.19)', async () => {
    await namespaceWith({ enforce: 'baseline', 'enforce-version': 'v1.18' });
    expect(create(pod('field', { pod: { seccompProfile: { type: 'Unconfined' } } }))).toBe('admitted');
    expect(create(pod('annotated', { annotations: { 'seccomp.security.alpha.kubernetes.io/pod': 'unconfined' } }))).toBe(
      'pods "annotated" is forbidden: violates PodSecurity "baseline:v1.18": seccompProfile (forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined")',
    );
  });

  it('the allowed sysctls and SELinux types grow with the version', async () => {
    await namespaceWith({ enforce: 'baseline', 'enforce-version': 'v1.30' });
    expect(create(pod('rmem', { pod: { sysctls: [{ name: 'net.ipv4.tcp_rmem', value: '4096 87380 6291456' }] } }))).toBe(
      'pods "rmem" is forbidden: violates PodSecurity "baseline:v1.30": forbidden sysctls (net.ipv4.tcp_rmem)',
    );
    expect(create(pod('engine', { container: { seLinuxOptions: { type: 'container_engine_t' } } }))).toBe(
      'pods "engine" is forbidden: violates PodSecurity "baseline:v1.30": seLinuxOptions (container "app" set forbidden securityContext.seLinuxOptions: type "container_engine_t")',
    );
    t.registry.update(t.def('', 'v1', 'namespaces'), undefined, 'lab', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lab', labels: psa({ enforce: 'baseline' }) } });
    expect(create(pod('rmem', { pod: { sysctls: [{ name: 'net.ipv4.tcp_rmem', value: '4096 87380 6291456' }] } }))).toBe('admitted');
    expect(create(pod('engine', { container: { seLinuxOptions: { type: 'container_engine_t' } } }))).toBe('admitted');
  });

  it('before v1.22 restricted checks added capabilities with the baseline rule and asks for no drop', async () => {
    await namespaceWith({ enforce: 'restricted', 'enforce-version': 'v1.21' });
    const adds = pod('adds', { pod: restrictedPod, container: { allowPrivilegeEscalation: false, capabilities: { add: ['SYS_ADMIN'] } } });
    expect(create(adds)).toBe('pods "adds" is forbidden: violates PodSecurity "restricted:v1.21": non-default capabilities (container "app" must not include "SYS_ADMIN" in securityContext.capabilities.add)');
    expect(create(pod('keeps', { pod: restrictedPod, container: { allowPrivilegeEscalation: false } }))).toBe('admitted');
  });

  it('a Windows pod needs no privilege escalation, capability or seccomp settings from v1.25, but still runs as non-root', async () => {
    await namespaceWith({ enforce: 'restricted' });
    expect(create(pod('win', { extra: { os: { name: 'windows' } } }))).toBe(
      'pods "win" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true (pod or container "app" must set securityContext.runAsNonRoot=true)',
    );
  });

  it('names several setters and values as upstream joins them', async () => {
    await namespaceWith({ enforce: 'restricted' });
    const object = pod('many', { pod: { runAsNonRoot: false, runAsUser: 0, seccompProfile: { type: 'Unconfined' } }, container: { ...restrictedContainer, runAsNonRoot: false, runAsUser: 0 } });
    expect(create(object)).toBe(
      'pods "many" is forbidden: violates PodSecurity "restricted:latest": runAsNonRoot != true (pod and container "app" must not set securityContext.runAsNonRoot=false), runAsUser=0 (pod and container "app" must not set runAsUser=0), seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")',
    );
  });
});

describe('modes', () => {
  it('warn follows an enforce level set stricter than it, version included: a workload template shows it', async () => {
    await namespaceWith({ enforce: 'baseline', 'enforce-version': 'v1.29' });
    expect(create(pod('hostile', { extra: { hostNetwork: true } }))).toBe('pods "hostile" is forbidden: violates PodSecurity "baseline:v1.29": host namespaces (hostNetwork)');
    const warnings: string[] = [];
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web' },
      spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { hostNetwork: true, containers: [{ name: 'app', image: 'busybox:1.36' }] } } },
    };
    t.registry.create(t.def('apps', 'v1', 'deployments'), 'lab', deployment, { warnings });
    expect(warnings).toEqual(['would violate PodSecurity "baseline:v1.29": host namespaces (hostNetwork)']);
  });

  it('an audit-only namespace refuses nothing and warns nothing', async () => {
    await namespaceWith({ audit: 'restricted' });
    expect(create(pod('plain', { extra: { hostPID: true } }))).toBe('admitted');
  });

  it('workload templates are warned about, never refused', async () => {
    await namespaceWith({ enforce: 'restricted', warn: 'baseline' });
    const warnings: string[] = [];
    const job = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'job' }, spec: { template: { spec: { restartPolicy: 'Never', hostIPC: true, containers: [{ name: 'app', image: 'busybox:1.36' }] } } } };
    t.registry.create(t.def('batch', 'v1', 'jobs'), 'lab', job, { warnings });
    expect(warnings).toEqual(['would violate PodSecurity "baseline:latest": host namespaces (hostIPC)']);
  });
});

describe('namespace updates', () => {
  const relabel = (labels: Record<string, string>) => {
    const warnings: string[] = [];
    t.registry.update(t.def('', 'v1', 'namespaces'), undefined, 'lab', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lab', labels: psa(labels) } }, { warnings });
    return warnings;
  };

  it('look at existing pods only when the enforce level or version becomes stricter or different', async () => {
    await namespaceWith({});
    create(pod('host', { extra: { hostNetwork: true } }));
    expect(relabel({ warn: 'restricted' })).toEqual([]);
    expect(relabel({ enforce: 'baseline' })).toEqual(['existing pods in namespace "lab" violate the new PodSecurity enforce level "baseline:latest"', 'host: host namespaces']);
    expect(relabel({ enforce: 'baseline' })).toEqual([]);
    expect(relabel({ enforce: 'privileged' })).toEqual([]);
    expect(relabel({ enforce: 'baseline', 'enforce-version': 'v1.25' })).toEqual([
      'existing pods in namespace "lab" violate the new PodSecurity enforce level "baseline:v1.25"',
      'host: host namespaces',
    ]);
    expect(relabel({ enforce: 'privileged', 'enforce-version': 'v1.25' })).toEqual([]);
  });

  it('refuse a bad label only when it is new', async () => {
    await namespaceWith({});
    expect(statusOf(() => relabel({ enforce: 'baseline', audit: 'loud' }))).toMatchObject({
      code: 422,
      message: 'Namespace "lab" is invalid: metadata.labels[pod-security.kubernetes.io/audit]: Invalid value: "loud": must be one of privileged, baseline, restricted',
    });
  });
});
