// Where labs run: the embedded cluster (a supervised child process) or a real Kubernetes cluster.
// Either way the rest of the portal gets a LabCluster: a kubeconfig and whether it is ready.

import type { LabClusterConfig } from '../config.ts';
import type { Logger } from '../log.ts';
import { startEmbeddedCluster, type EmbeddedClusterOptions } from './embedded.ts';
import { findKubectl } from './kubectl.ts';
import { connectKubernetes } from './kubernetes.ts';
import type { LabCluster } from './types.ts';

export type { LabCluster } from './types.ts';
export { KubeconfigError } from './kubernetes.ts';
export { Supervisor } from './supervisor.ts';
export { startDedicatedClusters, type DedicatedClusters, type DedicatedClustersOptions } from './dedicated.ts';
export type { ChildCommand, SupervisorOptions, SupervisorState } from './supervisor.ts';

export interface LabClusterOptions {
  root: string;
  log: Logger;
  embedded?: Pick<EmbeddedClusterOptions, 'readyTimeoutMs' | 'backoff' | 'stopTimeoutMs' | 'command'>;
}

/** Starts (embedded) or checks (kubernetes) the lab cluster; does not wait for it to be ready. */
export function startLabCluster(config: LabClusterConfig, options: LabClusterOptions): LabCluster {
  const log = options.log.child({ component: 'cluster' });
  void findKubectl().then((kubectl) => {
    if (kubectl.found) log.debug({ kubectl: kubectl.version }, 'kubectl found');
    else log.warn(`kubectl: ${kubectl.reason}; labs need kubectl 1.27 or newer on PATH (lessons are served without it)`);
  });
  if (config.mode === 'kubernetes') {
    const cluster = connectKubernetes(config.kubeconfig);
    log.info(`lab cluster: ${cluster.detail}`);
    return cluster;
  }
  return startEmbeddedCluster({ ...options.embedded, dataDir: config.dataDir, root: options.root, log });
}
