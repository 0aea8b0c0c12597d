import { afterEach, describe, expect, it } from 'vitest';
import { configMap, openTestRegistry, pod, statusOf, type TestRegistry } from './helpers.ts';

let t: TestRegistry;
afterEach(async () => {
  await t?.registry.close();
});

const names = (items: { metadata: { name?: string } }[]) => items.map((i) => i.metadata.name);

describe('list', () => {
  it('filters by namespace and by label selectors in their full syntax', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    t.registry.create(cms, 'default', configMap('a', {}, { app: 'web', tier: 'front' }));
    t.registry.create(cms, 'default', configMap('b', {}, { app: 'web', tier: 'back' }));
    t.registry.create(cms, 'default', configMap('c', {}, { app: 'db' }));
    t.registry.create(cms, 'kube-system', configMap('d', {}, { app: 'web' }));
    const list = (labelSelector: string, namespace: string | null = 'default') => names(t.registry.list(cms, { namespace: namespace ?? undefined, labelSelector }).items);
    expect(list('app=web')).toEqual(['a', 'b']);
    expect(list('app==web', null)).toEqual(['a', 'b', 'd']);
    expect(list('app!=web')).toEqual(['c']);
    expect(list('tier in (front, middle)')).toEqual(['a']);
    expect(list('tier notin (front)')).toEqual(['b', 'c']);
    expect(list('tier')).toEqual(['a', 'b']);
    expect(list('!tier')).toEqual(['c']);
    expect(list('app=web,tier=back')).toEqual(['b']);
    expect(statusOf(() => list('app in web'))).toMatchObject({ code: 400, reason: 'BadRequest', message: "unable to parse requirement: found 'web', expected: '('" });
    expect(statusOf(() => list('app=a b')).code).toBe(400);
    expect(statusOf(() => list('Bad Key=x')).code).toBe(400);
  });

  it('filters by the field selectors kubectl uses, and rejects unknown ones', async () => {
    t = await openTestRegistry();
    const pods = t.def('', 'v1', 'pods');
    const scheduled = pod('on-node');
    (scheduled.spec as Record<string, unknown>).nodeName = 'node-1';
    t.registry.create(pods, 'default', scheduled);
    t.registry.create(pods, 'default', pod('pending'));
    const list = (fieldSelector: string) => names(t.registry.list(pods, { fieldSelector }).items);
    expect(list('spec.nodeName=node-1')).toEqual(['on-node']);
    expect(list('spec.nodeName=')).toEqual(['pending']);
    expect(list('spec.nodeName!=node-1')).toEqual(['pending']);
    expect(list('metadata.name=pending,status.phase=Pending')).toEqual(['pending']);
    expect(list('metadata.namespace=default,spec.restartPolicy=Always')).toEqual(['on-node', 'pending']);
    expect(list('spec.serviceAccountName=default,spec.schedulerName=default-scheduler')).toEqual(['on-node', 'pending']);
    expect(statusOf(() => list('spec.containers=x'))).toMatchObject({ code: 400, reason: 'BadRequest', message: 'field label not supported: spec.containers' });
    expect(statusOf(() => list('nonsense')).message).toBe("invalid selector: 'nonsense'; can't understand 'nonsense'");
  });

  it('selects events by involvedObject, secrets by type, namespaces by phase, nodes by unschedulable', async () => {
    t = await openTestRegistry();
    const events = t.def('', 'v1', 'events');
    const event = (name: string, uid: string) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name },
      involvedObject: { kind: 'Pod', name: 'web', namespace: 'default', uid, apiVersion: 'v1' },
      reason: 'Scheduled',
      type: 'Normal',
      source: { component: 'default-scheduler' },
    });
    t.registry.create(events, 'default', event('e1', 'u1'));
    t.registry.create(events, 'default', event('e2', 'u2'));
    expect(names(t.registry.list(events, { namespace: 'default', fieldSelector: 'involvedObject.uid=u2,involvedObject.name=web,involvedObject.namespace=default' }).items)).toEqual(['e2']);
    expect(names(t.registry.list(events, { fieldSelector: 'reason=Scheduled,type=Normal,source=default-scheduler,involvedObject.kind=Pod' }).items)).toEqual(['e1', 'e2']);
    const secrets = t.def('', 'v1', 'secrets');
    t.registry.create(secrets, 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'plain' } });
    t.registry.create(secrets, 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'YQ==', 'tls.key': 'Yg==' } });
    expect(names(t.registry.list(secrets, { fieldSelector: 'type=kubernetes.io/tls' }).items)).toEqual(['tls']);
    expect(names(t.registry.list(t.def('', 'v1', 'namespaces'), { fieldSelector: 'status.phase=Active' }).items)).toHaveLength(4);
    const nodes = t.def('', 'v1', 'nodes');
    t.registry.create(nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' }, spec: { unschedulable: true } });
    t.registry.create(nodes, undefined, { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n2' } });
    expect(names(t.registry.list(nodes, { fieldSelector: 'spec.unschedulable=false' }).items)).toEqual(['n2']);
  });

  it('pages with limit and continue, counting what remains', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    for (let i = 0; i < 7; i++) t.registry.create(cms, 'default', configMap(`cm-${i}`));
    const first = t.registry.list(cms, { namespace: 'default', limit: 3 });
    expect(names(first.items)).toEqual(['cm-0', 'cm-1', 'cm-2']);
    expect(first.remainingItemCount).toBe(4);
    expect(first.continue).toBeTruthy();
    t.registry.create(cms, 'default', configMap('cm-9'));
    t.registry.delete(cms, 'default', 'cm-4');
    const second = t.registry.list(cms, { namespace: 'default', limit: 3, continue: first.continue });
    expect(names(second.items)).toEqual(['cm-3', 'cm-4', 'cm-5']);
    expect(second.resourceVersion).toBe(first.resourceVersion);
    const third = t.registry.list(cms, { namespace: 'default', limit: 3, continue: second.continue });
    expect(names(third.items)).toEqual(['cm-6']);
    expect(third.continue).toBeUndefined();
    expect(statusOf(() => t.registry.list(cms, { continue: 'not-a-token' }))).toMatchObject({ code: 400, message: 'invalid continue token: continue key is not valid' });
  });

  it('expires a continue token once history has moved past it (410)', async () => {
    t = await openTestRegistry({ historySize: 2 });
    const cms = t.def('', 'v1', 'configmaps');
    for (let i = 0; i < 4; i++) t.registry.create(cms, 'default', configMap(`cm-${i}`));
    const first = t.registry.list(cms, { namespace: 'default', limit: 2 });
    for (let i = 4; i < 8; i++) t.registry.create(cms, 'default', configMap(`cm-${i}`));
    const status = statusOf(() => t.registry.list(cms, { namespace: 'default', limit: 2, continue: first.continue }));
    expect(status).toMatchObject({ code: 410, reason: 'Expired' });
    expect(status.message).toContain('The provided continue parameter is too old');
  });

  it('serves an exact older resourceVersion from history', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    const a = t.registry.create(cms, 'default', configMap('a', { v: '1' }));
    t.registry.update(cms, 'default', 'a', { ...structuredClone(a), data: { v: '2' } });
    t.registry.create(cms, 'default', configMap('b'));
    const then = t.registry.list(cms, { namespace: 'default', resourceVersion: a.metadata.resourceVersion, resourceVersionMatch: 'Exact' });
    expect(then.items).toEqual([a]);
    expect(then.resourceVersion).toBe(a.metadata.resourceVersion);
  });

  it('lists all namespaces in key order', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    t.registry.create(cms, 'kube-system', configMap('z'));
    t.registry.create(cms, 'default', configMap('y'));
    const items = t.registry.list(cms, {}).items;
    expect(items.map((i) => `${i.metadata.namespace}/${i.metadata.name}`)).toEqual(['default/y', 'kube-system/z']);
  });
});

describe('lastChangeOf', () => {
  it('moves only when that resource changes', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    const roles = t.def('rbac.authorization.k8s.io', 'v1', 'roles');
    const before = t.registry.lastChangeOf(roles);
    const created = t.registry.create(cms, 'default', configMap('x'));
    expect(t.registry.lastChangeOf(roles)).toBe(before);
    expect(t.registry.lastChangeOf(cms)).toBe(created.metadata.resourceVersion);
    const role = t.registry.create(roles, 'default', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r' }, rules: [] });
    expect(t.registry.lastChangeOf(roles)).toBe(role.metadata.resourceVersion);
  });
});
