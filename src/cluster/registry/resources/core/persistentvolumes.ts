// PersistentVolumes and PersistentVolumeClaims: required capacity/access modes, Pending on
// create, and claims whose spec is immutable except for a storage request increase.
import type { KubeObject } from '../../../types.ts';
import { asArray, asObject } from '../../../json.ts';
import { clone, deepEqual, setDefault } from '../../fields.ts';
import { tryParseQuantity } from '../../quantity.ts';
import { defineResource, type ResourceStrategy, subresource } from '../../strategy.ts';
import { type FieldError, fieldError } from '../../validation.ts';

const accessModes = ['ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOnce', 'ReadWriteOncePod'];
const reclaimPolicies = ['Delete', 'Recycle', 'Retain'];
const volumeModes = ['Block', 'Filesystem'];
const pvSources = [
  'hostPath',
  'local',
  'nfs',
  'csi',
  'iscsi',
  'fc',
  'rbd',
  'cephfs',
  'cinder',
  'glusterfs',
  'flexVolume',
  'azureFile',
  'azureDisk',
  'vsphereVolume',
  'quobyte',
  'photonPersistentDisk',
  'portworxVolume',
  'scaleIO',
  'storageos',
  'gcePersistentDisk',
  'awsElasticBlockStore',
];

function validateAccessModes(modes: unknown, path: string): FieldError[] {
  const list = asArray(modes);
  if (list.length === 0) return [fieldError.required(path)];
  return list.filter((m) => !accessModes.includes(String(m))).map((m) => fieldError.notSupported(path, m, accessModes));
}

function validatePV(pv: KubeObject): FieldError[] {
  const spec = asObject(pv.spec) ?? {};
  const errs = validateAccessModes(spec.accessModes, 'spec.accessModes');
  const storage = asObject(spec.capacity)?.storage;
  if (storage === undefined) errs.push(fieldError.required('spec.capacity'));
  else if (!tryParseQuantity(storage)) errs.push(fieldError.invalid('spec.capacity[storage]', storage, 'must be a valid quantity'));
  const sources = pvSources.filter((s) => spec[s] !== undefined);
  if (sources.length === 0) errs.push(fieldError.required('spec', 'must specify a volume type'));
  else if (sources.length > 1) errs.push(fieldError.forbidden(`spec.${sources[1]}`, 'may not specify more than 1 volume type'));
  const reclaim = spec.persistentVolumeReclaimPolicy;
  if (reclaim !== undefined && !reclaimPolicies.includes(String(reclaim))) errs.push(fieldError.notSupported('spec.persistentVolumeReclaimPolicy', reclaim, reclaimPolicies));
  if (spec.volumeMode !== undefined && !volumeModes.includes(String(spec.volumeMode))) errs.push(fieldError.notSupported('spec.volumeMode', spec.volumeMode, volumeModes));
  return errs;
}

export const persistentvolumes: ResourceStrategy = {
  definition: defineResource({
    group: '',
    version: 'v1',
    resource: 'persistentvolumes',
    kind: 'PersistentVolume',
    namespaced: false,
    shortNames: ['pv'],
    subresources: [subresource.status('', 'v1', 'PersistentVolume')],
  }),
  defaults(pv) {
    const spec = asObject(pv.spec);
    if (!spec) return;
    setDefault(spec, 'persistentVolumeReclaimPolicy', 'Retain');
    setDefault(spec, 'volumeMode', 'Filesystem');
  },
  prepareForCreate(pv) {
    pv.status = { phase: 'Pending' };
  },
  validate: validatePV,
  validateUpdate: (pv) => validatePV(pv),
};

function validatePVC(pvc: KubeObject): FieldError[] {
  const spec = asObject(pvc.spec) ?? {};
  const errs: FieldError[] = [];
  if (spec.dataSource === undefined && spec.dataSourceRef === undefined) errs.push(...validateAccessModes(spec.accessModes, 'spec.accessModes'));
  const storage = asObject(asObject(spec.resources)?.requests)?.storage;
  if (storage === undefined) errs.push(fieldError.required('spec.resources[storage]'));
  else {
    const q = tryParseQuantity(storage);
    if (!q) errs.push(fieldError.invalid('spec.resources[storage]', storage, 'must be a valid quantity'));
    else if (q.sign() <= 0) errs.push(fieldError.invalid('spec.resources[storage]', q.toString(), 'must be greater than zero'));
  }
  if (spec.volumeMode !== undefined && !volumeModes.includes(String(spec.volumeMode))) errs.push(fieldError.notSupported('spec.volumeMode', spec.volumeMode, volumeModes));
  return errs;
}

export const persistentvolumeclaims: ResourceStrategy = {
  definition: defineResource({
    group: '',
    version: 'v1',
    resource: 'persistentvolumeclaims',
    kind: 'PersistentVolumeClaim',
    namespaced: true,
    shortNames: ['pvc'],
    subresources: [subresource.status('', 'v1', 'PersistentVolumeClaim')],
  }),
  defaults(pvc) {
    const spec = asObject(pvc.spec);
    if (spec) setDefault(spec, 'volumeMode', 'Filesystem');
  },
  prepareForCreate(pvc) {
    pvc.status = { phase: 'Pending' };
  },
  validate: validatePVC,
  validateUpdate(pvc, old) {
    const errs = validatePVC(pvc);
    const spec = clone(asObject(pvc.spec) ?? {});
    const oldSpec = asObject(old.spec) ?? {};
    const requested = tryParseQuantity(asObject(asObject(spec.resources)?.requests)?.storage);
    const previous = tryParseQuantity(asObject(asObject(oldSpec.resources)?.requests)?.storage);
    if (requested && previous && requested.cmp(previous) < 0)
      errs.push(fieldError.forbidden('spec.resources.requests.storage', 'field can not be less than status.capacity'));
    if (oldSpec.volumeName && !spec.volumeName) spec.volumeName = oldSpec.volumeName;
    spec.resources = oldSpec.resources;
    spec.volumeAttributesClassName = oldSpec.volumeAttributesClassName;
    // Retroactive default StorageClass assignment: a claim without a class may be given one.
    if ((oldSpec.storageClassName === undefined || oldSpec.storageClassName === null) && typeof spec.storageClassName === 'string') spec.storageClassName = oldSpec.storageClassName;
    if (!deepEqual(spec, oldSpec) && !(oldSpec.volumeName === undefined && spec.volumeName !== undefined && deepEqual({ ...spec, volumeName: undefined }, oldSpec)))
      errs.push(fieldError.forbidden('spec', 'spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims'));
    return errs;
  },
};
