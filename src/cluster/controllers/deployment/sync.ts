// One pass of the Deployment controller over one Deployment (pkg/controller/deployment/sync.go):
// find or create the ReplicaSet of the current template with its revision annotations, scale
// (proportionally across active ReplicaSets on a scaling event or while paused), clean up old
// revisions, and write the status through the status subresource.
import type { KubeObject } from '../../types.ts';
import { claim } from '../claim.ts';
import { type ControllerClient, errorMessage, isAlreadyExists } from '../client.ts';
import type { EventRecorder } from '../events.ts';
import { computeHash } from '../hash.ts';
import { type Json, num, obj, specOf, statusOf } from '../../json.ts';
import { controllerRef, copy, newControllerRef, selectorOf, timestamp } from '../objects.ts';
import { conditionOf, newCondition, reasons, setDeploymentCondition } from './conditions.ts';
import { activeReplicaSets, actualReplicaCount, availableReplicaCount, byCreation, DESIRED_REPLICAS_ANNOTATION, desiredAnnotation, equalIgnoreHash, hasProgressDeadline, isRollingUpdate, MAX_REPLICAS_ANNOTATION, MAX_REVISION_HISTORY_CHARS, maxReplicasAnnotation, maxSurge, maxUnavailable, POD_TEMPLATE_HASH_LABEL, readyReplicaCount, replicas, REVISION_ANNOTATION, REVISION_HISTORY_ANNOTATION, revisionOf, rsReplicas, scaledValue, skippedAnnotations, specReplicaCount, statusCount, strategyOf } from './replica-sets.ts';

/** Zero counts are omitted on the wire (omitempty). */
function pruneStatus(status: Json): Json {
  for (const field of ['observedGeneration', 'replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'terminatingReplicas'])
    if (status[field] === 0) delete status[field];
  return status;
}

export class DeploymentSync {
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
