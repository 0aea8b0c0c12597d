// Sandboxes with many portal replicas: one leader through a coordination.k8s.io Lease (taken,
// renewed, handed on, taken over when its holder stops renewing), only the leader filling the warm
// pool, the per-lab warm pool with its `default`, and the global sandbox limit, against a real
// embedded cluster.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabCatalog, type KubeObject } from '../../../src/labs/index.ts';
import { LeaderElection, SandboxLimitError, Sandboxes } from '../../../src/server/sandboxes/index.ts';
import { startTestCluster, type TestCluster } from '../../labs/cluster.ts';
import { sampleLab, writeLab } from '../../labs/fixtures.ts';

let cluster: TestCluster;
let catalog: LabCatalog;

beforeAll(async () => {
  cluster = await startTestCluster();
  const labsDir = join(cluster.dir, 'labs');
  await writeLab(labsDir, 'sample', sampleLab);
  await writeLab(labsDir, 'other', { ...sampleLab, 'lab.yaml': sampleLab['lab.yaml'].replace(/^title: .*$/m, 'title: Other lab') });
  catalog = new LabCatalog(labsDir);
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

async function lease(namespace: string, name: string): Promise<Record<string, unknown>> {
  const object = await cluster.client.get(await cluster.client.resolve('leases.coordination.k8s.io'), namespace, name);
  return (object as KubeObject | null)?.spec ?? {};
}

async function endAll(service: Sandboxes): Promise<void> {
  for (const sandbox of await service.list()) await service.end(sandbox.namespace);
}

describe('leader election', () => {
  it('gives the Lease to one replica, renews it, and hands it on when the leader stops', async () => {
    const namespace = await cluster.namespace('portal');
    const elect = (identity: string) => new LeaderElection({ client: cluster.client, namespace, name: 'sandboxes', identity, leaseDurationSeconds: 2, renewDeadlineMs: 1_500, retryPeriodMs: 200 });
    const [a, b] = [elect('portal-a'), elect('portal-b')];
    expect(await a.tryAcquireOrRenew()).toBe(true);
    expect(await b.tryAcquireOrRenew()).toBe(false);
    const first = await lease(namespace, 'sandboxes');
    expect(first).toMatchObject({ holderIdentity: 'portal-a', leaseDurationSeconds: 2, leaseTransitions: 0 });
    expect(first['renewTime']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    expect(a.leading).toBe(true);
    expect(b.leading).toBe(false);

    // Renewing moves renewTime, keeps acquireTime.
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(await a.tryAcquireOrRenew()).toBe(true);
    const renewed = await lease(namespace, 'sandboxes');
    expect(renewed['acquireTime']).toBe(first['acquireTime']);
    expect(renewed['renewTime']).not.toBe(first['renewTime']);

    // Stopping gives the Lease up: the other replica takes it at its next try, not after expiry.
    await a.stop();
    expect(await lease(namespace, 'sandboxes')).toMatchObject({ leaseDurationSeconds: 1 });
    expect((await lease(namespace, 'sandboxes'))['holderIdentity']).toBeUndefined();
    expect(await b.tryAcquireOrRenew()).toBe(true);
    expect(await lease(namespace, 'sandboxes')).toMatchObject({ holderIdentity: 'portal-b', leaseTransitions: 1 });

    // A leader that stops renewing (a replica frozen or cut off) loses the Lease once it expired.
    const c = elect('portal-c');
    expect(await c.tryAcquireOrRenew()).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 2_300));
    expect(b.leading).toBe(false);
    expect(await c.tryAcquireOrRenew()).toBe(true);
    expect(await lease(namespace, 'sandboxes')).toMatchObject({ holderIdentity: 'portal-c', leaseTransitions: 2 });
    // The old leader, back, finds the Lease taken and does not lead.
    expect(await b.tryAcquireOrRenew()).toBe(false);
    await c.stop();
  }, 30_000);

  it('lets only the leader fill the warm pool when several replicas run', async () => {
    const namespace = await cluster.namespace('portal');
    const replica = (identity: string) =>
      new Sandboxes({ kubeConfig: cluster.kubeConfig, catalog, warmPool: { sample: 1, default: 0 }, poolIntervalMs: 300, reapIntervalMs: 60_000, leaderLease: { namespace, identity } });
    const replicas = [replica('portal-a'), replica('portal-b'), replica('portal-c')];
    try {
      for (const each of replicas) each.startBackground();
      const deadline = Date.now() + 60_000;
      while ((await replicas[0]!.list({ labId: 'sample', warm: true })).filter((sandbox) => sandbox.ready).length < 1 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      // A few more rounds of every replica's timer: nobody adds a second one.
      await new Promise((resolve) => setTimeout(resolve, 1_500));
      const warm = await replicas[0]!.list({ warm: true });
      expect(warm.map((sandbox) => sandbox.labId)).toEqual(['sample']);
      expect(replicas.filter((each) => each.leader?.leading)).toHaveLength(1);
      const holder = (await lease(namespace, 'formicary-sandboxes'))['holderIdentity'];
      expect(replicas.find((each) => each.leader?.leading)?.leader?.identity).toBe(holder);
    } finally {
      for (const each of replicas) await each.stop();
      await endAll(replicas[0]!);
    }
  }, 90_000);
});

describe('the sandbox limit', () => {
  it('refuses a start beyond the limit with a message saying so, and a warm sandbox of another lab gives its place up', async () => {
    const service = new Sandboxes({ kubeConfig: cluster.kubeConfig, catalog, limit: 2, warmPool: { other: 1 } });
    try {
      expect(await service.fillWarmPool()).toBe(1);
      const ada = await service.start(await catalog.get('sample'), 'ada');
      // ada's sandbox and the warm one fill the limit: bob's start takes the warm sandbox's place.
      const bob = await service.start(await catalog.get('sample'), 'bob');
      expect((await service.list()).map((sandbox) => sandbox.learnerId).sort()).toEqual(['ada', 'bob']);
      // The pool does not fill the last places either.
      expect(await service.fillWarmPool()).toBe(0);
      const refused = await service.start(await catalog.get('sample'), 'carol').catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(SandboxLimitError);
      expect((refused as Error).message).toBe(
        'Every lab sandbox is in use right now (this portal runs at most 2 at once, SANDBOX_LIMIT); try again in a few minutes, or end a lab you no longer need.',
      );
      expect(await service.list({ learnerId: 'carol' })).toEqual([]);
      // A learner who has a sandbox gets it back whatever the limit.
      expect((await service.start(await catalog.get('sample'), 'ada')).namespace).toBe(ada.namespace);
      // An ended lab frees a place.
      await service.end(bob.namespace);
      expect((await service.start(await catalog.get('sample'), 'carol')).learnerId).toBe('carol');
    } finally {
      await endAll(service);
    }
  }, 120_000);
});
