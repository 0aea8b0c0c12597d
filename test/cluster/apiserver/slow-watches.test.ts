// Watches whose clients stop reading: what waits for them stays bounded. A watch still taking its
// first events (every object of the namespace) when changes arrive holds those changes for later;
// once they pass its share of what all watches may hold, it is cut off (its client re-watches from
// its last resourceVersion, as client-go's reflector does), while a watch that reads gets them all.
import { Agent, request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { startTestCluster, type TestCluster } from './harness.ts';

let t: TestCluster;
beforeAll(async () => {
  // A share of 256 KiB each (the least a watch gets): a watch holding one 1 MB change unsent is past it.
  t = await startTestCluster({ controllers: false, watch: { maxBufferedBytes: 2 * 1024 * 1024 } });
});
afterAll(async () => {
  await t?.stop();
});

const ns = 'slow-watches';
const megabyte = (i: number) => `${i}`.padEnd(1_000_000, 'x');

/** A watch of the namespace's ConfigMaps; its response is paused as soon as it starts (headers received). */
function openWatch(agent: Agent): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request(`${t.cluster.url}/api/v1/namespaces/${ns}/configmaps?watch=true&timeoutSeconds=120`, { agent, headers: { authorization: `Bearer ${t.cluster.adminToken}` } }, (res) => {
      res.pause();
      resolve(res);
    });
    req.on('error', reject);
    req.end();
  });
}

/** Reads a watch to its end (or until `until` sees what it waits for); the events' types and names, and how it ended. */
function readEvents(res: IncomingMessage, until?: (events: string[]) => boolean): Promise<{ events: string[]; ended: boolean }> {
  return new Promise((resolve) => {
    const events: string[] = [];
    let partial = '';
    const done = (ended: boolean) => resolve({ events, ended });
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) {
        const event = JSON.parse(line) as { type: string; object: KubeObject };
        events.push(`${event.type} ${event.object.metadata.name} ${String((event.object['data'] as Record<string, string> | undefined)?.['blob']?.slice(0, 2))}`);
      }
      if (until?.(events)) done(false);
    });
    res.on('close', () => done(true));
    res.on('error', () => done(true));
    res.resume();
  });
}

describe('watches that stop reading', () => {
  it('are cut off once the changes waiting for them pass their share, while a watch that reads gets every change', async () => {
    const registry = t.cluster.registry;
    const configMaps = registry.lookup('', 'v1', 'configmaps')!;
    registry.create(registry.lookup('', 'v1', 'namespaces')!, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    // More first events than the sockets' buffers take: each stalled watch is still sending them.
    for (let i = 0; i < 14; i++) registry.create(configMaps, ns, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { blob: megabyte(i) } });

    const agents = Array.from({ length: 21 }, () => new Agent({ ca: t.cluster.caPem }));
    try {
      const [reader, ...stalled] = await Promise.all(agents.map(openWatch));
      let firstEventsTaken: () => void = () => undefined;
      const tookFirstEvents = new Promise<void>((resolve) => (firstEventsTaken = resolve));
      const reading = readEvents(reader!, (events) => {
        if (events.filter((event) => event.startsWith('ADDED')).length === 14) firstEventsTaken();
        return events.includes('MODIFIED cm-0 95');
      });
      await tookFirstEvents;
      for (let i = 90; i < 96; i++) {
        const live = registry.get(configMaps, ns, 'cm-0');
        registry.update(configMaps, ns, 'cm-0', { ...live, data: { blob: megabyte(i) } });
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const read = await reading;
      expect(read.events.filter((event) => event.startsWith('ADDED'))).toHaveLength(14);
      expect(read.events.filter((event) => event.startsWith('MODIFIED'))).toEqual(['MODIFIED cm-0 90', 'MODIFIED cm-0 91', 'MODIFIED cm-0 92', 'MODIFIED cm-0 93', 'MODIFIED cm-0 94', 'MODIFIED cm-0 95']);
      for (const watch of stalled) {
        const { events, ended } = await readEvents(watch, (seen) => seen.includes('MODIFIED cm-0 95'));
        expect(ended).toBe(true);
        expect(events.length).toBeLessThan(14);
        expect(events.filter((event) => event.startsWith('MODIFIED'))).toEqual([]);
      }
    } finally {
      for (const agent of agents) agent.destroy();
    }
  });
});
