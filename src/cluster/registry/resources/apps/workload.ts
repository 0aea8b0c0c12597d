// What Deployments, ReplicaSets, StatefulSets and DaemonSets share: a selector that matches the
// template, non-negative counts, and a selector that never changes.
import type { KubeObject } from '../../../types.ts';
import { asObject } from '../../../json.ts';
import { deepEqual, ensureObject, setDefault } from '../../fields.ts';
import { type FieldError, fieldError } from '../../validation.ts';
import { defaultPodTemplate, formatLabelSelector, GoValueSelector, validateLabelSelector, validateNonNegative, validatePodTemplate } from '../core/podspec.ts';

export function specOf(object: KubeObject): Record<string, unknown> {
  return asObject(object.spec) ?? {};
}

export function defaultWorkload(object: KubeObject & Record<string, unknown>, withReplicas: boolean): void {
  const spec = asObject(object.spec);
  if (!spec) return;
  if (withReplicas) setDefault(spec, 'replicas', 1);
  setDefault(spec, 'revisionHistoryLimit', 10);
  defaultPodTemplate(ensureObject(spec, 'template'));
}

export function validateWorkload(object: KubeObject, options: { replicas: boolean; restartAlways: boolean }): FieldError[] {
  const spec = asObject(object.spec);
  if (!spec) return [fieldError.required('spec')];
  const errs: FieldError[] = [];
  if (options.replicas) errs.push(...validateNonNegative(spec.replicas, 'spec.replicas'));
  errs.push(...validateNonNegative(spec.minReadySeconds, 'spec.minReadySeconds'));
  errs.push(...validateNonNegative(spec.revisionHistoryLimit, 'spec.revisionHistoryLimit'));
  errs.push(...validateLabelSelector(spec.selector, 'spec.selector', true));
  errs.push(...validatePodTemplate(spec.template, 'spec.template', spec.selector ?? null, options.restartAlways ? { restartPolicies: ['Always'] } : {}));
  return errs;
}

export function validateSelectorImmutable(object: KubeObject, old: KubeObject): FieldError[] {
  const selector = specOf(object).selector;
  if (deepEqual(selector, specOf(old).selector)) return [];
  return [fieldError.invalid('spec.selector', new GoValueSelector(selector), 'field is immutable')];
}

export const workloadScale = {
  specReplicasPath: '.spec.replicas',
  statusReplicasPath: '.status.replicas',
  selector: (object: KubeObject) => formatLabelSelector(specOf(object).selector),
};
