// ResourceQuotas: hard limits that must be quantities; status.used is kept current after every
// write in the namespace (their follower below; what counts is quota.ts), as the quota
// controller does at once.
import type { KubeObject } from '../../../types.ts';
import { asArray, asObject } from '../../../json.ts';
import { clone, deepEqual } from '../../fields.ts';
import { tryParseQuantity } from '../../quantity.ts';
import { quotaUsage, trackedResourceIds } from '../../quota.ts';
import { defineResource, type FollowerStore, type ResourceStrategy, storageIdOf, subresource, type WriteFollower } from '../../strategy.ts';
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

const definition = defineResource({
  group: '',
  version: 'v1',
  resource: 'resourcequotas',
  kind: 'ResourceQuota',
  namespaced: true,
  shortNames: ['quota'],
  subresources: [subresource.status('', 'v1', 'ResourceQuota')],
});
const QUOTAS = storageIdOf(definition);

/** After a write in a namespace, its quotas that count what changed get status.hard and status.used anew. */
function followWrites(store: FollowerStore): WriteFollower {
  return {
    written(changed, event) {
      const namespace = event.object.metadata.namespace;
      if (!namespace || (changed === QUOTAS && event.type === 'MODIFIED')) return;
      for (const quota of store.objects(QUOTAS, namespace)) {
        if (quota.metadata.deletionTimestamp) continue;
        if (changed !== QUOTAS && !trackedResourceIds(quota).has(changed)) continue;
        const status = asObject(quota.status) ?? {};
        const used = quotaUsage(store.registry, namespace, quota);
        if (deepEqual(status.used ?? {}, used) && deepEqual(status.hard ?? {}, asObject(quota.spec)?.hard ?? {})) continue;
        const draft = clone(quota);
        draft.status = { ...status, hard: asObject(quota.spec)?.hard ?? {}, used };
        store.commit(QUOTAS, 'MODIFIED', draft, quota);
      }
    },
  };
}

export const resourcequotas: ResourceStrategy = {
  definition,
  followWrites,
  validate: validateQuota,
  validateUpdate: (quota) => validateQuota(quota),
  validateStatusUpdate: (quota) => [...validateResourceList(asObject(quota.status)?.hard, 'status.hard'), ...validateResourceList(asObject(quota.status)?.used, 'status.used')],
};
