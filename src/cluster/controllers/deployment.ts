// The Deployment controller (pkg/controller/deployment): one ReplicaSet per pod template, named
// "<deployment>-<pod-template-hash>", with revision annotations that `kubectl rollout history`
// and `undo` read; RollingUpdate within maxSurge/maxUnavailable, Recreate, proportional scaling,
// pause, progress deadlines, history cleanup, and the Available/Progressing conditions with
// upstream's reasons and messages.
import type { KubeObject } from '../types.ts';
import { claim } from './claim.ts';
import { type ControllerClient, errorMessage, isAlreadyExists } from './client.ts';
import type { ControllerContext } from './context.ts';
import type { EventRecorder } from './events.ts';
import { canonicalJson, computeHash } from './hash.ts';
import { type Condition, controllerRef, copy, isJson, type Json, newControllerRef, num, obj, parseTime, podPhase, selectorOf, specOf, statusOf, timestamp } from './objects.ts';
import { objectKey, type ReconcileResult, type RunningController, splitKey, startController } from './runtime.ts';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
const MAX_REVISION_HISTORY_CHARS = 2000;

const skippedAnnotations = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  'deprecated.deployment.rollback.to',
]);

const reasons = {
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

// ---- numbers from the spec -------------------------------------------------------------------

function replicas(object: KubeObject): number {
  return num(specOf(object).replicas) ?? 1;
}

/** intstr.GetScaledValueFromIntOrPercent */
export function scaledValue(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const match = /^(\d+)%$/.exec(value);
    if (match) {
      const scaled = (Number(match[1]) * total) / 100;
      return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
    }
    const parsed = Number.parseInt(value, 10);
    if (Number.isFinite(parsed)) return parsed;
  }
  return 0;
}

function strategyOf(d: KubeObject): Json {
  return obj(specOf(d).strategy);
}

function isRollingUpdate(d: KubeObject): boolean {
  return strategyOf(d).type !== 'Recreate';
}

/** ResolveFenceposts: surge rounds up, unavailable down; both zero means one unavailable. */
export function resolveFenceposts(d: KubeObject): { surge: number; unavailable: number } {
  const rolling = obj(strategyOf(d).rollingUpdate);
  const desired = replicas(d);
  const surge = scaledValue(rolling.maxSurge ?? '25%', desired, true);
  let unavailable = scaledValue(rolling.maxUnavailable ?? '25%', desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxUnavailable(d: KubeObject): number {
  if (!isRollingUpdate(d) || replicas(d) === 0) return 0;
  return Math.min(resolveFenceposts(d).unavailable, replicas(d));
}

export function maxSurge(d: KubeObject): number {
  if (!isRollingUpdate(d)) return 0;
  return resolveFenceposts(d).surge;
}

function hasProgressDeadline(d: KubeObject): boolean {
  const seconds = num(specOf(d).progressDeadlineSeconds);
  return seconds !== undefined && seconds !== 2147483647;
}

// ---- replica sets --------------------------------------------------------------------------

function rsReplicas(rs: KubeObject): number {
  return num(specOf(rs).replicas) ?? 1;
}

function statusCount(rs: KubeObject, field: string): number {
  return num(statusOf(rs)[field]) ?? 0;
}

function revisionOf(rs: KubeObject): number {
  const value = Number.parseInt(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? '', 10);
  return Number.isFinite(value) ? value : 0;
}

function byCreation(a: KubeObject, b: KubeObject): number {
  const ta = parseTime(a.metadata.creationTimestamp) ?? 0;
  const tb = parseTime(b.metadata.creationTimestamp) ?? 0;
  return ta !== tb ? ta - tb : (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

function templateWithoutHash(template: unknown): string {
  const t = copy(obj(template));
  const meta = { ...obj(t.metadata) };
  const labels = { ...(obj(meta.labels) as Record<string, string>) };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  if (Object.keys(labels).length) meta.labels = labels;
  else delete meta.labels;
  // Upstream compares Go structs, where `creationTimestamp: null` (which kubectl rollout undo
  // sends) is the zero time, the same as no timestamp; otherwise an undo builds a new ReplicaSet.
  if (meta.creationTimestamp === null) delete meta.creationTimestamp;
  t.metadata = meta;
  return canonicalJson(t);
}

/** EqualIgnoreHash: the templates are the same apart from the pod-template-hash label. */
export function equalIgnoreHash(a: unknown, b: unknown): boolean {
  return templateWithoutHash(a) === templateWithoutHash(b);
}

function sumOf(rss: KubeObject[], count: (rs: KubeObject) => number): number {
  return rss.reduce((total, rs) => total + count(rs), 0);
}

const specReplicaCount = (rss: KubeObject[]) => sumOf(rss, rsReplicas);
const actualReplicaCount = (rss: KubeObject[]) => sumOf(rss, (rs) => statusCount(rs, 'replicas'));
const readyReplicaCount = (rss: KubeObject[]) => sumOf(rss, (rs) => statusCount(rs, 'readyReplicas'));
const availableReplicaCount = (rss: KubeObject[]) => sumOf(rss, (rs) => statusCount(rs, 'availableReplicas'));
const activeReplicaSets = (rss: KubeObject[]) => rss.filter((rs) => rsReplicas(rs) > 0);

function desiredAnnotation(rs: KubeObject): number | undefined {
  const value = Number.parseInt(rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION] ?? '', 10);
  return Number.isFinite(value) ? value : undefined;
}

function maxReplicasAnnotation(rs: KubeObject): number | undefined {
  const value = Number.parseInt(rs.metadata.annotations?.[MAX_REPLICAS_ANNOTATION] ?? '', 10);
  return Number.isFinite(value) ? value : undefined;
}

// ---- conditions (deploymentutil.SetDeploymentCondition: replaced at the end of the list) -----

function newCondition(type: string, status: Condition['status'], reason: string, message: string, now: string): Condition {
  return { type, status, lastUpdateTime: now, lastTransitionTime: now, reason, message };
}

function conditionOf(status: Json, type: string): Condition | undefined {
  return (Array.isArray(status.conditions) ? (status.conditions as Condition[]) : []).find((c) => c.type === type);
}

function setDeploymentCondition(status: Json, condition: Condition): void {
  const current = conditionOf(status, condition.type);
  if (current && current.status === condition.status && current.reason === condition.reason) return;
  if (current && current.status === condition.status) condition.lastTransitionTime = current.lastTransitionTime;
  const others = (Array.isArray(status.conditions) ? (status.conditions as Condition[]) : []).filter((c) => c.type !== condition.type);
  status.conditions = [...others, condition];
}

function removeDeploymentCondition(status: Json, type: string): void {
  const others = (Array.isArray(status.conditions) ? (status.conditions as Condition[]) : []).filter((c) => c.type !== type);
  if (others.length) status.conditions = others;
  else delete status.conditions;
}

function deploymentComplete(d: KubeObject, status: Json): boolean {
  const want = replicas(d);
  return (
    (num(status.updatedReplicas) ?? 0) === want &&
    (num(status.replicas) ?? 0) === want &&
    (num(status.availableReplicas) ?? 0) === want &&
    (num(status.observedGeneration) ?? 0) >= (d.metadata.generation ?? 1)
  );
}

function deploymentProgressing(d: KubeObject, status: Json): boolean {
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

function deploymentTimedOut(d: KubeObject, status: Json, now: number): boolean {
  if (!hasProgressDeadline(d)) return false;
  const condition = conditionOf(status, 'Progressing');
  if (!condition) return false;
  if (condition.reason === reasons.newRSAvailable) return false;
  if (condition.reason === reasons.timedOut) return true;
  const from = parseTime(condition.lastUpdateTime);
  return from !== undefined && from + (num(specOf(d).progressDeadlineSeconds) ?? 600) * 1000 < now;
}

/** Zero counts are omitted on the wire (omitempty). */
function pruneStatus(status: Json): Json {
  for (const field of ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'terminatingReplicas'])
    if (status[field] === 0) delete status[field];
  return status;
}

// ---- the controller ----------------------------------------------------------------------------

class DeploymentSync {
  d: KubeObject;
  readonly client: ControllerClient;
  readonly recorder: EventRecorder;
  readonly now: Date;
  /** status written by getNewReplicaSet along the way (conditions, collisionCount) */
  status: Json;
  annotationsChanged = false;
  statusChanged = false;
  requeueAfterMs: number | undefined;

  constructor(d: KubeObject, client: ControllerClient, recorder: EventRecorder, now: Date) {
    this.d = d;
    this.client = client;
    this.recorder = recorder;
    this.now = now;
    this.status = copy(statusOf(d));
  }

  get nowStamp(): string {
    return timestamp(this.now);
  }

  /**
   * Writes the revision annotation and the status through the status subresource, as upstream's
   * controller does (UpdateStatus): annotations are not spec, so generation stays put.
   */
  flush(status?: Json): void {
    const name = this.d.metadata.name ?? '';
    const namespace = this.d.metadata.namespace;
    const revision = this.annotationsChanged ? this.d.metadata.annotations?.[REVISION_ANNOTATION] : undefined;
    const next = status ?? this.status;
    if (revision !== undefined || this.statusChanged || JSON.stringify(pruneStatus(copy(next))) !== JSON.stringify(statusOf(this.d))) {
      const written = pruneStatus(copy(next));
      const updated = this.client.deployments.mutate(namespace, name, (draft) => {
        const annotate = revision !== undefined && draft.metadata.annotations?.[REVISION_ANNOTATION] !== revision;
        if (!annotate && JSON.stringify(statusOf(draft)) === JSON.stringify(written)) return false;
        if (annotate) draft.metadata.annotations = { ...(draft.metadata.annotations ?? {}), [REVISION_ANNOTATION]: revision };
        draft.status = written;
      }, 'status');
      if (updated) this.d = updated;
    }
    this.annotationsChanged = false;
    this.statusChanged = false;
  }

  setRevision(revision: string): void {
    if (this.d.metadata.annotations?.[REVISION_ANNOTATION] === revision) return;
    this.d = copy(this.d);
    this.d.metadata.annotations = { ...(this.d.metadata.annotations ?? {}), [REVISION_ANNOTATION]: revision };
    this.annotationsChanged = true;
  }

  replicaSetsOf(): KubeObject[] {
    const namespace = this.d.metadata.namespace;
    return claim({
      owner: this.d,
      selector: selectorOf(specOf(this.d).selector),
      candidates: this.client.replicaSets.list(namespace),
      client: this.client.replicaSets,
    });
  }

  /** SetNewReplicaSetAnnotations; returns whether anything changed. */
  setNewReplicaSetAnnotations(rs: KubeObject, newRevision: string, exists: boolean): boolean {
    const annotations = { ...(rs.metadata.annotations ?? {}) };
    let changed = false;
    for (const [key, value] of Object.entries(this.d.metadata.annotations ?? {})) {
      if (skippedAnnotations.has(key) || annotations[key] === value) continue;
      annotations[key] = value;
      changed = true;
    }
    const oldRevision = annotations[REVISION_ANNOTATION];
    const oldRevisionNumber = oldRevision === undefined ? 0 : Number.parseInt(oldRevision, 10) || 0;
    const newRevisionNumber = Number.parseInt(newRevision, 10);
    if (oldRevisionNumber < newRevisionNumber) {
      annotations[REVISION_ANNOTATION] = newRevision;
      changed = true;
    }
    if (oldRevision !== undefined && oldRevisionNumber < newRevisionNumber) {
      const history = annotations[REVISION_HISTORY_ANNOTATION] ?? '';
      const previous = history === '' ? [] : history.split(',');
      if (previous.length === 0) annotations[REVISION_HISTORY_ANNOTATION] = oldRevision;
      else {
        let total = history.length + oldRevision.length + 1;
        let start = 0;
        while (total > MAX_REVISION_HISTORY_CHARS && start < previous.length) {
          total -= (previous[start] as string).length + 1;
          start++;
        }
        if (total <= MAX_REVISION_HISTORY_CHARS) annotations[REVISION_HISTORY_ANNOTATION] = [...previous.slice(start), oldRevision].join(',');
      }
    }
    if (!exists) {
      annotations[DESIRED_REPLICAS_ANNOTATION] = String(replicas(this.d));
      annotations[MAX_REPLICAS_ANNOTATION] = String(replicas(this.d) + maxSurge(this.d));
      changed = true;
    }
    rs.metadata.annotations = annotations;
    return changed;
  }

  /** getNewReplicaSet: finds (and re-annotates) or creates the ReplicaSet of the current template. */
  newReplicaSet(rss: KubeObject[], oldRSs: KubeObject[], create: boolean): KubeObject | undefined {
    const template = specOf(this.d).template;
    const existing = [...rss].sort(byCreation).find((rs) => equalIgnoreHash(specOf(rs).template, template));
    const newRevision = String(Math.max(0, ...oldRSs.map(revisionOf)) + 1);
    const minReadySeconds = num(specOf(this.d).minReadySeconds) ?? 0;
    if (existing) {
      const rsCopy = copy(existing);
      const annotationsUpdated = this.setNewReplicaSetAnnotations(rsCopy, newRevision, true);
      const minReadyChanged = (num(specOf(rsCopy).minReadySeconds) ?? 0) !== minReadySeconds;
      if (annotationsUpdated || minReadyChanged) {
        rsCopy.spec = { ...specOf(rsCopy), minReadySeconds };
        if (minReadySeconds === 0) delete (rsCopy.spec as Json).minReadySeconds;
        return this.client.replicaSets.update(rsCopy);
      }
      this.setRevision(rsCopy.metadata.annotations?.[REVISION_ANNOTATION] ?? newRevision);
      if (hasProgressDeadline(this.d) && !conditionOf(this.status, 'Progressing')) {
        setDeploymentCondition(this.status, newCondition('Progressing', 'True', reasons.foundNewRS, `Found new replica set "${rsCopy.metadata.name}"`, this.nowStamp));
        this.statusChanged = true;
      }
      if (this.annotationsChanged || this.statusChanged) this.flush();
      return rsCopy;
    }
    if (!create) return undefined;

    const collisionCount = num(statusOf(this.d).collisionCount);
    const hash = computeHash(template, collisionCount);
    const tpl = copy(obj(template));
    const tplMeta = obj(tpl.metadata);
    const labels = { ...(obj(tplMeta.labels) as Record<string, string>), [POD_TEMPLATE_HASH_LABEL]: hash };
    tpl.metadata = { ...tplMeta, labels };
    const selector = copy(obj(specOf(this.d).selector));
    selector.matchLabels = { ...(obj(selector.matchLabels) as Record<string, string>), [POD_TEMPLATE_HASH_LABEL]: hash };
    const name = `${this.d.metadata.name}-${hash}`;
    const rs: KubeObject = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name, namespace: this.d.metadata.namespace, labels, ownerReferences: [newControllerRef(this.d)] },
      spec: { replicas: 0, ...(minReadySeconds ? { minReadySeconds } : {}), selector, template: tpl },
    };
    const count = this.newRSReplicas([...oldRSs, rs], rs);
    (rs.spec as Json).replicas = count;
    this.setNewReplicaSetAnnotations(rs, newRevision, false);
    let created: KubeObject;
    let alreadyExisted = false;
    try {
      created = this.client.replicaSets.create(this.d.metadata.namespace, rs);
    } catch (error) {
      if (isAlreadyExists(error)) {
        const found = this.client.replicaSets.get(this.d.metadata.namespace, name);
        if (found && controllerRef(found)?.uid === this.d.metadata.uid && equalIgnoreHash(specOf(found).template, template)) {
          created = found;
          alreadyExisted = true;
        } else {
          this.status.collisionCount = (collisionCount ?? 0) + 1;
          this.statusChanged = true;
          this.flush();
          throw error;
        }
      } else {
        const message = `Failed to create new replica set "${name}": ${errorMessage(error)}`;
        if (hasProgressDeadline(this.d)) {
          setDeploymentCondition(this.status, newCondition('Progressing', 'False', reasons.failedRSCreate, message, this.nowStamp));
          this.statusChanged = true;
          this.flush();
        }
        this.recorder.event(this.d, 'Warning', reasons.failedRSCreate, message);
        throw error;
      }
    }
    if (!alreadyExisted && count > 0) this.recorder.event(this.d, 'Normal', 'ScalingReplicaSet', `Scaled up replica set ${created.metadata.name} from 0 to ${count}`);
    this.setRevision(newRevision);
    if (!alreadyExisted && hasProgressDeadline(this.d)) {
      setDeploymentCondition(this.status, newCondition('Progressing', 'True', reasons.newReplicaSet, `Created new replica set "${created.metadata.name}"`, this.nowStamp));
      this.statusChanged = true;
    }
    this.flush();
    return created;
  }

  /** NewRSNewReplicas */
  newRSReplicas(allRSs: KubeObject[], newRS: KubeObject): number {
    if (!isRollingUpdate(this.d)) return replicas(this.d);
    const surge = scaledValue(obj(strategyOf(this.d).rollingUpdate).maxSurge ?? '25%', replicas(this.d), true);
    const current = specReplicaCount(allRSs);
    const maxTotal = replicas(this.d) + surge;
    if (current >= maxTotal) return rsReplicas(newRS);
    const up = Math.min(maxTotal - current, replicas(this.d) - rsReplicas(newRS));
    return rsReplicas(newRS) + up;
  }

  /** scaleReplicaSet: writes replicas and the desired/max annotations, with a ScalingReplicaSet event. */
  scaleReplicaSet(rs: KubeObject, newScale: number, operation?: 'up' | 'down'): { scaled: boolean; rs: KubeObject } {
    const desired = String(replicas(this.d));
    const max = String(replicas(this.d) + maxSurge(this.d));
    const sizeChanged = rsReplicas(rs) !== newScale;
    const annotationsChanged = rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION] !== desired || rs.metadata.annotations?.[MAX_REPLICAS_ANNOTATION] !== max;
    if (!sizeChanged && !annotationsChanged) return { scaled: false, rs };
    const oldScale = rsReplicas(rs);
    const rsCopy = copy(rs);
    rsCopy.spec = { ...specOf(rsCopy), replicas: newScale };
    rsCopy.metadata.annotations = { ...(rsCopy.metadata.annotations ?? {}), [DESIRED_REPLICAS_ANNOTATION]: desired, [MAX_REPLICAS_ANNOTATION]: max };
    const updated = this.client.replicaSets.update(rsCopy);
    if (sizeChanged) {
      const direction = operation ?? (oldScale < newScale ? 'up' : 'down');
      this.recorder.event(this.d, 'Normal', 'ScalingReplicaSet', `Scaled ${direction} replica set ${updated.metadata.name} from ${oldScale} to ${newScale}`);
    }
    return { scaled: sizeChanged, rs: updated };
  }

  scaleAndRecord(rs: KubeObject, newScale: number): { scaled: boolean; rs: KubeObject } {
    if (rsReplicas(rs) === newScale) return { scaled: false, rs };
    return this.scaleReplicaSet(rs, newScale);
  }

  /** calculateStatus */
  calculateStatus(allRSs: KubeObject[], newRS: KubeObject | undefined): Json {
    const available = availableReplicaCount(allRSs);
    const total = specReplicaCount(allRSs);
    const status: Json = copy(this.status);
    status.observedGeneration = this.d.metadata.generation ?? 1;
    status.replicas = actualReplicaCount(allRSs);
    status.updatedReplicas = newRS ? actualReplicaCount([newRS]) : 0;
    status.readyReplicas = readyReplicaCount(allRSs);
    status.availableReplicas = available;
    status.unavailableReplicas = Math.max(0, total - available);
    if (available >= replicas(this.d) - maxUnavailable(this.d))
      setDeploymentCondition(status, newCondition('Available', 'True', reasons.minimumAvailable, 'Deployment has minimum availability.', this.nowStamp));
    else setDeploymentCondition(status, newCondition('Available', 'False', reasons.minimumUnavailable, 'Deployment does not have minimum availability.', this.nowStamp));
    return status;
  }

  syncDeploymentStatus(allRSs: KubeObject[], newRS: KubeObject | undefined): void {
    this.flush(this.calculateStatus(allRSs, newRS));
  }

  /** syncRolloutStatus: conditions that track progress against the deadline. */
  syncRolloutStatus(allRSs: KubeObject[], newRS: KubeObject | undefined): void {
    const status = this.calculateStatus(allRSs, newRS);
    if (!hasProgressDeadline(this.d)) removeDeploymentCondition(status, 'Progressing');
    const current = conditionOf(status, 'Progressing');
    const complete = (num(status.replicas) ?? 0) === (num(status.updatedReplicas) ?? 0) && current?.reason === reasons.newRSAvailable;
    if (hasProgressDeadline(this.d) && !complete) {
      const rsName = newRS?.metadata.name;
      if (deploymentComplete(this.d, status)) {
        const message = rsName ? `ReplicaSet "${rsName}" has successfully progressed.` : `Deployment "${this.d.metadata.name}" has successfully progressed.`;
        setDeploymentCondition(status, newCondition('Progressing', 'True', reasons.newRSAvailable, message, this.nowStamp));
      } else if (deploymentProgressing(this.d, status)) {
        const message = rsName ? `ReplicaSet "${rsName}" is progressing.` : `Deployment "${this.d.metadata.name}" is progressing.`;
        const condition = newCondition('Progressing', 'True', reasons.rsUpdated, message, this.nowStamp);
        if (current) {
          if (current.status === 'True') condition.lastTransitionTime = current.lastTransitionTime;
          removeDeploymentCondition(status, 'Progressing');
        }
        setDeploymentCondition(status, condition);
      } else if (deploymentTimedOut(this.d, status, this.now.getTime())) {
        const message = rsName ? `ReplicaSet "${rsName}" has timed out progressing.` : `Deployment "${this.d.metadata.name}" has timed out progressing.`;
        setDeploymentCondition(status, newCondition('Progressing', 'False', reasons.timedOut, message, this.nowStamp));
      }
    }
    const failure = [newRS, ...allRSs].map((rs) => (rs ? conditionOf(statusOf(rs), 'ReplicaFailure') : undefined)).find((c) => c?.status === 'True');
    if (failure) setDeploymentCondition(status, { type: 'ReplicaFailure', status: 'True', reason: failure.reason, message: failure.message, lastUpdateTime: this.nowStamp, lastTransitionTime: failure.lastTransitionTime ?? this.nowStamp });
    else removeDeploymentCondition(status, 'ReplicaFailure');
    this.flush(status);
    this.requeueStuck(status);
  }

  /** requeueStuckDeployment: look again when the progress deadline would pass. */
  requeueStuck(status: Json): void {
    const condition = conditionOf(status, 'Progressing');
    if (!hasProgressDeadline(this.d) || !condition || condition.status !== 'True') return;
    if (condition.reason === reasons.newRSAvailable || deploymentComplete(this.d, status)) return;
    const from = parseTime(condition.lastUpdateTime) ?? this.now.getTime();
    const after = from + (num(specOf(this.d).progressDeadlineSeconds) ?? 600) * 1000 - this.now.getTime();
    this.requeueAfterMs = after < 1000 ? 1 : after + 1000;
  }

  cleanup(oldRSs: KubeObject[]): void {
    const limit = num(specOf(this.d).revisionHistoryLimit);
    if (limit === undefined) return;
    const cleanable = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
    const diff = cleanable.length - limit;
    if (diff <= 0) return;
    cleanable.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of cleanable.slice(0, diff)) {
      if (statusCount(rs, 'replicas') !== 0 || rsReplicas(rs) !== 0 || (rs.metadata.generation ?? 1) > statusCount(rs, 'observedGeneration')) continue;
      this.client.replicaSets.delete(rs.metadata.namespace, rs.metadata.name ?? '');
    }
  }

  /** scale: a scaling event or a paused Deployment; proportional across active ReplicaSets. */
  scale(newRS: KubeObject | undefined, oldRSs: KubeObject[]): void {
    const want = replicas(this.d);
    const olderFirst = [...oldRSs].sort(byCreation).reverse();
    const all = [...olderFirst, ...(newRS ? [newRS] : [])];
    const active = activeReplicaSets(all);
    let activeOrLatest: KubeObject | undefined;
    if (newRS || oldRSs.length) {
      if (active.length === 0) activeOrLatest = newRS ?? olderFirst[0];
      else if (active.length === 1) activeOrLatest = active[0];
    }
    if (activeOrLatest) {
      if (rsReplicas(activeOrLatest) !== want) this.scaleAndRecord(activeOrLatest, want);
      return;
    }
    if (newRS && rsReplicas(newRS) === want && desiredAnnotation(newRS) === want && statusCount(newRS, 'availableReplicas') === want) {
      for (const old of activeReplicaSets(oldRSs)) this.scaleAndRecord(old, 0);
      return;
    }
    if (!isRollingUpdate(this.d)) return;
    const rss = activeReplicaSets([...oldRSs, ...(newRS ? [newRS] : [])]);
    const current = specReplicaCount(rss);
    const allowed = want > 0 ? want + maxSurge(this.d) : 0;
    const toAdd = allowed - current;
    let operation: 'up' | 'down' | undefined;
    if (toAdd > 0) {
      rss.sort((a, b) => rsReplicas(b) - rsReplicas(a) || byCreation(b, a));
      operation = 'up';
    } else if (toAdd < 0) {
      rss.sort((a, b) => rsReplicas(b) - rsReplicas(a) || byCreation(a, b));
      operation = 'down';
    }
    let added = 0;
    const sizes = new Map<KubeObject, number>();
    for (const rs of rss) {
      if (toAdd === 0) {
        sizes.set(rs, rsReplicas(rs));
        continue;
      }
      const proportion = this.proportion(rs, toAdd, added);
      sizes.set(rs, rsReplicas(rs) + proportion);
      added += proportion;
    }
    rss.forEach((rs, i) => {
      let size = sizes.get(rs) ?? rsReplicas(rs);
      if (i === 0 && toAdd !== 0) size = Math.max(0, size + (toAdd - added));
      this.scaleReplicaSet(rs, size, operation);
    });
  }

  /** GetProportion */
  proportion(rs: KubeObject, toAdd: number, added: number): number {
    if (rsReplicas(rs) === 0 || toAdd === 0 || toAdd === added) return 0;
    let fraction: number;
    if (replicas(this.d) === 0) fraction = -rsReplicas(rs);
    else {
      const deploymentReplicas = replicas(this.d) + maxSurge(this.d);
      const annotated = maxReplicasAnnotation(rs) ?? (num(statusOf(this.d).replicas) ?? 0);
      fraction = annotated > 0 ? Math.round((rsReplicas(rs) * deploymentReplicas) / annotated) - rsReplicas(rs) : 0;
    }
    const allowed = toAdd - added;
    return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
  }

  rolloutRolling(rss: KubeObject[]): void {
    const oldRSs = this.oldReplicaSets(rss);
    const newRS = this.newReplicaSet(rss, oldRSs, true) as KubeObject;
    let all = [...oldRSs, newRS];
    // reconcileNewReplicaSet
    const want = replicas(this.d);
    let scaledUp = false;
    if (rsReplicas(newRS) > want) scaledUp = this.scaleAndRecord(newRS, want).scaled;
    else if (rsReplicas(newRS) < want) scaledUp = this.scaleAndRecord(newRS, this.newRSReplicas(all, newRS)).scaled;
    if (scaledUp) return this.syncRolloutStatus(this.refresh(all), this.refreshOne(newRS));

    // reconcileOldReplicaSets
    const activeOld = activeReplicaSets(oldRSs);
    let scaledDown = 0;
    if (specReplicaCount(activeOld) > 0) {
      const allPods = specReplicaCount(all);
      const minAvailable = want - maxUnavailable(this.d);
      const newUnavailable = rsReplicas(newRS) - statusCount(newRS, 'availableReplicas');
      const maxScaledDown = allPods - minAvailable - newUnavailable;
      if (maxScaledDown > 0) {
        const olds = [...activeOld].sort(byCreation);
        for (let i = 0; i < olds.length && scaledDown < maxScaledDown; i++) {
          const rs = olds[i] as KubeObject;
          const unhealthy = rsReplicas(rs) - statusCount(rs, 'availableReplicas');
          if (rsReplicas(rs) === 0 || unhealthy <= 0) continue;
          const count = Math.min(maxScaledDown - scaledDown, unhealthy);
          olds[i] = this.scaleAndRecord(rs, rsReplicas(rs) - count).rs;
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
            this.scaleAndRecord(rs, rsReplicas(rs) - count);
            done += count;
          }
          scaledDown += done;
        }
      }
    }
    if (scaledDown > 0) return this.syncRolloutStatus(this.refresh([...oldRSs, newRS]), this.refreshOne(newRS));
    if (deploymentComplete(this.d, statusOf(this.d))) this.cleanup(oldRSs);
    this.syncRolloutStatus(this.refresh([...oldRSs, newRS]), this.refreshOne(newRS));
  }

  rolloutRecreate(rss: KubeObject[]): void {
    let oldRSs = this.oldReplicaSets(rss);
    let newRS = this.newReplicaSet(rss, oldRSs, false);
    let scaled = false;
    for (const rs of activeReplicaSets(oldRSs)) if (this.scaleAndRecord(rs, 0).scaled) scaled = true;
    if (scaled) return this.syncRolloutStatus(this.refresh([...oldRSs, ...(newRS ? [newRS] : [])]), newRS && this.refreshOne(newRS));
    if (this.oldPodsRunning(newRS, oldRSs)) return this.syncRolloutStatus([...oldRSs, ...(newRS ? [newRS] : [])], newRS);
    if (!newRS) {
      const refreshed = this.replicaSetsOf();
      oldRSs = this.oldReplicaSets(refreshed);
      newRS = this.newReplicaSet(refreshed, oldRSs, true) as KubeObject;
    }
    this.scaleAndRecord(newRS, replicas(this.d));
    if (deploymentComplete(this.d, statusOf(this.d))) this.cleanup(oldRSs);
    this.syncRolloutStatus(this.refresh([...oldRSs, newRS]), this.refreshOne(newRS));
  }

  oldPodsRunning(newRS: KubeObject | undefined, oldRSs: KubeObject[]): boolean {
    if (actualReplicaCount(oldRSs) > 0) return true;
    const owners = new Set(oldRSs.map((rs) => rs.metadata.uid));
    return this.client.pods
      .list(this.d.metadata.namespace)
      .some((pod) => {
        const owner = controllerRef(pod)?.uid;
        if (!owner || !owners.has(owner) || owner === newRS?.metadata.uid) return false;
        const phase = podPhase(pod);
        return phase !== 'Failed' && phase !== 'Succeeded';
      });
  }

  oldReplicaSets(rss: KubeObject[]): KubeObject[] {
    const template = specOf(this.d).template;
    const newRS = [...rss].sort(byCreation).find((rs) => equalIgnoreHash(specOf(rs).template, template));
    return rss.filter((rs) => rs !== newRS);
  }

  refresh(rss: KubeObject[]): KubeObject[] {
    return rss.map((rs) => this.refreshOne(rs));
  }

  refreshOne(rs: KubeObject): KubeObject {
    return this.client.replicaSets.get(rs.metadata.namespace, rs.metadata.name ?? '') ?? rs;
  }

  /** checkPausedConditions */
  checkPaused(): void {
    if (!hasProgressDeadline(this.d)) return;
    const condition = conditionOf(this.status, 'Progressing');
    if (condition?.reason === reasons.timedOut) return;
    const pausedExists = condition?.reason === reasons.paused;
    const paused = specOf(this.d).paused === true;
    if (paused && !pausedExists) setDeploymentCondition(this.status, newCondition('Progressing', 'Unknown', reasons.paused, 'Deployment is paused', this.nowStamp));
    else if (!paused && pausedExists) setDeploymentCondition(this.status, newCondition('Progressing', 'Unknown', reasons.resumed, 'Deployment is resumed', this.nowStamp));
    else return;
    this.statusChanged = true;
    this.flush();
  }

  isScalingEvent(rss: KubeObject[]): boolean {
    const oldRSs = this.oldReplicaSets(rss);
    const newRS = this.newReplicaSet(rss, oldRSs, false);
    const want = replicas(this.d);
    return activeReplicaSets([...oldRSs, ...(newRS ? [newRS] : [])]).some((rs) => {
      const desired = desiredAnnotation(rs);
      return desired !== undefined && desired !== want;
    });
  }

  /** sync: scale and, when paused, clean up history; then status only. */
  sync(rss: KubeObject[]): void {
    const oldRSs = this.oldReplicaSets(rss);
    const newRS = this.newReplicaSet(rss, oldRSs, false);
    this.scale(newRS, oldRSs);
    if (specOf(this.d).paused === true) this.cleanup(oldRSs);
    this.syncDeploymentStatus(this.refresh([...oldRSs, ...(newRS ? [newRS] : [])]), newRS && this.refreshOne(newRS));
  }
}

export function startDeploymentController(ctx: ControllerContext): RunningController {
  const client = ctx.clientFor('deployment-controller');
  const recorder = ctx.recorderFor('deployment-controller');

  const reconcile = (key: string): ReconcileResult | void => {
    const { namespace, name } = splitKey(key);
    const live = client.deployments.get(namespace, name);
    if (!live) return;
    const sync = new DeploymentSync(live, client, recorder, ctx.clock.now());
    const selector = specOf(live).selector;
    if (isJson(selector) && Object.keys(obj(selector.matchLabels)).length === 0 && !Array.isArray(selector.matchExpressions)) {
      recorder.event(live, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((num(statusOf(live).observedGeneration) ?? 0) < (live.metadata.generation ?? 1)) {
        sync.status.observedGeneration = live.metadata.generation ?? 1;
        sync.flush();
      }
      return;
    }
    const rss = sync.replicaSetsOf();
    if (live.metadata.deletionTimestamp) {
      const oldRSs = sync.oldReplicaSets(rss);
      const newRS = sync.newReplicaSet(rss, oldRSs, false);
      sync.syncDeploymentStatus([...oldRSs, ...(newRS ? [newRS] : [])], newRS);
      return;
    }
    sync.checkPaused();
    if (specOf(sync.d).paused === true) {
      sync.sync(rss);
      return;
    }
    if (sync.isScalingEvent(rss)) {
      sync.sync(sync.replicaSetsOf());
      return;
    }
    const current = sync.replicaSetsOf();
    if (isRollingUpdate(sync.d)) sync.rolloutRolling(current);
    else sync.rolloutRecreate(current);
    return sync.requeueAfterMs !== undefined ? { requeueAfterMs: sync.requeueAfterMs } : undefined;
  };

  const deploymentsFor = (object: KubeObject): string[] => {
    const owner = controllerRef(object);
    if (owner) return owner.kind === 'Deployment' ? [`${object.metadata.namespace}/${owner.name}`] : [];
    return client.deployments
      .list(object.metadata.namespace)
      .filter((d) => selectorOf(specOf(d).selector).matches(object.metadata.labels))
      .map(objectKey);
  };

  return startController(ctx.registry, {
    name: 'deployment-controller',
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError('deployment-controller', key, error),
    sources: [
      { group: 'apps', version: 'v1', resource: 'deployments' },
      { group: 'apps', version: 'v1', resource: 'replicasets', keys: (rs) => deploymentsFor(rs) },
      {
        group: '',
        version: 'v1',
        resource: 'pods',
        // Recreate waits for the old pods to be gone; only their disappearance matters here.
        keys: (pod, type) => {
          if (type !== 'DELETED' && podPhase(pod) !== 'Failed' && podPhase(pod) !== 'Succeeded') return [];
          const owner = controllerRef(pod);
          if (!owner || owner.kind !== 'ReplicaSet') return [];
          const rs = client.replicaSets.get(pod.metadata.namespace, owner.name);
          const deployment = rs ? controllerRef(rs) : undefined;
          return deployment?.kind === 'Deployment' ? [`${pod.metadata.namespace}/${deployment.name}`] : [];
        },
      },
    ],
    reconcile,
  });
}

