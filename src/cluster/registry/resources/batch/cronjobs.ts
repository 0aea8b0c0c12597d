// CronJobs: Allow, 3 successful and 1 failed job kept, a five-field schedule (or @hourly and
// friends) in a known time zone.
import { createRequire } from 'node:module';
import type { KubeObject } from '../../../types.ts';
import { asObject } from '../../../json.ts';
import { ensureObject, setDefault } from '../../fields.ts';
import { defineResource, type ResourceStrategy, subresource } from '../../strategy.ts';
import { type FieldError, fieldError } from '../../validation.ts';
import { defaultPodTemplate, validateNonNegative } from '../core/podspec.ts';
import { validateJobSpec } from './jobs.ts';

const require = createRequire(import.meta.url);
/** cron-parser (and luxon under it) loads with the first CronJob, not on the way to "ready": most clusters have none. */
const cronParser = (): typeof import('cron-parser') => require('cron-parser') as typeof import('cron-parser');
const concurrencyPolicies = ['Allow', 'Forbid', 'Replace'];
const descriptors = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

export function scheduleError(schedule: string): string | undefined {
  if (/(^|\s)(CRON_)?TZ=/.test(schedule)) return 'cannot use TZ or CRON_TZ in schedule, use timeZone field instead';
  const trimmed = schedule.trim();
  if (descriptors.has(trimmed)) return undefined;
  if (trimmed.startsWith('@every ')) return undefined;
  if (trimmed.startsWith('@')) return `unrecognized descriptor: ${trimmed}`;
  const fields = trimmed.split(/\s+/).filter((f) => f !== '');
  if (fields.length !== 5) return `expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`;
  try {
    cronParser().CronExpressionParser.parse(`0 ${fields.join(' ')}`);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

function validateCronJob(cronJob: KubeObject): FieldError[] {
  const spec = asObject(cronJob.spec);
  if (!spec) return [fieldError.required('spec')];
  const errs: FieldError[] = [];
  const schedule = spec.schedule;
  if (typeof schedule !== 'string' || schedule === '') errs.push(fieldError.required('spec.schedule'));
  else {
    const problem = scheduleError(schedule);
    if (problem) errs.push(fieldError.invalid('spec.schedule', schedule, problem));
  }
  const zone = spec.timeZone;
  if (typeof zone === 'string' && (zone === '' || !validTimeZone(zone))) errs.push(fieldError.invalid('spec.timeZone', zone, `unknown time zone ${zone}`));
  if (!concurrencyPolicies.includes(String(spec.concurrencyPolicy))) errs.push(fieldError.notSupported('spec.concurrencyPolicy', spec.concurrencyPolicy ?? '', concurrencyPolicies));
  errs.push(...validateNonNegative(spec.startingDeadlineSeconds, 'spec.startingDeadlineSeconds'));
  errs.push(...validateNonNegative(spec.successfulJobsHistoryLimit, 'spec.successfulJobsHistoryLimit'));
  errs.push(...validateNonNegative(spec.failedJobsHistoryLimit, 'spec.failedJobsHistoryLimit'));
  const jobSpec = asObject(asObject(spec.jobTemplate)?.spec);
  if (!jobSpec) errs.push(fieldError.required('spec.jobTemplate.spec'));
  else errs.push(...validateJobSpec(jobSpec, 'spec.jobTemplate.spec', false));
  return errs;
}

export const cronjobs: ResourceStrategy = {
  definition: defineResource({
    group: 'batch',
    version: 'v1',
    resource: 'cronjobs',
    kind: 'CronJob',
    namespaced: true,
    shortNames: ['cj'],
    categories: ['all'],
    subresources: [subresource.status('batch', 'v1', 'CronJob')],
  }),
  tracksGeneration: true,
  defaults(cronJob) {
    const spec = asObject(cronJob.spec);
    if (!spec) return;
    setDefault(spec, 'concurrencyPolicy', 'Allow');
    setDefault(spec, 'suspend', false);
    setDefault(spec, 'successfulJobsHistoryLimit', 3);
    setDefault(spec, 'failedJobsHistoryLimit', 1);
    const jobSpec = asObject(asObject(spec.jobTemplate)?.spec);
    if (jobSpec) defaultPodTemplate(ensureObject(jobSpec, 'template'));
  },
  validate: validateCronJob,
  validateUpdate: (cronJob) => validateCronJob(cronJob),
};
