import { afterEach, describe, expect, it } from 'vitest';
import type { WatchEvent } from '../../../src/cluster/registry/index.ts';
import { configMap, openTestRegistry, pod, statusOf, type TestRegistry } from './helpers.ts';

let t: TestRegistry;
afterEach(async () => {
  await t?.registry.close();
});

const summary = (events: WatchEvent[]) => events.map((e) => `${e.type} ${e.object.metadata.name ?? ''}`.trim());

describe('watch', () => {
  it('replays current state for resourceVersion 0, then streams changes', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    t.registry.create(cms, 'default', configMap('existing'));
    const events: WatchEvent[] = [];
    const watch = t.registry.watch(cms, { namespace: 'default', resourceVersion: '0' }, (e) => events.push(e));
    const created = t.registry.create(cms, 'default', configMap('new'));
    t.registry.update(cms, 'default', 'new', { ...structuredClone(created), data: { a: 'b' } });
    t.registry.delete(cms, 'default', 'new');
    watch.stop();
    t.registry.create(cms, 'default', configMap('after-stop'));
    expect(summary(events)).toEqual(['ADDED existing', 'ADDED new', 'MODIFIED new', 'DELETED new']);
    const deleted = events[3];
    expect(Number(deleted?.object.metadata.resourceVersion)).toBeGreaterThan(Number(events[2]?.object.metadata.resourceVersion));
  });

  it('resumes from a resourceVersion without replaying what came before', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    const first = t.registry.create(cms, 'default', configMap('one'));
    t.registry.create(cms, 'default', configMap('two'));
    t.registry.create(cms, 'default', configMap('three'));
    const events: WatchEvent[] = [];
    t.registry.watch(cms, { resourceVersion: first.metadata.resourceVersion }, (e) => events.push(e));
    expect(summary(events)).toEqual(['ADDED two', 'ADDED three']);
  });

  it('answers 410 Expired once the history no longer reaches back far enough', async () => {
    t = await openTestRegistry({ historySize: 3 });
    const cms = t.def('', 'v1', 'configmaps');
    const first = t.registry.create(cms, 'default', configMap('c0'));
    for (let i = 1; i <= 5; i++) t.registry.create(cms, 'default', configMap(`c${i}`));
    const status = statusOf(() => t.registry.watch(cms, { resourceVersion: first.metadata.resourceVersion }, () => {}));
    expect(status.code).toBe(410);
    expect(status.reason).toBe('Expired');
    expect(status.message).toMatch(new RegExp(`^too old resource version: ${first.metadata.resourceVersion} \\(\\d+\\)$`));
    const events: WatchEvent[] = [];
    const recent = Number(t.registry.currentResourceVersion()) - 2;
    t.registry.watch(cms, { resourceVersion: String(recent) }, (e) => events.push(e));
    expect(summary(events)).toEqual(['ADDED c4', 'ADDED c5']);
  });

  it('refuses a resourceVersion from the future', async () => {
    t = await openTestRegistry();
    const status = statusOf(() => t.registry.watch(t.def('', 'v1', 'configmaps'), { resourceVersion: '999999' }, () => {}));
    expect(status).toMatchObject({ code: 504, reason: 'Timeout' });
    expect(status.message).toContain('Too large resource version: 999999');
  });

  it('turns objects that stop matching a selector into DELETED and ones that start into ADDED', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    const events: WatchEvent[] = [];
    t.registry.watch(cms, { namespace: 'default', labelSelector: 'tier=web', resourceVersion: t.registry.currentResourceVersion() }, (e) => events.push(e));
    const created = t.registry.create(cms, 'default', configMap('x', {}, { tier: 'db' }));
    const moved = t.registry.update(cms, 'default', 'x', { ...structuredClone(created), metadata: { ...structuredClone(created.metadata), labels: { tier: 'web' } } });
    const changed = t.registry.update(cms, 'default', 'x', { ...structuredClone(moved), data: { a: '1' } });
    const left = t.registry.update(cms, 'default', 'x', { ...structuredClone(changed), metadata: { ...structuredClone(changed.metadata), labels: { tier: 'db' } } });
    t.registry.delete(cms, 'default', 'x');
    expect(summary(events)).toEqual(['ADDED x', 'MODIFIED x', 'DELETED x']);
    expect(events[2]?.object.metadata.resourceVersion).toBe(left.metadata.resourceVersion);
  });

  it('applies field selectors to events (pods by node)', async () => {
    t = await openTestRegistry();
    const pods = t.def('', 'v1', 'pods');
    const events: WatchEvent[] = [];
    t.registry.watch(pods, { fieldSelector: 'spec.nodeName=node-1', resourceVersion: t.registry.currentResourceVersion() }, (e) => events.push(e));
    const onNode = pod('a');
    (onNode.spec as Record<string, unknown>).nodeName = 'node-1';
    t.registry.create(pods, 'default', onNode);
    t.registry.create(pods, 'default', pod('b'));
    expect(summary(events)).toEqual(['ADDED a']);
    expect(statusOf(() => t.registry.watch(pods, { fieldSelector: 'spec.image=x' }, () => {}))).toMatchObject({ code: 400, message: 'field label not supported: spec.image' });
  });

  it('sends initial events then a bookmark marking their end (sendInitialEvents)', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    t.registry.create(cms, 'default', configMap('a'));
    t.registry.create(cms, 'default', configMap('b'));
    const events: WatchEvent[] = [];
    t.registry.watch(cms, { namespace: 'default', sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowBookmarks: true }, (e) => events.push(e));
    expect(summary(events)).toEqual(['ADDED a', 'ADDED b', 'BOOKMARK']);
    const bookmark = events[2]?.object;
    expect(bookmark).toEqual({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { resourceVersion: t.registry.currentResourceVersion(), annotations: { 'k8s.io/initial-events-end': 'true' } },
    });
    const invalid = statusOf(() => t.registry.watch(cms, { sendInitialEvents: true }, () => {}));
    expect(invalid.code).toBe(422);
    expect(invalid.message).toContain('resourceVersionMatch: Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan');
  });

  it('sends periodic bookmarks only to watchers that allow them', async () => {
    t = await openTestRegistry({ bookmarkIntervalMs: 20 });
    const cms = t.def('', 'v1', 'configmaps');
    const withBookmarks: WatchEvent[] = [];
    const without: WatchEvent[] = [];
    t.registry.watch(cms, { resourceVersion: t.registry.currentResourceVersion(), allowBookmarks: true }, (e) => withBookmarks.push(e));
    t.registry.watch(cms, { resourceVersion: t.registry.currentResourceVersion() }, (e) => without.push(e));
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(withBookmarks.some((e) => e.type === 'BOOKMARK' && e.object.metadata.resourceVersion === t.registry.currentResourceVersion())).toBe(true);
    expect(without).toEqual([]);
  });

  it('delivers changes made by a watcher, in order, to every watcher', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    const seen: string[] = [];
    t.registry.watch(cms, { resourceVersion: t.registry.currentResourceVersion() }, (e) => {
      if (e.type === 'ADDED' && e.object.metadata.name === 'trigger') t.registry.create(cms, 'default', configMap('reaction'));
    });
    t.registry.watch(cms, { resourceVersion: t.registry.currentResourceVersion() }, (e) => seen.push(`${e.type} ${e.object.metadata.name}`));
    t.registry.create(cms, 'default', configMap('trigger'));
    expect(seen).toEqual(['ADDED trigger', 'ADDED reaction']);
  });

  it('stops a watch whose consumer throws, without breaking the writer', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    let calls = 0;
    t.registry.watch(cms, { resourceVersion: t.registry.currentResourceVersion() }, () => {
      calls++;
      throw new Error('consumer broke');
    });
    t.registry.create(cms, 'default', configMap('one'));
    t.registry.create(cms, 'default', configMap('two'));
    expect(calls).toBe(1);
    expect(t.warnings.some((w) => w.includes('watch consumer failed'))).toBe(true);
  });
});

describe('watch start', () => {
  it('treats resourceVersion 0 without initial events as "from now"', async () => {
    t = await openTestRegistry({ historySize: 1 });
    const cms = t.def('', 'v1', 'configmaps');
    t.registry.create(cms, 'default', configMap('a'));
    t.registry.create(cms, 'default', configMap('b'));
    const events: WatchEvent[] = [];
    t.registry.watch(cms, { resourceVersion: '0', sendInitialEvents: false, resourceVersionMatch: 'NotOlderThan' }, (e) => events.push(e));
    t.registry.create(cms, 'default', configMap('c'));
    expect(summary(events)).toEqual(['ADDED c']);
  });

  it('delivers writes a consumer makes while it receives initial events, after them', async () => {
    t = await openTestRegistry();
    const cms = t.def('', 'v1', 'configmaps');
    t.registry.create(cms, 'default', configMap('seed'));
    const events: WatchEvent[] = [];
    t.registry.watch(cms, { namespace: 'default' }, (e) => {
      events.push(e);
      if (e.object.metadata.name === 'seed') t.registry.create(cms, 'default', configMap('echo'));
    });
    expect(summary(events)).toEqual(['ADDED seed', 'ADDED echo']);
  });
});
