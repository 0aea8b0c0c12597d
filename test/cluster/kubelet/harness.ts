// A cluster per test file with the simulated kubelet on (start delays off, time sped up), real
// kubectl and client-node against it, and small helpers to wait for what a learner would see.
import { execFile } from 'node:child_process';
import { chmodSync, realpathSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { startCluster, type ClusterOptions, type RunningCluster } from '../../../src/cluster/index.ts';
import { StatusError, type KubeObject } from '../../../src/cluster/types.ts';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubeletCluster {
  cluster: RunningCluster;
  dir: string;
  kubeconfig: string;
  /** The kubelet's directory (pod volumes on the host). */
  kubeletDir: string;
  kubectl(args: string[], options?: { stdin?: string; timeoutMs?: number; binary?: string; env?: Record<string, string> }): Promise<KubectlResult>;
  /** kubectl apply -f - with this YAML; fails the test when kubectl does. */
  apply(yaml: string, namespace?: string): Promise<void>;
  pod(namespace: string, name: string): KubeObject | undefined;
  events(namespace: string, name: string): Array<{ reason: string; message: string; type: string }>;
  /** Polls `check` every 20 ms until it returns a value, or fails after `timeoutMs` with `what` and the last value seen. */
  until<T>(what: string, check: () => T | undefined | false, timeoutMs?: number): Promise<T>;
  /** The same for checks that ask kubectl: every 100 ms. */
  eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs?: number): Promise<T>;
  /** Waits for a new namespace's default ServiceAccount: pods are refused until its controller made it. */
  serviceAccountReady(namespace: string): Promise<void>;
  kubeConfig(): k8s.KubeConfig;
  stop(): Promise<void>;
}

export const kubectlBinary = (() => {
  try {
    return realpathSync('/usr/bin/kubectl');
  } catch {
    return 'kubectl';
  }
})();

export function versionedKubectl(version: string): string {
  return join(kubectlBinary, '..', `kubectl.${version}`);
}

/** timeScale 0.02: a 10 s back-off takes 200 ms, a probe period of 10 s takes 200 ms. */
export async function startKubeletCluster(options: Omit<ClusterOptions, 'dataDir' | 'port'> & { timeScale?: number } = {}): Promise<KubeletCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'formicary-kubelet-test-'));
  // The sandbox user must pass through to the kubelet's folder, never into the data dir.
  chmodSync(dir, 0o711);
  const kubeletDir = join(dir, 'kubelet');
  const { timeScale, ...clusterOptions } = options;
  const cluster = await startCluster({
    nodes: 2,
    ...clusterOptions,
    dataDir: join(dir, 'data'),
    port: 0,
    kubelet: { kubeletDir, timing: { startDelayScale: 0, timeScale: timeScale ?? 0.02 }, ...options.kubelet },
  });
  const kubeconfig = join(dir, 'kubeconfig');
  await cluster.writeKubeconfig(kubeconfig);
  const registry = cluster.registry;
  const podsDef = registry.lookup('', 'v1', 'pods');
  const eventsDef = registry.lookup('', 'v1', 'events');
  if (!podsDef || !eventsDef) throw new Error('pods and events must be served');
  const harness: KubeletCluster = {
    cluster,
    dir,
    kubeconfig,
    kubeletDir,
    kubectl(args, kubectlOptions = {}) {
      return new Promise((resolve) => {
        const child = execFile(
          kubectlOptions.binary ?? kubectlBinary,
          ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kube-cache'), ...args],
          { timeout: kubectlOptions.timeoutMs ?? 30_000, env: { ...process.env, HOME: dir, KUBECONFIG: '', ...kubectlOptions.env } },
          (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
        );
        if (kubectlOptions.stdin !== undefined) child.stdin?.end(kubectlOptions.stdin);
      });
    },
    async apply(yaml, namespace) {
      const result = await harness.kubectl(['apply', ...(namespace ? ['-n', namespace] : []), '-f', '-'], { stdin: yaml });
      if (result.code !== 0) throw new Error(`kubectl apply failed: ${result.stderr}`);
    },
    pod(namespace, name) {
      try {
        return registry.get(podsDef, namespace, name);
      } catch (error) {
        if (error instanceof StatusError && error.code === 404) return undefined;
        throw error;
      }
    },
    events(namespace, name) {
      return registry
        .list(eventsDef, { namespace })
        .items.filter((event) => (event['involvedObject'] as { name?: string } | undefined)?.name === name)
        .map((event) => ({ reason: String(event['reason']), message: String(event['message']), type: String(event['type']) }));
    },
    async serviceAccountReady(namespace) {
      await this.until('the default ServiceAccount', () => cluster.registry.list(cluster.registry.lookup('', 'v1', 'serviceaccounts')!, { namespace }).items.length > 0);
    },
    async until(what, check, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = check();
        if (value !== undefined && value !== false) return value as never;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    },
    async eventually(what, check, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const value = await check();
        if (value !== undefined && value !== false) return value as never;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    kubeConfig() {
      const config = new k8s.KubeConfig();
      config.loadFromString(cluster.kubeconfig());
      return config;
    },
    async stop() {
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
  return harness;
}

export function containerStatus(pod: KubeObject | undefined, name?: string, init = false): Record<string, any> | undefined {
  const statuses = ((pod?.status as Record<string, unknown> | undefined)?.[init ? 'initContainerStatuses' : 'containerStatuses'] ?? []) as Array<Record<string, any>>;
  return name ? statuses.find((status) => status['name'] === name) : statuses[0];
}

export function phase(pod: KubeObject | undefined): string | undefined {
  return (pod?.status as Record<string, unknown> | undefined)?.['phase'] as string | undefined;
}

export function condition(pod: KubeObject | undefined, type: string): string | undefined {
  const conditions = ((pod?.status as Record<string, unknown> | undefined)?.['conditions'] ?? []) as Array<Record<string, string>>;
  return conditions.find((c) => c['type'] === type)?.['status'];
}

export function waitingReason(pod: KubeObject | undefined, name?: string): string | undefined {
  return containerStatus(pod, name)?.['state']?.['waiting']?.['reason'];
}
