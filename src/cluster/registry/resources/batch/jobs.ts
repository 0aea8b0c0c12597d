// Jobs (pkg/registry/batch/job): parallelism/completions 1, backoffLimit 6, a selector generated
// from the Job's uid, restartPolicy OnFailure or Never, an immutable template and selector.
import type { KubeObject } from '../../../types.ts';
import { asObject, type Json } from '../../../json.ts';
import { deepEqual, ensureObject, setDefault } from '../../fields.ts';
import { defineResource, type ResourceStrategy, subresource } from '../../strategy.ts';
import { type FieldError, fieldError, GoValue, immutableField } from '../../validation.ts';
import { defaultPodTemplate, GoValueSelector, validateLabelSelector, validateNonNegative, validatePodTemplate } from '../core/podspec.ts';

export const jobRestartPolicies = ['OnFailure', 'Never'];
const completionModes = ['Indexed', 'NonIndexed'];

/** SetDefaults_Job; also used for a CronJob's jobTemplate. */
export function defaultJobSpec(spec: Json): void {
  if (spec.completions === undefined && spec.parallelism === undefined) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  setDefault(spec, 'parallelism', 1);
  if (spec.backoffLimitPerIndex === undefined) setDefault(spec, 'backoffLimit', 6);
  setDefault(spec, 'completionMode', 'NonIndexed');
  setDefault(spec, 'suspend', false);
  setDefault(spec, 'podReplacementPolicy', spec.podFailurePolicy === undefined ? 'TerminatingOrFailed' : 'Failed');
  defaultPodTemplate(ensureObject(spec, 'template'));
}

export function validateJobSpec(spec: Json, path: string, selectorRequired: boolean): FieldError[] {
  const errs: FieldError[] = [];
  errs.push(...validateNonNegative(spec.parallelism, `${path}.parallelism`));
  errs.push(...validateNonNegative(spec.completions, `${path}.completions`));
  errs.push(...validateNonNegative(spec.backoffLimit, `${path}.backoffLimit`));
  const deadline = spec.activeDeadlineSeconds;
  if (deadline !== undefined && (typeof deadline !== 'number' || deadline <= 0)) errs.push(fieldError.invalid(`${path}.activeDeadlineSeconds`, deadline, 'must be greater than 0'));
  if (spec.completionMode !== undefined && !completionModes.includes(String(spec.completionMode)))
    errs.push(fieldError.notSupported(`${path}.completionMode`, spec.completionMode, completionModes));
  if (spec.completionMode === 'Indexed' && spec.completions === undefined)
    errs.push(fieldError.required(`${path}.completions`, `when completion mode is Indexed`));
  if (selectorRequired) errs.push(...validateLabelSelector(spec.selector, `${path}.selector`, true));
  const template = asObject(spec.template);
  const restart = asObject(template?.spec)?.restartPolicy;
  if (template && restart === undefined) errs.push(fieldError.required(`${path}.template.spec.restartPolicy`, 'valid values: "OnFailure", "Never"'));
  errs.push(...validatePodTemplate(spec.template, `${path}.template`, selectorRequired ? spec.selector : undefined, { restartPolicies: jobRestartPolicies }));
  return errs;
}

function validateJob(job: KubeObject): FieldError[] {
  const spec = asObject(job.spec);
  if (!spec) return [fieldError.required('spec')];
  return validateJobSpec(spec, 'spec', true);
}

export const jobs: ResourceStrategy = {
  definition: defineResource({
    group: 'batch',
    version: 'v1',
    resource: 'jobs',
    kind: 'Job',
    namespaced: true,
    categories: ['all'],
    subresources: [subresource.status('batch', 'v1', 'Job')],
    fieldSelectors: { 'status.successful': (job) => String(asObject(job.status)?.succeeded ?? 0) },
  }),
  tracksGeneration: true,

  defaults(job) {
    const spec = asObject(job.spec);
    if (!spec) return;
    defaultJobSpec(spec);
    const templateLabels = asObject(asObject(spec.template)?.metadata)?.labels;
    if (asObject(templateLabels) && Object.keys(job.metadata.labels ?? {}).length === 0) job.metadata.labels = { ...(templateLabels as Record<string, string>) };
  },

  prepareForCreate(job) {
    const spec = asObject(job.spec);
    if (!spec || spec.manualSelector === true) return;
    const uid = job.metadata.uid ?? '';
    const name = job.metadata.name ?? '';
    const template = ensureObject(spec, 'template');
    const labels = ensureObject(ensureObject(template, 'metadata'), 'labels');
    setDefault(labels, 'batch.kubernetes.io/controller-uid', uid);
    setDefault(labels, 'batch.kubernetes.io/job-name', name);
    setDefault(labels, 'controller-uid', uid);
    setDefault(labels, 'job-name', name);
    const selector = ensureObject(spec, 'selector');
    setDefault(ensureObject(selector, 'matchLabels'), 'batch.kubernetes.io/controller-uid', uid);
  },

  validate(job) {
    const spec = asObject(job.spec) ?? {};
    const errs = validateJob(job);
    const generated = { matchLabels: { 'batch.kubernetes.io/controller-uid': job.metadata.uid } };
    if (spec.manualSelector !== true && !deepEqual(spec.selector, generated))
      errs.push(fieldError.invalid('spec.selector', new GoValueSelector(spec.selector), '`selector` not auto-generated'));
    return errs;
  },

  validateUpdate(job, old) {
    const spec = asObject(job.spec) ?? {};
    const oldSpec = asObject(old.spec) ?? {};
    const errs = validateJob(job);
    if (!deepEqual(spec.selector, oldSpec.selector)) errs.push(fieldError.invalid('spec.selector', new GoValueSelector(spec.selector), 'field is immutable'));
    if (spec.completionMode !== 'Indexed') errs.push(...immutableField('spec.completions', spec.completions, oldSpec.completions));
    errs.push(...immutableField('spec.completionMode', spec.completionMode, oldSpec.completionMode));
    if (oldSpec.suspend !== true && !deepEqual(spec.template, oldSpec.template))
      errs.push(fieldError.invalid('spec.template', new GoValue('core.PodTemplateSpec{...}'), 'field is immutable'));
    return errs;
  },
};
