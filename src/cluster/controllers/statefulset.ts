// The StatefulSet controller (pkg/controller/statefulset): pods "<set>-<ordinal>" with stable
// hostnames and their own PersistentVolumeClaims "<template>-<set>-<ordinal>"; OrderedReady
// creates and removes them one at a time (each waiting for its predecessors to be Running and
// Ready), Parallel all at once; RollingUpdate replaces pods from the highest ordinal down to
// the partition; templates are kept as ControllerRevisions.
import type { KubeObject } from '../types.ts';
import { claim } from './claim.ts';
import { type ControllerClient, errorMessage, isAlreadyExists } from './client.ts';
import type { ControllerContext } from './context.ts';
import type { EventRecorder } from './events.ts';
import { syncRevisions, templateOf, truncateRevisions } from './history.ts';
import { type Json, num, obj, objects, specOf, statusOf, str } from '../json.ts';
import { controllerRef, copy, isPodAvailable, isPodReady, isPodTerminal, newControllerRef, podFromTemplate, podPhase, selectorOf } from './objects.ts';
import { controllerOwnerKeys, objectKey, type ReconcileResult, RetryLater, type RunningController, splitKey, startController } from './runtime.ts';

export const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';

function ordinalOf(set: KubeObject, pod: KubeObject): number | undefined {
  const prefix = `${set.metadata.name}-`;
  const name = pod.metadata.name ?? '';
  if (!name.startsWith(prefix)) return undefined;
  const rest = name.slice(prefix.length);
  return /^\d+$/.test(rest) ? Number(rest) : undefined;
}

function runningAndReady(pod: KubeObject): boolean {
  return podPhase(pod) === 'Running' && isPodReady(pod) && !pod.metadata.deletionTimestamp;
}

export function claimName(template: Json, set: KubeObject, ordinal: number): string {
  return `${str(obj(template.metadata).name)}-${set.metadata.name}-${ordinal}`;
}

class StatefulSetSync {
  readonly set: KubeObject;
  readonly client: ControllerClient;
  readonly recorder: EventRecorder;
  readonly now: Date;

  constructor(set: KubeObject, client: ControllerClient, recorder: EventRecorder, now: Date) {
    this.set = set;
    this.client = client;
    this.recorder = recorder;
    this.now = now;
  }

  get name(): string {
    return this.set.metadata.name ?? '';
  }

  claimTemplates(): Json[] {
    return objects(specOf(this.set).volumeClaimTemplates);
  }

  ensureClaims(podName: string, ordinal: number): void {
    const namespace = this.set.metadata.namespace;
    const retention = obj(specOf(this.set).persistentVolumeClaimRetentionPolicy);
    for (const template of this.claimTemplates()) {
      const name = claimName(template, this.set, ordinal);
      if (this.client.persistentVolumeClaims.get(namespace, name)) continue;
      const meta = obj(template.metadata);
      const labels = { ...(obj(meta.labels) as Record<string, string>), ...(obj(obj(specOf(this.set).selector).matchLabels) as Record<string, string>) };
      const claimObject: KubeObject = {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        metadata: {
          name,
          namespace,
          labels,
          ...(Object.keys(obj(meta.annotations)).length ? { annotations: obj(meta.annotations) as Record<string, string> } : {}),
          ...(retention.whenDeleted === 'Delete' ? { ownerReferences: [newControllerRef(this.set)] } : {}),
        },
        spec: copy(obj(template.spec)),
      };
      try {
        this.client.persistentVolumeClaims.create(namespace, claimObject);
        this.recorder.event(this.set, 'Normal', 'SuccessfulCreate', `create Claim ${name} Pod ${podName} in StatefulSet ${this.name} success`);
      } catch (error) {
        if (isAlreadyExists(error)) continue;
        this.recorder.event(this.set, 'Warning', 'FailedCreate', `create Claim ${name} for Pod ${podName} in StatefulSet ${this.name} failed error: ${errorMessage(error)}`);
        throw new RetryLater(errorMessage(error));
      }
    }
  }

  newPod(ordinal: number, revision: KubeObject): KubeObject {
    const name = `${this.name}-${ordinal}`;
    const pod = podFromTemplate(templateOf(revision), this.set, undefined);
    pod.metadata.name = name;
    pod.metadata.labels = {
      ...(pod.metadata.labels ?? {}),
      [POD_NAME_LABEL]: name,
      [POD_INDEX_LABEL]: String(ordinal),
      [CONTROLLER_REVISION_HASH_LABEL]: revision.metadata.name ?? '',
    };
    const spec = obj(pod.spec);
    spec.hostname = name;
    const serviceName = str(specOf(this.set).serviceName);
    if (serviceName) spec.subdomain = serviceName;
    const volumes = objects(spec.volumes);
    for (const template of this.claimTemplates()) {
      const volumeName = str(obj(template.metadata).name) ?? '';
      const volume = { name: volumeName, persistentVolumeClaim: { claimName: claimName(template, this.set, ordinal) } };
      const at = volumes.findIndex((v) => v.name === volumeName);
      if (at >= 0) volumes[at] = volume;
      else volumes.push(volume);
    }
    if (volumes.length) spec.volumes = volumes;
    return pod;
  }

  async createPod(ordinal: number, revision: KubeObject): Promise<void> {
    const name = `${this.name}-${ordinal}`;
    this.ensureClaims(name, ordinal);
    try {
      await this.client.pods.createAdmitted(this.set.metadata.namespace, this.newPod(ordinal, revision));
      this.recorder.event(this.set, 'Normal', 'SuccessfulCreate', `create Pod ${name} in StatefulSet ${this.name} successful`);
    } catch (error) {
      if (isAlreadyExists(error)) return;
      this.recorder.event(this.set, 'Warning', 'FailedCreate', `create Pod ${name} in StatefulSet ${this.name} failed error: ${errorMessage(error)}`);
      throw new RetryLater(errorMessage(error));
    }
  }

  deletePod(pod: KubeObject): void {
    const gone = this.client.pods.delete(pod.metadata.namespace, pod.metadata.name ?? '');
    if (gone) this.recorder.event(this.set, 'Normal', 'SuccessfulDelete', `delete Pod ${pod.metadata.name} in StatefulSet ${this.name} successful`);
  }

  async run(): Promise<ReconcileResult | void> {
    const set = this.set;
    const spec = specOf(set);
    const namespace = set.metadata.namespace;
    const revisions = syncRevisions(this.client, set);
    const updateRevision = revisions.update;
    const status = copy(statusOf(set));
    const currentName = str(status.currentRevision);
    const currentRevision = revisions.all.find((r) => r.metadata.name === currentName) ?? updateRevision;
    const replicas = num(spec.replicas) ?? 1;
    const start = num(obj(spec.ordinals).start) ?? 0;
    const parallel = spec.podManagementPolicy === 'Parallel';
    const rolling = obj(spec.updateStrategy).type !== 'OnDelete';
    const partition = rolling ? (num(obj(obj(spec.updateStrategy).rollingUpdate).partition) ?? 0) : Number.MAX_SAFE_INTEGER;
    const minReadySeconds = num(spec.minReadySeconds) ?? 0;

    const pods = claim({ owner: set, selector: selectorOf(spec.selector), candidates: this.client.pods.list(namespace), client: this.client.pods });
    const byOrdinal = new Map<number, KubeObject>();
    const condemned: KubeObject[] = [];
    for (const pod of pods) {
      const ordinal = ordinalOf(set, pod);
      if (ordinal === undefined) continue;
      if (ordinal >= start && ordinal < start + replicas) byOrdinal.set(ordinal, pod);
      else condemned.push(pod);
    }
    condemned.sort((a, b) => (ordinalOf(set, b) ?? 0) - (ordinalOf(set, a) ?? 0));

    if (!set.metadata.deletionTimestamp) {
      let blocked = false;
      // Replicas in order: create what is missing, replace what failed.
      for (let ordinal = start; ordinal < start + replicas && !blocked; ordinal++) {
        const pod = byOrdinal.get(ordinal);
        if (!pod) {
          const revision = rolling && ordinal - start < partition && currentRevision ? currentRevision : updateRevision;
          await this.createPod(ordinal, revision);
          if (!parallel) blocked = true;
          continue;
        }
        if (isPodTerminal(pod) && !pod.metadata.deletionTimestamp) {
          this.recorder.event(set, 'Warning', 'RecreatingFailedPod', `StatefulSet ${namespace}/${this.name} is recreating failed Pod ${pod.metadata.name}`);
          this.deletePod(pod);
          if (!parallel) blocked = true;
          continue;
        }
        if (!parallel && !runningAndReady(pod)) blocked = true;
      }
      // Scale down from the highest ordinal, one at a time unless Parallel.
      const othersHealthy = [...byOrdinal.values()].every(runningAndReady);
      for (const pod of condemned) {
        if (blocked) break;
        if (pod.metadata.deletionTimestamp) {
          if (!parallel) blocked = true;
          continue;
        }
        if (!parallel && !othersHealthy) break;
        this.deletePod(pod);
        this.deleteScaledClaims(pod);
        if (!parallel) blocked = true;
      }
      // Rolling update: the highest ordinal not yet on the update revision goes first.
      if (rolling && !blocked && condemned.length === 0) {
        for (let ordinal = start + replicas - 1; ordinal >= start + partition; ordinal--) {
          const pod = byOrdinal.get(ordinal);
          if (!pod) break;
          if (pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] === updateRevision.metadata.name) {
            if (!runningAndReady(pod) && !parallel) break;
            continue;
          }
          if (pod.metadata.deletionTimestamp) break;
          if (!parallel && ![...byOrdinal.values()].every((p) => p === pod || runningAndReady(p))) break;
          this.deletePod(pod);
          break;
        }
      }
    }

    const live = this.client.pods.list(namespace).filter((pod) => controllerRef(pod)?.uid === set.metadata.uid && ordinalOf(set, pod) !== undefined);
    const counted = live;
    const next: Json = { ...status };
    next.observedGeneration = set.metadata.generation ?? 1;
    next.replicas = counted.length;
    next.readyReplicas = counted.filter(isPodReady).length;
    next.availableReplicas = counted.filter((pod) => isPodAvailable(pod, minReadySeconds, this.now)).length;
    const currentRevisionName = currentRevision?.metadata.name;
    next.currentReplicas = counted.filter((pod) => pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] === currentRevisionName).length;
    next.updatedReplicas = counted.filter((pod) => pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] === updateRevision.metadata.name).length;
    next.updateRevision = updateRevision.metadata.name;
    next.currentRevision = currentRevisionName;
    next.collisionCount = num(status.collisionCount) ?? 0;
    // The update is complete: what was being rolled out is now current.
    if ((num(next.updatedReplicas) ?? 0) === replicas && (num(next.readyReplicas) ?? 0) === replicas && counted.length === replicas) {
      next.currentRevision = updateRevision.metadata.name;
      next.currentReplicas = next.updatedReplicas;
    }
    for (const field of ['readyReplicas', 'availableReplicas', 'currentReplicas', 'updatedReplicas'] as const) if (next[field] === 0) delete next[field];
    if (JSON.stringify(next) !== JSON.stringify(statusOf(set))) {
      this.client.statefulSets.mutate(namespace, this.name, (draft) => {
        draft.status = next;
      }, 'status');
    }
    const inUse = new Set<string>([str(next.currentRevision) ?? '', str(next.updateRevision) ?? '', ...live.map((pod) => pod.metadata.labels?.[CONTROLLER_REVISION_HASH_LABEL] ?? '')]);
    truncateRevisions(this.client, revisions.all, inUse, num(spec.revisionHistoryLimit) ?? 10);
  }

  deleteScaledClaims(pod: KubeObject): void {
    if (obj(specOf(this.set).persistentVolumeClaimRetentionPolicy).whenScaled !== 'Delete') return;
    const ordinal = ordinalOf(this.set, pod);
    if (ordinal === undefined) return;
    for (const template of this.claimTemplates()) this.client.persistentVolumeClaims.delete(this.set.metadata.namespace, claimName(template, this.set, ordinal));
  }
}

export function startStatefulSetController(ctx: ControllerContext): RunningController {
  const client = ctx.clientFor('statefulset-controller');
  const recorder = ctx.recorderFor('statefulset-controller');
  const ownerOfPod = controllerOwnerKeys('StatefulSet');
  return startController(ctx.registry, {
    name: 'statefulset-controller',
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError('statefulset-controller', key, error),
    sources: [
      { group: 'apps', version: 'v1', resource: 'statefulsets' },
      {
        group: '',
        version: 'v1',
        resource: 'pods',
        keys: (pod) => {
          const owners = ownerOfPod(pod);
          if (owners.length || controllerRef(pod)) return owners;
          return client.statefulSets
            .list(pod.metadata.namespace)
            .filter((set) => selectorOf(specOf(set).selector).matches(pod.metadata.labels))
            .map(objectKey);
        },
      },
    ],
    async reconcile(key): Promise<ReconcileResult | void> {
      const { namespace, name } = splitKey(key);
      const set = client.statefulSets.get(namespace, name);
      if (!set) return;
      return new StatefulSetSync(set, client, recorder, ctx.clock.now()).run();
    },
  });
}
