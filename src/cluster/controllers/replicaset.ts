// The ReplicaSet controller (pkg/controller/replicaset): keeps spec.replicas active pods that
// carry its controller reference, creating them from the template with generateName
// "<rs>-" and deleting the least useful ones first; reports replicas, ready and available pods.
// ReplicationControllers run through the same code, as upstream's replication manager does.
import type { KubeObject } from '../types.ts';
import { claim } from './claim.ts';
import { type ControllerClient, errorMessage, type ResourceClient } from './client.ts';
import type { ControllerContext } from './context.ts';
import type { EventRecorder } from './events.ts';
import { num, obj, specOf, statusOf } from '../json.ts';
import { type Condition, controllerRef, copy, findCondition, isPodActive, isPodAvailable, isPodReady, msUntilAvailable, nodeNameOf, parseTime, podFromTemplate, podPhase, restartCount, type Selector, selectorOf, timestamp } from './objects.ts';
import { controllerOwnerKeys, objectKey, type ReconcileResult, RetryLater, type RunningController, splitKey, startController } from './runtime.ts';

/** Most pods one sync creates or deletes (burstReplicas). */
const BURST_REPLICAS = 500;

const phaseRank: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

function readySince(pod: KubeObject): number | undefined {
  const ready = findCondition(statusOf(pod), 'Ready');
  return ready?.status === 'True' ? parseTime(ready.lastTransitionTime) : undefined;
}

function deletionCost(pod: KubeObject): number {
  const raw = pod.metadata.annotations?.['controller.kubernetes.io/pod-deletion-cost'];
  const value = raw === undefined ? 0 : Number.parseInt(raw, 10);
  return Number.isFinite(value) ? value : 0;
}

/** LogarithmicScaleDown: times compare by the power of two of their age, then by nothing. */
function logBucket(since: number | undefined, now: number): number {
  if (since === undefined) return -1;
  const seconds = Math.max(1, Math.floor((now - since) / 1000));
  return Math.floor(Math.log2(seconds));
}

/**
 * controller.ActivePodsWithRanks: unassigned before assigned, Pending before Unknown before
 * Running, not ready before ready, lower deletion cost first, doubled-up first, ready for a
 * shorter time first, more restarts first, newer first.
 */
export function rankPodsForDeletion(pods: KubeObject[], related: KubeObject[], now: Date): KubeObject[] {
  const perNode = new Map<string, number>();
  for (const pod of related) {
    const node = nodeNameOf(pod);
    if (node && isPodActive(pod)) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const rank = (pod: KubeObject) => {
    const node = nodeNameOf(pod);
    return node ? (perNode.get(node) ?? 0) : 0;
  };
  const at = now.getTime();
  return [...pods].sort((a, b) => {
    const assignedA = nodeNameOf(a) !== '';
    const assignedB = nodeNameOf(b) !== '';
    if (assignedA !== assignedB) return assignedA ? 1 : -1;
    const phaseA = phaseRank[podPhase(a)] ?? 0;
    const phaseB = phaseRank[podPhase(b)] ?? 0;
    if (phaseA !== phaseB) return phaseA - phaseB;
    const readyA = isPodReady(a);
    const readyB = isPodReady(b);
    if (readyA !== readyB) return readyA ? 1 : -1;
    const costA = deletionCost(a);
    const costB = deletionCost(b);
    if (costA !== costB) return costA - costB;
    const rankA = rank(a);
    const rankB = rank(b);
    if (rankA !== rankB) return rankB - rankA;
    if (readyA && readyB) {
      const sinceA = logBucket(readySince(a), at);
      const sinceB = logBucket(readySince(b), at);
      if (sinceA !== sinceB) return sinceA - sinceB;
    }
    const restartsA = restartCount(a);
    const restartsB = restartCount(b);
    if (restartsA !== restartsB) return restartsB - restartsA;
    const createdA = logBucket(parseTime(a.metadata.creationTimestamp), at);
    const createdB = logBucket(parseTime(b.metadata.creationTimestamp), at);
    return createdA - createdB;
  });
}

export function replicasOf(object: KubeObject): number {
  return num(specOf(object).replicas) ?? 1;
}

function setReplicaFailure(status: Record<string, unknown>, condition: Condition | undefined, now: Date): void {
  const existing = findCondition(status, 'ReplicaFailure');
  const others = ((status.conditions as Condition[] | undefined) ?? []).filter((c) => c.type !== 'ReplicaFailure');
  if (!condition) {
    if (others.length) status.conditions = others;
    else delete status.conditions;
    return;
  }
  if (existing && existing.status === condition.status && existing.reason === condition.reason) return;
  status.conditions = [...others, { ...condition, lastTransitionTime: timestamp(now) }];
}

interface ManageResult {
  failure?: Condition;
}

async function manageReplicas(rs: KubeObject, active: KubeObject[], related: KubeObject[], client: ControllerClient, recorder: EventRecorder, now: Date): Promise<ManageResult> {
  const diff = active.length - replicasOf(rs);
  if (diff < 0) {
    const wanted = Math.min(-diff, BURST_REPLICAS);
    // slowStartBatch: 1, 2, 4, … so a systematic failure (quota) costs one attempt, not hundreds.
    let created = 0;
    let batch = 1;
    while (created < wanted) {
      const size = Math.min(batch, wanted - created);
      for (let i = 0; i < size; i++) {
        const pod = podFromTemplate(specOf(rs).template, rs, `${rs.metadata.name}-`);
        try {
          const createdPod = await client.pods.createAdmitted(rs.metadata.namespace, pod);
          recorder.event(rs, 'Normal', 'SuccessfulCreate', `Created pod: ${createdPod.metadata.name}`);
        } catch (error) {
          const message = errorMessage(error);
          recorder.event(rs, 'Warning', 'FailedCreate', `Error creating: ${message}`);
          return { failure: { type: 'ReplicaFailure', status: 'True', reason: 'FailedCreate', message } };
        }
      }
      created += size;
      batch *= 2;
    }
    return {};
  }
  if (diff > 0) {
    const victims = rankPodsForDeletion(active, related, now).slice(0, Math.min(diff, BURST_REPLICAS));
    for (const pod of victims) {
      try {
        const gone = client.pods.delete(pod.metadata.namespace, pod.metadata.name ?? '');
        if (gone) recorder.event(rs, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
      } catch (error) {
        const message = errorMessage(error);
        recorder.event(rs, 'Warning', 'FailedDelete', `Error deleting: ${message}`);
        return { failure: { type: 'ReplicaFailure', status: 'True', reason: 'FailedDelete', message } };
      }
    }
  }
  return {};
}

function labelsMatchTemplate(pod: KubeObject, rs: KubeObject): boolean {
  const wanted = (obj(obj(specOf(rs).template).metadata).labels ?? {}) as Record<string, string>;
  const labels = pod.metadata.labels ?? {};
  return Object.entries(wanted).every(([key, value]) => labels[key] === value);
}

/** Pods of every ReplicaSet that shares this one's owner (a Deployment's other revisions). */
function relatedPods(rs: KubeObject, pods: KubeObject[], sets: ResourceClient): KubeObject[] {
  const owner = controllerRef(rs);
  if (!owner) return pods.filter((pod) => controllerRef(pod)?.uid === rs.metadata.uid);
  const siblings = new Set(
    sets
      .list(rs.metadata.namespace)
      .filter((other) => controllerRef(other)?.uid === owner.uid)
      .map((other) => other.metadata.uid),
  );
  return pods.filter((pod) => siblings.has(controllerRef(pod)?.uid));
}

/**
 * What the controller manages: ReplicaSets, or ReplicationControllers, which upstream's
 * replication manager runs through the same code with a map selector.
 */
interface ReplicatedKind {
  controller: string;
  group: string;
  resource: string;
  kind: string;
  selector(object: KubeObject): Selector;
}

const replicaSetKind: ReplicatedKind = { controller: 'replicaset-controller', group: 'apps', resource: 'replicasets', kind: 'ReplicaSet', selector: (rs) => selectorOf(specOf(rs).selector) };

export const replicationControllerKind: ReplicatedKind = {
  controller: 'replication-controller',
  group: '',
  resource: 'replicationcontrollers',
  kind: 'ReplicationController',
  selector: (rc) => selectorOf({ matchLabels: specOf(rc).selector }),
};

export function startReplicaSetController(ctx: ControllerContext, replicated: ReplicatedKind = replicaSetKind): RunningController {
  const client = ctx.clientFor(replicated.controller);
  const recorder = ctx.recorderFor(replicated.controller);
  const sets = client.resource(replicated.group, 'v1', replicated.resource);

  const reconcile = async (key: string): Promise<ReconcileResult | void> => {
    const { namespace, name } = splitKey(key);
    const rs = sets.get(namespace, name);
    if (!rs) return;
    const now = ctx.clock.now();
    const selector = replicated.selector(rs);
    const pods = client.pods.list(namespace);
    const owned = claim({ owner: rs, selector, candidates: pods, client: client.pods, adoptable: isPodActive });
    const active = owned.filter(isPodActive);
    let manage: ManageResult = {};
    if (!rs.metadata.deletionTimestamp) manage = await manageReplicas(rs, active, relatedPods(rs, pods, sets), client, recorder, now);

    const minReadySeconds = num(specOf(rs).minReadySeconds) ?? 0;
    const current = client.pods.list(namespace).filter((pod) => controllerRef(pod)?.uid === rs.metadata.uid && isPodActive(pod));
    const ready = current.filter(isPodReady);
    const available = current.filter((pod) => isPodAvailable(pod, minReadySeconds, now));
    const status = copy(statusOf(rs));
    const next: Record<string, unknown> = { ...status };
    next.replicas = current.length;
    next.fullyLabeledReplicas = current.filter((pod) => labelsMatchTemplate(pod, rs)).length;
    next.readyReplicas = ready.length;
    next.availableReplicas = available.length;
    next.observedGeneration = rs.metadata.generation ?? 1;
    for (const field of ['fullyLabeledReplicas', 'readyReplicas', 'availableReplicas'] as const) if (next[field] === 0) delete next[field];
    setReplicaFailure(next, manage.failure, now);
    if (JSON.stringify(next) !== JSON.stringify(status)) {
      sets.mutate(namespace, name, (draft) => {
        draft.status = next;
      }, 'status');
    }
    if (manage.failure) throw new RetryLater(manage.failure.message);
    if (minReadySeconds > 0 && available.length < ready.length) {
      const wait = Math.min(...ready.filter((pod) => !available.includes(pod)).map((pod) => msUntilAvailable(pod, minReadySeconds, now)));
      return { requeueAfterMs: Math.max(1, wait) };
    }
  };

  const ownerOfPod = controllerOwnerKeys(replicated.kind);
  return startController(ctx.registry, {
    name: replicated.controller,
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError(replicated.controller, key, error),
    sources: [
      { group: replicated.group, version: 'v1', resource: replicated.resource },
      {
        group: '',
        version: 'v1',
        resource: 'pods',
        keys: (pod) => {
          const owners = ownerOfPod(pod);
          if (owners.length || controllerRef(pod) || pod.metadata.deletionTimestamp) return owners;
          // An orphan: every ReplicaSet whose selector matches may adopt it.
          return sets
            .list(pod.metadata.namespace)
            .filter((rs) => replicated.selector(rs).matches(pod.metadata.labels))
            .map(objectKey);
        },
      },
    ],
    reconcile,
  });
}
