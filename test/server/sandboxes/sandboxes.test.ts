// The provisioner, isolation between sandboxes, the reaper after a restart, the warm pool, reset
// and end, against a real embedded cluster (kubelet included) through client-node and kubectl.
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabCatalog, type KubeObject } from '../../../src/labs/index.ts';
import { OBJECT_COUNTS, SandboxError, Sandboxes, learnerLabel, type StartProgress } from '../../../src/server/sandboxes/index.ts';
import { startTestCluster, type TestCluster } from '../../labs/cluster.ts';
import { sampleLab, writeLab } from '../../labs/fixtures.ts';

let cluster: TestCluster;
let catalog: LabCatalog;
let labsDir: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  labsDir = join(cluster.dir, 'labs');
  await writeLab(labsDir, 'sample', sampleLab);
  await writeLab(labsDir, 'broken-setup', {
    ...sampleLab,
    'lab.yaml': sampleLab['lab.yaml'].replace('kubectl annotate configmap settings prepared=yes', 'echo "about to fail"; kubectl get configmap does-not-exist'),
  });
  catalog = new LabCatalog(labsDir);
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

const sandboxes = (options: Partial<ConstructorParameters<typeof Sandboxes>[0]> = {}) => new Sandboxes({ kubeConfig: cluster.kubeConfig, catalog, ...options });

async function get(resource: string, namespace: string | undefined, name: string): Promise<KubeObject | null> {
  return cluster.client.get(await cluster.client.resolve(resource), namespace ?? '', name);
}

const kubectl = promisify(execFile);
async function canI(args: string[]): Promise<string> {
  const kubeconfig = join(cluster.dir, 'admin.kubeconfig');
  await writeFile(kubeconfig, cluster.cluster.kubeconfig(), { mode: 0o600 });
  try {
    const { stdout } = await kubectl('kubectl', ['--kubeconfig', kubeconfig, 'auth', 'can-i', ...args], { env: { ...process.env, HOME: cluster.dir } });
    return stdout.trim();
  } catch (error) {
    return String((error as { stdout?: string }).stdout ?? '').trim();
  }
}

describe('starting a sandbox', () => {
  it('creates the namespace, access, budget, fence and a Ready workbench, then runs the setup', async () => {
    const progress: StartProgress[] = [];
    const service = sandboxes();
    const sandbox = await service.start(await catalog.get('sample'), 'ada@example.com', { onProgress: (p) => progress.push(p) });
    const ns = sandbox.namespace;
    expect(ns).toMatch(new RegExp(`^lab-${learnerLabel('ada@example.com').slice(0, 6)}-[a-z0-9]{5}$`));
    expect(progress.map((p) => p.phase)).toEqual(['creating-namespace', 'granting-access', 'starting-workbench', 'running-setup', 'ready']);
    expect(sandbox).toMatchObject({ labId: 'sample', learnerId: 'ada@example.com', ready: true, workbench: { pod: 'workbench', container: 'workbench' }, serviceAccount: 'learner' });
    expect(sandbox.expiresAt.getTime() - sandbox.createdAt.getTime()).toBe(30 * 60_000);

    const namespace = await get('namespaces', undefined, ns);
    expect(namespace?.metadata.labels).toMatchObject({
      'formicary.dev/lab': 'sample',
      'formicary.dev/learner': learnerLabel('ada@example.com'),
      'formicary.dev/ready': 'true',
      'formicary.dev/expires': String(Math.floor(sandbox.expiresAt.getTime() / 1000)),
    });
    expect(namespace?.metadata.annotations).toMatchObject({ 'formicary.dev/learner-id': 'ada@example.com', 'formicary.dev/lab-title': 'Sample lab' });

    expect(await get('serviceaccounts', ns, 'learner')).not.toBeNull();
    expect((await get('rolebindings.rbac.authorization.k8s.io', ns, 'learner-edit'))?.['roleRef']).toMatchObject({ kind: 'ClusterRole', name: 'edit' });
    expect((await get('roles.rbac.authorization.k8s.io', ns, 'learner-extra'))?.['rules']).toEqual([{ apiGroups: [''], resources: ['resourcequotas'], verbs: ['create'] }]);
    const clusterRole = await get('clusterroles.rbac.authorization.k8s.io', undefined, `formicary:sandbox:${ns}`);
    expect(clusterRole?.metadata.labels?.['formicary.dev/sandbox']).toBe(ns);
    expect(await get('clusterrolebindings.rbac.authorization.k8s.io', undefined, `formicary:sandbox:${ns}`)).not.toBeNull();
    // The lab's budget plus the workbench's own share.
    expect((await get('resourcequotas', ns, 'lab-budget'))?.spec?.['hard']).toEqual({
      'requests.cpu': '1100m',
      'limits.cpu': '2',
      'requests.memory': String(2 ** 30 + 256 * 2 ** 20),
      'limits.memory': String(2 * 2 ** 30),
      'limits.ephemeral-storage': String(5 * 2 ** 30),
      'requests.storage': '2Gi',
      pods: '5',
      services: '2',
      ...OBJECT_COUNTS,
    });
    expect((await get('limitranges', ns, 'lab-defaults'))?.spec).toMatchObject({ limits: [{ type: 'Container', default: { cpu: '200m', memory: '128Mi' } }] });
    expect((await get('networkpolicies', ns, 'same-namespace-only'))?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: {} }] }] });

    const workbench = await get('pods', ns, 'workbench');
    expect(workbench?.spec).toMatchObject({ serviceAccountName: 'learner', containers: [{ name: 'workbench', image: 'formicary/workbench:1.0', volumeMounts: expect.arrayContaining([{ name: 'home', mountPath: '/home/learner' }]) }] });
    expect((workbench?.status?.['conditions'] as Array<{ type: string; status: string }>).find((c) => c.type === 'Ready')?.status).toBe('True');

    // Setup: the manifest, then the command, ran as the learner in the workbench.
    expect((await get('configmaps', ns, 'settings'))?.metadata.annotations?.['prepared']).toBe('yes');
    const shell = await service.exec(ns, 'echo $HOME; kubectl auth can-i create deployments; kubectl auth can-i list nodes; kubectl auth can-i create roles || true');
    expect(shell).toMatchObject({ exitCode: 0 });
    expect(shell.stdout.split('\n').slice(0, 4)).toEqual(['/home/learner', 'yes', 'yes', 'no']);

    // Start again: the same sandbox, not a second one.
    const again = await service.start(await catalog.get('sample'), 'ada@example.com');
    expect(again.namespace).toBe(ns);
    expect((await service.list({ learnerId: 'ada@example.com' })).map((s) => s.namespace)).toEqual([ns]);
    await service.end(ns);
    expect(await service.get(ns)).toBeNull();
    expect(await get('clusterroles.rbac.authorization.k8s.io', undefined, `formicary:sandbox:${ns}`)).toBeNull();
  }, 60_000);

  it('fails with the setup command and its output, and leaves nothing behind', async () => {
    const service = sandboxes();
    const error = await service.start(await catalog.get('broken-setup'), 'bob').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SandboxError);
    expect((error as SandboxError).phase).toBe('running-setup');
    expect((error as SandboxError).message).toMatch(/^Setup of lab broken-setup failed: the command `echo "about to fail"; kubectl get configmap does-not-exist` exited with code 1: about to fail\n.*configmaps "does-not-exist" not found/s);
    const namespace = await get('namespaces', undefined, (error as SandboxError).namespace ?? '');
    expect(namespace === null || typeof namespace.metadata.deletionTimestamp === 'string').toBe(true);
  }, 60_000);
});

describe('isolation', () => {
  it('a learner cannot touch another learner\'s sandbox, and gets a deleted workbench back', async () => {
    const service = sandboxes();
    const [a, b] = await Promise.all([service.start(await catalog.get('sample'), 'alice'), service.start(await catalog.get('sample'), 'bruno')]);
    try {
      const asA = `system:serviceaccount:${a.namespace}:learner`;
      expect(await canI(['list', 'pods', '-n', a.namespace, '--as', asA])).toBe('yes');
      for (const verb of ['list', 'create', 'delete']) expect(await canI([verb, 'pods', '-n', b.namespace, '--as', asA]), verb).toBe('no');
      expect(await canI(['create', 'pods/exec', '-n', b.namespace, '--as', asA])).toBe('no');
      expect(await canI(['list', 'namespaces', '--as', asA])).toBe('no');
      const fromShell = await service.exec(a.namespace, `kubectl get pods -n ${b.namespace}`);
      expect(fromShell.exitCode).not.toBe(0);
      expect(fromShell.stderr).toMatch(/forbidden/i);
    } finally {
      await Promise.all([service.end(a.namespace), service.end(b.namespace)]);
    }
  }, 60_000);
});

describe('the reaper', () => {
  it('finds sandboxes again after a restart and deletes the idle ones, then the expired', async () => {
    const first = sandboxes();
    const [carol, dan, erin] = await Promise.all([first.start(await catalog.get('sample'), 'carol'), first.start(await catalog.get('sample'), 'dan'), first.start(await catalog.get('sample'), 'erin')]);
    await first.stop();
    // A portal started later, with no memory of the first: 20 minutes on, dan and carol idle for 20.
    const later = () => new Date(Date.now() + 20 * 60_000);
    const restarted = sandboxes({ now: later, idleTimeoutMinutes: 15 });
    // erin typed something a minute before.
    await new Sandboxes({ kubeConfig: cluster.kubeConfig, catalog, now: () => new Date(Date.now() + 19 * 60_000) }).touch(erin.namespace);
    const reaped = await restarted.reap();
    expect(reaped).toEqual(expect.arrayContaining([carol.namespace, dan.namespace]));
    expect(reaped).not.toContain(erin.namespace);
    expect(await restarted.get(erin.namespace)).not.toBeNull();
    expect(await get('clusterrolebindings.rbac.authorization.k8s.io', undefined, `formicary:sandbox:${carol.namespace}`)).toBeNull();
    // Past the lab's 30-minute limit, activity does not help.
    const muchLater = sandboxes({ now: () => new Date(Date.now() + 31 * 60_000) });
    expect(await muchLater.reap()).toContain(erin.namespace);
    expect(await muchLater.list({ labId: 'sample', warm: false })).toEqual([]);
  }, 90_000);

  it('keeps a sandbox whose time was extended past its original expiry, and reaps it at the new one', async () => {
    const portal = sandboxes();
    const frank = await portal.start(await catalog.get('sample'), 'frank');
    // A workshop gives 20 minutes more: the lab's 30-minute limit becomes 50.
    await portal.extend(frank.namespace, new Date(frank.expiresAt.getTime() + 20 * 60_000));
    // Extending never shortens: an earlier time leaves the later one.
    await portal.extend(frank.namespace, frank.expiresAt);
    await portal.touch(frank.namespace);
    const at = (minutes: number) => sandboxes({ now: () => new Date(frank.expiresAt.getTime() + minutes * 60_000), idleTimeoutMinutes: 120 });
    expect(await at(1).reap()).not.toContain(frank.namespace);
    expect(await at(1).get(frank.namespace)).not.toBeNull();
    expect(await at(21).reap()).toContain(frank.namespace);
    await portal.stop();
  }, 90_000);
});

describe('the warm pool', () => {
  it('keeps a ready sandbox per lab, hands it to the next learner and refills', async () => {
    const service = sandboxes({ warmPool: { sample: 1 } });
    try {
      expect(await service.fillWarmPool()).toBe(1);
      const [warm] = await service.list({ labId: 'sample', warm: true });
      expect(warm).toMatchObject({ learnerId: null, ready: true, idleExpiresAt: null });
      expect(warm?.namespace).toMatch(/^lab-warm-[a-z0-9]{5}$/);

      const progress: StartProgress[] = [];
      const claimed = await service.start(await catalog.get('sample'), 'frank', { onProgress: (p) => progress.push(p) });
      expect(claimed.namespace).toBe(warm?.namespace);
      expect(claimed).toMatchObject({ learnerId: 'frank', ready: true });
      // Claimed, not made: how fast that is, bench/labs.bench.ts measures (lab_start_ms_warm_p95).
      expect(progress.map((p) => p.phase)).toEqual(['claiming-warm-sandbox', 'ready']);
      expect((await get('configmaps', claimed.namespace, 'settings'))?.metadata.annotations?.['prepared']).toBe('yes');

      await service.fillWarmPool();
      const refilled = await service.list({ labId: 'sample', warm: true });
      expect(refilled).toHaveLength(1);
      expect(refilled[0]?.namespace).not.toBe(claimed.namespace);

      // A changed lab makes the warm sandbox stale: it is replaced, never handed out.
      await writeLab(labsDir, 'sample', { 'lab.yaml': sampleLab['lab.yaml'].replace('summary: For tests.', 'summary: For tests, changed.') });
      await service.fillWarmPool();
      const replaced = await service.list({ labId: 'sample', warm: true });
      expect(replaced).toHaveLength(1);
      expect(replaced[0]?.namespace).not.toBe(refilled[0]?.namespace);

      // Reset: the learner's sandbox is replaced by a fresh one (here the warm one).
      const reset = await service.reset(claimed.namespace);
      expect(reset.namespace).not.toBe(claimed.namespace);
      expect(reset.learnerId).toBe('frank');
      expect(await service.get(claimed.namespace)).toBeNull();
      await service.end(reset.namespace);
    } finally {
      await writeLab(labsDir, 'sample', sampleLab);
      await service.stop();
      for (const sandbox of await service.list({ labId: 'sample' })) await service.end(sandbox.namespace);
    }
  }, 120_000);
});
