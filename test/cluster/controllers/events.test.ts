// The event recorder as client-go's: repeats fold into one Event (count, lastTimestamp), many
// different messages for one reason fold into "(combined from similar events)", and an object's
// events are rate-limited; plus the work queue and the names controllers derive.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { computeHash, EventBroadcaster, ManualClock, WorkQueue } from '../../../src/cluster/controllers/index.ts';
import { openRegistry, type Registry, type ResourceDefinition } from '../../../src/cluster/registry/index.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';

let registry: Registry;
let events: ResourceDefinition;
let clock: ManualClock;
let broadcaster: EventBroadcaster;
const pod: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'default', uid: 'uid-1' } };

beforeEach(async () => {
  registry = await openRegistry({});
  events = registry.lookup('', 'v1', 'events') as ResourceDefinition;
  clock = new ManualClock('2026-03-01T12:00:00Z');
  broadcaster = new EventBroadcaster(registry, clock);
});

afterEach(async () => {
  broadcaster.stop();
  await registry.close();
});

function stored(): KubeObject[] {
  return registry.list(events, { namespace: 'default' }).items;
}

describe('EventBroadcaster', () => {
  it('writes an Event with the source, the involved object and upstream naming', async () => {
    broadcaster.recorder({ component: 'kubelet', host: 'node-1' }).event(pod, 'Warning', 'BackOff', 'Back-off restarting failed container', { fieldPath: 'spec.containers{web}' });
    await broadcaster.idle();
    const [event] = stored();
    expect(event?.metadata.name).toMatch(/^web-1\.[0-9a-f]{16}$/);
    expect(event).toMatchObject({
      type: 'Warning',
      reason: 'BackOff',
      message: 'Back-off restarting failed container',
      count: 1,
      source: { component: 'kubelet', host: 'node-1' },
      reportingComponent: 'kubelet',
      reportingInstance: 'node-1',
      firstTimestamp: '2026-03-01T12:00:00Z',
      lastTimestamp: '2026-03-01T12:00:00Z',
      involvedObject: { kind: 'Pod', name: 'web-1', namespace: 'default', uid: 'uid-1', fieldPath: 'spec.containers{web}' },
    });
  });

  it('folds repeats into one Event with a count and the last time', async () => {
    const recorder = broadcaster.recorder({ component: 'default-scheduler' });
    for (let i = 0; i < 3; i++) {
      recorder.event(pod, 'Warning', 'FailedScheduling', '0/3 nodes are available: 3 Insufficient cpu.');
      await broadcaster.idle();
      clock.advance(30_000);
    }
    const all = stored();
    expect(all).toHaveLength(1);
    expect(all[0]).toMatchObject({ count: 3, firstTimestamp: '2026-03-01T12:00:00Z', lastTimestamp: '2026-03-01T12:01:00Z' });
  });

  it('folds more than ten different messages for one reason into "(combined from similar events)"', async () => {
    const recorder = broadcaster.recorder({ component: 'replicaset-controller' });
    for (let i = 0; i < 12; i++) recorder.event(pod, 'Normal', 'SuccessfulCreate', `Created pod: web-${i}`);
    await broadcaster.idle();
    const messages = stored().map((e) => String(e['message']));
    expect(messages.filter((m) => !m.startsWith('(combined'))).toHaveLength(9);
    const combined = stored().find((e) => String(e['message']).startsWith('(combined from similar events): '));
    expect(combined).toMatchObject({ count: 3, message: '(combined from similar events): Created pod: web-11' });
  });

  it('lets 25 events of one object through, then one every five minutes', async () => {
    const recorder = broadcaster.recorder({ component: 'kubelet', host: 'node-1' });
    for (let i = 0; i < 30; i++) recorder.event(pod, 'Normal', `Reason${i}`, 'message');
    await broadcaster.idle();
    expect(stored()).toHaveLength(25);
    clock.advance(5 * 60_000);
    recorder.event(pod, 'Normal', 'Later', 'message');
    recorder.event(pod, 'Normal', 'TooSoon', 'message');
    await broadcaster.idle();
    expect(stored().map((e) => e['reason'])).toContain('Later');
    expect(stored().map((e) => e['reason'])).not.toContain('TooSoon');
  });
});

describe('WorkQueue', () => {
  it('holds a key once and never hands it out twice at the same time', async () => {
    const queue = new WorkQueue();
    queue.add('a');
    queue.add('a');
    queue.add('b');
    expect(queue.length).toBe(2);
    const first = await queue.get();
    queue.add('a');
    expect(queue.length).toBe(1);
    expect(await queue.get()).toBe('b');
    queue.done('b');
    expect(queue.length).toBe(0);
    queue.done(first as string);
    expect(await queue.get()).toBe('a');
  });

  it('delays keys on the given clock', async () => {
    const manual = new ManualClock('2026-03-01T00:00:00Z');
    const queue = new WorkQueue(manual);
    queue.addAfter('later', 10_000);
    expect(queue.length).toBe(0);
    manual.advance(9_999);
    expect(queue.length).toBe(0);
    manual.advance(1);
    expect(await queue.get()).toBe('later');
  });
});

describe('computeHash', () => {
  it('is stable, depends on the template and collision count, and uses only the safe alphabet', () => {
    const template = { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } };
    const hash = computeHash(template);
    expect(hash).toMatch(/^[bcdfghjklmnpqrstvwxz2456789]{6,10}$/);
    expect(computeHash(structuredClone(template))).toBe(hash);
    expect(computeHash({ spec: template.spec, metadata: template.metadata })).toBe(hash);
    expect(computeHash(template, 1)).not.toBe(hash);
    expect(computeHash({ ...template, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } })).not.toBe(hash);
  });
});
