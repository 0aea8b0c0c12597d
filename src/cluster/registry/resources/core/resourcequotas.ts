// ResourceQuotas: hard limits that must be quantities; status.used is kept current by the
// registry after every write in the namespace (see quota.ts).
import type { KubeObject } from '../../../types.ts';
import { asArray, asObject } from '../../fields.ts';
import { tryParseQuantity } from '../../quantity.ts';
import { defineResource, type ResourceStrategy, subresource } from '../../strategy.ts';
import { type FieldError, fieldError, isQualifiedName } from '../../validation.ts';

const scopes = ['BestEffort', 'CrossNamespacePodAffinity', 'NotBestEffort', 'NotTerminating', 'PriorityClass', 'Terminating', 'VolumeAttributesClass'];

function validateResourceList(list: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  for (const [name, raw] of Object.entries(asObject(list) ?? {})) {
    for (const msg of isQualifiedName(name)) errs.push(fieldError.invalid(`${path}[${name}]`, name, msg));
    const q = tryParseQuantity(raw);
    if (!q) errs.push(fieldError.invalid(`${path}[${name}]`, raw, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
    else if (q.sign() < 0) errs.push(fieldError.invalid(`${path}[${name}]`, q.toString(), 'must be greater than or equal to 0'));
  }
  return errs;
}

function validateQuota(quota: KubeObject): FieldError[] {
  const spec = asObject(quota.spec) ?? {};
  const errs = validateResourceList(spec.hard, 'spec.hard');
  asArray(spec.scopes).forEach((scope, i) => {
    if (!scopes.includes(String(scope))) errs.push(fieldError.notSupported(`spec.scopes[${i}]`, scope, scopes));
  });
  return errs;
}

export const resourcequotas: ResourceStrategy = {
  definition: defineResource({
    group: '',
    version: 'v1',
    resource: 'resourcequotas',
    kind: 'ResourceQuota',
    namespaced: true,
    shortNames: ['quota'],
    subresources: [subresource.status('', 'v1', 'ResourceQuota')],
  }),
  validate: validateQuota,
  validateUpdate: (quota) => validateQuota(quota),
  validateStatusUpdate: (quota) => [...validateResourceList(asObject(quota.status)?.hard, 'status.hard'), ...validateResourceList(asObject(quota.status)?.used, 'status.used')],
};
