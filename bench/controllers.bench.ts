// Controller figures, with a minimal stand-in kubelet that makes bound pods Running and Ready at
// once (start delay 0), so only the controllers and the scheduler are measured: a 3-replica
// Deployment from create to Available, 2,000 pods brought up by 20 Deployments, and the CPU
// the controllers use while those 2,000 pods just run.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from '../src/cluster/index.ts';
import type { Registry, ResourceDefinition } from '../src/cluster/registry/index.ts';
import type { KubeObject } from '../src/cluster/types.ts';
import { percentile, round } from './stats.ts';

/** Bound pods become Running and Ready; deleted ones go. */
function standInKubelet(registry: Registry): () => void {
  const pods = registry.lookup('', 'v1', 'pods') as ResourceDefinition;
  let ip = 0;
  const sync = (namespace: string, name: string) => {
    let pod: KubeObject;
    try {
      pod = registry.get(pods, namespace, name);
    } catch {
      return;
    }
    try {
      if (pod.metadata.deletionTimestamp) {
        registry.delete(pods, namespace, name, { gracePeriodSeconds: 0 });
        return;
      }
      const spec = pod.spec as { nodeName?: string };
      const status = (pod.status ?? {}) as Record<string, unknown>;
      if (!spec.nodeName || status['phase'] === 'Running') return;
      const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const condition = (type: string) => ({ type, status: 'True', lastProbeTime: null, lastTransitionTime: now });
      ip++;
      registry.update(pods, namespace, name, {
        ...pod,
        status: { ...status, phase: 'Running', podIP: `10.244.${(ip >> 8) & 255}.${ip & 255}`, startTime: now, conditions: ['Initialized', 'Ready', 'ContainersReady', 'PodScheduled'].map(condition) },
      }, { subresource: 'status' });
    } catch {
      // Changed meanwhile: the next event brings it back.
    }
  };
  const watch = registry.watch(pods, {}, (event) => {
    if (event.type === 'ADDED' || event.type === 'MODIFIED') setImmediate(() => sync(event.object.metadata.namespace ?? '', event.object.metadata.name ?? ''));
  });
  return () => watch.stop();
}

function deployment(name: string, replicas: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx', resources: { requests: { cpu: '10m', memory: '16Mi' } } }] } } },
  };
}

function available(registry: Registry, def: ResourceDefinition, namespace: string, name: string, replicas: number): Promise<void> {
  return new Promise((resolve) => {
    const watch = registry.watch(def, { namespace, fieldSelector: `metadata.name=${name}` }, (event) => {
      const status = (event.object.status ?? {}) as { availableReplicas?: number; conditions?: Array<{ type: string; status: string }> };
      if (status.availableReplicas === replicas && status.conditions?.some((c) => c.type === 'Available' && c.status === 'True')) {
        watch.stop();
        resolve();
      }
    });
  });
}

export default async function bench(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'formicary-bench-controllers-'));
  const cluster = await startCluster({ dataDir: join(dir, 'data'), nodes: 20 });
  const stopKubelet = standInKubelet(cluster.registry);
  try {
    const registry = cluster.registry;
    const deployments = registry.lookup('apps', 'v1', 'deployments') as ResourceDefinition;
    const namespaces = registry.lookup('', 'v1', 'namespaces') as ResourceDefinition;

    const singles: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const done = available(registry, deployments, 'default', `single-${i}`, 3);
      registry.create(deployments, 'default', deployment(`single-${i}`, 3));
      await done;
      singles.push(performance.now() - started);
    }

    registry.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'load' } });
    const bulkStarted = performance.now();
    const all: Promise<void>[] = [];
    for (let i = 0; i < 20; i++) {
      all.push(available(registry, deployments, 'load', `load-${i}`, 100));
      registry.create(deployments, 'load', deployment(`load-${i}`, 100));
    }
    await Promise.all(all);
    const bulkMs = performance.now() - bulkStarted;
    await cluster.controllers?.idle();
    await new Promise((resolve) => setTimeout(resolve, 2000));

    const before = process.cpuUsage();
    const wallStarted = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 10_000));
    const used = process.cpuUsage(before);
    const wall = performance.now() - wallStarted;

    const loaded = performance.now();
    const probe = available(registry, deployments, 'load', 'probe', 3);
    registry.create(deployments, 'load', deployment('probe', 3));
    await probe;
    return {
      controllers_deployment_available_ms_p50: round(percentile(singles, 50)),
      controllers_deployment_available_ms_with_2000_pods: round(performance.now() - loaded),
      controllers_2000_pods_available_ms: round(bulkMs),
      controllers_idle_cpu_percent_2000_pods: round(((used.user + used.system) / 1000 / wall) * 100),
    };
  } finally {
    stopKubelet();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
