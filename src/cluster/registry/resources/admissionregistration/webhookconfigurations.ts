// Validating and MutatingWebhookConfigurations (admissionregistration.k8s.io/v1): stored with
// upstream's defaults and validation (pkg/apis/admissionregistration/validation), so manifests that
// install them (ingress-nginx, cert-manager, a learner's own webhook) apply as on a real cluster.
// The API server calls the webhooks they name (apiserver/admission/webhooks). matchConditions are
// checked for their name and expression, never compiled (no CEL here).
import type { KubeObject } from '../../../types.ts';
import { asArray, asObject, type Json, str } from '../../../json.ts';
import { setDefault } from '../../fields.ts';
import { defineResource, type ResourceStrategy } from '../../strategy.ts';
import { type FieldError, fieldError, isDNS1035Label, isDNS1123Subdomain, isQualifiedName, isValidPortNumber } from '../../validation.ts';
import { validateLabelSelector } from '../core/podspec.ts';

const GROUP = 'admissionregistration.k8s.io';

const failurePolicies = ['Fail', 'Ignore'];
const matchPolicies = ['Equivalent', 'Exact'];
const noSideEffects = ['None', 'NoneOnDryRun'];
const allSideEffects = ['None', 'NoneOnDryRun', 'Some', 'Unknown'];
const operations = ['*', 'CONNECT', 'CREATE', 'DELETE', 'UPDATE'];
const reinvocationPolicies = ['IfNeeded', 'Never'];
const scopes = ['*', 'Cluster', 'Namespaced'];
const admissionReviewVersions = ['v1', 'v1beta1'];

const strings = (value: unknown): string[] => asArray(value).map((item) => (typeof item === 'string' ? item : String(item)));

/** SetDefaults_ValidatingWebhook / SetDefaults_MutatingWebhook, SetDefaults_Rule and SetDefaults_ServiceReference (v1). */
function defaultWebhooks(configuration: Json, mutating: boolean): void {
  for (const hook of asArray(configuration.webhooks).map(asObject)) {
    if (!hook) continue;
    setDefault(hook, 'failurePolicy', 'Fail');
    setDefault(hook, 'matchPolicy', 'Equivalent');
    setDefault(hook, 'namespaceSelector', {});
    setDefault(hook, 'objectSelector', {});
    setDefault(hook, 'timeoutSeconds', 10);
    if (mutating) setDefault(hook, 'reinvocationPolicy', 'Never');
    for (const rule of asArray(hook.rules).map(asObject)) if (rule) setDefault(rule, 'scope', '*');
    const service = asObject(asObject(hook.clientConfig)?.service);
    if (service) setDefault(service, 'port', 443);
  }
}

/** IsFullyQualifiedName. */
function validateHookName(name: string, path: string): FieldError[] {
  if (name === '') return [fieldError.required(path)];
  const problems = isDNS1123Subdomain(name);
  if (problems.length > 0) return [fieldError.invalid(path, name, problems.join(','))];
  if (name.split('.').length < 3) return [fieldError.invalid(path, name, 'should be a domain with at least three segments separated by dots')];
  return [];
}

/** validateResources (subresources allowed). */
function validateResources(resources: string[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (resources.length === 0) errs.push(fieldError.required(path));
  const withWildcardSubresource = new Set<string>();
  const subresourcesWithWildcardResource = new Set<string>();
  let doubleWildcard = false;
  let singleWildcard = false;
  let withoutSubresource = false;
  resources.forEach((resource, i) => {
    if (resource === '') {
      errs.push(fieldError.required(`${path}[${i}]`));
      return;
    }
    if (resource === '*/*') doubleWildcard = true;
    if (resource === '*') singleWildcard = true;
    const slash = resource.indexOf('/');
    if (slash < 0) {
      withoutSubresource = resource !== '*';
      return;
    }
    const [res, sub] = [resource.slice(0, slash), resource.slice(slash + 1)];
    if (withWildcardSubresource.has(res)) errs.push(fieldError.invalid(`${path}[${i}]`, resource, `if '${res}/*' is present, must not specify ${resource}`));
    if (subresourcesWithWildcardResource.has(sub)) errs.push(fieldError.invalid(`${path}[${i}]`, resource, `if '*/${sub}' is present, must not specify ${resource}`));
    if (sub === '*') withWildcardSubresource.add(res);
    if (res === '*') subresourcesWithWildcardResource.add(sub);
  });
  if (resources.length > 1 && doubleWildcard) errs.push(fieldError.invalid(path, resources, "if '*/*' is present, must not specify other resources"));
  if (singleWildcard && withoutSubresource) errs.push(fieldError.invalid(path, resources, "if '*' is present, must not specify other resources without subresources"));
  return errs;
}

/** validateRuleWithOperations. */
function validateRule(rule: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const ops = strings(rule.operations);
  if (ops.length === 0) errs.push(fieldError.required(`${path}.operations`));
  if (ops.length > 1 && ops.includes('*')) errs.push(fieldError.invalid(`${path}.operations`, ops, "if '*' is present, must not specify other operations"));
  ops.forEach((op, i) => {
    if (!operations.includes(op)) errs.push(fieldError.notSupported(`${path}.operations[${i}]`, op, operations));
  });
  const groups = strings(rule.apiGroups);
  if (groups.length === 0) errs.push(fieldError.required(`${path}.apiGroups`));
  if (groups.length > 1 && groups.includes('*')) errs.push(fieldError.invalid(`${path}.apiGroups`, groups, "if '*' is present, must not specify other API groups"));
  const versions = strings(rule.apiVersions);
  if (versions.length === 0) errs.push(fieldError.required(`${path}.apiVersions`));
  if (versions.length > 1 && versions.includes('*')) errs.push(fieldError.invalid(`${path}.apiVersions`, versions, "if '*' is present, must not specify other API versions"));
  versions.forEach((version, i) => {
    if (version === '') errs.push(fieldError.required(`${path}.apiVersions[${i}]`));
  });
  errs.push(...validateResources(strings(rule.resources), `${path}.resources`));
  if (rule.scope !== undefined && !scopes.includes(String(rule.scope))) errs.push(fieldError.notSupported(`${path}.scope`, rule.scope, scopes));
  return errs;
}

/** ValidateWebhookURL (https only). */
function validateURL(text: string, path: string): FieldError[] {
  const form = '; desired format: https://host[/path]';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return [fieldError.required(path, `url must be a valid URL: parse ${JSON.stringify(text)}: invalid URI for request${form}`)];
  }
  const errs: FieldError[] = [];
  const scheme = url.protocol.replace(/:$/, '');
  if (scheme !== 'https') errs.push(fieldError.invalid(path, scheme, `'https' is the only allowed URL scheme${form}`));
  if (url.host === '') errs.push(fieldError.invalid(path, url.host, `host must be provided${form}`));
  if (url.username !== '' || url.password !== '') errs.push(fieldError.invalid(path, url.password ? `${url.username}:${url.password}` : url.username, 'user information is not permitted in the URL'));
  if (url.hash !== '') errs.push(fieldError.invalid(path, url.hash.slice(1), 'fragments are not permitted in the URL'));
  if (url.search !== '') errs.push(fieldError.invalid(path, url.search.slice(1), 'query parameters are not permitted in the URL'));
  return errs;
}

/** ValidateWebhookService. */
function validateService(service: Json, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (!str(service.name)) errs.push(fieldError.required(`${path}.name`, 'service name is required'));
  if (!str(service.namespace)) errs.push(fieldError.required(`${path}.namespace`, 'service namespace is required'));
  if (!isValidPortNumber(service.port)) errs.push(fieldError.invalid(`${path}.port`, service.port, 'port is not valid: must be between 1 and 65535, inclusive'));
  const urlPath = str(service.path);
  if (urlPath === undefined || urlPath === '' || urlPath === '/') return errs;
  if (urlPath === '//') return [...errs, fieldError.invalid(`${path}.path`, urlPath, 'segment[0] may not be empty')];
  if (!urlPath.startsWith('/')) errs.push(fieldError.invalid(`${path}.path`, urlPath, "must start with a '/'"));
  const steps = urlPath.slice(1).replace(/\/$/, '').split('/');
  steps.forEach((step, i) => {
    if (step === '') errs.push(fieldError.invalid(`${path}.path`, urlPath, `segment[${i}] may not be empty`));
    else for (const problem of isDNS1123Subdomain(step)) errs.push(fieldError.invalid(`${path}.path`, urlPath, `segment[${i}]: ${problem}`));
  });
  return errs;
}

/** validateAdmissionReviewVersions. */
function validateReviewVersions(versions: string[], requireRecognized: boolean, path: string): FieldError[] {
  if (versions.length === 0) return [fieldError.required(path, `must specify one of ${admissionReviewVersions.join(', ')}`)];
  const errs: FieldError[] = [];
  const seen = new Set<string>();
  versions.forEach((version, i) => {
    if (seen.has(version)) {
      errs.push(fieldError.invalid(`${path}[${i}]`, version, 'duplicate version'));
      return;
    }
    seen.add(version);
    for (const problem of isDNS1035Label(version)) errs.push(fieldError.invalid(`${path}[${i}]`, version, problem));
  });
  if (requireRecognized && !versions.some((version) => admissionReviewVersions.includes(version))) {
    errs.push(fieldError.invalid(path, versions, `must include at least one of ${admissionReviewVersions.join(', ')}`));
  }
  return errs;
}

function validateMatchConditions(conditions: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  asArray(conditions).forEach((raw, i) => {
    const condition = asObject(raw) ?? {};
    const name = str(condition.name) ?? '';
    if (name === '') errs.push(fieldError.required(`${path}[${i}].name`));
    else {
      for (const problem of isQualifiedName(name)) errs.push(fieldError.invalid(`${path}[${i}].name`, name, problem));
      if (names.has(name)) errs.push(fieldError.duplicate(`${path}[${i}].name`, name));
      names.add(name);
    }
    if (!str(condition.expression)) errs.push(fieldError.required(`${path}[${i}].expression`));
  });
  return errs;
}

interface Options {
  requireNoSideEffects: boolean;
  requireRecognizedReviewVersion: boolean;
  requireUniqueNames: boolean;
}

function validateWebhook(hook: Json, mutating: boolean, options: Options, path: string): FieldError[] {
  const errs = validateHookName(str(hook.name) ?? '', `${path}.name`);
  asArray(hook.rules).forEach((rule, i) => errs.push(...validateRule(asObject(rule) ?? {}, `${path}.rules[${i}]`)));
  if (hook.failurePolicy !== undefined && !failurePolicies.includes(String(hook.failurePolicy))) errs.push(fieldError.notSupported(`${path}.failurePolicy`, hook.failurePolicy, failurePolicies));
  if (hook.matchPolicy !== undefined && !matchPolicies.includes(String(hook.matchPolicy))) errs.push(fieldError.notSupported(`${path}.matchPolicy`, hook.matchPolicy, matchPolicies));
  const allowed = options.requireNoSideEffects ? noSideEffects : allSideEffects;
  if (hook.sideEffects === undefined || hook.sideEffects === null) errs.push(fieldError.required(`${path}.sideEffects`, `must specify one of ${allowed.join(', ')}`));
  else if (!allowed.includes(String(hook.sideEffects))) errs.push(fieldError.notSupported(`${path}.sideEffects`, hook.sideEffects, allowed));
  const timeout = hook.timeoutSeconds;
  if (typeof timeout === 'number' && (timeout > 30 || timeout < 1)) errs.push(fieldError.invalid(`${path}.timeoutSeconds`, timeout, 'the timeout value must be between 1 and 30 seconds'));
  if (hook.namespaceSelector !== undefined) errs.push(...validateLabelSelector(hook.namespaceSelector, `${path}.namespaceSelector`, false));
  if (hook.objectSelector !== undefined) errs.push(...validateLabelSelector(hook.objectSelector, `${path}.objectSelector`, false));
  if (mutating && hook.reinvocationPolicy !== undefined && !reinvocationPolicies.includes(String(hook.reinvocationPolicy))) {
    errs.push(fieldError.notSupported(`${path}.reinvocationPolicy`, hook.reinvocationPolicy, reinvocationPolicies));
  }
  const client = asObject(hook.clientConfig) ?? {};
  const url = str(client.url);
  const service = asObject(client.service);
  if ((url === undefined) === (service === undefined)) errs.push(fieldError.required(`${path}.clientConfig`, 'exactly one of url or service is required'));
  else if (url !== undefined) errs.push(...validateURL(url, `${path}.clientConfig.url`));
  else if (service) errs.push(...validateService(service, `${path}.clientConfig.service`));
  errs.push(...validateMatchConditions(hook.matchConditions, `${path}.matchConditions`));
  errs.push(...validateReviewVersions(strings(hook.admissionReviewVersions), options.requireRecognizedReviewVersion, `${path}.admissionReviewVersions`));
  return errs;
}

function validateConfiguration(configuration: KubeObject, mutating: boolean, options: Options): FieldError[] {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  asArray((configuration as Json).webhooks).forEach((raw, i) => {
    const hook = asObject(raw) ?? {};
    errs.push(...validateWebhook(hook, mutating, options, `webhooks[${i}]`));
    const name = str(hook.name) ?? '';
    if (options.requireUniqueNames && name !== '') {
      if (names.has(name)) errs.push(fieldError.duplicate(`webhooks[${i}].name`, name));
      names.add(name);
    }
  });
  return errs;
}

/** An update keeps the leniency the old object needed (ValidateValidatingWebhookConfigurationUpdate). */
function updateOptions(old: KubeObject): Options {
  const hooks = asArray((old as Json).webhooks).map((hook) => asObject(hook) ?? {});
  const names = hooks.map((hook) => str(hook.name) ?? '');
  return {
    requireNoSideEffects: hooks.every((hook) => noSideEffects.includes(String(hook.sideEffects))),
    requireRecognizedReviewVersion: hooks.every((hook) => {
      const versions = strings(hook.admissionReviewVersions);
      return versions.length === 0 || versions.some((version) => admissionReviewVersions.includes(version));
    }),
    requireUniqueNames: new Set(names).size === names.length,
  };
}

const createOptions: Options = { requireNoSideEffects: true, requireRecognizedReviewVersion: true, requireUniqueNames: true };

function webhookConfigurations(kind: 'ValidatingWebhookConfiguration' | 'MutatingWebhookConfiguration', resource: string): ResourceStrategy {
  const mutating = kind === 'MutatingWebhookConfiguration';
  return {
    definition: defineResource({ group: GROUP, version: 'v1', resource, kind, namespaced: false, categories: ['api-extensions'] }),
    tracksGeneration: true,
    defaults: (configuration) => defaultWebhooks(configuration, mutating),
    validate: (configuration) => validateConfiguration(configuration, mutating, createOptions),
    validateUpdate: (configuration, old) => validateConfiguration(configuration, mutating, updateOptions(old)),
  };
}

export const validatingwebhookconfigurations = webhookConfigurations('ValidatingWebhookConfiguration', 'validatingwebhookconfigurations');
export const mutatingwebhookconfigurations = webhookConfigurations('MutatingWebhookConfiguration', 'mutatingwebhookconfigurations');
