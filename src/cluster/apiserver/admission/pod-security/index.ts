// PodSecurity admission (k8s.io/pod-security-admission, as kube-apiserver runs it with its
// defaults and no exemptions): a pod is refused when it violates its namespace's enforce level,
// and warned about when it violates the warn level; workload templates (Deployments, Jobs, …)
// are only warned about, never refused; namespace labels are validated, and raising a
// namespace's enforce level warns about the pods already there that would not be admitted.
// The audit level is parsed and validated, but this cluster keeps no audit log to annotate.
import { isJson, type Json } from '../../../json.ts';
import { invalidObject, type AdmissionPlugin, type AdmissionRequest, type Registry } from '../../../registry/index.ts';
import type { KubeObject } from '../../../types.ts';
import { forbidden } from '../forbidden.ts';
import { evaluatePod, forbiddenDetail, forbiddenReason, type PodShape } from './checks.ts';
import { compareLevels, describe, isFullyPrivileged, policyFromLabels, sameLevelVersion, type LevelVersion } from './policy.ts';

const objectAt = (value: unknown, key: string): Json | undefined => (isJson(value) && isJson(value[key]) ? value[key] : undefined);

/** How many existing pods a raised enforce level is tried on (upstream's default). */
const maxPodsToCheck = 3000;

/** Pod subresources that cannot change what the pod runs. */
const ignoredPodSubresources = new Set(['exec', 'attach', 'binding', 'eviction', 'log', 'portforward', 'proxy', 'status']);

/** Where each workload keeps its pod template (DefaultPodSpecExtractor). */
const templates: Record<string, (object: KubeObject) => Json | undefined> = {
  '/replicationcontrollers': (o) => objectAt(o.spec, 'template'),
  '/podtemplates': (o) => objectAt(o, 'template'),
  'apps/replicasets': (o) => objectAt(o.spec, 'template'),
  'apps/deployments': (o) => objectAt(o.spec, 'template'),
  'apps/statefulsets': (o) => objectAt(o.spec, 'template'),
  'apps/daemonsets': (o) => objectAt(o.spec, 'template'),
  'batch/jobs': (o) => objectAt(o.spec, 'template'),
  'batch/cronjobs': (o) => objectAt(objectAt(objectAt(o.spec, 'jobTemplate'), 'spec'), 'template'),
};

function shapeOf(metadata: unknown, spec: unknown): PodShape {
  return { metadata: isJson(metadata) ? metadata : {}, spec: isJson(spec) ? spec : {} };
}

function namespaceLabels(registry: Registry, namespace: string): Record<string, string> | undefined {
  const definition = registry.lookup('', 'v1', 'namespaces');
  if (!definition) return undefined;
  return registry.get(definition, undefined, namespace).metadata.labels;
}

function violations(lv: LevelVersion, pod: PodShape) {
  return evaluatePod(lv.level, lv.minor, pod);
}

/** EvaluatePod: enforce (pods only) refuses, then warn adds a warning to a write that goes through. */
function evaluate(request: AdmissionRequest, pod: PodShape, enforce: boolean): void {
  const { policy } = policyFromLabels(namespaceLabels(request.registry, request.namespace ?? ''));
  let enforced: ReturnType<typeof violations> | undefined;
  if (enforce) {
    enforced = violations(policy.enforce, pod);
    if (enforced.length > 0) throw forbidden(request, `violates PodSecurity ${JSON.stringify(describe(policy.enforce))}: ${forbiddenDetail(enforced)}`);
  }
  const warned = enforced && sameLevelVersion(policy.warn, policy.enforce) ? enforced : violations(policy.warn, pod);
  if (warned.length > 0) request.warnings.push(`would violate PodSecurity ${JSON.stringify(describe(policy.warn))}: ${forbiddenDetail(warned)}`);
}

/** isSignificantPodUpdate: only a change of containers or their images is evaluated again. */
function significantPodUpdate(pod: KubeObject, old: KubeObject): boolean {
  const list = (o: KubeObject, field: string): Json[] => {
    const value = objectAt(o, 'spec')?.[field];
    return Array.isArray(value) ? value.filter(isJson) : [];
  };
  for (const field of ['containers', 'initContainers']) {
    const now = list(pod, field);
    const before = list(old, field);
    if (now.length !== before.length) return true;
    if (now.some((c, i) => c.image !== before[i]?.image)) return true;
  }
  const previous = new Map(list(old, 'ephemeralContainers').map((c) => [c.name, c]));
  return list(pod, 'ephemeralContainers').some((c) => !previous.has(c.name) || previous.get(c.name)?.image !== c.image);
}

function validatePod(request: AdmissionRequest, pod: KubeObject): void {
  if (request.subresource && ignoredPodSubresources.has(request.subresource)) return;
  const { policy, errors } = policyFromLabels(namespaceLabels(request.registry, request.namespace ?? ''));
  if (errors.length === 0 && isFullyPrivileged(policy)) return;
  if (request.operation === 'UPDATE' && request.oldObject && !significantPodUpdate(pod, request.oldObject)) return;
  evaluate(request, shapeOf(pod.metadata, pod.spec), true);
}

function validateWorkload(request: AdmissionRequest, object: KubeObject, template: (o: KubeObject) => Json | undefined): void {
  if (request.subresource) return;
  const { policy, errors } = policyFromLabels(namespaceLabels(request.registry, request.namespace ?? ''));
  if (errors.length === 0 && policy.warn.level === 'privileged' && policy.audit.level === 'privileged') return;
  const found = template(object);
  if (!found) return;
  evaluate(request, shapeOf(found.metadata, found.spec), false);
}

/**
 * EvaluatePodsInNamespace: one warning naming the namespace and new level, then one per distinct
 * set of reasons, prefixed with the first pod's name and how many others share it. Pods of the
 * same controller after the first are checked last, as upstream prioritizes them.
 */
function existingPodWarnings(registry: Registry, namespace: string, enforce: LevelVersion): string[] {
  const definition = registry.lookup('', 'v1', 'pods');
  if (!definition) return [];
  const pods = registry.list(definition, { namespace }).items;
  const seen = new Set<string>();
  const first: KubeObject[] = [];
  const rest: KubeObject[] = [];
  for (const pod of pods) {
    const controller = (pod.metadata.ownerReferences ?? []).find((ref) => ref.controller === true);
    if (controller && seen.has(controller.uid)) rest.push(pod);
    else {
      if (controller) seen.add(controller.uid);
      first.push(pod);
    }
  }
  const prioritized = [...first, ...rest];
  const checked = prioritized.slice(0, maxPodsToCheck);
  const counts = new Map<string, { name: string; count: number }>();
  for (const pod of checked) {
    const results = violations(enforce, shapeOf(pod.metadata, pod.spec));
    if (results.length === 0) continue;
    const reason = forbiddenReason(results);
    const name = pod.metadata.name ?? '';
    const entry = counts.get(reason);
    if (!entry) counts.set(reason, { name, count: 1 });
    else {
      entry.count++;
      if (name < entry.name) entry.name = name;
    }
  }
  const warnings = checked.length < prioritized.length ? [`new PodSecurity enforce level only checked against the first ${checked.length} of ${prioritized.length} existing pods`] : [];
  if (counts.size === 0) return warnings;
  const decorated = [...counts].map(([reason, { name, count }]) => {
    if (count === 1) return `${name}: ${reason}`;
    if (count === 2) return `${name} (and 1 other pod): ${reason}`;
    return `${name} (and ${count - 1} other pods): ${reason}`;
  });
  decorated.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return [...warnings, `existing pods in namespace ${JSON.stringify(namespace)} violate the new PodSecurity enforce level ${JSON.stringify(describe(enforce))}`, ...decorated];
}

function validateNamespace(request: AdmissionRequest, namespace: KubeObject): void {
  if (request.subresource) return;
  const { policy, errors } = policyFromLabels(namespace.metadata.labels);
  if (request.operation === 'CREATE') {
    if (errors.length > 0) throw invalidObject('Namespace', '', request.name, errors);
    return;
  }
  const old = policyFromLabels(request.oldObject?.metadata.labels);
  if (errors.length > 0 && (old.errors.length === 0 || JSON.stringify(errors) !== JSON.stringify(old.errors))) throw invalidObject('Namespace', '', request.name, errors);
  if (sameLevelVersion(policy.enforce, old.policy.enforce)) return;
  if (policy.enforce.level === 'privileged') return;
  if (policy.enforce.minor === old.policy.enforce.minor && compareLevels(policy.enforce.level, old.policy.enforce.level) < 1) return;
  request.warnings.push(...existingPodWarnings(request.registry, request.name, policy.enforce));
}

export const podSecurity: AdmissionPlugin = {
  name: 'PodSecurity',
  validate(request) {
    const { definition, object } = request;
    if (!object || (request.operation !== 'CREATE' && request.operation !== 'UPDATE')) return;
    if (definition.group === '' && definition.resource === 'namespaces') return validateNamespace(request, object);
    if (!request.namespace) return;
    if (definition.group === '' && definition.resource === 'pods') return validatePod(request, object);
    const template = templates[`${definition.group}/${definition.resource}`];
    if (template) validateWorkload(request, object, template);
  },
};
