// Pods (pkg/registry/core/pod/strategy.go): defaults, QoS class, a spec that is mostly immutable,
// a status subresource, and graceful deletion.
import { statusErrors, type KubeObject } from '../../../types.ts';
import { asArray, asObject, type Json, objects, str } from '../../../json.ts';
import { clone, deepEqual, setDefault } from '../../fields.ts';
import { tryParseQuantity } from '../../quantity.ts';
import { defineResource, type ResourceStrategy, subresource } from '../../strategy.ts';
import { formatTimestamp } from '../../meta.ts';
import { type FieldError, fieldError } from '../../validation.ts';
import { defaultPodRequests, defaultPodSpec, validatePodSpec } from './podspec.ts';

const podPhases = ['Failed', 'Pending', 'Running', 'Succeeded', 'Unknown'];

export const podFieldSelectors: Record<string, (pod: KubeObject) => string | undefined> = {
  'spec.nodeName': (p) => str(asObject(p.spec)?.nodeName),
  'spec.restartPolicy': (p) => str(asObject(p.spec)?.restartPolicy),
  'spec.schedulerName': (p) => str(asObject(p.spec)?.schedulerName),
  'spec.serviceAccountName': (p) => str(asObject(p.spec)?.serviceAccountName),
  'spec.hostNetwork': (p) => String(asObject(p.spec)?.hostNetwork === true),
  'status.phase': (p) => str(asObject(p.status)?.phase),
  'status.podIP': (p) => str(asObject(p.status)?.podIP),
  'status.nominatedNodeName': (p) => str(asObject(p.status)?.nominatedNodeName),
};

/** BestEffort, Burstable or Guaranteed, from cpu and memory requests and limits (pkg/apis/core/helper/qos). */
export function podQOSClass(spec: unknown): 'BestEffort' | 'Burstable' | 'Guaranteed' {
  const s = asObject(spec) ?? {};
  const containers = [...objects(s.containers), ...objects(s.initContainers)];
  let any = false;
  let guaranteed = true;
  for (const container of containers) {
    const resources = asObject(container.resources) ?? {};
    const requests = asObject(resources.requests) ?? {};
    const limits = asObject(resources.limits) ?? {};
    for (const name of ['cpu', 'memory']) {
      const request = tryParseQuantity(requests[name]);
      const limit = tryParseQuantity(limits[name]);
      if ((request && !request.isZero()) || (limit && !limit.isZero())) any = true;
      if (!limit || limit.isZero()) guaranteed = false;
      else if (request && request.cmp(limit) !== 0) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

const defaultTolerations = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

/** What the ServiceAccount, Priority and DefaultTolerationSeconds admission plugins add to a new pod. */
function podAdmissionDefaults(spec: Json): void {
  setDefault(spec, 'serviceAccountName', typeof spec.serviceAccount === 'string' && spec.serviceAccount ? spec.serviceAccount : 'default');
  spec.serviceAccount = spec.serviceAccountName;
  setDefault(spec, 'priority', 0);
  setDefault(spec, 'preemptionPolicy', 'PreemptLowerPriority');
  const tolerations = objects(spec.tolerations);
  for (const toleration of defaultTolerations) {
    const present = tolerations.some((t) => t.key === toleration.key && (t.effect === undefined || t.effect === 'NoExecute'));
    if (!present) tolerations.push({ ...toleration });
  }
  spec.tolerations = tolerations;
}

const mutableSpecMessage =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

function validatePodSpecUpdate(spec: unknown, oldSpec: unknown): FieldError[] {
  const next = asObject(clone(spec)) ?? {};
  const old = asObject(oldSpec) ?? {};
  const errs: FieldError[] = [];
  for (const field of ['containers', 'initContainers'] as const) {
    const nextContainers = objects(next[field]);
    const oldContainers = objects(old[field]);
    if (nextContainers.length !== oldContainers.length) continue;
    nextContainers.forEach((container, i) => {
      const image = container.image;
      if (typeof image !== 'string' || image === '') errs.push(fieldError.required(`spec.${field}[${i}].image`));
      container.image = oldContainers[i]?.image;
    });
  }
  const oldDeadline = old.activeDeadlineSeconds;
  const newDeadline = next.activeDeadlineSeconds;
  if (typeof oldDeadline === 'number' && (newDeadline === undefined || (typeof newDeadline === 'number' && newDeadline > oldDeadline)))
    errs.push(fieldError.invalid('spec.activeDeadlineSeconds', newDeadline ?? null, 'must be less than or equal to previous value'));
  next.activeDeadlineSeconds = oldDeadline;
  const oldTolerations = asArray(old.tolerations);
  const newTolerations = asArray(next.tolerations);
  if (oldTolerations.every((t) => newTolerations.some((n) => deepEqual(n, t)))) next.tolerations = old.tolerations;
  if (typeof old.terminationGracePeriodSeconds === 'number' && old.terminationGracePeriodSeconds < 0 && next.terminationGracePeriodSeconds === 1)
    next.terminationGracePeriodSeconds = old.terminationGracePeriodSeconds;
  if (Array.isArray(old.schedulingGates) && (next.schedulingGates === undefined || asArray(next.schedulingGates).length < old.schedulingGates.length))
    next.schedulingGates = old.schedulingGates;
  if (!deepEqual(next, old)) errs.push(fieldError.forbidden('spec', mutableSpecMessage));
  return errs;
}

export const pods: ResourceStrategy = {
  definition: defineResource({
    group: '',
    version: 'v1',
    resource: 'pods',
    kind: 'Pod',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    subresources: [
      { name: 'attach', kind: 'PodAttachOptions', group: '', version: 'v1', verbs: ['create', 'get'] },
      { name: 'binding', kind: 'Binding', group: '', version: 'v1', verbs: ['create'] },
      { name: 'ephemeralcontainers', kind: 'Pod', group: '', version: 'v1', verbs: ['get', 'patch', 'update'] },
      { name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1', verbs: ['create'] },
      { name: 'exec', kind: 'PodExecOptions', group: '', version: 'v1', verbs: ['create', 'get'] },
      { name: 'log', kind: 'Pod', group: '', version: 'v1', verbs: ['get'] },
      { name: 'portforward', kind: 'PodPortForwardOptions', group: '', version: 'v1', verbs: ['create', 'get'] },
      { name: 'proxy', kind: 'PodProxyOptions', group: '', version: 'v1', verbs: ['create', 'delete', 'get', 'patch', 'update'] },
      { name: 'resize', kind: 'Pod', group: '', version: 'v1', verbs: ['get', 'patch', 'update'] },
      subresource.status('', 'v1', 'Pod'),
    ],
    fieldSelectors: podFieldSelectors,
  }),
  tracksGeneration: true,

  defaults(pod) {
    const spec = asObject(pod.spec);
    if (!spec) return;
    defaultPodSpec(spec);
    // SetDefaults_Pod, not SetDefaults_PodSpec: templates in workloads do not get these.
    defaultPodRequests(spec);
    setDefault(spec, 'enableServiceLinks', true);
    podAdmissionDefaults(spec);
  },

  prepareForCreate(pod) {
    pod.status = { phase: 'Pending', qosClass: podQOSClass(pod.spec) };
  },

  validate(pod) {
    const errs = validatePodSpec(pod.spec, 'spec');
    // ValidatePodCreate: ephemeral containers come only through pods/ephemeralcontainers.
    if (asArray(asObject(pod.spec)?.ephemeralContainers).length > 0) errs.push(fieldError.forbidden('spec.ephemeralContainers', 'cannot be set on create'));
    return errs;
  },

  validateUpdate(pod, old) {
    const errs = validatePodSpec(pod.spec, 'spec');
    errs.push(...validatePodSpecUpdate(pod.spec, old.spec));
    return errs;
  },

  prepareForStatusUpdate(pod, old) {
    pod.metadata.ownerReferences = old.metadata.ownerReferences;
    const status = asObject(pod.status);
    const oldStatus = asObject(old.status);
    if (status && !status.qosClass && oldStatus?.qosClass) status.qosClass = oldStatus.qosClass;
  },

  validateStatusUpdate(pod) {
    const phase = asObject(pod.status)?.phase;
    if (phase !== undefined && !podPhases.includes(String(phase))) return [fieldError.notSupported('status.phase', phase, podPhases)];
    return [];
  },

  // pods/ephemeralcontainers (podEphemeralContainersStrategy): everything but the ephemeral containers stays as it was.
  prepareForEphemeralContainers(pod, input) {
    const containers = asArray(asObject(input.spec)?.ephemeralContainers).map((c) => clone(c));
    const spec: Json = { ...(asObject(pod.spec) ?? {}), ephemeralContainers: containers };
    if (containers.length === 0) delete spec.ephemeralContainers;
    // The subresource's body is decoded as a whole Pod, so its ephemeral containers are defaulted as containers are.
    defaultPodSpec(spec);
    pod.spec = spec;
  },

  validateEphemeralContainersUpdate(pod, old) {
    // Static pods do not support ephemeral containers (kubernetes#113935).
    if (old.metadata.annotations?.['kubernetes.io/config.mirror'] !== undefined) return [fieldError.forbidden('', 'static pods do not support ephemeral containers')];
    const errs = validatePodSpec(pod.spec, 'spec');
    const next = new Map(objects(asObject(pod.spec)?.ephemeralContainers).map((c) => [c.name, c]));
    for (const previous of objects(asObject(old.spec)?.ephemeralContainers)) {
      const now = next.get(previous.name);
      if (!now) errs.push(fieldError.forbidden('spec.ephemeralContainers', `existing ephemeral containers ${JSON.stringify(previous.name)} may not be removed\n`));
      else if (!deepEqual(now, previous)) errs.push(fieldError.forbidden('spec.ephemeralContainers', `existing ephemeral containers ${JSON.stringify(previous.name)} may not be changed\n`));
    }
    return errs;
  },

  // pods/binding (pkg/registry/core/pod/storage: setPodHostAndAnnotations): once, never while deleting.
  prepareForBinding(pod, input, ctx) {
    const name = pod.metadata.name ?? '';
    const gr = { group: '', resource: 'pods/binding' };
    const spec = asObject(pod.spec) ?? {};
    if (pod.metadata.deletionTimestamp) throw statusErrors.conflict(gr, name, `pod ${name} is being deleted, cannot be assigned to a host`);
    if (typeof spec.nodeName === 'string' && spec.nodeName !== '') throw statusErrors.conflict(gr, name, `pod ${name} is already assigned to node "${spec.nodeName}"`);
    pod.spec = { ...spec, nodeName: str(asObject(input.spec)?.nodeName) ?? '' };
    const annotations = input.metadata.annotations;
    if (annotations && Object.keys(annotations).length) pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), ...annotations };
    const status = { ...(asObject(pod.status) ?? {}) };
    const conditions = objects(status.conditions).filter((c) => c.type !== 'PodScheduled');
    conditions.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: formatTimestamp(ctx.now) });
    status.conditions = conditions;
    pod.status = status;
  },

  gracePeriodSeconds(pod, options) {
    const spec = asObject(pod.spec) ?? {};
    let period = options.gracePeriodSeconds ?? (typeof spec.terminationGracePeriodSeconds === 'number' ? spec.terminationGracePeriodSeconds : 0);
    if (typeof spec.nodeName !== 'string' || spec.nodeName === '') period = 0;
    const phase = asObject(pod.status)?.phase;
    if (phase === 'Failed' || phase === 'Succeeded') period = 0;
    return period < 0 ? 1 : period;
  },
};
