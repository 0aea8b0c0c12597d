// Sandboxes as the portal makes them, at a scale a workshop reaches: each namespace lists its own
// pods and counts them against its own quota. How fast that is, and memory per object, are
// figures of `npm run bench` (bench/registry.bench.ts), not assertions here.
import { afterAll, describe, expect, it } from 'vitest';
import { admissionPlugins } from '../../../src/cluster/apiserver/admission/index.ts';
import { createPortalSandbox, openTestRegistry, type TestRegistry } from './helpers.ts';

let t: TestRegistry | undefined;
afterAll(async () => {
  await t?.registry.close();
});

const SANDBOXES = 200;
const PODS = 10;

describe('scale', () => {
  it(`keeps ${SANDBOXES} sandboxes with ${PODS} pods each apart: each lists its own pods and counts them against its own quota`, async () => {
    t = await openTestRegistry({ admission: admissionPlugins() });
    const { registry } = t;
    const def = t.def.bind(t);
    const pods = def('', 'v1', 'pods');
    for (let i = 0; i < SANDBOXES; i++) {
      const name = `lab-${i}`;
      createPortalSandbox(registry, def, name);
      for (let p = 0; p < PODS; p++)
        registry.create(pods, name, { apiVersion: 'v1', kind: 'Pod', metadata: { name: `pod-${p}`, labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } });
    }
    for (let i = 0; i < SANDBOXES; i++) {
      const list = registry.list(pods, { namespace: `lab-${i}`, limit: 500 });
      expect(list.items).toHaveLength(PODS);
      expect(new Set(list.items.map((pod) => pod.metadata.namespace))).toEqual(new Set([`lab-${i}`]));
    }
    const quota = registry.get(def('', 'v1', 'resourcequotas'), 'lab-7', 'quota');
    expect((quota.status as { used: unknown }).used).toEqual({ 'limits.cpu': '5', 'limits.memory': '2560Mi', pods: '10' });
  });
});
