// StorageClasses: a provisioner and parameters that never change, Delete and Immediate by default.
import type { KubeObject } from '../../../types.ts';
import { deepEqual, setDefault } from '../../fields.ts';
import { defineResource, type ResourceStrategy } from '../../strategy.ts';
import { type FieldError, fieldError, isQualifiedName } from '../../validation.ts';

const reclaimPolicies = ['Delete', 'Retain'];
const bindingModes = ['Immediate', 'WaitForFirstConsumer'];

function validateClass(sc: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const provisioner = sc.provisioner;
  if (typeof provisioner !== 'string' || provisioner === '') errs.push(fieldError.required('provisioner'));
  else for (const msg of isQualifiedName(provisioner.toLowerCase())) errs.push(fieldError.invalid('provisioner', provisioner, msg));
  if (sc.reclaimPolicy !== undefined && !reclaimPolicies.includes(String(sc.reclaimPolicy))) errs.push(fieldError.notSupported('reclaimPolicy', sc.reclaimPolicy, reclaimPolicies));
  if (sc.volumeBindingMode !== undefined && !bindingModes.includes(String(sc.volumeBindingMode))) errs.push(fieldError.notSupported('volumeBindingMode', sc.volumeBindingMode, bindingModes));
  return errs;
}

export const storageclasses: ResourceStrategy = {
  definition: defineResource({ group: 'storage.k8s.io', version: 'v1', resource: 'storageclasses', kind: 'StorageClass', namespaced: false, shortNames: ['sc'] }),
  defaults(sc) {
    setDefault(sc, 'reclaimPolicy', 'Delete');
    setDefault(sc, 'volumeBindingMode', 'Immediate');
  },
  validate: validateClass,
  validateUpdate(sc, old) {
    const errs = validateClass(sc);
    if (sc.provisioner !== old.provisioner) errs.push(fieldError.forbidden('provisioner', 'updates to provisioner are forbidden.'));
    if (!deepEqual(sc.parameters ?? {}, old.parameters ?? {})) errs.push(fieldError.forbidden('parameters', 'updates to parameters are forbidden.'));
    if (sc.reclaimPolicy !== old.reclaimPolicy) errs.push(fieldError.forbidden('reclaimPolicy', 'updates to reclaimPolicy are forbidden.'));
    if (sc.volumeBindingMode !== old.volumeBindingMode) errs.push(fieldError.forbidden('volumeBindingMode', 'field is immutable'));
    return errs;
  },
};
