// The status a kubelet writes for a pod (kubelet_pods.go generateAPIPodStatus, getPhase): phase
// from the containers' states and the restart policy, the five conditions with their reasons,
// container statuses with state, lastState, readiness, restart counts and image IDs.
import type { KubeObject } from '../types.ts';
import { type Json, objects, specOf, statusOf, str } from '../json.ts';
import { timestamp } from './format.ts';

export interface TerminatedState {
  exitCode: number;
  reason: string;
  message?: string;
  signal?: number;
  startedAt: string;
  finishedAt: string;
  containerID?: string;
}

export type ContainerState = { waiting: { reason: string; message?: string } } | { running: { startedAt: string } } | { terminated: TerminatedState };

export interface ContainerStatusInput {
  name: string;
  image: string;
  imageID: string;
  state: ContainerState;
  lastState?: TerminatedState;
  ready: boolean;
  started: boolean;
  restartCount: number;
  containerID?: string;
  volumeMounts: Json[];
  /** init container with restartPolicy Always (a sidecar) */
  sidecar?: boolean;
}

export interface PodStatusInput {
  pod: KubeObject;
  hostIP: string;
  podIP: string | undefined;
  startTime: string;
  sandboxReady: boolean;
  initContainers: ContainerStatusInput[];
  containers: ContainerStatusInput[];
  ephemeralContainers?: ContainerStatusInput[];
  /** Every container was stopped for deletion: the pod takes a terminal phase before it goes (1.27+). */
  terminal: boolean;
  /** The kubelet failed the pod itself (activeDeadlineSeconds): phase Failed with this reason. */
  failure?: { reason: string; message: string };
  now: Date;
}

function containerStatusJson(input: ContainerStatusInput): Json {
  const status: Json = {
    name: input.name,
    state: input.state,
    lastState: input.lastState ? { terminated: input.lastState } : {},
    ready: input.ready,
    restartCount: input.restartCount,
    image: input.image,
    imageID: input.imageID,
  };
  if (input.containerID) status['containerID'] = input.containerID;
  status['started'] = input.started;
  if (input.volumeMounts.length > 0) status['volumeMounts'] = input.volumeMounts;
  return status;
}

function isStopped(container: ContainerStatusInput): boolean {
  return 'terminated' in container.state || ('waiting' in container.state && container.lastState !== undefined);
}

function exitCodeOf(container: ContainerStatusInput): number {
  if ('terminated' in container.state) return container.state.terminated.exitCode;
  return container.lastState?.exitCode ?? 0;
}

export function initDone(container: ContainerStatusInput): boolean {
  if (container.sidecar) return container.started;
  return 'terminated' in container.state && container.state.terminated.exitCode === 0;
}

/** getPhase: Pending, Running, Succeeded or Failed. */
export function podPhase(restartPolicy: string, init: ContainerStatusInput[], containers: ContainerStatusInput[], terminal = false): string {
  const initFailed = init.some((c) => !c.sidecar && 'terminated' in c.state && c.state.terminated.exitCode !== 0);
  if (initFailed && (restartPolicy === 'Never' || terminal)) return 'Failed';
  if (!init.every(initDone)) return terminal ? 'Failed' : 'Pending';
  let waiting = 0;
  let running = 0;
  let stopped = 0;
  let succeeded = 0;
  for (const container of containers) {
    if ('running' in container.state) running++;
    else if (isStopped(container)) {
      stopped++;
      if (exitCodeOf(container) === 0) succeeded++;
    } else waiting++;
  }
  if (waiting > 0) return terminal ? 'Failed' : 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (terminal) return stopped === succeeded ? 'Succeeded' : 'Failed';
    if (restartPolicy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    return restartPolicy === 'OnFailure' ? 'Running' : 'Failed';
  }
  return 'Pending';
}

interface Condition {
  type: string;
  status: 'True' | 'False';
  lastProbeTime: null;
  lastTransitionTime: string;
  reason?: string;
  message?: string;
}

export function buildPodStatus(input: PodStatusInput): Json {
  const { pod } = input;
  const spec = specOf(pod);
  const previous = statusOf(pod);
  const restartPolicy = str(spec['restartPolicy']) ?? 'Always';
  const phase = input.failure ? 'Failed' : podPhase(restartPolicy, input.initContainers, input.containers, input.terminal);
  const now = timestamp(input.now);
  const oldConditions = objects(previous['conditions']);
  const condition = (type: string, ok: boolean, reason?: string, message?: string): Condition => {
    const old = oldConditions.find((c) => c['type'] === type);
    const status = ok ? 'True' : 'False';
    const since = old && old['status'] === status && typeof old['lastTransitionTime'] === 'string' ? old['lastTransitionTime'] : now;
    return { type, status, lastProbeTime: null, lastTransitionTime: since, ...(reason ? { reason } : {}), ...(message ? { message } : {}) };
  };
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const initialized = input.initContainers.every(initDone);
  const incompleteInit = input.initContainers.filter((c) => !initDone(c)).map((c) => c.name);
  const unready = input.containers.filter((c) => !c.ready).map((c) => c.name);
  const containersReady = unready.length === 0 && !terminal;
  const conditions: Condition[] = [
    condition('PodReadyToStartContainers', input.sandboxReady && !terminal),
    initialized
      ? condition('Initialized', true, terminal && input.initContainers.length > 0 ? 'PodCompleted' : undefined)
      : condition('Initialized', false, 'ContainersNotInitialized', `containers with incomplete status: [${incompleteInit.join(' ')}]`),
    containersReady ? condition('Ready', true) : condition('Ready', false, terminal ? 'PodCompleted' : 'ContainersNotReady', terminal ? undefined : `containers with unready status: [${unready.join(' ')}]`),
    containersReady ? condition('ContainersReady', true) : condition('ContainersReady', false, terminal ? 'PodCompleted' : 'ContainersNotReady', terminal ? undefined : `containers with unready status: [${unready.join(' ')}]`),
    condition('PodScheduled', true),
  ];
  const scheduled = oldConditions.find((c) => c['type'] === 'PodScheduled');
  if (scheduled) conditions[4] = scheduled as unknown as Condition;

  const status: Json = {
    ...previous,
    phase,
    conditions,
    hostIP: input.hostIP,
    hostIPs: [{ ip: input.hostIP }],
    startTime: input.startTime,
  };
  if (input.failure) {
    status['reason'] = input.failure.reason;
    status['message'] = input.failure.message;
  }
  if (input.podIP) {
    status['podIP'] = input.podIP;
    status['podIPs'] = [{ ip: input.podIP }];
  }
  if (input.initContainers.length > 0) status['initContainerStatuses'] = input.initContainers.map(containerStatusJson);
  status['containerStatuses'] = input.containers.map(containerStatusJson);
  if (input.ephemeralContainers?.length) status['ephemeralContainerStatuses'] = input.ephemeralContainers.map(containerStatusJson);
  return status;
}
