// LAB_CLUSTER=kubernetes: a real cluster from KUBECONFIG, or the pod's service account. Only
// checked to load here; whether the credentials may do what labs need shows on first use.

import { existsSync } from 'node:fs';
import path from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { LabCluster } from './types.ts';

const SERVICE_ACCOUNT_TOKEN = '/var/run/secrets/kubernetes.io/serviceaccount/token';

export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubeconfigError';
  }
}

function load(kubeconfig: string | null): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (kubeconfig === null) {
    if (!existsSync(SERVICE_ACCOUNT_TOKEN)) {
      throw new KubeconfigError(
        `KUBECONFIG: not set, and ${SERVICE_ACCOUNT_TOKEN} does not exist (not running in a pod); with LAB_CLUSTER=kubernetes set KUBECONFIG to a kubeconfig file`,
      );
    }
    kubeConfig.loadFromCluster();
  } else {
    for (const file of kubeconfig.split(path.delimiter)) {
      const part = new KubeConfig();
      try {
        part.loadFromFile(file);
        // As kubectl does: the first file that names a current context decides it.
        kubeConfig.mergeConfig(part, Boolean(kubeConfig.getCurrentContext()));
      } catch (error) {
        throw new KubeconfigError(`KUBECONFIG: ${file}: ${(error as Error).message}`);
      }
    }
  }
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) {
    throw new KubeconfigError(
      `KUBECONFIG: ${kubeconfig}: the current context ${JSON.stringify(kubeConfig.getCurrentContext())} names no cluster; set current-context to one of ${kubeConfig.getContexts().map((c) => c.name).join(', ') || '(no contexts)'}`,
    );
  }
  if (!cluster.server) throw new KubeconfigError(`KUBECONFIG: ${kubeconfig}: cluster ${cluster.name} has no server address`);
  return kubeConfig;
}

/** Throws KubeconfigError naming the file and what is wrong. */
export function connectKubernetes(kubeconfig: string | null): LabCluster {
  const first = load(kubeconfig);
  const server = first.getCurrentCluster()?.server;
  return {
    mode: 'kubernetes',
    kubeconfigPath: kubeconfig,
    ready: true,
    state: 'ready',
    detail: `using ${server} (context ${first.getCurrentContext()})`,
    restarts: 0,
    whenReady: () => Promise.resolve(),
    loadKubeConfig: () => load(kubeconfig),
    stop: () => Promise.resolve(),
  };
}
