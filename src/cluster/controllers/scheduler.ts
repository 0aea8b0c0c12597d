// The default scheduler, in the manner of kube-scheduler's framework with its default plugins:
// filters (NodeUnschedulable, TaintToleration, NodeAffinity, NodePorts, NodeResourcesFit,
// VolumeBinding) say which nodes can take a pod, scores (least allocated, balanced allocation,
// spreading a controller's pods) pick one, and the pod is bound through pods/binding. A pod no
// node can take stays Pending with PodScheduled=False/Unschedulable and a FailedScheduling event
// worded as upstream's FitError, and is tried again when nodes or pods change.
import { computeResourcesOf, type Quantity, tryParseQuantity } from '../registry/index.ts';
import type { KubeObject } from '../types.ts';
import type { ControllerClient } from './client.ts';
import { isNotFound } from './client.ts';
import type { Clock } from './clock.ts';
import type { EventRecorder } from './events.ts';
import { type Json, obj, objects, specOf, statusOf, str } from '../json.ts';
import { controllerRef, findCondition, isPodTerminal, nodeNameOf, setCondition, timestamp } from './objects.ts';
import { objectKey, type RunningController, splitKey, startController } from './runtime.ts';
import { type Taint, tolerates } from './taints.ts';

export const DEFAULT_SCHEDULER = 'default-scheduler';

/** How long an unschedulable pod waits before it is tried again without any cluster change. */
const UNSCHEDULABLE_RETRY_MS = 5 * 60 * 1000;
/** Scoring counts pods without requests as this much (schedutil.DefaultMilliCPURequest / DefaultMemoryRequest). */
const DEFAULT_MILLI_CPU = 100;
const DEFAULT_MEMORY = 200 * 1024 * 1024;

type Resources = Map<string, bigint>;

interface PodUsage {
  node: string;
  requests: Resources;
  /** uid of the controller that owns the pod, for spreading */
  owner: string | undefined;
  hostPorts: string[];
}

interface NodeUsage {
  requested: Resources;
  nonZeroCpu: bigint;
  nonZeroMemory: bigint;
  pods: number;
  owners: Map<string, number>;
  hostPorts: Map<string, number>;
}

function toNanos(q: Quantity): bigint {
  return q.nanos;
}

function podRequests(pod: KubeObject): Resources {
  const out: Resources = new Map();
  for (const [name, q] of computeResourcesOf(pod).requests) out.set(name, toNanos(q));
  return out;
}

function hostPortsOf(pod: KubeObject): string[] {
  const ports: string[] = [];
  for (const container of [...objects(specOf(pod).containers), ...objects(specOf(pod).initContainers)]) {
    for (const port of objects(container.ports)) {
      const hostPort = port.hostPort;
      if (typeof hostPort === 'number' && hostPort > 0) ports.push(`${str(port.protocol) ?? 'TCP'}/${str(port.hostIP) ?? '0.0.0.0'}/${hostPort}`);
    }
  }
  return ports;
}

function emptyUsage(): NodeUsage {
  return { requested: new Map(), nonZeroCpu: 0n, nonZeroMemory: 0n, pods: 0, owners: new Map(), hostPorts: new Map() };
}

const NANO = 1_000_000_000n;

function nonZero(requests: Resources): { cpu: bigint; memory: bigint } {
  const cpu = requests.get('cpu');
  const memory = requests.get('memory');
  return {
    cpu: cpu !== undefined && cpu > 0n ? cpu : (BigInt(DEFAULT_MILLI_CPU) * NANO) / 1000n,
    memory: memory !== undefined && memory > 0n ? memory : BigInt(DEFAULT_MEMORY) * NANO,
  };
}

/** Where pods are and what they take: the scheduler's cache, kept by the pod informer. */
class SchedulerCache {
  readonly #pods = new Map<string, PodUsage>();
  readonly #nodes = new Map<string, NodeUsage>();

  usage(node: string): NodeUsage {
    return this.#nodes.get(node) ?? emptyUsage();
  }

  #apply(usage: PodUsage, sign: 1n | -1n): void {
    let node = this.#nodes.get(usage.node);
    if (!node) {
      node = emptyUsage();
      this.#nodes.set(usage.node, node);
    }
    for (const [name, value] of usage.requests) node.requested.set(name, (node.requested.get(name) ?? 0n) + sign * value);
    const nz = nonZero(usage.requests);
    node.nonZeroCpu += sign * nz.cpu;
    node.nonZeroMemory += sign * nz.memory;
    node.pods += Number(sign);
    if (usage.owner) node.owners.set(usage.owner, (node.owners.get(usage.owner) ?? 0) + Number(sign));
    for (const port of usage.hostPorts) node.hostPorts.set(port, (node.hostPorts.get(port) ?? 0) + Number(sign));
    if (node.pods === 0) this.#nodes.delete(usage.node);
  }

  /** Pods bound to a node count until they finish or are gone (terminating ones still hold their share). */
  observe(pod: KubeObject, deleted: boolean): void {
    const key = objectKey(pod);
    const previous = this.#pods.get(key);
    const node = nodeNameOf(pod);
    const counts = !deleted && node !== '' && !isPodTerminal(pod);
    if (previous && counts && previous.node === node) return;
    if (previous) {
      this.#apply(previous, -1n);
      this.#pods.delete(key);
    }
    if (!counts) return;
    const usage: PodUsage = { node, requests: podRequests(pod), owner: controllerRef(pod)?.uid, hostPorts: hostPortsOf(pod) };
    this.#pods.set(key, usage);
    this.#apply(usage, 1n);
  }
}

// ---- filters -------------------------------------------------------------------------------

/** Unschedulable: preemption might help; UnschedulableAndUnresolvable: it cannot. */
type FilterCode = 'Unschedulable' | 'UnschedulableAndUnresolvable';

interface FilterFailure {
  code: FilterCode;
  reasons: string[];
}

const unschedulableTaint: Taint = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' };

function nodeTaints(node: KubeObject): Taint[] {
  return objects(specOf(node).taints) as unknown as Taint[];
}

function podTolerations(pod: KubeObject): Json[] {
  return objects(specOf(pod).tolerations);
}

function matchesNodeSelectorTerm(term: Json, node: KubeObject): boolean {
  const labels = node.metadata.labels ?? {};
  const expressions = objects(term.matchExpressions);
  const fields = objects(term.matchFields);
  if (expressions.length === 0 && fields.length === 0) return false;
  const requirement = (expr: Json, value: string | undefined): boolean => {
    const values = Array.isArray(expr.values) ? expr.values.map(String) : [];
    switch (expr.operator) {
      case 'In':
        return value !== undefined && values.includes(value);
      case 'NotIn':
        return value === undefined || !values.includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
      case 'Gt':
        return value !== undefined && values.length === 1 && Number.parseInt(value, 10) > Number.parseInt(values[0] as string, 10);
      case 'Lt':
        return value !== undefined && values.length === 1 && Number.parseInt(value, 10) < Number.parseInt(values[0] as string, 10);
      default:
        return false;
    }
  };
  for (const expr of expressions) if (!requirement(expr, labels[str(expr.key) ?? ''])) return false;
  for (const expr of fields) {
    const value = expr.key === 'metadata.name' ? node.metadata.name : undefined;
    if (!requirement(expr, value)) return false;
  }
  return true;
}

/** nodeSelector and requiredDuringSchedulingIgnoredDuringExecution node affinity. */
export function podFitsNodeAffinity(pod: KubeObject, node: KubeObject): boolean {
  const spec = specOf(pod);
  const labels = node.metadata.labels ?? {};
  for (const [key, value] of Object.entries(obj(spec.nodeSelector))) if (labels[key] !== value) return false;
  const required = obj(obj(obj(spec.affinity).nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution);
  const terms = objects(required.nodeSelectorTerms);
  if (Object.keys(required).length === 0) return true;
  return terms.some((term) => matchesNodeSelectorTerm(term, node));
}

/** Taints with NoSchedule/NoExecute the pod does not tolerate. */
export function untoleratedTaint(pod: KubeObject, node: KubeObject): Taint | undefined {
  const tolerations = podTolerations(pod);
  return nodeTaints(node).find((taint) => (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && !tolerations.some((t) => tolerates(t, taint)));
}

function quantityOf(value: unknown): bigint | undefined {
  return tryParseQuantity(value)?.nanos;
}

function allocatableOf(node: KubeObject): Resources {
  const out: Resources = new Map();
  const status = statusOf(node);
  const source = Object.keys(obj(status.allocatable)).length ? obj(status.allocatable) : obj(status.capacity);
  for (const [name, raw] of Object.entries(source)) {
    const value = quantityOf(raw);
    if (value !== undefined) out.set(name, value);
  }
  return out;
}

function fitsResources(requests: Resources, node: KubeObject, usage: NodeUsage): string[] {
  const allocatable = allocatableOf(node);
  const reasons: string[] = [];
  const allowedPods = allocatable.get('pods');
  if (allowedPods !== undefined && BigInt(usage.pods + 1) * NANO > allowedPods) reasons.push('Too many pods');
  const order = [...requests.keys()].sort((a, b) => {
    const rank = (name: string) => (name === 'cpu' ? 0 : name === 'memory' ? 1 : name === 'ephemeral-storage' ? 2 : 3);
    return rank(a) - rank(b) || a.localeCompare(b);
  });
  for (const name of order) {
    const wanted = requests.get(name) ?? 0n;
    if (wanted === 0n) continue;
    const free = (allocatable.get(name) ?? 0n) - (usage.requested.get(name) ?? 0n);
    if (wanted > free) reasons.push(`Insufficient ${name}`);
  }
  return reasons;
}

// ---- scheduling one pod --------------------------------------------------------------------

interface PvcCheck {
  preFilter?: string;
  unboundImmediate: boolean;
  /** WaitForFirstConsumer claims to mark with the chosen node */
  delayed: string[];
}

function histogram(reasons: string[]): string {
  const counts = new Map<string, number>();
  for (const reason of reasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  return [...counts].map(([reason, count]) => `${count} ${reason}`).sort().join(', ');
}

export interface SchedulerOptions {
  client: ControllerClient;
  recorder: EventRecorder;
  clock: Clock;
}

/** The FitError message: "0/3 nodes are available: 3 Insufficient cpu. preemption: ...". */
export function fitErrorMessage(total: number, failures: FilterFailure[], preFilter: string | undefined): string {
  let message = `0/${total} nodes are available:`;
  if (preFilter) message += ` ${preFilter}.`;
  else {
    const reasons = failures.flatMap((f) => f.reasons);
    if (reasons.length) message += ` ${histogram(reasons)}.`;
  }
  const preemption = preFilter
    ? Array.from({ length: total }, () => 'Preemption is not helpful for scheduling')
    : failures.map((f) => (f.code === 'UnschedulableAndUnresolvable' ? 'Preemption is not helpful for scheduling' : 'No preemption victims found for incoming pod'));
  message += ` preemption: 0/${total} nodes are available: ${histogram(preemption)}.`;
  return message;
}

export function startScheduler(options: SchedulerOptions): RunningController {
  const { client, recorder, clock } = options;
  const cache = new SchedulerCache();
  /** Pods that found no node, with what their placement depends on (a status-only change is no reason to retry). */
  const unschedulable = new Map<string, string>();
  const placementSignature = (pod: KubeObject) => JSON.stringify([specOf(pod), pod.metadata.labels ?? null]);
  const nodeSignatures = new Map<string, string>();
  let controller: RunningController | undefined;

  const retryUnschedulable = () => {
    if (!controller) return;
    for (const key of unschedulable.keys()) controller.enqueue(key);
  };

  const needsScheduling = (pod: KubeObject) =>
    nodeNameOf(pod) === '' && !pod.metadata.deletionTimestamp && !isPodTerminal(pod) && (str(specOf(pod).schedulerName) ?? DEFAULT_SCHEDULER) === DEFAULT_SCHEDULER;

  const checkClaims = (pod: KubeObject): PvcCheck => {
    const result: PvcCheck = { unboundImmediate: false, delayed: [] };
    const namespace = pod.metadata.namespace;
    for (const volume of objects(specOf(pod).volumes)) {
      const claimName = str(obj(volume.persistentVolumeClaim).claimName);
      if (!claimName) continue;
      const claim = client.persistentVolumeClaims.get(namespace, claimName);
      if (!claim) return { ...result, preFilter: `persistentvolumeclaim "${claimName}" not found` };
      if (claim.metadata.deletionTimestamp) return { ...result, preFilter: `persistentvolumeclaim "${claimName}" is being deleted` };
      if (str(statusOf(claim).phase) === 'Bound' || str(specOf(claim).volumeName)) continue;
      const className = str(specOf(claim).storageClassName);
      const storageClass = className ? client.storageClasses.get(undefined, className) : undefined;
      if (str(storageClass?.['volumeBindingMode']) === 'WaitForFirstConsumer') result.delayed.push(claimName);
      else result.unboundImmediate = true;
    }
    return result;
  };

  const filter = (pod: KubeObject, node: KubeObject, requests: Resources, claims: PvcCheck): FilterFailure | undefined => {
    const tolerations = podTolerations(pod);
    if (specOf(node).unschedulable === true && !tolerations.some((t) => tolerates(t, unschedulableTaint)))
      return { code: 'UnschedulableAndUnresolvable', reasons: ["node(s) were unschedulable"] };
    if (untoleratedTaint(pod, node)) return { code: 'UnschedulableAndUnresolvable', reasons: ['node(s) had untolerated taint(s)'] };
    if (!podFitsNodeAffinity(pod, node)) return { code: 'UnschedulableAndUnresolvable', reasons: ["node(s) didn't match Pod's node affinity/selector"] };
    const usage = cache.usage(node.metadata.name ?? '');
    const wantedPorts = hostPortsOf(pod);
    if (wantedPorts.some((port) => (usage.hostPorts.get(port) ?? 0) > 0))
      return { code: 'Unschedulable', reasons: ["node(s) didn't have free ports for the requested pod ports"] };
    const insufficient = fitsResources(requests, node, usage);
    if (insufficient.length) return { code: 'Unschedulable', reasons: insufficient };
    if (claims.unboundImmediate) return { code: 'UnschedulableAndUnresolvable', reasons: ['pod has unbound immediate PersistentVolumeClaims'] };
    return undefined;
  };

  const score = (pod: KubeObject, node: KubeObject, requests: Resources): number => {
    const usage = cache.usage(node.metadata.name ?? '');
    const allocatable = allocatableOf(node);
    const nz = nonZero(requests);
    const fraction = (used: bigint, capacity: bigint | undefined) => (capacity && capacity > 0n ? Number((used * 10_000n) / capacity) / 10_000 : 1);
    const cpu = Math.min(1, fraction(usage.nonZeroCpu + nz.cpu, allocatable.get('cpu')));
    const memory = Math.min(1, fraction(usage.nonZeroMemory + nz.memory, allocatable.get('memory')));
    const leastAllocated = ((1 - cpu) + (1 - memory)) * 50;
    const balanced = (1 - Math.abs(cpu - memory) / 2) * 100;
    const owner = controllerRef(pod)?.uid;
    const siblings = owner ? (usage.owners.get(owner) ?? 0) : 0;
    const spread = 100 / (1 + siblings);
    return leastAllocated + balanced + 2 * spread;
  };

  const markUnschedulable = (pod: KubeObject, reason: string, message: string) => {
    const status = statusOf(pod);
    const current = findCondition(status, 'PodScheduled');
    if (current?.status !== 'False' || current.reason !== reason || current.message !== message) {
      client.pods.mutate(pod.metadata.namespace, pod.metadata.name ?? '', (draft) => {
        if (nodeNameOf(draft) !== '') return false;
        const next = { ...statusOf(draft) };
        setCondition(next, { type: 'PodScheduled', status: 'False', lastProbeTime: null, lastTransitionTime: timestamp(clock.now()), reason, message });
        draft.status = next;
      }, 'status');
    }
  };

  const schedule = (key: string) => {
    const { namespace, name } = splitKey(key);
    const pod = client.pods.get(namespace, name);
    if (!pod || !needsScheduling(pod)) {
      unschedulable.delete(key);
      return;
    }
    if (objects(specOf(pod).schedulingGates).length > 0) {
      markUnschedulable(pod, 'SchedulingGated', 'Scheduling is blocked due to non-empty scheduling gates');
      unschedulable.delete(key);
      return;
    }
    const nodes = client.nodes.list();
    const requests = podRequests(pod);
    const claims = checkClaims(pod);
    let chosen: KubeObject | undefined;
    const failures: FilterFailure[] = [];
    if (!claims.preFilter) {
      let best = -Infinity;
      let ties = 0;
      for (const node of nodes) {
        const failure = filter(pod, node, requests, claims);
        if (failure) {
          failures.push(failure);
          continue;
        }
        const value = score(pod, node, requests);
        if (value > best) {
          best = value;
          chosen = node;
          ties = 1;
        } else if (value === best && Math.random() * ++ties < 1) {
          chosen = node;
        }
      }
    }
    if (!chosen) {
      const message = nodes.length === 0 ? 'no nodes available to schedule pods' : fitErrorMessage(nodes.length, failures, claims.preFilter);
      unschedulable.set(key, placementSignature(pod));
      markUnschedulable(pod, 'Unschedulable', message);
      recorder.event(pod, 'Warning', 'FailedScheduling', message);
      return { requeueAfterMs: UNSCHEDULABLE_RETRY_MS };
    }
    const nodeName = chosen.metadata.name ?? '';
    for (const claimName of claims.delayed) {
      client.persistentVolumeClaims.mutate(namespace, claimName, (claim) => {
        const annotations = { ...(claim.metadata.annotations ?? {}) };
        if (annotations['volume.kubernetes.io/selected-node'] === nodeName) return false;
        annotations['volume.kubernetes.io/selected-node'] = nodeName;
        claim.metadata.annotations = annotations;
      });
    }
    try {
      client.pods.mutate(namespace, name, (draft) => {
        draft.spec = { nodeName };
      }, 'binding');
    } catch (error) {
      // Bound meanwhile, or deleted: the informer brings the new state back here.
      if (isNotFound(error)) return;
      throw error;
    }
    unschedulable.delete(key);
    recorder.event(pod, 'Normal', 'Scheduled', `Successfully assigned ${namespace}/${name} to ${nodeName}`);
    return;
  };

  controller = startController(client.registry, {
    name: 'scheduler',
    clock,
    sources: [
      {
        group: '',
        version: 'v1',
        resource: 'pods',
        keys: (pod, type) => {
          const deleted = type === 'DELETED';
          const wasCounted = nodeNameOf(pod) !== '';
          cache.observe(pod, deleted);
          // A pod leaving a node frees room: the unschedulable ones get another try.
          if (wasCounted && (deleted || isPodTerminal(pod) || pod.metadata.deletionTimestamp)) queueMicrotask(retryUnschedulable);
          if (deleted || !needsScheduling(pod)) return [];
          const key = objectKey(pod);
          const waiting = unschedulable.get(key);
          return waiting !== undefined && waiting === placementSignature(pod) ? [] : [key];
        },
      },
      {
        group: '',
        version: 'v1',
        resource: 'nodes',
        keys: (node, type) => {
          const name = node.metadata.name ?? '';
          const signature = type === 'DELETED' ? '' : JSON.stringify([node.metadata.labels, specOf(node), obj(statusOf(node).allocatable)]);
          if (nodeSignatures.get(name) !== signature) {
            if (type === 'DELETED') nodeSignatures.delete(name);
            else nodeSignatures.set(name, signature);
            queueMicrotask(retryUnschedulable);
          }
          return [];
        },
      },
      {
        group: '',
        version: 'v1',
        resource: 'persistentvolumeclaims',
        keys: () => {
          if (unschedulable.size) queueMicrotask(retryUnschedulable);
          return [];
        },
      },
    ],
    reconcile: schedule,
  });
  return controller;
}
