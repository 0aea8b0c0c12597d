// The Deployment's conditions (deploymentutil.SetDeploymentCondition: a changed condition is
// replaced at the end of the list) with upstream's reasons, and the tests progress.go makes of a
// status: complete, progressing, timed out.
import type { KubeObject } from '../../types.ts';
import { type Json, num, specOf, statusOf } from '../../json.ts';
import { type Condition, parseTime } from '../objects.ts';
import { hasProgressDeadline, replicas } from './replica-sets.ts';

export const reasons = {
  newReplicaSet: 'NewReplicaSetCreated',
  foundNewRS: 'FoundNewReplicaSet',
  newRSAvailable: 'NewReplicaSetAvailable',
  timedOut: 'ProgressDeadlineExceeded',
  paused: 'DeploymentPaused',
  resumed: 'DeploymentResumed',
  failedRSCreate: 'ReplicaSetCreateError',
  rsUpdated: 'ReplicaSetUpdated',
  minimumAvailable: 'MinimumReplicasAvailable',
  minimumUnavailable: 'MinimumReplicasUnavailable',
};

export function newCondition(type: string, status: Condition['status'], reason: string, message: string, now: string): Condition {
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

export function conditionOf(status: Json, type: string): Condition | undefined {
  return (Array.isArray(status.conditions) ? (status.conditions as Condition[]) : []).find((c) => c.type === type);
}

export function setDeploymentCondition(status: Json, condition: Condition): void {
  const current = conditionOf(status, condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  if (current && current.status === condition.status) condition.lastTransitionTime = current.lastTransitionTime;
  const others = (Array.isArray(status.conditions) ? (status.conditions as Condition[]) : []).filter((c) => c.type !== condition.type);
  status.conditions = [...others, condition];
}

export function removeDeploymentCondition(status: Json, type: string): void {
  const others = (Array.isArray(status.conditions) ? (status.conditions as Condition[]) : []).filter((c) => c.type !== type);
  if (others.length) status.conditions = others;
  else delete status.conditions;
}

export function deploymentComplete(d: KubeObject, status: Json): boolean {
  const want = replicas(d);
  return (
    (num(status.updatedReplicas) ?? 0) === want &&
    (num(status.replicas) ?? 0) === want &&
    (num(status.availableReplicas) ?? 0) === want &&
    (num(status.observedGeneration) ?? 0) >= (d.metadata.generation ?? 1)
  );
}

export function deploymentProgressing(d: KubeObject, status: Json): boolean {
  const old = statusOf(d);
  const oldOld = (num(old.replicas) ?? 0) - (num(old.updatedReplicas) ?? 0);
  const newOld = (num(status.replicas) ?? 0) - (num(status.updatedReplicas) ?? 0);
  return (
    (num(status.updatedReplicas) ?? 0) > (num(old.updatedReplicas) ?? 0) ||
    newOld < oldOld ||
    (num(status.readyReplicas) ?? 0) > (num(old.readyReplicas) ?? 0) ||
    (num(status.availableReplicas) ?? 0) > (num(old.availableReplicas) ?? 0)
  );
}

export function deploymentTimedOut(d: KubeObject, status: Json, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const condition = conditionOf(status, 'Progressing');
  if (!condition) return false;
  if (condition.reason === reasons.newRSAvailable) return false;
  if (condition.reason === reasons.timedOut) return true;
  const from = parseTime(condition.lastUpdateTime);
  return from !== undefined && from + (num(specOf(d).progressDeadlineSeconds) ?? 600) * 1000 < now;
}
