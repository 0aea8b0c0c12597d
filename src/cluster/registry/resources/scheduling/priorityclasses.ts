// PriorityClasses (pkg/registry/scheduling/priorityclass): cluster-scoped, a value that never
// changes, at most 1,000,000,000 unless it is one of the two system classes every cluster has.
import type { KubeObject } from '../../../types.ts';
import { setDefault } from '../../fields.ts';
import { defineResource, type ResourceStrategy } from '../../strategy.ts';
import { type FieldError, fieldError, immutableField } from '../../validation.ts';

const highestUserDefinablePriority = 1_000_000_000;
const preemptionPolicies = ['Never', 'PreemptLowerPriority'];

/** The system classes kube-apiserver creates at start (scheduling.SystemPriorityClasses). */
export const systemPriorityClasses: ReadonlyArray<{ name: string; value: number; description: string }> = [
  { name: 'system-node-critical', value: 2_000_001_000, description: 'Used for system critical pods that must not be moved from their current node.' },
  { name: 'system-cluster-critical', value: 2_000_000_000, description: 'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.' },
];

function validateClass(pc: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const name = pc.metadata.name ?? '';
  const value = pc.value;
  if (typeof value !== 'number' || !Number.isInteger(value)) errs.push(fieldError.required('value'));
  if (name.startsWith('system-')) {
    const known = systemPriorityClasses.find((c) => c.name === name);
    const problem = !known
      ? `${name} is not a known system priority class`
      : known.value !== value
        ? `value of ${name} PriorityClass must be ${known.value}`
        : pc.globalDefault === true
          ? `globalDefault of ${name} PriorityClass must be false`
          : '';
    if (problem) errs.push(fieldError.forbidden('metadata.name', `priority class names with 'system-' prefix are reserved for system use only. error: ${problem}`));
  } else if (typeof value === 'number' && value > highestUserDefinablePriority) {
    errs.push(fieldError.forbidden('value', `maximum allowed value of a user defined priority is ${highestUserDefinablePriority}`));
  }
  if (pc.preemptionPolicy !== undefined && !preemptionPolicies.includes(String(pc.preemptionPolicy))) {
    errs.push(fieldError.notSupported('preemptionPolicy', pc.preemptionPolicy, preemptionPolicies));
  }
  return errs;
}

export const priorityclasses: ResourceStrategy = {
  definition: defineResource({ group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses', kind: 'PriorityClass', namespaced: false, shortNames: ['pc'] }),
  defaults(pc) {
    setDefault(pc, 'preemptionPolicy', 'PreemptLowerPriority');
  },
  validate: validateClass,
  validateUpdate(pc, old) {
    const errs = validateClass(pc);
    if (pc.value !== old.value) errs.push(fieldError.forbidden('value', 'may not be changed in an update.'));
    errs.push(...immutableField('preemptionPolicy', pc.preemptionPolicy, old.preemptionPolicy));
    return errs;
  },
};
