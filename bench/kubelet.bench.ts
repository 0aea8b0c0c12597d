// Kubelet figures with the simulated kubelet (start delay 0): a 3-replica Deployment from create
// to Available, a keystroke to its echo through exec into a terminal, and how many pods with
// readiness and liveness probes one core keeps Running at steady state within 50 % CPU.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Exec, KubeConfig } from '@kubernetes/client-node';
import { startCluster } from '../src/cluster/index.ts';
import type { Registry, ResourceDefinition } from '../src/cluster/registry/index.ts';
import type { KubeObject } from '../src/cluster/types.ts';
import { percentile, round } from './stats.ts';

const LOAD_PODS = 2000;

function deployment(name: string, replicas: number, probes: boolean): KubeObject {
  const probe = { httpGet: { path: '/', port: 80 } };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.27', ...(probes ? { readinessProbe: probe, livenessProbe: probe } : {}) }] },
      },
    },
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

async function execRoundTrips(kubeconfig: string, namespace: string, pod: string, count: number): Promise<number[]> {
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  const stdout = new PassThrough();
  const stdin = new PassThrough();
  let received = '';
  let waiter: (() => void) | undefined;
  stdout.on('data', (chunk: Buffer) => {
    received += chunk.toString();
    waiter?.();
  });
  const socket = await new Exec(config).exec(namespace, pod, 'shell', ['sh', '-c', 'stty -icanon; exec cat'], stdout, null, stdin, true, () => {});
  const echoOf = (marker: string) =>
    new Promise<void>((resolve) => {
      waiter = () => {
        if (received.includes(marker)) resolve();
      };
      waiter();
    });
  await new Promise((resolve) => setTimeout(resolve, 500));
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const key = String.fromCharCode(97 + (i % 26));
    received = '';
    const started = performance.now();
    const echoed = echoOf(key);
    stdin.write(key);
    await echoed;
    samples.push(performance.now() - started);
  }
  socket.close();
  return samples;
}

export default async function bench(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'formicary-bench-kubelet-'));
  // The sandbox user must pass through to the kubelet's folder.
  await chmod(dir, 0o711);
  const cluster = await startCluster({
    dataDir: join(dir, 'data'),
    nodes: 10,
    controllers: { nodes: { capacity: { pods: '250' } } },
    kubelet: { kubeletDir: join(dir, 'kubelet'), timing: { startDelayScale: 0 } },
  });
  try {
    const registry = cluster.registry;
    const deployments = registry.lookup('apps', 'v1', 'deployments') as ResourceDefinition;
    const namespaces = registry.lookup('', 'v1', 'namespaces') as ResourceDefinition;
    const pods = registry.lookup('', 'v1', 'pods') as ResourceDefinition;

    const singles: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const done = available(registry, deployments, 'default', `single-${i}`, 3);
      registry.create(deployments, 'default', deployment(`single-${i}`, 3, false));
      await done;
      singles.push(performance.now() - started);
    }

    registry.create(pods, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'terminal' },
      spec: { containers: [{ name: 'shell', image: 'busybox', command: ['sh', '-c', 'exec sleep 3600'] }] },
    });
    for (let i = 0; i < 200; i++) {
      const status = (registry.get(pods, 'default', 'terminal').status ?? {}) as { phase?: string };
      if (status.phase === 'Running') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const roundTrips = await execRoundTrips(cluster.kubeconfig(), 'default', 'terminal', 300);

    registry.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'load' } });
    const loads: Promise<void>[] = [];
    for (let i = 0; i < LOAD_PODS / 100; i++) {
      loads.push(available(registry, deployments, 'load', `load-${i}`, 100));
      registry.create(deployments, 'load', deployment(`load-${i}`, 100, true));
    }
    await Promise.all(loads);
    await cluster.controllers?.idle();
    // Let start-up settle and the probes spread over their period.
    await new Promise((resolve) => setTimeout(resolve, 15_000));
    const before = process.cpuUsage();
    const wallStarted = performance.now();
    await new Promise((resolve) => setTimeout(resolve, 30_000));
    const used = process.cpuUsage(before);
    const cpuFraction = (used.user + used.system) / 1000 / (performance.now() - wallStarted);
    (globalThis as { gc?: () => void }).gc?.();
    const heapMb = process.memoryUsage().heapUsed / 1024 / 1024;

    return {
      deployment_available_ms: round(percentile(singles, 50)),
      exec_roundtrip_ms_p50: round(percentile(roundTrips, 50)),
      exec_roundtrip_ms_p99: round(percentile(roundTrips, 99)),
      kubelet_steady_cpu_percent_2000_pods: round(cpuFraction * 100),
      kubelet_heap_mb_2000_pods: round(heapMb),
      pods_per_core: Math.round((LOAD_PODS * 0.5) / Math.max(cpuFraction, 1e-6)),
    };
  } finally {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
