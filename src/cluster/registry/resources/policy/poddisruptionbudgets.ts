// PodDisruptionBudgets: minAvailable or maxUnavailable (not both), a zeroed status on create.
import type { KubeObject } from '../../../types.ts';
import { asObject } from '../../../json.ts';
import { defineResource, type ResourceStrategy, subresource } from '../../strategy.ts';
import { type FieldError, fieldError } from '../../validation.ts';
import { validateLabelSelector } from '../core/podspec.ts';
import { validateIntOrPercent } from '../apps/deployments.ts';

const policies = ['AlwaysAllow', 'IfHealthyBudget'];

function validatePDB(pdb: KubeObject): FieldError[] {
  const spec = asObject(pdb.spec) ?? {};
  const errs: FieldError[] = [];
  if (spec.minAvailable !== undefined && spec.maxUnavailable !== undefined) errs.push(fieldError.invalid('spec', '', 'minAvailable and maxUnavailable cannot be both set'));
  errs.push(...validateIntOrPercent(spec.minAvailable, 'spec.minAvailable', true).errs);
  errs.push(...validateIntOrPercent(spec.maxUnavailable, 'spec.maxUnavailable', true).errs);
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector', false));
  const policy = spec.unhealthyPodEvictionPolicy;
  if (policy !== undefined && !policies.includes(String(policy))) errs.push(fieldError.notSupported('spec.unhealthyPodEvictionPolicy', policy, policies));
  return errs;
}

export const poddisruptionbudgets: ResourceStrategy = {
  definition: defineResource({
    group: 'policy',
    version: 'v1',
    resource: 'poddisruptionbudgets',
    kind: 'PodDisruptionBudget',
    namespaced: true,
    shortNames: ['pdb'],
    subresources: [subresource.status('policy', 'v1', 'PodDisruptionBudget')],
  }),
  tracksGeneration: true,
  statusZeroValues: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
  prepareForCreate(pdb) {
    pdb.status = { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 };
  },
  validate: validatePDB,
  validateUpdate: (pdb) => validatePDB(pdb),
};
