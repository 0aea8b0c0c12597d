// A pod's volumes and its containers' volumeMounts, validated as pkg/apis/core/validation does:
// every path a learner names inside a volume (subPath, subPathExpr, items[].path, a projected
// token's path) is relative and never steps back with `..`; a hostPath never contains `..`. Field
// paths and messages are upstream's, quirks included (subPath errors name `volumeMounts.subPath`
// without the index; a downwardAPI item's path is `downwardAPI.path`), so kubectl prints what a
// real API server prints.
import { tryParseQuantity } from '../../quantity.ts';
import { asArray, asObject, type Json } from '../../../json.ts';
import { type FieldError, fieldError, isDNS1123Label } from '../../validation.ts';

const FILE_MODE_MESSAGE = 'must be a number between 0 and 0777 (octal), both inclusive';

/** ValidateVolumes' source order: the first source set is validated, every later one is forbidden. The typos are upstream's. */
const volumeSources: ReadonlyArray<readonly [key: string, errorField: string]> = [
  ['emptyDir', 'emptyDir'],
  ['hostPath', 'hostPath'],
  ['gitRepo', 'gitRepo'],
  ['gcePersistentDisk', 'gcePersistentDisk'],
  ['awsElasticBlockStore', 'awsElasticBlockStore'],
  ['secret', 'secret'],
  ['nfs', 'nfs'],
  ['iscsi', 'iscsi'],
  ['glusterfs', 'glusterfs'],
  ['flocker', 'flocker'],
  ['persistentVolumeClaim', 'persistentVolumeClaim'],
  ['rbd', 'rbd'],
  ['cinder', 'cinder'],
  ['cephfs', 'cephFS'],
  ['quobyte', 'quobyte'],
  ['downwardAPI', 'downwarAPI'],
  ['fc', 'fc'],
  ['flexVolume', 'flexVolume'],
  ['configMap', 'configMap'],
  ['azureFile', 'azureFile'],
  ['vsphereVolume', 'vsphereVolume'],
  ['photonPersistentDisk', 'photonPersistentDisk'],
  ['portworxVolume', 'portworxVolume'],
  ['azureDisk', 'azureDisk'],
  ['storageos', 'storageos'],
  ['projected', 'projected'],
  ['scaleIO', 'scaleIO'],
  ['csi', 'csi'],
  ['ephemeral', 'ephemeral'],
  ['image', 'image'],
];

const hostPathTypes = ['', 'BlockDevice', 'CharDevice', 'Directory', 'DirectoryOrCreate', 'File', 'FileOrCreate', 'Socket'];
const mountPropagations = ['Bidirectional', 'HostToContainer', 'None'];
const recursiveReadOnlyModes = ['Disabled', 'Enabled', 'IfPossible'];
const downwardAPIFieldPaths = ['metadata.annotations', 'metadata.labels', 'metadata.name', 'metadata.namespace', 'metadata.uid'];

const isAbsolute = (path: string) => path.startsWith('/');

/** validatePathNoBacksteps: no `..` element, one error however many there are. */
export function validatePathNoBacksteps(path: string, field: string): FieldError[] {
  return path.split('/').includes('..') ? [fieldError.invalid(field, path, "must not contain '..'")] : [];
}

/** validateLocalDescendingPath: relative, and no `..` element. */
export function validateLocalDescendingPath(path: string, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (isAbsolute(path)) errs.push(fieldError.invalid(field, path, 'must be a relative path'));
  errs.push(...validatePathNoBacksteps(path, field));
  return errs;
}

/** ValidateLocalNonReservedPath: a descending path that does not start with `..` either (`..data` is the atomic writer's). */
export function validateLocalNonReservedPath(path: string, field: string): FieldError[] {
  const errs = validateLocalDescendingPath(path, field);
  if (path.startsWith('..') && !path.startsWith('../')) errs.push(fieldError.invalid(field, path, "must not start with '..'"));
  return errs;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

function validateMode(value: unknown, field: string): FieldError[] {
  if (value === undefined || value === null) return [];
  return typeof value !== 'number' || value < 0 || value > 0o777 ? [fieldError.invalid(field, value, FILE_MODE_MESSAGE)] : [];
}

function validateKeyToPath(item: Json, field: string): FieldError[] {
  const errs: FieldError[] = [];
  if (text(item.key) === '') errs.push(fieldError.required(`${field}.key`));
  const path = text(item.path);
  if (path === '') errs.push(fieldError.required(`${field}.path`));
  errs.push(...validateLocalNonReservedPath(path, `${field}.path`));
  errs.push(...validateMode(item.mode, `${field}.mode`));
  return errs;
}

function validateKeyedSource(source: Json, field: string, nameField: 'name' | 'secretName'): FieldError[] {
  const errs: FieldError[] = [];
  if (text(source[nameField]) === '') errs.push(fieldError.required(`${field}.${nameField}`));
  errs.push(...validateMode(source.defaultMode, `${field}.defaultMode`));
  asArray(source.items).forEach((raw, i) => errs.push(...validateKeyToPath(asObject(raw) ?? {}, `${field}.items[${i}]`)));
  return errs;
}

/** validateDownwardAPIVolumeFile; `field` is the source, not the item: upstream names no index. */
function validateDownwardAPIFile(file: Json, field: string): FieldError[] {
  const errs: FieldError[] = [];
  const path = text(file.path);
  if (path === '') errs.push(fieldError.required(`${field}.path`));
  errs.push(...validateLocalNonReservedPath(path, `${field}.path`));
  const fieldRef = asObject(file.fieldRef);
  if (fieldRef) {
    const fieldPath = text(fieldRef.fieldPath);
    if (fieldPath === '') errs.push(fieldError.required(`${field}.fieldRef.fieldPath`));
    else if (!downwardAPIFieldPaths.includes(fieldPath)) errs.push(fieldError.notSupported(`${field}.fieldRef.fieldPath`, fieldPath, downwardAPIFieldPaths));
    if (file.resourceFieldRef !== undefined) errs.push(fieldError.invalid(field, 'resource', 'fieldRef and resourceFieldRef can not be specified simultaneously'));
  } else if (file.resourceFieldRef === undefined) {
    errs.push(fieldError.required(field, 'one of fieldRef and resourceFieldRef is required'));
  }
  errs.push(...validateMode(file.mode, `${field}.mode`));
  return errs;
}

function validateProjected(projected: Json, field: string): FieldError[] {
  const errs = validateMode(projected.defaultMode, `${field}.defaultMode`);
  const paths = new Set<string>();
  const claim = (path: string, badValue: string) => {
    if (path === '') return;
    if (paths.has(path)) errs.push(fieldError.invalid(field, badValue, 'conflicting duplicate paths'));
    paths.add(path);
  };
  asArray(projected.sources).forEach((raw, i) => {
    const source = asObject(raw) ?? {};
    const sourceField = `${field}.sources[${i}]`;
    let count = 0;
    for (const kind of ['secret', 'configMap'] as const) {
      const keyed = asObject(source[kind]);
      if (!keyed) continue;
      count++;
      if (text(keyed.name) === '') errs.push(fieldError.required(`${sourceField}.${kind}.name`));
      asArray(keyed.items).forEach((rawItem, j) => {
        const item = asObject(rawItem) ?? {};
        errs.push(...validateKeyToPath(item, `${sourceField}.${kind}.items[${j}]`));
        claim(text(item.path), text(keyed.name));
      });
    }
    const downward = asObject(source.downwardAPI);
    if (downward) {
      count++;
      for (const rawItem of asArray(downward.items)) {
        const item = asObject(rawItem) ?? {};
        errs.push(...validateDownwardAPIFile(item, `${sourceField}.downwardAPI`));
        claim(text(item.path), text(item.path));
      }
    }
    const token = asObject(source.serviceAccountToken);
    if (token) {
      count++;
      const seconds = token.expirationSeconds;
      if (typeof seconds === 'number') {
        if (seconds < 600) errs.push(fieldError.invalid(`${sourceField}.serviceAccountToken.expirationSeconds`, seconds, 'may not specify a duration less than 10 minutes'));
        if (seconds > 2 ** 32) errs.push(fieldError.invalid(`${sourceField}.serviceAccountToken.expirationSeconds`, seconds, 'may not specify a duration larger than 2^32 seconds'));
      }
      const path = text(token.path);
      if (path === '') errs.push(fieldError.required(`${field}.path`));
      else errs.push(...validateLocalNonReservedPath(path, `${field}.path`));
    }
    if (source.clusterTrustBundle !== undefined) {
      count++;
      const path = text(asObject(source.clusterTrustBundle)?.path);
      if (path === '') errs.push(fieldError.required(`${sourceField}.clusterTrustBundlePEM.path`));
      errs.push(...validateLocalNonReservedPath(path, `${sourceField}.clusterTrustBundlePEM.path`));
      claim(path, path);
    }
    if (count > 1) errs.push(fieldError.forbidden(sourceField, 'may not specify more than 1 volume type'));
  });
  return errs;
}

function validateSource(key: string, source: Json, field: string): FieldError[] {
  switch (key) {
    case 'emptyDir': {
      const limit = source.sizeLimit === undefined ? undefined : tryParseQuantity(source.sizeLimit);
      return limit && limit.sign() < 0 ? [fieldError.forbidden(`${field}.sizeLimit`, 'SizeLimit field must be a valid resource quantity')] : [];
    }
    case 'hostPath': {
      const path = text(source.path);
      if (path === '') return [fieldError.required(`${field}.path`)];
      const errs = validatePathNoBacksteps(path, `${field}.path`);
      if (source.type !== undefined && source.type !== null && !hostPathTypes.includes(text(source.type))) errs.push(fieldError.notSupported(`${field}.type`, source.type, hostPathTypes));
      return errs;
    }
    case 'gitRepo': {
      const errs = text(source.repository) === '' ? [fieldError.required(`${field}.repository`)] : [];
      return [...errs, ...validateLocalDescendingPath(text(source.directory), `${field}.directory`)];
    }
    case 'secret':
      return validateKeyedSource(source, field, 'secretName');
    case 'configMap':
      return validateKeyedSource(source, field, 'name');
    case 'persistentVolumeClaim':
      return text(source.claimName) === '' ? [fieldError.required(`${field}.claimName`)] : [];
    case 'downwardAPI': {
      const errs = validateMode(source.defaultMode, `${field}.defaultMode`);
      for (const item of asArray(source.items)) errs.push(...validateDownwardAPIFile(asObject(item) ?? {}, field));
      return errs;
    }
    case 'projected':
      return validateProjected(source, field);
    default:
      return [];
  }
}

/** ValidateVolumes: the errors, and the names of the volumes without errors (only those can be mounted). */
export function validateVolumes(volumes: unknown, path: string): { errs: FieldError[]; names: Set<string> } {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  asArray(volumes).forEach((raw, i) => {
    const volume = asObject(raw) ?? {};
    const p = `${path}[${i}]`;
    const volumeErrs: FieldError[] = [];
    let sources = 0;
    for (const [key, errorField] of volumeSources) {
      if (volume[key] === undefined) continue;
      if (sources++ > 0) volumeErrs.push(fieldError.forbidden(`${p}.${errorField}`, 'may not specify more than 1 volume type'));
      else volumeErrs.push(...validateSource(key, asObject(volume[key]) ?? {}, `${p}.${key}`));
    }
    if (sources === 0) volumeErrs.push(fieldError.required(p, 'must specify a volume type'));
    const name = volume.name;
    if (typeof name !== 'string' || name === '') volumeErrs.push(fieldError.required(`${p}.name`));
    else for (const msg of isDNS1123Label(name)) volumeErrs.push(fieldError.invalid(`${p}.name`, name, msg));
    if (typeof name === 'string' && names.has(name)) volumeErrs.push(fieldError.duplicate(`${p}.name`, name));
    if (volumeErrs.length === 0 && typeof name === 'string') names.add(name);
    errs.push(...volumeErrs);
  });
  return { errs, names };
}

/** ValidateVolumeMounts for one container; `path` is the container's `volumeMounts` field. */
export function validateVolumeMounts(mounts: unknown, path: string, volumes: Set<string>, container: Json): FieldError[] {
  const errs: FieldError[] = [];
  const mountPaths = new Set<string>();
  asArray(mounts).forEach((raw, i) => {
    const mount = asObject(raw) ?? {};
    const p = `${path}[${i}]`;
    const name = text(mount.name);
    if (name === '') errs.push(fieldError.required(`${p}.name`));
    if (!volumes.has(name)) errs.push(fieldError.notFound(`${p}.name`, name));
    const mountPath = text(mount.mountPath);
    if (mountPath === '') errs.push(fieldError.required(`${p}.mountPath`));
    if (mountPaths.has(mountPath)) errs.push(fieldError.invalid(`${p}.mountPath`, mountPath, 'must be unique'));
    mountPaths.add(mountPath);
    const subPath = text(mount.subPath);
    if (subPath !== '') errs.push(...validateLocalDescendingPath(subPath, `${path}.subPath`));
    const subPathExpr = text(mount.subPathExpr);
    if (subPathExpr !== '') {
      if (subPath !== '') errs.push(fieldError.invalid(`${p}.subPathExpr`, subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      errs.push(...validateLocalDescendingPath(subPathExpr, `${path}.subPathExpr`));
    }
    const propagation = mount.mountPropagation;
    if (propagation !== undefined && propagation !== null) {
      if (!mountPropagations.includes(text(propagation))) errs.push(fieldError.notSupported(`${path}.mountPropagation`, propagation, mountPropagations));
      const privileged = asObject(container.securityContext)?.privileged === true;
      if (propagation === 'Bidirectional' && !privileged) errs.push(fieldError.forbidden(`${path}.mountPropagation`, 'Bidirectional mount propagation is available only to privileged containers'));
    }
    const recursive = mount.recursiveReadOnly;
    if (recursive !== undefined && recursive !== null && recursive !== 'Disabled') {
      if (recursive === 'Enabled' || recursive === 'IfPossible') {
        if (mount.readOnly !== true) errs.push(fieldError.forbidden(`${path}.recursiveReadOnly`, 'may only be specified when readOnly is true'));
        if (propagation !== undefined && propagation !== null && propagation !== 'None')
          errs.push(fieldError.forbidden(`${path}.recursiveReadOnly`, 'may only be specified when mountPropagation is None or not specified'));
      } else errs.push(fieldError.notSupported(`${path}.recursiveReadOnly`, recursive, recursiveReadOnlyModes));
    }
  });
  return errs;
}

/**
 * validateEphemeralContainers' part about volumes: mounts as any container's, but no subPath or
 * subPathExpr ("they're implemented with bind mounts that aren't cleaned up until the pod exits").
 */
export function validateEphemeralContainerMounts(containers: unknown, path: string, volumes: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  asArray(containers).forEach((raw, i) => {
    const container = asObject(raw) ?? {};
    const mountsPath = `${path}[${i}].volumeMounts`;
    errs.push(...validateVolumeMounts(container.volumeMounts, mountsPath, volumes, container));
    asArray(container.volumeMounts).forEach((rawMount, j) => {
      const mount = asObject(rawMount) ?? {};
      if (text(mount.subPath) !== '') errs.push(fieldError.forbidden(`${mountsPath}[${j}].subPath`, 'cannot be set for an Ephemeral Container'));
      if (text(mount.subPathExpr) !== '') errs.push(fieldError.forbidden(`${mountsPath}[${j}].subPathExpr`, 'cannot be set for an Ephemeral Container'));
    });
  });
  return errs;
}
