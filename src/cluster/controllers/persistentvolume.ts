// Storage: the default StorageClass `standard`, claims without a class given the default one
// (retroactive default class assignment), dynamic provisioning of a PersistentVolume per claim —
// at once for Immediate classes, once the scheduler picks a node for WaitForFirstConsumer ones —
// binding of claims to matching existing volumes, and reclaiming (Delete or Released) when a
// claim goes (the PersistentVolume controller with a provisioner built in).
import type { KubeObject } from '../types.ts';
import { tryParseQuantity } from '../registry/index.ts';
import { type ControllerClient, isAlreadyExists } from './client.ts';
import type { ControllerContext } from './context.ts';
import type { EventRecorder } from './events.ts';
import { obj, specOf, statusOf, str } from '../json.ts';
import { copy } from './objects.ts';
import { objectKey, type RunningController, splitKey, startController } from './runtime.ts';

export const DEFAULT_CLASS_ANNOTATION = 'storageclass.kubernetes.io/is-default-class';
export const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';
export const PROVISIONER = 'formicary.io/hostpath';
const BETA_DEFAULT_CLASS_ANNOTATION = 'storageclass.beta.kubernetes.io/is-default-class';

function isDefaultClass(storageClass: KubeObject): boolean {
  const annotations = storageClass.metadata.annotations ?? {};
  return annotations[DEFAULT_CLASS_ANNOTATION] === 'true' || annotations[BETA_DEFAULT_CLASS_ANNOTATION] === 'true';
}

/** The newest default class, as the DefaultStorageClass admission plugin picks it. */
function defaultClass(client: ControllerClient): KubeObject | undefined {
  return client.storageClasses
    .list()
    .filter(isDefaultClass)
    .sort((a, b) => (b.metadata.creationTimestamp ?? '').localeCompare(a.metadata.creationTimestamp ?? '') || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''))[0];
}

function requestedBytes(claim: KubeObject): bigint {
  return tryParseQuantity(obj(obj(specOf(claim).resources).requests).storage)?.nanos ?? 0n;
}

function capacityBytes(volume: KubeObject): bigint {
  return tryParseQuantity(obj(specOf(volume).capacity).storage)?.nanos ?? 0n;
}

function accessModesFit(claim: KubeObject, volume: KubeObject): boolean {
  const offered = new Set(Array.isArray(specOf(volume).accessModes) ? (specOf(volume).accessModes as unknown[]).map(String) : []);
  const wanted = Array.isArray(specOf(claim).accessModes) ? (specOf(claim).accessModes as unknown[]).map(String) : [];
  return wanted.every((mode) => offered.has(mode));
}

function classOf(object: KubeObject): string {
  return str(specOf(object).storageClassName) ?? '';
}

export function ensureDefaultStorageClass(client: ControllerClient): void {
  if (client.storageClasses.list().length > 0) return;
  try {
    client.storageClasses.create(undefined, {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'standard', annotations: { [DEFAULT_CLASS_ANNOTATION]: 'true' } },
      provisioner: PROVISIONER,
      reclaimPolicy: 'Delete',
      volumeBindingMode: 'WaitForFirstConsumer',
    });
  } catch (error) {
    if (!isAlreadyExists(error)) throw error;
  }
}

class ClaimSync {
  readonly client: ControllerClient;
  readonly recorder: EventRecorder;

  constructor(client: ControllerClient, recorder: EventRecorder) {
    this.client = client;
    this.recorder = recorder;
  }

  bind(claim: KubeObject, volume: KubeObject, byController: boolean): void {
    const namespace = claim.metadata.namespace;
    const name = claim.metadata.name ?? '';
    const boundVolume = this.client.persistentVolumes.mutate(undefined, volume.metadata.name ?? '', (draft) => {
      const spec = { ...specOf(draft) };
      spec.claimRef = { kind: 'PersistentVolumeClaim', namespace, name, uid: claim.metadata.uid, apiVersion: 'v1', resourceVersion: claim.metadata.resourceVersion };
      draft.spec = spec;
      if (byController) draft.metadata.annotations = { ...(draft.metadata.annotations ?? {}), 'pv.kubernetes.io/bound-by-controller': 'yes' };
    });
    if (!boundVolume) return;
    this.client.persistentVolumes.mutate(undefined, volume.metadata.name ?? '', (draft) => {
      if (statusOf(draft).phase === 'Bound') return false;
      draft.status = { ...statusOf(draft), phase: 'Bound' };
    }, 'status');
    const updated = this.client.persistentVolumeClaims.mutate(namespace, name, (draft) => {
      draft.spec = { ...specOf(draft), volumeName: volume.metadata.name };
      draft.metadata.annotations = { ...(draft.metadata.annotations ?? {}), 'pv.kubernetes.io/bind-completed': 'yes', ...(byController ? { 'pv.kubernetes.io/bound-by-controller': 'yes' } : {}) };
    });
    if (!updated) return;
    this.client.persistentVolumeClaims.mutate(namespace, name, (draft) => {
      draft.status = { ...statusOf(draft), phase: 'Bound', accessModes: specOf(boundVolume).accessModes, capacity: obj(specOf(boundVolume).capacity) };
    }, 'status');
  }

  provision(claim: KubeObject, storageClass: KubeObject, node: string | undefined): void {
    const name = `pvc-${claim.metadata.uid}`;
    const provisioner = str(storageClass['provisioner']) ?? PROVISIONER;
    const namespace = claim.metadata.namespace ?? '';
    this.recorder.event(claim, 'Normal', 'Provisioning', `External provisioner is provisioning volume for claim "${namespace}/${claim.metadata.name}"`);
    let volume = this.client.persistentVolumes.get(undefined, name);
    if (!volume) {
      volume = this.client.persistentVolumes.create(undefined, {
        apiVersion: 'v1',
        kind: 'PersistentVolume',
        metadata: { name, annotations: { 'pv.kubernetes.io/provisioned-by': provisioner }, finalizers: ['kubernetes.io/pv-protection'] },
        spec: {
          accessModes: copy(specOf(claim).accessModes),
          capacity: { storage: obj(obj(specOf(claim).resources).requests).storage },
          hostPath: { path: `/var/local-path-provisioner/${name}_${namespace}_${claim.metadata.name}`, type: 'DirectoryOrCreate' },
          persistentVolumeReclaimPolicy: str(storageClass['reclaimPolicy']) ?? 'Delete',
          storageClassName: storageClass.metadata.name,
          volumeMode: str(specOf(claim).volumeMode) ?? 'Filesystem',
          ...(node ? { nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [node] }] }] } } } : {}),
        },
      });
      this.recorder.event(claim, 'Normal', 'ProvisioningSucceeded', `Successfully provisioned volume ${name}`);
    }
    this.bind(claim, volume, true);
  }

  run(key: string): void {
    const { namespace, name } = splitKey(key);
    const claim = this.client.persistentVolumeClaims.get(namespace, name);
    if (!claim || claim.metadata.deletionTimestamp) return;
    const spec = specOf(claim);
    if (statusOf(claim).phase === 'Bound') return;
    if (str(spec.volumeName)) {
      const volume = this.client.persistentVolumes.get(undefined, str(spec.volumeName) ?? '');
      if (volume) this.bind(claim, volume, false);
      return;
    }
    // Retroactive default class: a claim that names no class (nil, not "") gets the default.
    if (spec.storageClassName === undefined || spec.storageClassName === null) {
      const fallback = defaultClass(this.client);
      if (!fallback) return;
      this.client.persistentVolumeClaims.mutate(namespace, name, (draft) => {
        if (specOf(draft).storageClassName !== undefined && specOf(draft).storageClassName !== null) return false;
        draft.spec = { ...specOf(draft), storageClassName: fallback.metadata.name };
      });
      return;
    }
    const className = classOf(claim);
    const wanted = requestedBytes(claim);
    const candidates = this.client.persistentVolumes
      .list()
      .filter((pv) => !specOf(pv).claimRef && statusOf(pv).phase !== 'Released' && !pv.metadata.deletionTimestamp && classOf(pv) === className && capacityBytes(pv) >= wanted && accessModesFit(claim, pv))
      .sort((a, b) => (capacityBytes(a) < capacityBytes(b) ? -1 : capacityBytes(a) > capacityBytes(b) ? 1 : 0));
    const storageClass = className ? this.client.storageClasses.get(undefined, className) : undefined;
    const delayed = str(storageClass?.['volumeBindingMode']) === 'WaitForFirstConsumer';
    const selectedNode = claim.metadata.annotations?.[SELECTED_NODE_ANNOTATION];
    if (candidates[0] && (!delayed || selectedNode)) {
      this.bind(claim, candidates[0], true);
      return;
    }
    if (!storageClass) {
      if (className) this.recorder.event(claim, 'Warning', 'ProvisioningFailed', `storageclass.storage.k8s.io "${className}" not found`);
      else this.recorder.event(claim, 'Normal', 'FailedBinding', 'no persistent volumes available for this claim and no storage class is set');
      return;
    }
    if (delayed && !selectedNode) {
      this.recorder.event(claim, 'Normal', 'WaitForFirstConsumer', 'waiting for first consumer to be created before binding');
      return;
    }
    const provisioner = str(storageClass['provisioner']) ?? PROVISIONER;
    this.client.persistentVolumeClaims.mutate(namespace, name, (draft) => {
      const annotations = draft.metadata.annotations ?? {};
      if (annotations['volume.kubernetes.io/storage-provisioner'] === provisioner) return false;
      draft.metadata.annotations = { ...annotations, 'volume.beta.kubernetes.io/storage-provisioner': provisioner, 'volume.kubernetes.io/storage-provisioner': provisioner };
    });
    this.recorder.event(
      claim,
      'Normal',
      'ExternalProvisioning',
      `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    );
    const fresh = this.client.persistentVolumeClaims.get(namespace, name);
    if (fresh) this.provision(fresh, storageClass, selectedNode);
  }

  /** A volume whose claim is gone is deleted (Delete) or kept as Released (Retain). */
  reclaim(volumeName: string): void {
    const volume = this.client.persistentVolumes.get(undefined, volumeName);
    if (!volume) return;
    const claimRef = obj(specOf(volume).claimRef);
    if (volume.metadata.deletionTimestamp) {
      // pv-protection: the finalizer goes once no claim holds the volume.
      const holder = str(claimRef.name) ? this.client.persistentVolumeClaims.get(str(claimRef.namespace), str(claimRef.name) ?? '') : undefined;
      if (!holder || holder.metadata.uid !== claimRef.uid) {
        this.client.persistentVolumes.mutate(undefined, volumeName, (draft) => {
          const finalizers = (draft.metadata.finalizers ?? []).filter((f) => f !== 'kubernetes.io/pv-protection');
          if (finalizers.length === (draft.metadata.finalizers ?? []).length) return false;
          if (finalizers.length) draft.metadata.finalizers = finalizers;
          else delete draft.metadata.finalizers;
        });
      }
      return;
    }
    if (!str(claimRef.name)) {
      if (statusOf(volume).phase !== 'Available' && statusOf(volume).phase !== 'Released') {
        this.client.persistentVolumes.mutate(undefined, volumeName, (draft) => {
          draft.status = { ...statusOf(draft), phase: 'Available' };
        }, 'status');
      }
      return;
    }
    const claim = this.client.persistentVolumeClaims.get(str(claimRef.namespace), str(claimRef.name) ?? '');
    if (claim && claim.metadata.uid === claimRef.uid) return;
    if (str(specOf(volume).persistentVolumeReclaimPolicy) === 'Delete') {
      this.client.persistentVolumes.delete(undefined, volumeName);
      return;
    }
    if (statusOf(volume).phase !== 'Released') {
      this.client.persistentVolumes.mutate(undefined, volumeName, (draft) => {
        draft.status = { ...statusOf(draft), phase: 'Released' };
      }, 'status');
    }
  }
}

export function startPersistentVolumeController(ctx: ControllerContext): RunningController {
  const client = ctx.clientFor('persistent-volume-binder');
  const recorder = ctx.recorderFor('persistentvolume-controller');
  const sync = new ClaimSync(client, recorder);
  ensureDefaultStorageClass(client);
  return startController(ctx.registry, {
    name: 'persistentvolume-controller',
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError('persistentvolume-controller', key, error),
    sources: [
      { group: '', version: 'v1', resource: 'persistentvolumeclaims', keys: (claim, type) => (type === 'DELETED' && str(specOf(claim).volumeName) ? [`pv/${str(specOf(claim).volumeName)}`] : [`pvc/${objectKey(claim)}`]) },
      { group: '', version: 'v1', resource: 'persistentvolumes', keys: (volume) => [`pv/${volume.metadata.name}`] },
      {
        group: 'storage.k8s.io',
        version: 'v1',
        resource: 'storageclasses',
        keys: () => client.persistentVolumeClaims.list().filter((claim) => statusOf(claim).phase !== 'Bound').map((claim) => `pvc/${objectKey(claim)}`),
      },
    ],
    reconcile(key) {
      if (key.startsWith('pv/')) sync.reclaim(key.slice(3));
      else sync.run(key.slice(4));
    },
  });
}

