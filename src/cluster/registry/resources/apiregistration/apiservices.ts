// APIServices (kube-aggregator's apiregistration.k8s.io/v1): one per served group/version, named
// `version.group`; a local one is served by kube-apiserver itself, one with spec.service by an
// extension API server behind the aggregator (metrics-server's v1beta1.metrics.k8s.io).
import type { KubeObject } from '../../../types.ts';
import { asObject, str } from '../../../json.ts';
import { defineResource, type ResourceStrategy, subresource } from '../../strategy.ts';
import { type FieldError, fieldError, isDNS1035Label, isDNS1123Subdomain, isValidPathSegmentName } from '../../validation.ts';

const GROUP = 'apiregistration.k8s.io';
const conditionStatuses = ['True', 'False', 'Unknown'];

/** ValidateAPIService, with kube-aggregator's messages. */
function validateAPIService(apiService: KubeObject): FieldError[] {
  const errs: FieldError[] = [];
  const spec = asObject(apiService.spec) ?? {};
  const group = str(spec.group) ?? '';
  const version = str(spec.version) ?? '';
  const name = apiService.metadata.name ?? '';
  const required = `${version}.${group}`;
  const pathProblems = isValidPathSegmentName(name);
  for (const problem of pathProblems.length > 0 ? pathProblems : name !== required ? [`must be \`spec.version+"."+spec.group\`: ${JSON.stringify(required)}`] : []) {
    errs.push(fieldError.invalid('metadata.name', name, problem));
  }
  if (group === '' && version !== 'v1') errs.push(fieldError.required('spec.group', 'only v1 may have an empty group and it better be legacy kube'));
  if (group !== '') for (const problem of isDNS1123Subdomain(group)) errs.push(fieldError.invalid('spec.group', group, problem));
  for (const problem of isDNS1035Label(version)) errs.push(fieldError.invalid('spec.version', version, problem));
  const groupPriority = typeof spec.groupPriorityMinimum === 'number' ? spec.groupPriorityMinimum : 0;
  if (groupPriority <= 0 || groupPriority > 20000) errs.push(fieldError.invalid('spec.groupPriorityMinimum', groupPriority, 'must be positive and less than 20000'));
  const versionPriority = typeof spec.versionPriority === 'number' ? spec.versionPriority : 0;
  if (versionPriority <= 0 || versionPriority > 1000) errs.push(fieldError.invalid('spec.versionPriority', versionPriority, 'must be positive and less than 1000'));
  const caBundle = str(spec.caBundle) ?? '';
  const insecure = spec.insecureSkipTLSVerify === true;
  const service = asObject(spec.service);
  if (!service) {
    if (caBundle !== '') errs.push(fieldError.invalid('spec.caBundle', `${Buffer.from(caBundle, 'base64').length} bytes`, 'local APIServices may not have a caBundle'));
    if (insecure) errs.push(fieldError.invalid('spec.insecureSkipTLSVerify', true, 'local APIServices may not have insecureSkipTLSVerify'));
    return errs;
  }
  if (!str(service.namespace)) errs.push(fieldError.required('spec.service.namespace'));
  if (!str(service.name)) errs.push(fieldError.required('spec.service.name'));
  if (insecure && caBundle !== '') errs.push(fieldError.invalid('spec.insecureSkipTLSVerify', true, 'may not be true if caBundle is present'));
  return errs;
}

function validateStatus(apiService: KubeObject): FieldError[] {
  const conditions = (asObject(apiService.status)?.conditions ?? []) as unknown[];
  return conditions.flatMap((condition, i) => {
    const status = asObject(condition)?.status;
    return conditionStatuses.includes(String(status)) ? [] : [fieldError.notSupported(`status.conditions[${i}].status`, status, conditionStatuses)];
  });
}

export const apiservices: ResourceStrategy = {
  definition: defineResource({ group: GROUP, version: 'v1', resource: 'apiservices', kind: 'APIService', namespaced: false, categories: ['api-extensions'], subresources: [subresource.status(GROUP, 'v1', 'APIService')] }),
  validateName: () => [],
  defaults(apiService) {
    // SetDefaults_ServiceReference: port 443.
    const service = asObject(asObject(apiService.spec)?.service);
    if (service && service.port === undefined) service.port = 443;
  },
  prepareForCreate(apiService) {
    apiService.status = {};
  },
  validate: validateAPIService,
  validateUpdate: validateAPIService,
  validateStatusUpdate: validateStatus,
};
