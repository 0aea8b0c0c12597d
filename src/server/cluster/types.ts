import type { KubeConfig } from '@kubernetes/client-node';

/** Where labs run, as the rest of the portal sees it: a kubeconfig and whether it can be used yet. */
export interface LabCluster {
  readonly mode: 'embedded' | 'kubernetes';
  /** The kubeconfig file; null when the portal uses its pod's service account. */
  readonly kubeconfigPath: string | null;
  readonly ready: boolean;
  /** `waiting`: the embedded cluster died and is about to be started again. */
  readonly state: 'starting' | 'ready' | 'waiting' | 'stopped';
  /** Why it is (not) ready, for /api/ready and logs. */
  readonly detail: string;
  /** How often the embedded cluster was started again after dying. */
  readonly restarts: number;
  /** Resolves the next time the cluster is ready (now, if it is). */
  whenReady(): Promise<void>;
  /** A fresh KubeConfig; read again on every call because an embedded cluster may have restarted. */
  loadKubeConfig(): KubeConfig;
  stop(): Promise<void>;
}
