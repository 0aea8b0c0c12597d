// PodSpec defaulting and validation, shared by Pods and every pod template (Deployment,
// ReplicaSet, StatefulSet, DaemonSet, Job, CronJob), after pkg/apis/core/v1/defaults.go and
// pkg/apis/core/validation.
import { isIP } from 'node:net';
import { tryParseQuantity } from '../../quantity.ts';
import { asArray, asObject, isJson, type Json, num, objects, str } from '../../../json.ts';
import { ensureObject, setDefault } from '../../fields.ts';
import { validateAnnotations, validateLabels } from '../../meta.ts';
import { labelSelectorFromObject } from '../../selectors.ts';
import { validateEphemeralContainerMounts, validateVolumeMounts, validateVolumes } from './podspec-volumes.ts';
import {
  type FieldError,
  fieldError,
  GoValue,
  isConfigMapKey,
  isDNS1123Label,
  isDNS1123Subdomain,
  isDNS1123SubdomainWithUnderscore,
  isEnvVarName,
  isValidPortName,
  isValidPortNumber,
  PORT_RANGE_MESSAGE,
} from '../../validation.ts';

export const restartPolicies = ['Always', 'Never', 'OnFailure'];
const dnsPolicies = ['ClusterFirst', 'ClusterFirstWithHostNet', 'Default', 'None'];
const pullPolicies = ['Always', 'IfNotPresent', 'Never'];
const protocols = ['SCTP', 'TCP', 'UDP'];
const terminationMessagePolicies = ['FallbackToLogsOnError', 'File'];
const computeResources = ['cpu', 'memory', 'ephemeral-storage'];

/** Always for ":latest" or no tag (and no digest), else IfNotPresent. */
export function defaultPullPolicy(image: string): string {
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const tagAt = image.indexOf(':', lastSlash + 1);
  if (tagAt < 0) return 'Always';
  return image.slice(tagAt + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultProbe(probe: unknown): void {
  const p = asObject(probe);
  if (!p) return;
  setDefault(p, 'timeoutSeconds', 1);
  setDefault(p, 'periodSeconds', 10);
  setDefault(p, 'successThreshold', 1);
  setDefault(p, 'failureThreshold', 3);
  const httpGet = asObject(p.httpGet);
  if (httpGet) {
    setDefault(httpGet, 'path', '/');
    setDefault(httpGet, 'scheme', 'HTTP');
  }
}

function defaultContainer(container: Json): void {
  if (typeof container.image === 'string') setDefault(container, 'imagePullPolicy', defaultPullPolicy(container.image));
  setDefault(container, 'terminationMessagePath', '/dev/termination-log');
  setDefault(container, 'terminationMessagePolicy', 'File');
  const resources = ensureObject(container, 'resources');
  // Quantities are stored in their canonical form ("1000m" → "1", 1 → "1", "1024Mi" → "1Gi");
  // what does not parse is left for validation to name.
  for (const list of [asObject(resources.limits), asObject(resources.requests)]) {
    if (!list) continue;
    for (const [name, value] of Object.entries(list)) {
      const quantity = tryParseQuantity(value);
      if (quantity) list[name] = quantity.toString();
    }
  }
  for (const port of objects(container.ports)) setDefault(port, 'protocol', 'TCP');
  for (const env of objects(container.env)) {
    const fieldRef = asObject(asObject(env.valueFrom)?.fieldRef);
    if (fieldRef) setDefault(fieldRef, 'apiVersion', 'v1');
  }
  defaultProbe(container.livenessProbe);
  defaultProbe(container.readinessProbe);
  defaultProbe(container.startupProbe);
}

/** SetDefaults_ObjectFieldSelector for downwardAPI files: apiVersion v1. */
function defaultFieldRefs(items: unknown): void {
  for (const item of objects(items)) {
    const fieldRef = asObject(item.fieldRef);
    if (fieldRef) setDefault(fieldRef, 'apiVersion', 'v1');
  }
}

export function defaultPodSpec(spec: Json): void {
  setDefault(spec, 'restartPolicy', 'Always');
  setDefault(spec, 'dnsPolicy', 'ClusterFirst');
  setDefault(spec, 'terminationGracePeriodSeconds', 30);
  setDefault(spec, 'securityContext', {});
  setDefault(spec, 'schedulerName', 'default-scheduler');
  for (const container of [...objects(spec.containers), ...objects(spec.initContainers), ...objects(spec.ephemeralContainers)]) defaultContainer(container);
  for (const volume of objects(spec.volumes)) {
    for (const source of ['configMap', 'secret'] as const) {
      const v = asObject(volume[source]);
      if (v) setDefault(v, 'defaultMode', 420);
    }
    const downwardAPI = asObject(volume.downwardAPI);
    if (downwardAPI) {
      setDefault(downwardAPI, 'defaultMode', 420);
      defaultFieldRefs(downwardAPI.items);
    }
    const projected = asObject(volume.projected);
    if (projected) {
      setDefault(projected, 'defaultMode', 420);
      for (const source of objects(projected.sources)) {
        defaultFieldRefs(asObject(source.downwardAPI)?.items);
        const token = asObject(source.serviceAccountToken);
        if (token) setDefault(token, 'expirationSeconds', 3600);
      }
    }
    const hostPath = asObject(volume.hostPath);
    if (hostPath) setDefault(hostPath, 'type', '');
    if (volume.emptyDir === null) volume.emptyDir = {};
  }
}

/** SetDefaults_Pod, not SetDefaults_PodSpec: a pod's requests default to its limits, per resource; templates keep what was written. */
export function defaultPodRequests(spec: Json): void {
  for (const container of [...objects(spec.containers), ...objects(spec.initContainers)]) {
    const resources = asObject(container.resources);
    const limits = asObject(resources?.limits);
    if (!resources || !limits) continue;
    const requests = ensureObject(resources, 'requests');
    for (const [name, value] of Object.entries(limits)) setDefault(requests, name, value);
  }
}

export function defaultPodTemplate(template: unknown): void {
  const t = asObject(template);
  if (!t) return;
  defaultPodSpec(ensureObject(t, 'spec'));
}

function validateResources(resources: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const r = asObject(resources);
  if (!r) return errs;
  const parsed: Record<'limits' | 'requests', Map<string, ReturnType<typeof tryParseQuantity>>> = { limits: new Map(), requests: new Map() };
  for (const kind of ['limits', 'requests'] as const) {
    const list = asObject(r[kind]);
    if (!list) continue;
    for (const [name, raw] of Object.entries(list)) {
      const q = tryParseQuantity(raw);
      const fieldPath = `${path}.${kind}[${name}]`;
      if (!q) {
        errs.push(fieldError.invalid(fieldPath, raw, "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"));
        continue;
      }
      if (q.sign() < 0) errs.push(fieldError.invalid(fieldPath, q.toString(), 'must be greater than or equal to 0'));
      if (!name.includes('/') && !computeResources.includes(name) && !name.startsWith('hugepages-'))
        errs.push(fieldError.invalid(`${path}.${kind}[${name}]`, name, 'must be a standard resource for containers'));
      parsed[kind].set(name, q);
    }
  }
  for (const [name, request] of parsed.requests) {
    const limit = parsed.limits.get(name);
    if (request && limit && request.cmp(limit) > 0)
      errs.push(fieldError.invalid(`${path}.requests`, request.toString(), `must be less than or equal to ${name} limit of ${limit.toString()}`));
  }
  return errs;
}

function validateProbe(probe: unknown, path: string): FieldError[] {
  const p = asObject(probe);
  if (!p) return [];
  const errs: FieldError[] = [];
  const handlers = ['exec', 'httpGet', 'tcpSocket', 'grpc'].filter((h) => p[h] !== undefined);
  if (handlers.length === 0) errs.push(fieldError.required(path, 'must specify a handler type'));
  else if (handlers.length > 1) errs.push(fieldError.forbidden(`${path}.${handlers[1]}`, `may not specify more than 1 handler type`));
  for (const field of ['initialDelaySeconds', 'timeoutSeconds', 'periodSeconds', 'successThreshold', 'failureThreshold']) {
    const value = p[field];
    if (value !== undefined && (typeof value !== 'number' || value < 0)) errs.push(fieldError.invalid(`${path}.${field}`, value, 'must be greater than or equal to 0'));
  }
  const httpPort = asObject(p.httpGet)?.port ?? asObject(p.tcpSocket)?.port;
  if (typeof httpPort === 'number' && !isValidPortNumber(httpPort)) {
    const which = p.httpGet ? 'httpGet' : 'tcpSocket';
    errs.push(fieldError.invalid(`${path}.${which}.port`, httpPort, PORT_RANGE_MESSAGE));
  }
  return errs;
}

function validateContainer(container: Json, path: string, volumes: Set<string>, isInit: boolean): FieldError[] {
  const errs: FieldError[] = [];
  const name = container.name;
  if (typeof name !== 'string' || name === '') errs.push(fieldError.required(`${path}.name`));
  else for (const msg of isDNS1123Label(name)) errs.push(fieldError.invalid(`${path}.name`, name, msg));
  const image = container.image;
  if (typeof image !== 'string' || image.trim() === '') errs.push(fieldError.required(`${path}.image`));
  else if (image !== image.trim()) errs.push(fieldError.invalid(`${path}.image`, image, 'must not have leading or trailing whitespace'));
  const pull = container.imagePullPolicy;
  if (pull !== undefined && !pullPolicies.includes(String(pull))) errs.push(fieldError.notSupported(`${path}.imagePullPolicy`, pull, pullPolicies));
  const policy = container.terminationMessagePolicy;
  if (policy !== undefined && !terminationMessagePolicies.includes(String(policy)))
    errs.push(fieldError.notSupported(`${path}.terminationMessagePolicy`, policy, terminationMessagePolicies));
  const portNames = new Set<string>();
  asArray(container.ports).forEach((raw, i) => {
    const port = asObject(raw) ?? {};
    const p = `${path}.ports[${i}]`;
    if (port.containerPort === undefined) errs.push(fieldError.required(`${p}.containerPort`));
    else if (!isValidPortNumber(port.containerPort)) errs.push(fieldError.invalid(`${p}.containerPort`, port.containerPort, PORT_RANGE_MESSAGE));
    if (port.hostPort !== undefined && port.hostPort !== 0 && !isValidPortNumber(port.hostPort)) errs.push(fieldError.invalid(`${p}.hostPort`, port.hostPort, PORT_RANGE_MESSAGE));
    if (port.protocol !== undefined && !protocols.includes(String(port.protocol))) errs.push(fieldError.notSupported(`${p}.protocol`, port.protocol, protocols));
    if (typeof port.name === 'string' && port.name !== '') {
      for (const msg of isValidPortName(port.name)) errs.push(fieldError.invalid(`${p}.name`, port.name, msg));
      if (portNames.has(port.name)) errs.push(fieldError.duplicate(`${p}.name`, port.name));
      portNames.add(port.name);
    }
  });
  asArray(container.env).forEach((raw, i) => {
    const env = asObject(raw) ?? {};
    const p = `${path}.env[${i}]`;
    if (typeof env.name !== 'string' || env.name === '') errs.push(fieldError.required(`${p}.name`));
    else for (const msg of isEnvVarName(env.name)) errs.push(fieldError.invalid(`${p}.name`, env.name, msg));
    const from = asObject(env.valueFrom);
    if (from && env.value !== undefined && env.value !== '') errs.push(fieldError.invalid(`${p}.valueFrom`, '', 'may not be specified when `value` is not empty'));
    if (from) {
      const refs = ['fieldRef', 'resourceFieldRef', 'configMapKeyRef', 'secretKeyRef'].filter((r) => from[r] !== undefined);
      if (refs.length !== 1) errs.push(fieldError.invalid(`${p}.valueFrom`, '', 'must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`'));
      for (const ref of ['configMapKeyRef', 'secretKeyRef']) {
        const r = asObject(from[ref]);
        if (!r) continue;
        if (typeof r.key !== 'string' || r.key === '') errs.push(fieldError.required(`${p}.valueFrom.${ref}.key`));
        else for (const msg of isConfigMapKey(r.key)) errs.push(fieldError.invalid(`${p}.valueFrom.${ref}.key`, r.key, msg));
      }
    }
  });
  asArray(container.envFrom).forEach((raw, i) => {
    const envFrom = asObject(raw) ?? {};
    const prefix = envFrom.prefix;
    if (typeof prefix === 'string' && prefix !== '') for (const msg of isEnvVarName(prefix)) errs.push(fieldError.invalid(`${path}.envFrom[${i}].prefix`, prefix, msg));
    if (!envFrom.configMapRef && !envFrom.secretRef) errs.push(fieldError.invalid(`${path}.envFrom[${i}]`, '', 'must specify one of: `configMapRef` or `secretRef`'));
  });
  errs.push(...validateVolumeMounts(container.volumeMounts, `${path}.volumeMounts`, volumes, container));
  errs.push(...validateResources(container.resources, `${path}.resources`));
  if (!isInit) {
    errs.push(...validateProbe(container.livenessProbe, `${path}.livenessProbe`));
    errs.push(...validateProbe(container.readinessProbe, `${path}.readinessProbe`));
    errs.push(...validateProbe(container.startupProbe, `${path}.startupProbe`));
  }
  return errs;
}

/** What an ephemeral container may not have: it is not part of the pod's plan (no ports, probes, resources or lifecycle). */
const ephemeralForbiddenFields = ['lifecycle', 'livenessProbe', 'ports', 'readinessProbe', 'resizePolicy', 'restartPolicy', 'startupProbe'];

/** validateEphemeralContainers: a container's rules, a name unique in the pod, a target that is one of its containers. */
function validateEphemeralContainers(list: unknown, path: string, podNames: Set<string>, volumes: Set<string>): FieldError[] {
  const errs: FieldError[] = [];
  const targets = new Set(podNames);
  const seen = new Set(podNames);
  asArray(list).forEach((raw, i) => {
    const p = `${path}[${i}]`;
    if (!isJson(raw)) {
      errs.push(fieldError.invalid(p, raw, 'must be an object'));
      return;
    }
    const name = raw.name;
    if (typeof name === 'string' && name !== '') {
      if (seen.has(name)) errs.push(fieldError.duplicate(`${p}.name`, name));
      seen.add(name);
    }
    for (const field of ephemeralForbiddenFields) if (raw[field] !== undefined && raw[field] !== null) errs.push(fieldError.forbidden(`${p}.${field}`, 'cannot be set for an Ephemeral Container'));
    const resources = asObject(raw.resources) ?? {};
    if (Object.keys(asObject(resources.limits) ?? {}).length > 0 || Object.keys(asObject(resources.requests) ?? {}).length > 0 || resources.claims !== undefined)
      errs.push(fieldError.forbidden(`${p}.resources`, 'cannot be set for an Ephemeral Container'));
    const target = raw.targetContainerName;
    if (typeof target === 'string' && target !== '' && !targets.has(target)) errs.push(fieldError.notFound(`${p}.targetContainerName`, target));
    errs.push(...validateContainer({ ...raw, ports: undefined, resources: undefined, volumeMounts: undefined }, p, volumes, true));
  });
  return errs;
}

export interface PodSpecRules {
  /** restart policies this owner allows (Deployments: Always only) */
  restartPolicies?: string[];
}

export function validatePodSpec(specValue: unknown, path: string, rules: PodSpecRules = {}): FieldError[] {
  const spec = asObject(specValue);
  if (!spec) return [fieldError.required(path)];
  const errs: FieldError[] = [];
  const { errs: volumeErrs, names: volumes } = validateVolumes(spec.volumes, `${path}.volumes`);
  errs.push(...volumeErrs);
  const containers = spec.containers;
  if (!Array.isArray(containers) || containers.length === 0) errs.push(fieldError.required(`${path}.containers`));
  const names = new Set<string>();
  const check = (list: unknown, field: string, isInit: boolean) => {
    asArray(list).forEach((raw, i) => {
      const p = `${path}.${field}[${i}]`;
      if (!isJson(raw)) {
        errs.push(fieldError.invalid(p, raw, 'must be an object'));
        return;
      }
      errs.push(...validateContainer(raw, p, volumes, isInit));
      if (typeof raw.name === 'string' && raw.name !== '') {
        if (names.has(raw.name)) errs.push(fieldError.duplicate(`${p}.name`, raw.name));
        names.add(raw.name);
      }
    });
  };
  check(spec.initContainers, 'initContainers', true);
  check(containers, 'containers', false);
  errs.push(...validateEphemeralContainers(spec.ephemeralContainers, `${path}.ephemeralContainers`, names, volumes));
  errs.push(...validateEphemeralContainerMounts(spec.ephemeralContainers, `${path}.ephemeralContainers`, volumes));
  const restart = spec.restartPolicy;
  const allowed = rules.restartPolicies ?? restartPolicies;
  if (restart !== undefined && !allowed.includes(String(restart))) {
    errs.push(fieldError.notSupported(`${path}.restartPolicy`, restart, allowed));
  }
  if (spec.dnsPolicy !== undefined && !dnsPolicies.includes(String(spec.dnsPolicy))) errs.push(fieldError.notSupported(`${path}.dnsPolicy`, spec.dnsPolicy, dnsPolicies));
  errs.push(...validatePodDNSConfig(spec.dnsConfig, spec.dnsPolicy, `${path}.dnsConfig`));
  const grace = spec.terminationGracePeriodSeconds;
  if (grace !== undefined && (typeof grace !== 'number' || !Number.isInteger(grace))) errs.push(fieldError.invalid(`${path}.terminationGracePeriodSeconds`, grace, 'must be an integer'));
  const deadline = spec.activeDeadlineSeconds;
  if (deadline !== undefined && (typeof deadline !== 'number' || deadline <= 0 || !Number.isInteger(deadline)))
    errs.push(fieldError.invalid(`${path}.activeDeadlineSeconds`, deadline, 'must be between 1 and 2147483647, inclusive'));
  if (spec.nodeSelector !== undefined) errs.push(...validateLabels(spec.nodeSelector, `${path}.nodeSelector`));
  const sa = spec.serviceAccountName;
  if (typeof sa === 'string' && sa !== '') for (const msg of isDNS1123Subdomain(sa)) errs.push(fieldError.invalid(`${path}.serviceAccountName`, sa, msg));
  const hostname = spec.hostname;
  if (typeof hostname === 'string' && hostname !== '') for (const msg of isDNS1123Label(hostname)) errs.push(fieldError.invalid(`${path}.hostname`, hostname, msg));
  asArray(spec.imagePullSecrets).forEach((raw, i) => {
    if (typeof asObject(raw)?.name !== 'string') errs.push(fieldError.required(`${path}.imagePullSecrets[${i}].name`));
  });
  return errs;
}

/** Limits of the C library's resolver (validation.MaxDNSNameservers and friends). */
const MAX_DNS_NAMESERVERS = 3;
const MAX_DNS_SEARCH_PATHS = 32;
const MAX_DNS_SEARCH_LIST_CHARS = 2048;

/** dnsConfig, as validatePodDNSConfig with 1.33's relaxed search validation (a lone "." and underscores). */
function validatePodDNSConfig(value: unknown, policy: unknown, path: string): FieldError[] {
  const config = asObject(value);
  if (policy === 'None') {
    if (!config) return [fieldError.required(path, 'must provide `dnsConfig` when `dnsPolicy` is None')];
    if (asArray(config.nameservers).length === 0) return [fieldError.required(`${path}.nameservers`, 'must provide at least one DNS nameserver when `dnsPolicy` is None')];
  }
  if (!config) return [];
  const errs: FieldError[] = [];
  const nameservers = asArray(config.nameservers);
  if (nameservers.length > MAX_DNS_NAMESERVERS) errs.push(fieldError.invalid(`${path}.nameservers`, nameservers, `must not have more than ${MAX_DNS_NAMESERVERS} nameservers`));
  nameservers.forEach((server, i) => {
    if (typeof server !== 'string' || isIP(server) === 0) errs.push(fieldError.invalid(`${path}.nameservers[${i}]`, server, 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)'));
  });
  const searches = asArray(config.searches);
  if (searches.length > MAX_DNS_SEARCH_PATHS) errs.push(fieldError.invalid(`${path}.searches`, searches, `must not have more than ${MAX_DNS_SEARCH_PATHS} search paths`));
  if (searches.map(String).join(' ').length > MAX_DNS_SEARCH_LIST_CHARS)
    errs.push(fieldError.invalid(`${path}.searches`, searches, `must not have more than ${MAX_DNS_SEARCH_LIST_CHARS} characters (including spaces) in the search list`));
  searches.forEach((search, i) => {
    if (search === '.') return;
    // A trailing dot is fine.
    const domain = String(search).replace(/\.$/, '');
    for (const msg of isDNS1123SubdomainWithUnderscore(domain)) errs.push(fieldError.invalid(`${path}.searches[${i}]`, domain, msg));
  });
  asArray(config.options).forEach((option, i) => {
    const name = asObject(option)?.name;
    if (typeof name !== 'string' || name === '') errs.push(fieldError.required(`${path}.options[${i}]`, 'must not be empty'));
  });
  return errs;
}

/** A pod template inside a workload: labels must be selected by the workload's selector. */
export function validatePodTemplate(template: unknown, path: string, selector: unknown, rules: PodSpecRules = {}): FieldError[] {
  const t = asObject(template);
  if (!t) return [fieldError.required(path)];
  const errs: FieldError[] = [];
  const meta = asObject(t.metadata) ?? {};
  errs.push(...validateLabels(meta.labels, `${path}.metadata.labels`));
  errs.push(...validateAnnotations(meta.annotations, `${path}.metadata.annotations`));
  // A null selector is upstream's labels.Nothing() (the workload has none): no labels match it.
  if (selector !== undefined) {
    const labels = asObject(meta.labels) as Record<string, string> | undefined;
    if (selector === null || !labelSelectorFromObject(selector).matches(labels ?? {}))
      errs.push(fieldError.invalid(`${path}.metadata.labels`, new GoValueMap(labels), '`selector` does not match template `labels`'));
  }
  errs.push(...validatePodSpec(t.spec, `${path}.spec`, rules));
  return errs;
}

/** Go's %#v of map[string]string, which is how upstream prints template labels. */
export class GoValueMap extends GoValue {
  constructor(labels: Record<string, string> | undefined) {
    if (!labels) {
      super('map[string]string(nil)');
      return;
    }
    const keys = Object.keys(labels).sort();
    super(`map[string]string{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(labels[k])}`).join(', ')}}`);
  }
}

/** metav1.LabelSelector validation: required, non-empty, keys and values well formed. */
export function validateLabelSelector(selector: unknown, path: string, required: boolean): FieldError[] {
  const s = asObject(selector);
  if (!s) return required ? [fieldError.required(path)] : [];
  const errs: FieldError[] = [];
  errs.push(...validateLabels(s.matchLabels, `${path}.matchLabels`));
  asArray(s.matchExpressions).forEach((raw, i) => {
    const expr = asObject(raw) ?? {};
    const p = `${path}.matchExpressions[${i}]`;
    const operator = str(expr.operator);
    const values = asArray(expr.values);
    if (operator === 'In' || operator === 'NotIn') {
      if (values.length === 0) errs.push(fieldError.required(`${p}.values`, 'must be specified when `operator` is \'In\' or \'NotIn\''));
    } else if (operator === 'Exists' || operator === 'DoesNotExist') {
      if (values.length > 0) errs.push(fieldError.forbidden(`${p}.values`, 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\''));
    } else {
      errs.push(fieldError.invalid(`${p}.operator`, expr.operator ?? '', 'not a valid selector operator'));
    }
    if (typeof expr.key !== 'string') errs.push(fieldError.required(`${p}.key`));
  });
  if (required && Object.keys(asObject(s.matchLabels) ?? {}).length === 0 && asArray(s.matchExpressions).length === 0)
    errs.push(fieldError.invalid(path, new GoValueSelector(s), 'empty selector is invalid for deployment'));
  return errs;
}

/** metav1.LabelSelector printed with %#v, as in the famous "field is immutable" message. */
export class GoValueSelector extends GoValue {
  constructor(selector: unknown) {
    const s = asObject(selector) ?? {};
    const labels = asObject(s.matchLabels);
    const labelText = labels
      ? `map[string]string{${Object.keys(labels)
          .sort()
          .map((k) => `${JSON.stringify(k)}:${JSON.stringify(labels[k])}`)
          .join(', ')}}`
      : 'map[string]string(nil)';
    const exprs = objects(s.matchExpressions);
    const exprText = exprs.length
      ? `[]v1.LabelSelectorRequirement{${exprs
          .map(
            (e) =>
              `v1.LabelSelectorRequirement{Key:${JSON.stringify(e.key ?? '')}, Operator:${JSON.stringify(e.operator ?? '')}, Values:${
                Array.isArray(e.values) ? `[]string{${e.values.map((v) => JSON.stringify(v)).join(', ')}}` : '[]string(nil)'
              }}`,
          )
          .join(', ')}}`
      : '[]v1.LabelSelectorRequirement(nil)';
    super(`v1.LabelSelector{MatchLabels:${labelText}, MatchExpressions:${exprText}}`);
  }
}

/** metav1.FormatLabelSelector: the string form a Scale's status.selector carries. */
export function formatLabelSelector(selector: unknown): string | undefined {
  const s = asObject(selector);
  if (!s) return undefined;
  const parts: string[] = [];
  const labels = asObject(s.matchLabels) ?? {};
  for (const key of Object.keys(labels).sort()) parts.push(`${key}=${String(labels[key])}`);
  for (const e of objects(s.matchExpressions)) {
    const values = asArray(e.values).map(String).sort();
    switch (e.operator) {
      case 'In':
        parts.push(`${String(e.key)} in (${values.join(',')})`);
        break;
      case 'NotIn':
        parts.push(`${String(e.key)} notin (${values.join(',')})`);
        break;
      case 'Exists':
        parts.push(String(e.key));
        break;
      case 'DoesNotExist':
        parts.push(`!${String(e.key)}`);
        break;
    }
  }
  return parts.join(',');
}

export function validateNonNegative(value: unknown, path: string): FieldError[] {
  if (value === undefined) return [];
  const n = num(value);
  if (n === undefined || !Number.isInteger(n)) return [fieldError.invalid(path, value, 'must be an integer')];
  return n < 0 ? [fieldError.invalid(path, n, 'must be greater than or equal to 0')] : [];
}

