// The Recreate strategy (pkg/controller/deployment/recreate.go): scale every old ReplicaSet to
// zero, wait until their pods are gone, then scale the new ReplicaSet up.
import type { KubeObject } from '../../types.ts';
import { statusOf } from '../../json.ts';
import { controllerRef, podPhase } from '../objects.ts';
import { deploymentComplete } from './conditions.ts';
import { syncRolloutStatus } from './progress.ts';
import { activeReplicaSets, actualReplicaCount, replicas } from './replica-sets.ts';
import type { DeploymentSync } from './sync.ts';

export function rolloutRecreate(dc: DeploymentSync, rss: KubeObject[]): void {
  let oldRSs = dc.oldReplicaSets(rss);
  let newRS = dc.newReplicaSet(rss, oldRSs, false);
  let scaled = false;
  for (const rs of activeReplicaSets(oldRSs)) if (dc.scaleAndRecord(rs, 0).scaled) scaled = true;
  if (scaled) return syncRolloutStatus(dc, dc.refresh([...oldRSs, ...(newRS ? [newRS] : [])]), newRS && dc.refreshOne(newRS));
  if (oldPodsRunning(dc, newRS, oldRSs)) return syncRolloutStatus(dc, [...oldRSs, ...(newRS ? [newRS] : [])], newRS);
  if (!newRS) {
    const refreshed = dc.replicaSetsOf();
    oldRSs = dc.oldReplicaSets(refreshed);
    newRS = dc.newReplicaSet(refreshed, oldRSs, true) as KubeObject;
  }
  dc.scaleAndRecord(newRS, replicas(dc.d));
  if (deploymentComplete(dc.d, statusOf(dc.d))) dc.cleanup(oldRSs);
  syncRolloutStatus(dc, dc.refresh([...oldRSs, newRS]), dc.refreshOne(newRS));
}

function oldPodsRunning(dc: DeploymentSync, newRS: KubeObject | undefined, oldRSs: KubeObject[]): boolean {
  if (actualReplicaCount(oldRSs) > 0) return true;
  const owners = new Set(oldRSs.map((rs) => rs.metadata.uid));
  return dc.client.pods
    .list(dc.d.metadata.namespace)
    .some((pod) => {
      const owner = controllerRef(pod)?.uid;
      if (!owner || !owners.has(owner) || owner === newRS?.metadata.uid) return false;
      const phase = podPhase(pod);
      return phase !== 'Failed' && phase !== 'Succeeded';
    });
}
