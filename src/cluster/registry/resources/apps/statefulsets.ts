// StatefulSets: OrderedReady, RollingUpdate with partition 0, Retain PVC policy; only some spec
// fields may change after creation.
import type { KubeObject } from '../../../types.ts';
import { asObject } from '../../../json.ts';
import { clone, deepEqual, ensureObject, setDefault } from '../../fields.ts';
import { defineResource, type ResourceStrategy, subresource } from '../../strategy.ts';
import { type FieldError, fieldError } from '../../validation.ts';
import { defaultWorkload, specOf, validateWorkload, workloadScale } from './workload.ts';

const managementPolicies = ['OrderedReady', 'Parallel'];
const updateStrategies = ['OnDelete', 'RollingUpdate'];
const mutableFields = ['replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy', 'minReadySeconds'];

/** Claim templates are volumes of every pod: mounts may name them (upstream skips volume checks here). */
function withClaimVolumes(sts: KubeObject): KubeObject {
  const spec = specOf(sts);
  const claims = Array.isArray(spec.volumeClaimTemplates) ? spec.volumeClaimTemplates : [];
  if (claims.length === 0) return sts;
  const template = clone(asObject(spec.template) ?? {});
  const podSpec = asObject(template.spec);
  if (!podSpec) return sts;
  const volumes = Array.isArray(podSpec.volumes) ? [...podSpec.volumes] : [];
  for (const claim of claims) {
    const name = asObject(asObject(claim)?.metadata)?.name;
    if (typeof name === 'string' && !volumes.some((v) => asObject(v)?.name === name)) volumes.push({ name, persistentVolumeClaim: { claimName: name } });
  }
  podSpec.volumes = volumes;
  return { ...sts, spec: { ...spec, template } };
}

function validateStatefulSet(sts: KubeObject): FieldError[] {
  const errs = validateWorkload(withClaimVolumes(sts), { replicas: true, restartAlways: true });
  const spec = specOf(sts);
  if (!managementPolicies.includes(String(spec.podManagementPolicy))) errs.push(fieldError.notSupported('spec.podManagementPolicy', spec.podManagementPolicy ?? '', managementPolicies));
  const type = asObject(spec.updateStrategy)?.type;
  if (!updateStrategies.includes(String(type))) errs.push(fieldError.notSupported('spec.updateStrategy.type', type ?? '', updateStrategies));
  return errs;
}

export const statefulsets: ResourceStrategy = {
  definition: defineResource({
    group: 'apps',
    version: 'v1',
    resource: 'statefulsets',
    kind: 'StatefulSet',
    namespaced: true,
    shortNames: ['sts'],
    categories: ['all'],
    subresources: [subresource.scale(), subresource.status('apps', 'v1', 'StatefulSet')],
  }),
  tracksGeneration: true,
  statusZeroValues: { replicas: 0, availableReplicas: 0 },
  scale: workloadScale,
  defaults(sts) {
    defaultWorkload(sts, true);
    const spec = asObject(sts.spec);
    if (!spec) return;
    setDefault(spec, 'podManagementPolicy', 'OrderedReady');
    const update = ensureObject(spec, 'updateStrategy');
    setDefault(update, 'type', 'RollingUpdate');
    if (update.type === 'RollingUpdate') setDefault(ensureObject(update, 'rollingUpdate'), 'partition', 0);
    const retention = ensureObject(spec, 'persistentVolumeClaimRetentionPolicy');
    setDefault(retention, 'whenDeleted', 'Retain');
    setDefault(retention, 'whenScaled', 'Retain');
  },
  validate: validateStatefulSet,
  validateUpdate(sts, old) {
    const errs = validateStatefulSet(sts);
    const next = clone(specOf(sts));
    const previous = specOf(old);
    for (const field of mutableFields) next[field] = previous[field];
    if (!deepEqual(next, previous))
      errs.push(
        fieldError.forbidden(
          'spec',
          "updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy', 'revisionHistoryLimit', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden",
        ),
      );
    return errs;
  },
};
