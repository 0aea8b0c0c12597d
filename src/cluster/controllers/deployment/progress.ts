// A rollout's progress (pkg/controller/deployment/progress.go): the Progressing condition against
// spec.progressDeadlineSeconds, ReplicaFailure from the ReplicaSets, and a requeue for when the
// deadline would pass.
import type { KubeObject } from '../../types.ts';
import { type Json, num, specOf, statusOf } from '../../json.ts';
import { parseTime } from '../objects.ts';
import { conditionOf, deploymentComplete, deploymentProgressing, deploymentTimedOut, newCondition, reasons, removeDeploymentCondition, setDeploymentCondition } from './conditions.ts';
import { hasProgressDeadline } from './replica-sets.ts';
import type { DeploymentSync } from './sync.ts';

/** syncRolloutStatus: conditions that track progress against the deadline. */
export function syncRolloutStatus(dc: DeploymentSync, allRSs: KubeObject[], newRS: KubeObject | undefined): void {
  const status = dc.calculateStatus(allRSs, newRS);
  if (!hasProgressDeadline(dc.d)) removeDeploymentCondition(status, 'Progressing');
  const current = conditionOf(status, 'Progressing');
  const complete = (num(status.replicas) ?? 0) === (num(status.updatedReplicas) ?? 0) && current?.reason === reasons.newRSAvailable;
  if (hasProgressDeadline(dc.d) && !complete) {
    const rsName = newRS?.metadata.name;
    if (deploymentComplete(dc.d, status)) {
      const message = rsName ? `ReplicaSet "${rsName}" has successfully progressed.` : `Deployment "${dc.d.metadata.name}" has successfully progressed.`;
      setDeploymentCondition(status, newCondition('Progressing', 'True', reasons.newRSAvailable, message, dc.nowStamp));
    } else if (deploymentProgressing(dc.d, status)) {
      const message = rsName ? `ReplicaSet "${rsName}" is progressing.` : `Deployment "${dc.d.metadata.name}" is progressing.`;
      const condition = newCondition('Progressing', 'True', reasons.rsUpdated, message, dc.nowStamp);
      if (current) {
        if (current.status === 'True') condition.lastTransitionTime = current.lastTransitionTime;
        removeDeploymentCondition(status, 'Progressing');
      }
      setDeploymentCondition(status, condition);
    } else if (deploymentTimedOut(dc.d, status, dc.now.getTime())) {
      const message = rsName ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${dc.d.metadata.name}" has timed out progressing.`;
      setDeploymentCondition(status, newCondition('Progressing', 'False', reasons.timedOut, message, dc.nowStamp));
    }
  }
  const failure = [newRS, ...allRSs].map((rs) => (rs ? conditionOf(statusOf(rs), 'ReplicaFailure') : undefined)).find((c) => c?.status === 'True');
  if (failure) setDeploymentCondition(status, { type: 'ReplicaFailure', status: 'True', reason: failure.reason, message: failure.message, lastUpdateTime: dc.nowStamp, lastTransitionTime: failure.lastTransitionTime ?? dc.nowStamp });
  else removeDeploymentCondition(status, 'ReplicaFailure');
  dc.flush(status);
  requeueStuckDeployment(dc, status);
}

/** requeueStuckDeployment: look again when the progress deadline would pass. */
function requeueStuckDeployment(dc: DeploymentSync, status: Json): void {
  const condition = conditionOf(status, 'Progressing');
  if (!hasProgressDeadline(dc.d) || !condition || condition.status !== 'True') return;
  if (condition.reason === reasons.newRSAvailable || deploymentComplete(dc.d, status)) return;
  const from = parseTime(condition.lastUpdateTime) ?? dc.now.getTime();
  const after = from + (num(specOf(dc.d).progressDeadlineSeconds) ?? 600) * 1000 - dc.now.getTime();
  dc.requeueAfterMs = after < 1000 ? 1 : after + 1000;
}
