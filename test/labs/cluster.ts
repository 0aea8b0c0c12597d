// An embedded cluster for a test file (port 0, its own temp dir, the simulated kubelet with no
// start-up delays and time sped up) and client-node against it.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { startCluster, type RunningCluster } from '../../src/cluster/index.ts';
import type { KubeObject } from '../../src/labs/index.ts';
import { KubeClient } from '../../src/labs/kube/index.ts';

export interface TestCluster {
  cluster: RunningCluster;
  kubeConfig: KubeConfig;
  client: KubeClient;
  dir: string;
  /** Creates a namespace with a unique name and returns it. */
  namespace(prefix?: string): Promise<string>;
  /** Creates objects (manifests) in a namespace, in order. */
  create(namespace: string, ...objects: KubeObject[]): Promise<void>;
  stop(): Promise<void>;
}

let counter = 0;

export async function startTestCluster(options: { timeScale?: number } = {}): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'formicary-labs-'));
  // The sandboxed shells' user must pass through to the kubelet's folder (never into the data dir).
  await chmod(dir, 0o711);
  const cluster = await startCluster({
    dataDir: join(dir, 'cluster'),
    port: 0,
    nodes: 2,
    kubelet: { kubeletDir: join(dir, 'kubelet'), timing: { startDelayScale: 0, timeScale: options.timeScale ?? 0.1 } },
  });
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(cluster.kubeconfig());
  const client = new KubeClient(kubeConfig);
  return {
    cluster,
    kubeConfig,
    client,
    dir,
    async namespace(prefix = 'test') {
      const name = `${prefix}-${process.pid}-${++counter}`;
      await client.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, undefined);
      return name;
    },
    async create(namespace, ...objects) {
      for (const object of objects) await client.create(object, namespace);
    },
    async stop() {
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
