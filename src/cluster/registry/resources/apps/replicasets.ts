// ReplicaSets: replicas 1, selector matching the template, immutable selector, scale subresource.
import { defineResource, type ResourceStrategy, subresource } from '../../strategy.ts';
import { defaultWorkload, validateSelectorImmutable, validateWorkload, workloadScale } from './workload.ts';
import { asObject } from '../../../json.ts';

export const replicasets: ResourceStrategy = {
  definition: defineResource({
    group: 'apps',
    version: 'v1',
    resource: 'replicasets',
    kind: 'ReplicaSet',
    namespaced: true,
    shortNames: ['rs'],
    categories: ['all'],
    subresources: [subresource.scale(), subresource.status('apps', 'v1', 'ReplicaSet')],
    fieldSelectors: { 'status.replicas': (rs) => String(asObject(rs.status)?.replicas ?? 0) },
  }),
  tracksGeneration: true,
  statusZeroValues: { replicas: 0 },
  scale: workloadScale,
  defaults(replicaSet) {
    defaultWorkload(replicaSet, true);
    delete (asObject(replicaSet.spec) ?? {}).revisionHistoryLimit;
  },
  validate: (rs) => validateWorkload(rs, { replicas: true, restartAlways: true }),
  validateUpdate: (rs, old) => [...validateWorkload(rs, { replicas: true, restartAlways: true }), ...validateSelectorImmutable(rs, old)],
};
