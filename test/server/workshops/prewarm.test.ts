// Pre-warming for a workshop: sandboxes of a lab made ready before learners arrive, beyond the
// configured warm pool, and claimed by the first learners to start; against a real embedded
// cluster (kubelet included).
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LabCatalog } from '../../../src/labs/index.ts';
import { Sandboxes } from '../../../src/server/sandboxes/index.ts';
import { startTestCluster, type TestCluster } from '../../labs/cluster.ts';
import { sampleLab, writeLab } from '../../labs/fixtures.ts';

let cluster: TestCluster;
let catalog: LabCatalog;

beforeAll(async () => {
  cluster = await startTestCluster();
  const labsDir = join(cluster.dir, 'labs');
  await writeLab(labsDir, 'sample', sampleLab);
  catalog = new LabCatalog(labsDir);
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
});

it('makes the reserved warm sandboxes ready, and the first learner claims one', async () => {
  const sandboxes = new Sandboxes({ kubeConfig: cluster.kubeConfig, catalog, warmPool: 0 });
  try {
    expect(await sandboxes.fillWarmPool()).toBe(0);
    expect(await sandboxes.reserveWarm('sample', 2)).toBe(2);
    const warm = await sandboxes.list({ labId: 'sample', warm: true });
    expect(warm).toHaveLength(2);

    const started = await sandboxes.start(await catalog.get('sample'), 'learner-ada');
    expect(warm.map((sandbox) => sandbox.namespace)).toContain(started.namespace);
    // The reservation stands until it is given back: the pool is topped up again.
    expect(await sandboxes.fillWarmPool()).toBe(1);
    expect(await sandboxes.reserveWarm('sample', 0)).toBe(0);
  } finally {
    await sandboxes.stop();
  }
}, 180_000);
