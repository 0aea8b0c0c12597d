import { afterEach, describe, expect, it } from 'vitest';
import { admissionPlugins, admit } from '../../../src/cluster/apiserver/admission/index.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { configMap, namespace, openTestRegistry, pod, statusOf, type TestRegistry } from '../registry/helpers.ts';

let t: TestRegistry;
afterEach(async () => {
  await t?.registry.close();
});

async function withAdmission(): Promise<TestRegistry> {
  t = await openTestRegistry({ admission: admissionPlugins() });
  t.registry.create(t.def('', 'v1', 'namespaces'), undefined, namespace('lab'));
  return t;
}

function quota(name: string, hard: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name }, spec: { hard, ...extra } };
}

function limitRange(limits: Record<string, unknown>[]): KubeObject {
  return { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'limits' }, spec: { limits } };
}

function podWith(name: string, resources: Record<string, unknown>, containerName = 'web'): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name }, spec: { containers: [{ name: containerName, image: 'nginx:1.27', resources }] } };
}

describe('NamespaceLifecycle', () => {
  it('refuses objects in a namespace that does not exist', async () => {
    await withAdmission();
    expect(statusOf(() => t.registry.create(t.def('', 'v1', 'configmaps'), 'nowhere', configMap('x')))).toMatchObject({
      code: 404,
      reason: 'NotFound',
      message: 'namespaces "nowhere" not found',
    });
  });

  it('refuses new content in a terminating namespace, with 403 Forbidden', async () => {
    await withAdmission();
    t.registry.create(t.def('', 'v1', 'configmaps'), 'lab', configMap('before'));
    t.registry.delete(t.def('', 'v1', 'namespaces'), undefined, 'lab');
    const status = statusOf(() => t.registry.create(t.def('', 'v1', 'configmaps'), 'lab', configMap('after')));
    expect(status).toMatchObject({
      code: 403,
      reason: 'Forbidden',
      message: 'configmaps "after" is forbidden: unable to create new content in namespace lab because it is being terminated',
    });
    const existing = t.registry.get(t.def('', 'v1', 'configmaps'), 'lab', 'before');
    expect(t.registry.update(t.def('', 'v1', 'configmaps'), 'lab', 'before', { ...structuredClone(existing), data: { still: 'editable' } }).data).toEqual({ still: 'editable' });
  });

  it('keeps default, kube-system and kube-public', async () => {
    await withAdmission();
    expect(statusOf(() => t.registry.delete(t.def('', 'v1', 'namespaces'), undefined, 'default'))).toMatchObject({
      code: 403,
      message: 'namespaces "default" is forbidden: this namespace may not be deleted',
    });
  });
});

describe('LimitRanger', () => {
  it('fills container defaults and notes them in an annotation; QoS follows', async () => {
    await withAdmission();
    t.registry.create(t.def('', 'v1', 'limitranges'), 'lab', limitRange([{ type: 'Container', default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m' } }]));
    const created = t.registry.create(t.def('', 'v1', 'pods'), 'lab', pod('web'));
    const container = (created.spec as { containers: { resources: unknown }[] }).containers[0];
    expect(container?.resources).toEqual({ limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '256Mi' } });
    expect(created.metadata.annotations?.['kubernetes.io/limit-ranger']).toBe('LimitRanger plugin set: cpu, memory request for container app; cpu, memory limit for container app');
    expect((created.status as { qosClass: string }).qosClass).toBe('Burstable');
  });

  it('derives defaults from max when a LimitRange sets only max', async () => {
    await withAdmission();
    const lr = t.registry.create(t.def('', 'v1', 'limitranges'), 'lab', limitRange([{ type: 'Container', max: { cpu: '1' } }]));
    expect((lr.spec as { limits: unknown[] }).limits[0]).toEqual({ type: 'Container', max: { cpu: '1' }, default: { cpu: '1' }, defaultRequest: { cpu: '1' } });
  });

  it('enforces min and max with upstream messages', async () => {
    await withAdmission();
    t.registry.create(t.def('', 'v1', 'limitranges'), 'lab', limitRange([{ type: 'Container', min: { cpu: '100m' }, max: { memory: '1Gi' } }]));
    const pods = t.def('', 'v1', 'pods');
    expect(statusOf(() => t.registry.create(pods, 'lab', podWith('small', { requests: { cpu: '50m' }, limits: { memory: '512Mi' } })))).toMatchObject({
      code: 403,
      message: 'pods "small" is forbidden: minimum cpu usage per Container is 100m, but request is 50m',
    });
    expect(statusOf(() => t.registry.create(pods, 'lab', podWith('big', { requests: { cpu: '50m' }, limits: { memory: '2Gi' } }))).message).toBe(
      'pods "big" is forbidden: [minimum cpu usage per Container is 100m, but request is 50m, maximum memory usage per Container is 1Gi, but limit is 2Gi]',
    );
    expect(t.registry.create(pods, 'lab', podWith('fine', { requests: { cpu: '200m' } })).metadata.name).toBe('fine');
  });

  it('rejects a LimitRange whose default exceeds its max', async () => {
    await withAdmission();
    const status = statusOf(() => t.registry.create(t.def('', 'v1', 'limitranges'), 'lab', limitRange([{ type: 'Container', max: { cpu: '1' }, default: { cpu: '2' } }])));
    expect(status.code).toBe(422);
    expect(status.message).toContain('spec.limits[0].default[cpu]: Invalid value: "2": default value 2 is greater than max value 1');
  });
});

describe('ResourceQuota', () => {
  it('counts objects and refuses the one too many with the real message', async () => {
    await withAdmission();
    const pods = t.def('', 'v1', 'pods');
    t.registry.create(t.def('', 'v1', 'resourcequotas'), 'lab', quota('q', { pods: '2' }));
    t.registry.create(pods, 'lab', pod('a'));
    t.registry.create(pods, 'lab', pod('b'));
    expect(statusOf(() => t.registry.create(pods, 'lab', pod('c')))).toMatchObject({
      code: 403,
      reason: 'Forbidden',
      message: 'pods "c" is forbidden: exceeded quota: q, requested: pods=1, used: pods=2, limited: pods=2',
    });
    t.registry.delete(pods, 'lab', 'a');
    expect(t.registry.create(pods, 'lab', pod('c')).metadata.name).toBe('c');
  });

  it('keeps status.used current', async () => {
    await withAdmission();
    const quotas = t.def('', 'v1', 'resourcequotas');
    t.registry.create(quotas, 'lab', quota('q', { pods: '10', configmaps: '5', 'requests.cpu': '2', 'count/deployments.apps': '3' }));
    expect(t.registry.get(quotas, 'lab', 'q').status).toEqual({
      hard: { pods: '10', configmaps: '5', 'requests.cpu': '2', 'count/deployments.apps': '3' },
      used: { configmaps: '0', 'count/deployments.apps': '0', pods: '0', 'requests.cpu': '0' },
    });
    t.registry.create(t.def('', 'v1', 'pods'), 'lab', podWith('web', { requests: { cpu: '250m' } }));
    t.registry.create(t.def('', 'v1', 'configmaps'), 'lab', configMap('cfg'));
    t.registry.create(t.def('apps', 'v1', 'deployments'), 'lab', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'd' },
      spec: { selector: { matchLabels: { app: 'd' } }, template: { metadata: { labels: { app: 'd' } }, spec: { containers: [{ name: 'd', image: 'nginx' }] } } },
    });
    expect((t.registry.get(quotas, 'lab', 'q').status as { used: unknown }).used).toEqual({ configmaps: '1', 'count/deployments.apps': '1', pods: '1', 'requests.cpu': '250m' });
  });

  it('sums requests and limits and says which quota and amounts were exceeded', async () => {
    await withAdmission();
    const pods = t.def('', 'v1', 'pods');
    t.registry.create(t.def('', 'v1', 'resourcequotas'), 'lab', quota('compute', { 'requests.cpu': '1', 'limits.memory': '1Gi' }));
    t.registry.create(pods, 'lab', podWith('a', { requests: { cpu: '600m' }, limits: { memory: '512Mi', cpu: '600m' } }));
    expect(statusOf(() => t.registry.create(pods, 'lab', podWith('b', { requests: { cpu: '500m' }, limits: { memory: '256Mi', cpu: '500m' } }))).message).toBe(
      'pods "b" is forbidden: exceeded quota: compute, requested: requests.cpu=500m, used: requests.cpu=600m, limited: requests.cpu=1',
    );
  });

  it('requires pods to state what a quota tracks', async () => {
    await withAdmission();
    t.registry.create(t.def('', 'v1', 'resourcequotas'), 'lab', quota('compute', { 'limits.cpu': '2', 'limits.memory': '2Gi' }));
    expect(statusOf(() => t.registry.create(t.def('', 'v1', 'pods'), 'lab', podWith('web', {}, 'web')))).toMatchObject({
      code: 403,
      message: 'pods "web" is forbidden: failed quota: compute: must specify limits.cpu for: web; limits.memory for: web',
    });
  });

  it('lets a LimitRange default satisfy a quota, as in a sandbox', async () => {
    await withAdmission();
    t.registry.create(t.def('', 'v1', 'limitranges'), 'lab', limitRange([{ type: 'Container', default: { cpu: '500m', memory: '256Mi' } }]));
    t.registry.create(t.def('', 'v1', 'resourcequotas'), 'lab', quota('compute', { 'limits.cpu': '1', 'limits.memory': '1Gi', pods: '5' }));
    const pods = t.def('', 'v1', 'pods');
    t.registry.create(pods, 'lab', pod('one'));
    t.registry.create(pods, 'lab', pod('two'));
    expect(statusOf(() => t.registry.create(pods, 'lab', pod('three'))).message).toBe(
      'pods "three" is forbidden: exceeded quota: compute, requested: limits.cpu=500m, used: limits.cpu=1, limited: limits.cpu=1',
    );
  });

  it('charges nothing for a dry run', async () => {
    await withAdmission();
    const pods = t.def('', 'v1', 'pods');
    t.registry.create(t.def('', 'v1', 'resourcequotas'), 'lab', quota('q', { pods: '1' }));
    t.registry.create(pods, 'lab', pod('dry'), { dryRun: true });
    expect(t.registry.create(pods, 'lab', pod('real')).metadata.name).toBe('real');
    expect(statusOf(() => t.registry.create(pods, 'lab', pod('more'), { dryRun: true })).code).toBe(403);
  });

  it('counts services and node ports', async () => {
    await withAdmission();
    const services = t.def('', 'v1', 'services');
    t.registry.create(t.def('', 'v1', 'resourcequotas'), 'lab', quota('q', { 'services.nodeports': '1' }));
    const svc = (name: string, type: string) => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec: { type, ports: [{ port: 80 }] } });
    t.registry.create(services, 'lab', svc('first', 'NodePort'));
    t.registry.create(services, 'lab', svc('internal', 'ClusterIP'));
    expect(statusOf(() => t.registry.create(services, 'lab', svc('second', 'NodePort'))).message).toBe(
      'services "second" is forbidden: exceeded quota: q, requested: services.nodeports=1, used: services.nodeports=1, limited: services.nodeports=1',
    );
  });
});

describe('admit()', () => {
  it('runs the plugins on a copy outside the registry', async () => {
    await withAdmission();
    t.registry.create(t.def('', 'v1', 'limitranges'), 'lab', limitRange([{ type: 'Container', default: { cpu: '300m' } }]));
    const input: KubeObject = { ...pod('preview'), metadata: { name: 'preview', namespace: 'lab' } };
    const admitted = admit(t.registry, t.def('', 'v1', 'pods'), input, 'CREATE', undefined);
    expect((admitted.spec as { containers: { resources: unknown }[] }).containers[0]?.resources).toEqual({ limits: { cpu: '300m' }, requests: { cpu: '300m' } });
    expect((input.spec as { containers: { resources?: unknown }[] }).containers[0]?.resources).toBeUndefined();
  });
});
