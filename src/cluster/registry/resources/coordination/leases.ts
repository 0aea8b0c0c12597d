// Leases: what controllers and kubelets heartbeat with.
import type { KubeObject } from '../../../types.ts';
import { asObject } from '../../../json.ts';
import { defineResource, type ResourceStrategy } from '../../strategy.ts';
import { type FieldError, fieldError } from '../../validation.ts';

function validateLease(lease: KubeObject): FieldError[] {
  const spec = asObject(lease.spec) ?? {};
  const errs: FieldError[] = [];
  const duration = spec.leaseDurationSeconds;
  if (duration !== undefined && (typeof duration !== 'number' || duration <= 0)) errs.push(fieldError.invalid('spec.leaseDurationSeconds', duration, 'must be greater than 0'));
  const transitions = spec.leaseTransitions;
  if (transitions !== undefined && (typeof transitions !== 'number' || transitions < 0)) errs.push(fieldError.invalid('spec.leaseTransitions', transitions, 'must be greater than or equal to 0'));
  return errs;
}

export const leases: ResourceStrategy = {
  definition: defineResource({ group: 'coordination.k8s.io', version: 'v1', resource: 'leases', kind: 'Lease', namespaced: true }),
  allowCreateOnUpdate: true,
  validate: validateLease,
  validateUpdate: (lease) => validateLease(lease),
};
