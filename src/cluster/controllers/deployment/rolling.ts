// The RollingUpdate strategy (pkg/controller/deployment/rolling.go): scale the new ReplicaSet up
// within maxSurge, then old ones down within maxUnavailable, unhealthy replicas first.
import type { KubeObject } from '../../types.ts';
import { statusOf } from '../../json.ts';
import { deploymentComplete } from './conditions.ts';
import { syncRolloutStatus } from './progress.ts';
import { activeReplicaSets, availableReplicaCount, byCreation, maxUnavailable, replicas, rsReplicas, specReplicaCount, statusCount } from './replica-sets.ts';
import type { DeploymentSync } from './sync.ts';

export function rolloutRolling(dc: DeploymentSync, rss: KubeObject[]): void {
  const oldRSs = dc.oldReplicaSets(rss);
  const newRS = dc.newReplicaSet(rss, oldRSs, true) as KubeObject;
  let all = [...oldRSs, newRS];
  // reconcileNewReplicaSet
  const want = replicas(dc.d);
  let scaledUp = false;
  if (rsReplicas(newRS) > want) scaledUp = dc.scaleAndRecord(newRS, want).scaled;
  else if (rsReplicas(newRS) < want) scaledUp = dc.scaleAndRecord(newRS, dc.newRSReplicas(all, newRS)).scaled;
  if (scaledUp) return syncRolloutStatus(dc, dc.refresh(all), dc.refreshOne(newRS));

  // reconcileOldReplicaSets
  const activeOld = activeReplicaSets(oldRSs);
  let scaledDown = 0;
  if (specReplicaCount(activeOld) > 0) {
    const allPods = specReplicaCount(all);
    const minAvailable = want - maxUnavailable(dc.d);
    const newUnavailable = rsReplicas(newRS) - statusCount(newRS, 'availableReplicas');
    const maxScaledDown = allPods - minAvailable - newUnavailable;
    if (maxScaledDown > 0) {
      const olds = [...activeOld].sort(byCreation);
      for (let i = 0; i < olds.length && scaledDown < maxScaledDown; i++) {
        const rs = olds[i] as KubeObject;
        const unhealthy = rsReplicas(rs) - statusCount(rs, 'availableReplicas');
        if (rsReplicas(rs) === 0 || unhealthy <= 0) continue;
        const count = Math.min(maxScaledDown - scaledDown, unhealthy);
        olds[i] = dc.scaleAndRecord(rs, rsReplicas(rs) - count).rs;
        scaledDown += count;
      }
      all = [...olds, newRS];
      const available = availableReplicaCount(all);
      if (available > minAvailable) {
        const total = available - minAvailable;
        let done = 0;
        for (const rs of olds) {
          if (done >= total) break;
          if (rsReplicas(rs) === 0) continue;
          const count = Math.min(rsReplicas(rs), total - done);
          dc.scaleAndRecord(rs, rsReplicas(rs) - count);
          done += count;
        }
        scaledDown += done;
      }
    }
  }
  if (scaledDown > 0) return syncRolloutStatus(dc, dc.refresh([...oldRSs, newRS]), dc.refreshOne(newRS));
  if (deploymentComplete(dc.d, statusOf(dc.d))) dc.cleanup(oldRSs);
  syncRolloutStatus(dc, dc.refresh([...oldRSs, newRS]), dc.refreshOne(newRS));
}
