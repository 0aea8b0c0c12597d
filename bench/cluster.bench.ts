// Embedded-cluster figures: start-up of `formicary cluster` to its first answer (a restart, as the
// portal's supervisor does it), the sandbox objects a lab creates through client-node, a Table of 100
// pods, watch fan-out to 100 watchers, and memory with 1,000 sandboxes of 10 pods each.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CoreV1Api, KubeConfig, NetworkingV1Api, RbacAuthorizationV1Api } from '@kubernetes/client-node';
import { startCluster, type RunningCluster } from '../src/cluster/index.ts';
import type { KubeObject } from '../src/cluster/types.ts';
import { percentile, round, time } from './stats.ts';

const cli = join(import.meta.dirname, '..', 'bin', 'formicary.js');

/**
 * Milliseconds from spawning `formicary cluster` to its first answer: the "ready" line, then
 * /readyz answered over HTTPS (what it still does after printing the line is counted too).
 */
function startOnce(dataDir: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(process.execPath, [cli, 'cluster', '--data', dataDir, '--kubeconfig', join(dataDir, 'kubeconfig')], { stdio: ['ignore', 'pipe', 'inherit'] });
    let output = '';
    let asked = false;
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const url = /\bready at (https:\/\/\S+)/.exec(output)?.[1];
      if (!url || asked) return;
      asked = true;
      const req = request(`${url}/readyz`, { ca: readFileSync(join(dataDir, 'ca.crt')) }, (res) => {
        res.resume();
        res.on('end', () => {
          const elapsed = performance.now() - started;
          child.once('exit', () => (res.statusCode === 200 ? resolve(elapsed) : reject(new Error(`/readyz answered ${res.statusCode}`))));
          child.kill('SIGTERM');
        });
      });
      req.on('error', reject);
      req.end();
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (!/\bready\b/.test(output)) reject(new Error(`formicary cluster exited ${code} before ready: ${output}`));
    });
  });
}

async function clusterStartMs(): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'formicary-bench-start-'));
  try {
    // The first start creates certificates and fills Node's compile cache; restarts are what repeats.
    await startOnce(dir);
    const runs = [];
    for (let i = 0; i < 5; i++) runs.push(await startOnce(dir));
    return percentile(runs, 50);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function sandboxObjects(kc: KubeConfig, prefix: string, count: number): Promise<number[]> {
  const core = kc.makeApiClient(CoreV1Api);
  const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
  const networking = kc.makeApiClient(NetworkingV1Api);
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const namespace = `${prefix}-${i}`;
    times.push(
      await time(async () => {
        await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'formicary.dev/sandbox': 'true' } } } });
        await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'learner' } } });
        await rbac.createNamespacedRole({ namespace, body: { metadata: { name: 'learner' }, rules: [{ apiGroups: ['', 'apps'], resources: ['*'], verbs: ['*'] }] } });
        await rbac.createNamespacedRoleBinding({
          namespace,
          body: { metadata: { name: 'learner' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'learner' }, subjects: [{ kind: 'ServiceAccount', name: 'learner', namespace }] },
        });
        await core.createNamespacedResourceQuota({ namespace, body: { metadata: { name: 'quota' }, spec: { hard: { pods: '20', 'requests.cpu': '4', 'requests.memory': '4Gi' } } } });
        await core.createNamespacedLimitRange({ namespace, body: { metadata: { name: 'limits' }, spec: { limits: [{ type: 'Container', _default: { cpu: '500m', memory: '256Mi' }, defaultRequest: { cpu: '100m', memory: '64Mi' } }] } } });
        await networking.createNamespacedNetworkPolicy({ namespace, body: { metadata: { name: 'isolate' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } } });
      }),
    );
  }
  return times;
}

function pod(namespace: string, name: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace, labels: { app: 'bench' } },
    spec: { containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'], resources: { requests: { cpu: '10m', memory: '16Mi' } } }] },
  };
}

function get(cluster: RunningCluster, agent: Agent, path: string, accept: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${cluster.url}${path}`, { agent, headers: { authorization: `Bearer ${cluster.adminToken}`, accept } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

async function tableOfPods(cluster: RunningCluster): Promise<number[]> {
  const pods = cluster.registry.lookup('', 'v1', 'pods')!;
  const namespaces = cluster.registry.lookup('', 'v1', 'namespaces')!;
  cluster.registry.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-table' } });
  for (let i = 0; i < 100; i++) cluster.registry.create(pods, 'bench-table', pod('bench-table', `pod-${i}`));
  const agent = new Agent({ keepAlive: true, ca: cluster.caPem });
  const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';
  for (let i = 0; i < 20; i++) await get(cluster, agent, '/api/v1/namespaces/bench-table/pods?limit=500', accept);
  const times: number[] = [];
  for (let i = 0; i < 100; i++) times.push(await time(() => get(cluster, agent, '/api/v1/namespaces/bench-table/pods?limit=500', accept)));
  agent.destroy();
  return times;
}

/** Events delivered per second when 100 watchers see 200 new ConfigMaps each. */
async function watchFanOut(cluster: RunningCluster): Promise<number> {
  const namespaces = cluster.registry.lookup('', 'v1', 'namespaces')!;
  const configMaps = cluster.registry.lookup('', 'v1', 'configmaps')!;
  cluster.registry.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench-watch' } });
  const watchers = 100;
  const changes = 200;
  const agent = new Agent({ keepAlive: true, maxSockets: watchers + 10, ca: cluster.caPem });
  let delivered = 0;
  let allDelivered: () => void = () => {};
  const done = new Promise<void>((resolve) => (allDelivered = resolve));
  const streams = await Promise.all(
    Array.from(
      { length: watchers },
      () =>
        new Promise<ReturnType<typeof request>>((resolve, reject) => {
          const req = request(`${cluster.url}/api/v1/namespaces/bench-watch/configmaps?watch=true&resourceVersion=${cluster.registry.currentResourceVersion()}`, { agent, headers: { authorization: `Bearer ${cluster.adminToken}` } }, (res) => {
            let partial = '';
            res.on('data', (chunk: Buffer) => {
              const lines = (partial + chunk.toString()).split('\n');
              partial = lines.pop() ?? '';
              delivered += lines.length;
              if (delivered === watchers * changes) allDelivered();
            });
            resolve(req);
          });
          req.on('error', reject);
          req.end();
        }),
    ),
  );
  const elapsed = await time(async () => {
    for (let i = 0; i < changes; i++) cluster.registry.create(configMaps, 'bench-watch', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { i: String(i) } });
    await Promise.race([done, new Promise((resolve) => setTimeout(resolve, 60_000))]);
  });
  for (const stream of streams) stream.destroy();
  agent.destroy();
  return round((delivered / elapsed) * 1000, 0);
}

async function rssWithSandboxes(cluster: RunningCluster, sandboxes: number): Promise<number> {
  const r = cluster.registry;
  const def = (group: string, resource: string) => r.lookup(group, 'v1', resource)!;
  for (let i = 0; i < sandboxes; i++) {
    const ns = `bench-rss-${i}`;
    r.create(def('', 'namespaces'), undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    r.create(def('', 'serviceaccounts'), ns, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'learner' } });
    r.create(def('rbac.authorization.k8s.io', 'roles'), ns, { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'learner' }, rules: [{ apiGroups: [''], resources: ['*'], verbs: ['*'] }] });
    r.create(def('rbac.authorization.k8s.io', 'rolebindings'), ns, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'learner' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'learner' },
      subjects: [{ kind: 'ServiceAccount', name: 'learner', namespace: ns }],
    });
    r.create(def('', 'resourcequotas'), ns, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'quota' }, spec: { hard: { pods: '20' } } });
    r.create(def('', 'limitranges'), ns, { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: 'limits' }, spec: { limits: [{ type: 'Container', default: { cpu: '500m' } }] } });
    r.create(def('networking.k8s.io', 'networkpolicies'), ns, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'isolate' }, spec: { podSelector: {} } });
    for (let p = 0; p < 10; p++) r.create(def('', 'pods'), ns, pod(ns, `pod-${p}`));
    // Let controllers and persistence keep up, as they would between real lab starts.
    if (i % 50 === 49) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  (globalThis as { gc?: () => void }).gc?.();
  return round(process.memoryUsage().rss / 1024 / 1024, 0);
}

export default async function clusterBench(): Promise<Record<string, number>> {
  const figures: Record<string, number> = { cluster_start_ms: round(await clusterStartMs(), 0) };
  const dir = await mkdtemp(join(tmpdir(), 'formicary-bench-cluster-'));
  const cluster = await startCluster({ dataDir: join(dir, 'data') });
  try {
    const kc = new KubeConfig();
    kc.loadFromString(cluster.kubeconfig());
    await sandboxObjects(kc, 'bench-warm-up', 10);
    const sandboxTimes = await sandboxObjects(kc, 'bench-sandbox', 100);
    figures['sandbox_objects_ms_p50'] = percentile(sandboxTimes, 50);
    figures['sandbox_objects_ms_p95'] = percentile(sandboxTimes, 95);
    const tableTimes = await tableOfPods(cluster);
    figures['get_pods_ms_p50'] = percentile(tableTimes, 50);
    figures['get_pods_ms_p95'] = percentile(tableTimes, 95);
    figures['watch_events_per_s'] = await watchFanOut(cluster);
    figures['rss_mb_1000_sandboxes'] = await rssWithSandboxes(cluster, 1000);
  } finally {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return figures;
}
