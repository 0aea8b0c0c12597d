// What the kubelet remembers about one container of a pod across its restarts: the state it
// reports, the last terminated instance (for --previous and lastState), restart and back-off
// bookkeeping, readiness, and the instance that runs now.
import type { ContainerInstance } from './containers.ts';
import { type Json, num, obj, objects, str } from '../json.ts';
import type { ResolvedImage } from './images/index.ts';
import type { ContainerLog } from './logs.ts';
import type { ContainerState, ContainerStatusInput, TerminatedState } from './pod-status.ts';
import type { ProbeWorker } from './probes.ts';
import type { SandboxedProcess } from './sandbox/index.ts';

const BACKOFF_INITIAL_MS = 10_000;
const BACKOFF_MAX_MS = 300_000;

/** The kubelet's container back-off: the first restart at once, then 10 s doubling to 5 min. */
export function backoffDelayMs(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(BACKOFF_INITIAL_MS * 2 ** (failures - 1), BACKOFF_MAX_MS);
}

/** Image pulls back off from the first failure: 10 s doubling to 5 min. */
export function pullBackoffDelayMs(failures: number): number {
  return Math.min(BACKOFF_INITIAL_MS * 2 ** Math.max(0, failures - 1), BACKOFF_MAX_MS);
}

/** A container that ran this long without failing starts its back-off over (2 × the maximum). */
export const BACKOFF_RESET_MS = 2 * BACKOFF_MAX_MS;

export class ContainerSlot {
  readonly name: string;
  readonly init: boolean;
  readonly sidecar: boolean;
  spec: Json;
  state: ContainerState;
  lastState: TerminatedState | undefined;
  /** The latest exit, until a new instance is created (it becomes lastState then, or as soon as back-off starts). */
  exit: TerminatedState | undefined;
  restartCount = 0;
  instance: ContainerInstance | undefined;
  /** The log of the instance lastState describes (`kubectl logs --previous`). */
  previousLog: ContainerLog | undefined;
  image: ResolvedImage | undefined;
  imageID = '';
  ready = false;
  started = false;
  /** Bumped whenever a start is begun or abandoned, so a stale pull or create can tell. */
  attempt = 0;
  starting = false;
  /** Quick failures in a row (CrashLoopBackOff). */
  crashes = 0;
  restartAt: number | undefined;
  /** Stopped because its definition changed (kubectl set image): it starts again whatever the restartPolicy, as computePodActions restarts it. */
  definitionChanged = false;
  pullFailures = 0;
  pullRetryAt: number | undefined;
  pullError: string | undefined;
  configRetryAt: number | undefined;
  /** An image that cannot work (invalid name, Never without the image): no retry until the spec changes. */
  blockedImage: string | undefined;
  /** exec and attach sessions into this container: they end when the container does. */
  readonly sessions = new Set<SandboxedProcess>();
  /** The environment the running instance was created with (exec sessions get the same). */
  env: Array<[string, string]> = [];
  probes: ProbeWorker[] = [];

  /** An ephemeral container (kubectl debug): runs once, never restarts, is never ready. */
  readonly ephemeral: boolean;

  constructor(spec: Json, init: boolean, initialReason: string, ephemeral = false) {
    this.spec = spec;
    this.name = str(spec['name']) ?? '';
    this.init = init;
    this.ephemeral = ephemeral;
    this.sidecar = init && spec['restartPolicy'] === 'Always';
    this.state = { waiting: { reason: initialReason } };
  }

  get fieldPath(): string {
    return `spec.${this.ephemeral ? 'ephemeralContainers' : this.init ? 'initContainers' : 'containers'}{${this.name}}`;
  }

  get imageText(): string {
    return str(this.spec['image']) ?? '';
  }

  get terminated(): TerminatedState | undefined {
    return 'terminated' in this.state ? this.state.terminated : undefined;
  }

  get running(): boolean {
    return this.instance?.running === true;
  }

  /** The log `kubectl logs` reads now: the running instance, else the last one that ran. */
  get currentLog(): ContainerLog | undefined {
    return this.instance?.log ?? this.previousLog;
  }

  /** Whether an exit with this code restarts the container under the pod's restartPolicy. */
  restartsAfter(exitCode: number, restartPolicy: string): boolean {
    if (this.ephemeral) return false;
    return this.sidecar || (this.init ? exitCode !== 0 && restartPolicy !== 'Never' : restartPolicy === 'Always' || (restartPolicy === 'OnFailure' && exitCode !== 0));
  }

  /**
   * After a cluster restart the processes are gone: what the last written status says of this
   * container comes back, and one that was running comes back ended, as after a node reboot.
   * Returns whether it had run.
   */
  restore(previous: Json, podStartTime: string, now: string): boolean {
    this.restartCount = num(previous['restartCount']) ?? 0;
    const last = obj(obj(previous['lastState'])['terminated']);
    if (Object.keys(last).length > 0) this.lastState = last as unknown as TerminatedState;
    const state = obj(previous['state']);
    if (!state['running'] && !state['terminated']) return false;
    const started = str(obj(state['running'])['startedAt']) ?? str(obj(state['terminated'])['startedAt']) ?? podStartTime;
    const terminated = obj(state['terminated']);
    this.state = {
      terminated: state['terminated']
        ? (terminated as unknown as TerminatedState)
        : { exitCode: 255, reason: 'Unknown', startedAt: started, finishedAt: now, containerID: str(previous['containerID']) ?? '' },
    };
    this.imageID = str(previous['imageID']) ?? '';
    this.exit = this.state.terminated;
    return true;
  }

  endSessions(): void {
    for (const session of this.sessions) session.kill('SIGKILL');
    this.sessions.clear();
  }

  stopProbes(): void {
    for (const probe of this.probes) probe.stop();
    this.probes = [];
  }

  statusInput(): ContainerStatusInput {
    const containerID = 'running' in this.state || 'terminated' in this.state ? this.instance?.containerID ?? this.terminated?.containerID : undefined;
    return {
      name: this.name,
      image: this.image?.reference.normalized ?? this.imageText,
      imageID: this.imageID,
      state: this.state,
      ...(this.lastState ? { lastState: this.lastState } : {}),
      ready: this.ready,
      started: this.started,
      restartCount: this.restartCount,
      ...(containerID ? { containerID } : {}),
      volumeMounts: objects(this.spec['volumeMounts']).map((mount) => ({
        name: mount['name'],
        mountPath: mount['mountPath'],
        ...(mount['readOnly'] === true ? { readOnly: true, recursiveReadOnly: 'Disabled' } : {}),
      })),
      ...(this.sidecar ? { sidecar: true } : {}),
    };
  }
}
