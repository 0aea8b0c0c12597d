// ReplicationControllers (pkg/registry/core/replicationcontroller/strategy.go): the ReplicaSet's
// ancestor with a map selector. Defaults as SetDefaults_ReplicationController: the selector and
// the object's labels come from the template's labels when empty, replicas 1. Validation as
// ValidateReplicationControllerSpec: a selector, the template matching it, restartPolicy Always
// and no activeDeadlineSeconds.
import type { KubeObject } from '../../../types.ts';
import { asObject } from '../../../json.ts';
import { ensureObject, setDefault } from '../../fields.ts';
import { labelSelectorFromObject } from '../../selectors.ts';
import { defineResource, type ResourceStrategy, subresource } from '../../strategy.ts';
import { type FieldError, fieldError } from '../../validation.ts';
import { defaultPodTemplate, GoValueMap, validateNonNegative, validatePodTemplate } from './podspec.ts';

function specOf(rc: KubeObject): Record<string, unknown> {
  return asObject(rc.spec) ?? {};
}

function selectorString(rc: KubeObject): string {
  return Object.entries((asObject(specOf(rc).selector) ?? {}) as Record<string, string>)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, value]) => `${key}=${value}`)
    .join(',');
}

function validateReplicationController(rc: KubeObject): FieldError[] {
  const spec = asObject(rc.spec);
  if (!spec) return [fieldError.required('spec')];
  const errs: FieldError[] = [...validateNonNegative(spec.minReadySeconds, 'spec.minReadySeconds')];
  const selector = (asObject(spec.selector) ?? {}) as Record<string, string>;
  if (Object.keys(selector).length === 0) errs.push(fieldError.required('spec.selector'));
  errs.push(...validateNonNegative(spec.replicas, 'spec.replicas'));
  const template = asObject(spec.template);
  if (!template) return [...errs, fieldError.required('spec.template')];
  const labels = asObject(asObject(template.metadata)?.labels) as Record<string, string> | undefined;
  if (Object.keys(selector).length > 0 && !labelSelectorFromObject({ matchLabels: selector }).matches(labels ?? {})) {
    errs.push(fieldError.invalid('spec.template.metadata.labels', new GoValueMap(labels), 'selector does not match labels in spec.template'));
  }
  errs.push(...validatePodTemplate(template, 'spec.template', undefined, { restartPolicies: ['Always'] }));
  if (asObject(template.spec)?.activeDeadlineSeconds !== undefined) {
    errs.push(fieldError.forbidden('spec.template.spec.activeDeadlineSeconds', 'activeDeadlineSeconds in ReplicationController is not Supported'));
  }
  return errs;
}

export const replicationcontrollers: ResourceStrategy = {
  definition: defineResource({
    group: '',
    version: 'v1',
    resource: 'replicationcontrollers',
    kind: 'ReplicationController',
    namespaced: true,
    shortNames: ['rc'],
    categories: ['all'],
    subresources: [subresource.scale(), subresource.status('', 'v1', 'ReplicationController')],
  }),
  tracksGeneration: true,
  statusZeroValues: { replicas: 0 },
  scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', selector: selectorString },
  defaults(rc) {
    const spec = asObject(rc.spec);
    if (!spec) return;
    const labels = asObject(asObject(asObject(spec.template)?.metadata)?.labels);
    if (labels) {
      if (Object.keys(asObject(spec.selector) ?? {}).length === 0) spec.selector = { ...labels };
      if (Object.keys(rc.metadata.labels ?? {}).length === 0) rc.metadata.labels = { ...(labels as Record<string, string>) };
    }
    setDefault(spec, 'replicas', 1);
    if (asObject(spec.template)) defaultPodTemplate(ensureObject(spec, 'template'));
  },
  validate: validateReplicationController,
  validateUpdate: validateReplicationController,
};
