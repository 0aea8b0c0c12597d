// The cluster's Nodes: registered as kubelets register them (capacity, addresses, nodeInfo,
// conditions), kept alive as kubelets do (a Lease in kube-node-lease renewed every 10 s, status
// re-posted every 5 minutes so lastHeartbeatTime moves without a write every few seconds), and
// cordoned as the node lifecycle controller does it (spec.unschedulable ⇒ the
// node.kubernetes.io/unschedulable:NoSchedule taint).
import { release } from 'node:os';
import { serverVersion } from '../apiserver/index.ts';
import type { KubeObject } from '../types.ts';
import { type ControllerClient, isAlreadyExists, nodeUser } from './client.ts';
import type { ControllerContext } from './context.ts';
import type { EventRecorder } from './events.ts';
import { objects, specOf, statusOf } from '../json.ts';
import { type Condition, copy, findCondition, microTimestamp, parseTime, timestamp } from './objects.ts';
import { type RunningController, startController } from './runtime.ts';
import type { Taint } from './taints.ts';

export interface NodeCapacity {
  cpu: string;
  memory: string;
  pods: string;
  'ephemeral-storage': string;
}

export interface NodeOptions {
  /** How many Nodes; default 3. */
  count?: number;
  capacity?: Partial<NodeCapacity>;
  /** What pods may request of it: capacity less what the kubelet keeps back; default the capacity. */
  allocatable?: Partial<NodeCapacity>;
  /** Lease renewal (kubelet default 10 s). */
  leaseRenewMs?: number;
  /** Status re-post without changes (nodeStatusReportFrequency, 5 min). */
  statusReportMs?: number;
}

const DEFAULT_CAPACITY: NodeCapacity = { cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' };
const LEASE_DURATION_SECONDS = 40;
export const UNSCHEDULABLE_TAINT_KEY = 'node.kubernetes.io/unschedulable';
export const DISK_PRESSURE_TAINT_KEY = 'node.kubernetes.io/disk-pressure';

/** node-1 … node-N */
export function nodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `node-${i + 1}`);
}

/** Each node's pod network: 10.244.<n>.0/24, as kind's default CNI hands them out. */
export function podCIDROf(index: number): string {
  return `10.244.${index}.0/24`;
}

/** DiskPressure is the kubelet's eviction manager's to set (the host's disk is real); the rest are fixed. */
function conditionsAt(now: string, previous: Condition[]): Condition[] {
  const diskPressure = previous.find((c) => c.type === 'DiskPressure')?.status === 'True';
  const wanted: Array<[string, Condition['status'], string, string]> = [
    ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
    diskPressure ? ['DiskPressure', 'True', 'KubeletHasDiskPressure', 'kubelet has disk pressure'] : ['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
    ['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
    ['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'],
  ];
  return wanted.map(([type, status, reason, message]) => {
    const old = previous.find((c) => c.type === type);
    const transition = old && old.status === status && old.lastTransitionTime ? old.lastTransitionTime : now;
    return { type, status, lastHeartbeatTime: now, lastTransitionTime: transition, reason, message };
  });
}

function resourceList(resources: NodeCapacity): Record<string, string> {
  return { cpu: resources.cpu, 'ephemeral-storage': resources['ephemeral-storage'], 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: resources.memory, pods: resources.pods };
}

function nodeStatus(index: number, name: string, resources: { capacity: NodeCapacity; allocatable: NodeCapacity }, now: string, previous: KubeObject | undefined): Record<string, unknown> {
  return {
    capacity: resourceList(resources.capacity),
    allocatable: resourceList(resources.allocatable),
    conditions: conditionsAt(now, previous ? (objects(statusOf(previous).conditions) as Condition[]) : []),
    addresses: [
      { type: 'InternalIP', address: `172.18.0.${index + 1}` },
      { type: 'Hostname', address: name },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
    nodeInfo: {
      machineID: `formicary${String(index).padStart(24, '0')}`,
      systemUUID: `00000000-0000-0000-0000-${String(index).padStart(12, '0')}`,
      bootID: `00000000-0000-0000-0000-${String(index).padStart(12, '0')}`,
      kernelVersion: release(),
      osImage: 'Formicary simulated node',
      containerRuntimeVersion: 'formicary://0.1.0',
      kubeletVersion: serverVersion.gitVersion,
      kubeProxyVersion: serverVersion.gitVersion,
      operatingSystem: 'linux',
      architecture: 'amd64',
    },
  };
}

function registrationEvents(node: KubeObject, recorder: EventRecorder, controllerRecorder: EventRecorder): void {
  const name = node.metadata.name ?? '';
  // The kubelet's own events refer to the node by name as its uid, as upstream's do.
  const ref: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name, uid: name } };
  recorder.event(ref, 'Normal', 'Starting', 'Starting kubelet.');
  recorder.event(ref, 'Normal', 'NodeHasSufficientMemory', `Node ${name} status is now: NodeHasSufficientMemory`);
  recorder.event(ref, 'Normal', 'NodeHasNoDiskPressure', `Node ${name} status is now: NodeHasNoDiskPressure`);
  recorder.event(ref, 'Normal', 'NodeHasSufficientPID', `Node ${name} status is now: NodeHasSufficientPID`);
  recorder.event(ref, 'Normal', 'NodeAllocatableEnforced', 'Updated Node Allocatable limit across pods');
  recorder.event(ref, 'Normal', 'NodeReady', `Node ${name} status is now: NodeReady`);
  controllerRecorder.event(node, 'Normal', 'RegisteredNode', `Node ${name} event: Registered Node ${name} in Controller`);
}

export function startNodeLifecycle(ctx: ControllerContext, options: NodeOptions = {}): RunningController {
  const count = options.count ?? 3;
  const capacity: NodeCapacity = { ...DEFAULT_CAPACITY, ...options.capacity };
  const resources = { capacity, allocatable: { ...capacity, ...options.allocatable } };
  const leaseRenewMs = options.leaseRenewMs ?? 10_000;
  const statusReportMs = options.statusReportMs ?? 5 * 60_000;
  const names = nodeNames(count);
  const lifecycle = ctx.clientFor('node-controller');
  const controllerRecorder = ctx.recorderFor('node-controller');
  const kubelets = new Map<string, { client: ControllerClient; recorder: EventRecorder }>();
  for (const name of names) kubelets.set(name, { client: lifecycle.as(nodeUser(name)), recorder: ctx.events.recorder({ component: 'kubelet', host: name }) });

  const register = (name: string): number | undefined => {
    const kubelet = kubelets.get(name);
    if (!kubelet) return undefined;
    const index = names.indexOf(name) + 1;
    const now = ctx.clock.now();
    const stamp = timestamp(now);
    const existing = kubelet.client.nodes.get(undefined, name);
    if (!existing) {
      try {
        const created = kubelet.client.nodes.create(undefined, {
          apiVersion: 'v1',
          kind: 'Node',
          metadata: {
            name,
            labels: {
              'beta.kubernetes.io/arch': 'amd64',
              'beta.kubernetes.io/os': 'linux',
              'kubernetes.io/arch': 'amd64',
              'kubernetes.io/hostname': name,
              'kubernetes.io/os': 'linux',
            },
            annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
          },
          spec: { podCIDR: podCIDROf(index), podCIDRs: [podCIDROf(index)] },
          status: nodeStatus(index, name, resources, stamp, undefined),
        });
        registrationEvents(created, kubelet.recorder, controllerRecorder);
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
      }
      return statusReportMs;
    }
    const heartbeat = parseTime(findCondition(statusOf(existing), 'Ready')?.lastHeartbeatTime);
    const due = heartbeat === undefined ? 0 : heartbeat + statusReportMs - now.getTime();
    const wanted = nodeStatus(index, name, resources, stamp, existing);
    const current = statusOf(existing);
    const drifted = JSON.stringify({ ...wanted, conditions: undefined }) !== JSON.stringify({ ...current, conditions: undefined }) ||
      (objects(current.conditions) as Condition[]).some((c) => c.type !== 'DiskPressure' && c.status !== (c.type === 'Ready' ? 'True' : 'False'));
    if (due <= 0 || drifted) {
      kubelet.client.nodes.mutate(undefined, name, (draft) => {
        draft.status = { ...copy(statusOf(draft)), ...nodeStatus(index, name, resources, stamp, draft) };
      }, 'status');
      return statusReportMs;
    }
    return due;
  };

  const renewLease = (name: string) => {
    const kubelet = kubelets.get(name);
    if (!kubelet) return;
    const node = kubelet.client.nodes.get(undefined, name);
    const renewTime = microTimestamp(ctx.clock.now());
    const spec = { holderIdentity: name, leaseDurationSeconds: LEASE_DURATION_SECONDS, renewTime };
    const existing = kubelet.client.leases.get('kube-node-lease', name);
    if (!existing) {
      kubelet.client.leases.create('kube-node-lease', {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: {
          name,
          namespace: 'kube-node-lease',
          ...(node ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name, uid: node.metadata.uid ?? '' }] } : {}),
        },
        spec,
      });
      return;
    }
    kubelet.client.leases.mutate('kube-node-lease', name, (draft) => {
      draft.spec = { ...specOf(draft), ...spec };
    });
  };

  /** The DiskPressure condition and the disk-pressure NoSchedule taint agree (TaintNodesByCondition). */
  const syncDiskPressure = (name: string) => {
    const node = lifecycle.nodes.get(undefined, name);
    if (!node) return;
    const pressure = findCondition(statusOf(node), 'DiskPressure')?.status === 'True';
    const isTaint = (t: Taint) => t.key === DISK_PRESSURE_TAINT_KEY && t.effect === 'NoSchedule';
    if (pressure === (objects(specOf(node).taints) as unknown as Taint[]).some(isTaint)) return;
    lifecycle.nodes.mutate(undefined, name, (draft) => {
      const spec = { ...specOf(draft) };
      const current = (objects(spec.taints) as unknown as Taint[]).filter((t) => !isTaint(t));
      if (pressure) current.push({ key: DISK_PRESSURE_TAINT_KEY, effect: 'NoSchedule', timeAdded: timestamp(ctx.clock.now()) });
      if (current.length) spec.taints = current;
      else delete spec.taints;
      draft.spec = spec;
    });
  };

  /** spec.unschedulable and the unschedulable taint agree (TaintNodesByCondition). */
  const syncCordon = (name: string) => {
    const node = lifecycle.nodes.get(undefined, name);
    if (!node) return;
    syncDiskPressure(name);
    const cordoned = specOf(node).unschedulable === true;
    const taints = objects(specOf(node).taints) as unknown as Taint[];
    const tainted = taints.some((t) => t.key === UNSCHEDULABLE_TAINT_KEY && t.effect === 'NoSchedule');
    if (cordoned === tainted) return;
    lifecycle.nodes.mutate(undefined, name, (draft) => {
      const spec = { ...specOf(draft) };
      const current = (objects(spec.taints) as unknown as Taint[]).filter((t) => !(t.key === UNSCHEDULABLE_TAINT_KEY && t.effect === 'NoSchedule'));
      if (spec.unschedulable === true) current.push({ key: UNSCHEDULABLE_TAINT_KEY, effect: 'NoSchedule', timeAdded: timestamp(ctx.clock.now()) });
      if (current.length) spec.taints = current;
      else delete spec.taints;
      draft.spec = spec;
    });
    const kubelet = kubelets.get(name);
    const ref: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name, uid: name } };
    kubelet?.recorder.event(ref, 'Normal', cordoned ? 'NodeNotSchedulable' : 'NodeSchedulable', `Node ${name} status is now: ${cordoned ? 'NodeNotSchedulable' : 'NodeSchedulable'}`);
  };

  const controller = startController(ctx.registry, {
    name: 'node-lifecycle',
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError('node-lifecycle', key, error),
    sources: [{ group: '', version: 'v1', resource: 'nodes', keys: (node, type) => (type === 'DELETED' && kubelets.has(node.metadata.name ?? '') ? [`node/${node.metadata.name}`] : [`cordon/${node.metadata.name}`]) }],
    reconcile(key) {
      const slash = key.indexOf('/');
      const kind = key.slice(0, slash);
      const name = key.slice(slash + 1);
      if (kind === 'lease') {
        renewLease(name);
        return { requeueAfterMs: leaseRenewMs };
      }
      if (kind === 'cordon') return syncCordon(name);
      const next = register(name);
      syncCordon(name);
      return next === undefined ? undefined : { requeueAfterMs: Math.max(1000, next) };
    },
  });
  for (const name of names) {
    controller.enqueue(`node/${name}`);
    controller.enqueue(`lease/${name}`);
  }
  return controller;
}
