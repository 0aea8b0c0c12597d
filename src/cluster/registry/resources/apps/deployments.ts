// Deployments (pkg/registry/apps/deployment/strategy.go): replicas 1, RollingUpdate 25%/25%,
// revisionHistoryLimit 10, progressDeadlineSeconds 600; generation bumps on spec and annotation
// changes; the selector is immutable.
import type { KubeObject } from '../../../types.ts';
import { asObject } from '../../../json.ts';
import { ensureObject, setDefault } from '../../fields.ts';
import { defineResource, type ResourceStrategy, subresource } from '../../strategy.ts';
import { type FieldError, fieldError } from '../../validation.ts';
import { defaultWorkload, specOf, validateSelectorImmutable, validateWorkload, workloadScale } from './workload.ts';

const strategyTypes = ['Recreate', 'RollingUpdate'];

/** IntOrString: an integer ≥ 0 or a percentage; returns [isZero, error]. */
export function validateIntOrPercent(value: unknown, path: string, max100: boolean): { zero: boolean; errs: FieldError[] } {
  if (value === undefined) return { zero: false, errs: [] };
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) return { zero: false, errs: [fieldError.invalid(path, value, 'must be greater than or equal to 0')] };
    return { zero: value === 0, errs: [] };
  }
  if (typeof value === 'string') {
    const match = /^([0-9]+)%$/.exec(value);
    if (!match) return { zero: false, errs: [fieldError.invalid(path, value, "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')")] };
    const percent = Number(match[1]);
    if (max100 && percent > 100) return { zero: false, errs: [fieldError.invalid(path, value, 'must not be greater than 100%')] };
    return { zero: percent === 0, errs: [] };
  }
  return { zero: false, errs: [fieldError.invalid(path, value, 'must be an integer or percentage (e.g. 5 or 5%)')] };
}

function validateDeployment(deployment: KubeObject): FieldError[] {
  const errs = validateWorkload(deployment, { replicas: true, restartAlways: true });
  const spec = specOf(deployment);
  const strategy = asObject(spec.strategy) ?? {};
  if (!strategyTypes.includes(String(strategy.type))) errs.push(fieldError.notSupported('spec.strategy.type', strategy.type ?? '', strategyTypes));
  const rolling = asObject(strategy.rollingUpdate);
  if (strategy.type === 'Recreate' && rolling) errs.push(fieldError.forbidden('spec.strategy.rollingUpdate', "may not be specified when strategy `type` is 'Recreate'"));
  if (strategy.type === 'RollingUpdate' && rolling) {
    const unavailable = validateIntOrPercent(rolling.maxUnavailable, 'spec.strategy.rollingUpdate.maxUnavailable', true);
    const surge = validateIntOrPercent(rolling.maxSurge, 'spec.strategy.rollingUpdate.maxSurge', false);
    errs.push(...unavailable.errs, ...surge.errs);
    if (unavailable.zero && surge.zero) errs.push(fieldError.invalid('spec.strategy.rollingUpdate.maxUnavailable', rolling.maxUnavailable, 'may not be 0 when `maxSurge` is 0'));
  }
  const deadline = spec.progressDeadlineSeconds;
  const minReady = spec.minReadySeconds;
  if (typeof deadline === 'number') {
    if (deadline <= 0) errs.push(fieldError.invalid('spec.progressDeadlineSeconds', deadline, 'must be greater than 0'));
    else if (typeof minReady === 'number' && deadline <= minReady) errs.push(fieldError.invalid('spec.progressDeadlineSeconds', deadline, 'must be greater than minReadySeconds'));
  }
  return errs;
}

export const deployments: ResourceStrategy = {
  definition: defineResource({
    group: 'apps',
    version: 'v1',
    resource: 'deployments',
    kind: 'Deployment',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    subresources: [subresource.scale(), subresource.status('apps', 'v1', 'Deployment')],
  }),
  tracksGeneration: true,
  annotationsBumpGeneration: true,
  scale: workloadScale,

  defaults(deployment) {
    defaultWorkload(deployment, true);
    const spec = asObject(deployment.spec);
    if (!spec) return;
    const strategy = ensureObject(spec, 'strategy');
    setDefault(strategy, 'type', 'RollingUpdate');
    if (strategy.type === 'RollingUpdate') {
      const rolling = ensureObject(strategy, 'rollingUpdate');
      setDefault(rolling, 'maxUnavailable', '25%');
      setDefault(rolling, 'maxSurge', '25%');
    }
    setDefault(spec, 'progressDeadlineSeconds', 600);
  },
  prepareForStatusUpdate(deployment, old) {
    deployment.metadata.labels = old.metadata.labels;
  },
  validate: validateDeployment,
  validateUpdate: (deployment, old) => [...validateDeployment(deployment), ...validateSelectorImmutable(deployment, old)],
};
