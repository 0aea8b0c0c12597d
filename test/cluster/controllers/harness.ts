// A cluster per test (controllers on, 3 Nodes), real kubectl against it, and a stand-in for the
// kubelet until the real one lands: it marks bound pods Running and Ready through the status
// subresource (with a pod IP), finishes graceful deletions, and lets a test decide how a pod's
// containers end (Jobs) or whether it is ready.
import { execFile } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster, type ClusterOptions, type RunningCluster } from '../../../src/cluster/index.ts';
import type { Registry, ResourceDefinition } from '../../../src/cluster/registry/index.ts';
import { StatusError, type KubeObject } from '../../../src/cluster/types.ts';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export type PodOutcome = 'Running' | 'Succeeded' | 'Failed' | 'Pending';

export interface KubeletBehaviour {
  /** What a bound pod becomes; default Running (and Ready). */
  outcome?: (pod: KubeObject) => PodOutcome;
  /** Whether a Running pod is Ready; default true. */
  ready?: (pod: KubeObject) => boolean;
}

export interface TestCluster {
  cluster: RunningCluster;
  registry: Registry;
  dir: string;
  kubeconfig: string;
  kubelet: SimulatedKubelet;
  kubectl(args: string[], options?: { stdin?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** Waits until every controller is idle. */
  settle(): Promise<void>;
  def(group: string, version: string, resource: string): ResourceDefinition;
  get(group: string, version: string, resource: string, namespace: string | undefined, name: string): KubeObject | undefined;
  list(group: string, version: string, resource: string, namespace?: string): KubeObject[];
  /** Polls `check` (every 20 ms) until it returns a value, or fails after `timeoutMs`. */
  until<T>(what: string, check: () => T | undefined | false, timeoutMs?: number): Promise<T>;
  stop(): Promise<void>;
}

const kubectlPath = (() => {
  try {
    return realpathSync('/usr/bin/kubectl');
  } catch {
    return 'kubectl';
  }
})();

export class SimulatedKubelet {
  behaviour: KubeletBehaviour = {};
  readonly #registry: Registry;
  readonly #pods: ResourceDefinition;
  readonly #watch: { stop(): void };
  #ip = 10;
  #stopped = false;

  constructor(registry: Registry) {
    this.#registry = registry;
    this.#pods = registry.lookup('', 'v1', 'pods') as ResourceDefinition;
    this.#watch = registry.watch(this.#pods, {}, (event) => {
      if (event.type === 'DELETED' || event.type === 'BOOKMARK' || event.type === 'ERROR') return;
      const pod = event.object;
      // Never write from inside the registry's event delivery.
      setImmediate(() => this.sync(pod.metadata.namespace ?? '', pod.metadata.name ?? ''));
    });
  }

  /** Looks at every pod again (after a test changed the behaviour). */
  resync(): void {
    for (const pod of this.#registry.list(this.#pods, {}).items) this.sync(pod.metadata.namespace ?? '', pod.metadata.name ?? '');
  }

  sync(namespace: string, name: string): void {
    if (this.#stopped) return;
    let pod: KubeObject;
    try {
      pod = this.#registry.get(this.#pods, namespace, name);
    } catch {
      return;
    }
    const spec = (pod.spec ?? {}) as Record<string, unknown>;
    const nodeName = typeof spec['nodeName'] === 'string' ? spec['nodeName'] : '';
    if (pod.metadata.deletionTimestamp) {
      // As the kubelet does since 1.27: a deleted pod reaches a terminal phase before it goes.
      const current = (pod.status ?? {}) as Record<string, unknown>;
      if (current['phase'] !== 'Succeeded' && current['phase'] !== 'Failed') {
        this.#ignore(() => this.#registry.update(this.#pods, namespace, name, { ...pod, status: { ...current, phase: 'Failed' } }, { subresource: 'status' }));
      }
      this.#ignore(() => this.#registry.delete(this.#pods, namespace, name, { gracePeriodSeconds: 0 }));
      return;
    }
    if (!nodeName) return;
    const status = (pod.status ?? {}) as Record<string, any>;
    const phase = status['phase'] ?? 'Pending';
    if (phase === 'Succeeded' || phase === 'Failed') return;
    const outcome = this.behaviour.outcome?.(pod) ?? 'Running';
    if (outcome === 'Pending') return;
    const ready = outcome === 'Running' && (this.behaviour.ready?.(pod) ?? true);
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const containers = (spec['containers'] as Array<Record<string, unknown>>) ?? [];
    const previous = (status['conditions'] as Array<Record<string, unknown>> | undefined) ?? [];
    const since = (type: string, value: string) => {
      const old = previous.find((c) => c['type'] === type);
      return old && old['status'] === value ? old['lastTransitionTime'] : now;
    };
    const readyValue = ready ? 'True' : 'False';
    const conditions = [
      { type: 'PodReadyToStartContainers', status: 'True', lastProbeTime: null, lastTransitionTime: since('PodReadyToStartContainers', 'True') },
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: since('Initialized', 'True') },
      { type: 'Ready', status: readyValue, lastProbeTime: null, lastTransitionTime: since('Ready', readyValue) },
      { type: 'ContainersReady', status: readyValue, lastProbeTime: null, lastTransitionTime: since('ContainersReady', readyValue) },
      { type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: since('PodScheduled', 'True') },
    ];
    const exitCode = outcome === 'Failed' ? 1 : 0;
    const next = {
      ...status,
      phase: outcome,
      conditions,
      hostIP: '172.18.0.2',
      podIP: status['podIP'] ?? `10.244.1.${this.#ip++}`,
      startTime: status['startTime'] ?? now,
      containerStatuses: containers.map((c) => ({
        name: c['name'],
        image: c['image'],
        imageID: '',
        ready,
        restartCount: 0,
        started: outcome === 'Running',
        state: outcome === 'Running' ? { running: { startedAt: now } } : { terminated: { exitCode, reason: outcome === 'Failed' ? 'Error' : 'Completed', startedAt: now, finishedAt: now } },
      })),
    };
    if (JSON.stringify(next) === JSON.stringify(status)) return;
    this.#ignore(() => this.#registry.update(this.#pods, namespace, name, { ...pod, status: next }, { subresource: 'status' }));
  }

  #ignore(action: () => void): void {
    try {
      action();
    } catch (error) {
      if (!(error instanceof StatusError && (error.code === 404 || error.code === 409))) throw error;
    }
  }

  stop(): void {
    this.#stopped = true;
    this.#watch.stop();
  }
}

export async function startTestCluster(options: Omit<ClusterOptions, 'dataDir' | 'port'> = {}): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'formicary-controllers-'));
  const cluster = await startCluster({ ...options, dataDir: join(dir, 'data'), port: 0 });
  const kubeconfig = join(dir, 'kubeconfig');
  await cluster.writeKubeconfig(kubeconfig);
  const registry = cluster.registry;
  const kubelet = new SimulatedKubelet(registry);
  const def = (group: string, version: string, resource: string) => {
    const found = registry.lookup(group, version, resource);
    if (!found) throw new Error(`${group}/${version}/${resource} is not served`);
    return found;
  };
  const harness: TestCluster = {
    cluster,
    registry,
    dir,
    kubeconfig,
    kubelet,
    kubectl(args, kubectlOptions = {}) {
      return new Promise((resolve) => {
        const child = execFile(
          kubectlPath,
          ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kube-cache'), ...args],
          { timeout: kubectlOptions.timeoutMs ?? 30_000, env: { ...process.env, HOME: dir, KUBECONFIG: '' } },
          (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
        );
        if (kubectlOptions.stdin !== undefined) child.stdin?.end(kubectlOptions.stdin);
      });
    },
    async settle() {
      await cluster.controllers?.idle();
    },
    def,
    get(group, version, resource, namespace, name) {
      try {
        return registry.get(def(group, version, resource), namespace, name);
      } catch (error) {
        if (error instanceof StatusError && error.code === 404) return undefined;
        throw error;
      }
    },
    list(group, version, resource, namespace) {
      return registry.list(def(group, version, resource), namespace ? { namespace } : {}).items;
    },
    async until(what, check, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = check();
        if (value !== undefined && value !== false) return value as never;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async stop() {
      kubelet.stop();
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return harness;
}
