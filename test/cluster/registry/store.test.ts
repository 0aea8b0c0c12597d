import { afterEach, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { configMap, namespace, openTestRegistry, pod, statusOf, type TestRegistry } from './helpers.ts';

let t: TestRegistry;
afterEach(async () => {
  await t?.registry.close();
});

function deployment(name: string, replicas = 1, labels = { app: name }): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas, selector: { matchLabels: labels }, template: { metadata: { labels }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
  };
}

describe('create, get, update, delete', () => {
  it('fills uid, creationTimestamp and a resourceVersion from one counter', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    const before = Number(t.registry.currentResourceVersion());
    const a = t.registry.create(cms, 'default', configMap('a'));
    const b = t.registry.create(t.def('', 'v1', 'secrets'), 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'b' } });
    expect(a.metadata.uid).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.metadata.creationTimestamp).toBe('2025-05-01T10:00:00Z');
    expect(a.metadata.namespace).toBe('default');
    expect(Number(a.metadata.resourceVersion)).toBe(before + 1);
    expect(Number(b.metadata.resourceVersion)).toBe(before + 2);
    expect(t.registry.currentResourceVersion()).toBe(String(before + 2));
    expect(t.registry.get(cms, 'default', 'a')).toEqual(a);
  });

  it('hands out frozen objects that a caller cannot corrupt, and leaves the caller\'s input alone', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    const input = configMap('frozen', { k: 'v' });
    const created = t.registry.create(cms, 'default', input);
    expect(input.metadata.uid).toBeUndefined();
    expect(() => {
      (created.data as Record<string, string>).k = 'changed';
    }).toThrow(TypeError);
    expect(t.registry.get(cms, 'default', 'frozen').data).toEqual({ k: 'v' });
  });

  it('answers NotFound and AlreadyExists as the API server does', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    expect(statusOf(() => t.registry.get(cms, 'default', 'missing'))).toMatchObject({ code: 404, reason: 'NotFound', message: 'configmaps "missing" not found' });
    t.registry.create(cms, 'default', configMap('dup'));
    expect(statusOf(() => t.registry.create(cms, 'default', configMap('dup')))).toMatchObject({ code: 409, reason: 'AlreadyExists', message: 'configmaps "dup" already exists' });
    const deployments = t.def('apps', 'v1', 'deployments');
    expect(statusOf(() => t.registry.get(deployments, 'default', 'web')).message).toBe('deployments.apps "web" not found');
  });

  it('rejects a resourceVersion on create and a namespace that differs from the request', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    const withRV = configMap('x');
    withRV.metadata.resourceVersion = '5';
    expect(statusOf(() => t.registry.create(cms, 'default', withRV))).toMatchObject({ code: 400, message: 'resourceVersion should not be set on objects to be created' });
    const elsewhere = configMap('y');
    elsewhere.metadata.namespace = 'kube-system';
    expect(statusOf(() => t.registry.create(cms, 'default', elsewhere))).toMatchObject({
      code: 400,
      message: 'the namespace of the provided object does not match the namespace sent on the request',
    });
  });

  it('generates names from generateName', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    const made = t.registry.create(cms, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'cfg-' } });
    expect(made.metadata.name).toMatch(/^cfg-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    expect(made.metadata.generateName).toBe('cfg-');
  });

  it('updates with optimistic concurrency: a stale resourceVersion is a 409 Conflict', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    const created = t.registry.create(cms, 'default', configMap('c', { a: '1' }));
    const updated = t.registry.update(cms, 'default', 'c', { ...structuredClone(created), data: { a: '2' } });
    expect(Number(updated.metadata.resourceVersion)).toBeGreaterThan(Number(created.metadata.resourceVersion));
    expect(updated.metadata.uid).toBe(created.metadata.uid);
    expect(updated.metadata.creationTimestamp).toBe(created.metadata.creationTimestamp);
    const stale = { ...structuredClone(created), data: { a: '3' } };
    expect(statusOf(() => t.registry.update(cms, 'default', 'c', stale))).toMatchObject({
      code: 409,
      reason: 'Conflict',
      message: 'Operation cannot be fulfilled on configmaps "c": the object has been modified; please apply your changes to the latest version and try again',
    });
    const unconditional = configMap('c', { a: '4' });
    expect(t.registry.update(cms, 'default', 'c', unconditional).data).toEqual({ a: '4' });
  });

  it('does not write or bump the resourceVersion for an update that changes nothing', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    const created = t.registry.create(cms, 'default', configMap('same', { a: '1' }));
    const rv = t.registry.currentResourceVersion();
    const again = t.registry.update(cms, 'default', 'same', structuredClone(created));
    expect(again.metadata.resourceVersion).toBe(created.metadata.resourceVersion);
    expect(t.registry.currentResourceVersion()).toBe(rv);
  });

  it('refuses a name in the body that differs from the URL, and updates of missing objects', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    t.registry.create(cms, 'default', configMap('a'));
    expect(statusOf(() => t.registry.update(cms, 'default', 'a', configMap('b')))).toMatchObject({
      code: 400,
      message: 'the name of the object (b) does not match the name on the URL (a)',
    });
    expect(statusOf(() => t.registry.update(cms, 'default', 'nope', configMap('nope'))).code).toBe(404);
  });

  it('dry-run runs defaulting and validation but stores nothing and consumes no resourceVersion', async () => {
    t = await openTestRegistry();
    const pods = t.def('', 'v1', 'pods');
    const rv = t.registry.currentResourceVersion();
    const preview = t.registry.create(pods, 'default', pod('dry'), { dryRun: true });
    expect(preview.spec).toMatchObject({ restartPolicy: 'Always', dnsPolicy: 'ClusterFirst' });
    expect(preview.metadata.uid).toBeTruthy();
    expect(preview.metadata.resourceVersion).toBeUndefined();
    expect(statusOf(() => t.registry.get(pods, 'default', 'dry')).code).toBe(404);
    expect(t.registry.currentResourceVersion()).toBe(rv);
    expect(statusOf(() => t.registry.create(pods, 'default', { ...pod('Bad'), spec: {} }, { dryRun: true })).code).toBe(422);
    const real = t.registry.create(pods, 'default', pod('real'));
    const rvAfter = t.registry.currentResourceVersion();
    t.registry.delete(pods, 'default', 'real', { dryRun: true });
    expect(t.registry.get(pods, 'default', 'real')).toEqual(real);
    expect(t.registry.currentResourceVersion()).toBe(rvAfter);
  });

  it('enforces delete preconditions', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    const created = t.registry.create(cms, 'default', configMap('p'));
    expect(statusOf(() => t.registry.delete(cms, 'default', 'p', { preconditions: { uid: 'other' } }))).toMatchObject({
      code: 409,
      message: `Operation cannot be fulfilled on configmaps "p": Precondition failed: UID in precondition: other, UID in object meta: ${created.metadata.uid}`,
    });
    expect(statusOf(() => t.registry.delete(cms, 'default', 'p', { preconditions: { resourceVersion: '1' } })).message).toContain('Precondition failed: ResourceVersion in precondition: 1');
    t.registry.delete(cms, 'default', 'p', { preconditions: { uid: created.metadata.uid, resourceVersion: created.metadata.resourceVersion } });
    expect(statusOf(() => t.registry.get(cms, 'default', 'p')).code).toBe(404);
  });

  it('deletes a collection by label', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    t.registry.create(cms, 'default', configMap('one', {}, { tier: 'a' }));
    t.registry.create(cms, 'default', configMap('two', {}, { tier: 'a' }));
    t.registry.create(cms, 'default', configMap('three', {}, { tier: 'b' }));
    const deleted = t.registry.deleteCollection(cms, { namespace: 'default', labelSelector: 'tier=a' });
    expect(deleted.map((d) => d.metadata.name).sort()).toEqual(['one', 'two']);
    expect(t.registry.list(cms, { namespace: 'default' }).items.map((i) => i.metadata.name)).toEqual(['three']);
  });
});

describe('generation and the status subresource', () => {
  it('bumps generation on spec changes only; status updates never do', async () => {
    t = await openTestRegistry();
    const deployments = t.def('apps', 'v1', 'deployments');
    const created = t.registry.create(deployments, 'default', deployment('web'));
    expect(created.metadata.generation).toBe(1);
    expect(created.status).toEqual({});

    const labelled = structuredClone(created);
    labelled.metadata.labels = { team: 'x' };
    expect(t.registry.update(deployments, 'default', 'web', labelled).metadata.generation).toBe(1);

    const scaled = structuredClone(t.registry.get(deployments, 'default', 'web')) as KubeObject & { spec: { replicas: number } };
    scaled.spec.replicas = 3;
    const afterScale = t.registry.update(deployments, 'default', 'web', scaled);
    expect(afterScale.metadata.generation).toBe(2);

    const withStatus = { ...structuredClone(afterScale), status: { observedGeneration: 2, replicas: 3 } };
    const statusUpdated = t.registry.update(deployments, 'default', 'web', withStatus, { subresource: 'status' });
    expect(statusUpdated.metadata.generation).toBe(2);
    expect(statusUpdated.status).toEqual({ observedGeneration: 2, replicas: 3 });

    const sneaky = { ...structuredClone(statusUpdated), status: { replicas: 99 } };
    const mainUpdate = t.registry.update(deployments, 'default', 'web', sneaky);
    expect(mainUpdate.status).toEqual({ observedGeneration: 2, replicas: 3 });

    const specViaStatus = structuredClone(statusUpdated) as KubeObject & { spec: { replicas: number } };
    specViaStatus.spec.replicas = 7;
    expect((t.registry.update(deployments, 'default', 'web', specViaStatus, { subresource: 'status' }).spec as { replicas: number }).replicas).toBe(3);
  });

  it('bumps a Deployment\'s generation for annotation changes too', async () => {
    t = await openTestRegistry();
    const deployments = t.def('apps', 'v1', 'deployments');
    const created = t.registry.create(deployments, 'default', deployment('web'));
    const annotated = structuredClone(created);
    annotated.metadata.annotations = { note: 'x' };
    expect(t.registry.update(deployments, 'default', 'web', annotated).metadata.generation).toBe(2);
  });

  it('serves the scale subresource of a Deployment', async () => {
    t = await openTestRegistry();
    const deployments = t.def('apps', 'v1', 'deployments');
    t.registry.create(deployments, 'default', deployment('web', 2));
    const scale = t.registry.getScale(deployments, 'default', 'web');
    expect(scale).toMatchObject({ kind: 'Scale', apiVersion: 'autoscaling/v1', spec: { replicas: 2 }, status: { replicas: 0, selector: 'app=web' } });
    const after = t.registry.updateScale(deployments, 'default', 'web', { ...structuredClone(scale), spec: { replicas: 5 } });
    expect(after.spec).toEqual({ replicas: 5 });
    expect(t.registry.get(deployments, 'default', 'web').metadata.generation).toBe(2);
  });

  it('keeps the selector of a Deployment immutable, with the real message', async () => {
    t = await openTestRegistry();
    const deployments = t.def('apps', 'v1', 'deployments');
    t.registry.create(deployments, 'default', deployment('web'));
    const changed = deployment('web', 1, { app: 'other' });
    const status = statusOf(() => t.registry.update(deployments, 'default', 'web', changed));
    expect(status.code).toBe(422);
    expect(status.message).toBe(
      'Deployment.apps "web" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"other"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable',
    );
  });
});

describe('deletion', () => {
  it('keeps an object with finalizers until they are removed', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    t.registry.create(cms, 'default', { ...configMap('held'), metadata: { name: 'held', finalizers: ['example.com/hold'] } });
    t.clock.advance(5);
    const deleting = t.registry.delete(cms, 'default', 'held');
    expect(deleting.metadata.deletionTimestamp).toBe('2025-05-01T10:00:05Z');
    expect(deleting.metadata.deletionGracePeriodSeconds).toBe(0);
    expect(t.registry.get(cms, 'default', 'held').metadata.deletionTimestamp).toBeTruthy();
    const more = structuredClone(deleting);
    more.metadata.finalizers = ['example.com/hold', 'example.com/another'];
    expect(statusOf(() => t.registry.update(cms, 'default', 'held', more)).message).toContain(
      'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers []string{"example.com/another"}',
    );
    const released = structuredClone(deleting);
    released.metadata.finalizers = [];
    t.registry.update(cms, 'default', 'held', released);
    expect(statusOf(() => t.registry.get(cms, 'default', 'held')).code).toBe(404);
  });

  it('records Foreground and Orphan propagation as finalizers, as upstream', async () => {
    t = await openTestRegistry();
    const deployments = t.def('apps', 'v1', 'deployments');
    t.registry.create(deployments, 'default', deployment('fg'));
    t.registry.create(deployments, 'default', deployment('orphan'));
    t.registry.create(deployments, 'default', deployment('bg'));
    expect(t.registry.delete(deployments, 'default', 'fg', { propagationPolicy: 'Foreground' }).metadata.finalizers).toEqual(['foregroundDeletion']);
    expect(t.registry.delete(deployments, 'default', 'orphan', { propagationPolicy: 'Orphan' }).metadata.finalizers).toEqual(['orphan']);
    t.registry.delete(deployments, 'default', 'bg', { propagationPolicy: 'Background' });
    expect(t.registry.list(deployments, { namespace: 'default' }).items.map((d) => d.metadata.name)).toEqual(['fg', 'orphan']);
  });

  it('keeps ownerReferences as given', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    const owner = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web', uid: 'u-1', controller: true, blockOwnerDeletion: true };
    const created = t.registry.create(cms, 'default', { ...configMap('owned'), metadata: { name: 'owned', ownerReferences: [owner] } });
    expect(created.metadata.ownerReferences).toEqual([owner]);
  });

  it('deletes pods gracefully once they are scheduled, at once otherwise', async () => {
    t = await openTestRegistry();
    const pods = t.def('', 'v1', 'pods');
    t.registry.create(pods, 'default', pod('pending'));
    t.registry.delete(pods, 'default', 'pending');
    expect(statusOf(() => t.registry.get(pods, 'default', 'pending')).code).toBe(404);

    const scheduled = pod('running');
    (scheduled.spec as Record<string, unknown>).nodeName = 'node-1';
    t.registry.create(pods, 'default', scheduled);
    const terminating = t.registry.delete(pods, 'default', 'running');
    expect(terminating.metadata.deletionGracePeriodSeconds).toBe(30);
    expect(terminating.metadata.deletionTimestamp).toBe('2025-05-01T10:00:30Z');
    expect(t.registry.get(pods, 'default', 'running')).toBeTruthy();
    const shorter = t.registry.delete(pods, 'default', 'running', { gracePeriodSeconds: 5 });
    expect(shorter.metadata.deletionGracePeriodSeconds).toBe(5);
    t.registry.delete(pods, 'default', 'running', { gracePeriodSeconds: 0 });
    expect(statusOf(() => t.registry.get(pods, 'default', 'running')).code).toBe(404);
  });

  it('puts a namespace into Terminating; the finalize subresource completes it', async () => {
    t = await openTestRegistry();
    const namespaces = t.def('', 'v1', 'namespaces');
    const created = t.registry.create(namespaces, undefined, namespace('lab'));
    expect(created.spec).toEqual({ finalizers: ['kubernetes'] });
    expect(created.status).toEqual({ phase: 'Active' });
    expect(created.metadata.labels).toEqual({ 'kubernetes.io/metadata.name': 'lab' });
    const terminating = t.registry.delete(namespaces, undefined, 'lab');
    expect(terminating.status).toEqual({ phase: 'Terminating' });
    expect(t.registry.list(namespaces, { fieldSelector: 'status.phase=Terminating' }).items.map((n) => n.metadata.name)).toEqual(['lab']);
    t.registry.update(namespaces, undefined, 'lab', { ...structuredClone(terminating), spec: { finalizers: [] } }, { subresource: 'finalize' });
    expect(statusOf(() => t.registry.get(namespaces, undefined, 'lab')).code).toBe(404);
  });
});

describe('built-in objects', () => {
  it('starts with the namespaces and the kubernetes Service a cluster has', async () => {
    t = await openTestRegistry();
    expect(t.registry.firstStart).toBe(true);
    const names = t.registry.list(t.def('', 'v1', 'namespaces'), {}).items.map((n) => n.metadata.name);
    expect(names).toEqual(['default', 'kube-node-lease', 'kube-public', 'kube-system']);
    const kubernetes = t.registry.get(t.def('', 'v1', 'services'), 'default', 'kubernetes');
    expect(kubernetes.spec).toMatchObject({ clusterIP: '10.96.0.1', clusterIPs: ['10.96.0.1'], type: 'ClusterIP' });
  });
});

describe('status updates and metadata', () => {
  it('lets a status write set annotations (the revision a controller records) without bumping generation', async () => {
    t = await openTestRegistry();
    const deployments = t.def('apps', 'v1', 'deployments');
    const created = t.registry.create(deployments, 'default', deployment('web'));
    const next = structuredClone(created);
    next.metadata.annotations = { 'deployment.kubernetes.io/revision': '1' };
    next.metadata.labels = { ignored: 'yes' };
    next.status = { observedGeneration: 1 };
    const updated = t.registry.update(deployments, 'default', 'web', next, { subresource: 'status' });
    expect(updated.metadata.annotations).toEqual({ 'deployment.kubernetes.io/revision': '1' });
    expect(updated.metadata.labels).toBeUndefined();
    expect(updated.metadata.generation).toBe(1);
  });
});

describe('create on update', () => {
  it('creates through PUT where upstream allows it (Leases), and not elsewhere (ConfigMaps)', async () => {
    t = await openTestRegistry();
    const leases = t.def('coordination.k8s.io', 'v1', 'leases');
    const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'node-1' }, spec: { holderIdentity: 'node-1', leaseDurationSeconds: 40 } };
    const created = t.registry.update(leases, 'kube-node-lease', 'node-1', lease, { createIfMissing: true });
    expect(created.metadata.uid).toBeTruthy();
    const cms = t.def('', 'v1', 'configmaps');
    expect(statusOf(() => t.registry.update(cms, 'default', 'absent', configMap('absent'), { createIfMissing: true })).code).toBe(404);
  });
});
