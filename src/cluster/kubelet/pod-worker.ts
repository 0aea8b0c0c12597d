// One pod on one node, as the kubelet's pod worker handles it: set up the sandbox (volumes, IP),
// run init containers in order, pull images, create and start containers, probe them, restart
// them per restartPolicy with back-off, and tear everything down gracefully when the pod is
// deleted. `sync` is level-triggered: it looks at what is and does the next step; every timer,
// exit and watch event just asks for another sync.
import { join } from 'node:path';
import type { EventRecorder } from '../controllers/index.ts';
import { tryParseQuantity } from '../registry/index.ts';
import type { KubeObject } from '../types.ts';
import type { ClusterView } from './cluster-view.ts';
import { existsSync, rmSync } from 'node:fs';
import { containerSandboxSpec, DEFAULT_PATH, findExecutable, instanceDirectories, podEtcFiles } from './container-sandbox.ts';
import { BACKOFF_RESET_MS, backoffDelayMs, ContainerSlot, pullBackoffDelayMs } from './container-slot.ts';
import { type ContainerExit, type ContainerInstance, type HttpAnswer, ProcessContainer, SimulatedContainer } from './containers.ts';
import { ContainerConfigError, containerEnvironment, expand, type NodeAllocatable } from './environment.ts';
import { goDuration, type Json, num, obj, objects, specOf, statusOf, str, strings, timestamp } from './format.ts';
import { behaviourOf, type ImageBehaviour, pullDurationMs, type ResolvedImage, resolveImage, versionOf } from './images/index.ts';
import { buildPodStatus, type TerminatedState } from './pod-status.ts';
import { type ProbeKind, type ProbeTarget, ProbeWorker } from './probes.ts';
import { createSandboxDirectory, type SandboxedProcess, type SandboxSpec, type SandboxSupport, spawnSandboxed } from './sandbox/index.ts';
import { SERVICE_PROXY_PORT } from './service-network.ts';
import { PodVolumes, type TokenIssuer } from './volumes.ts';
import { unsafeWorkbenchEnv, WORKBENCH_HOME, type WorkbenchTools, workbenchSandbox } from './workbench.ts';

export interface NodeRuntime {
  readonly nodeName: string;
  readonly hostIP: string;
  readonly view: ClusterView;
  readonly recorder: EventRecorder;
  /** How shells run here (detected once, on first need). */
  sandbox(): SandboxSupport;
  readonly apiSocket: string;
  readonly apiUrl: string;
  readonly caFile: string;
  readonly tokens: TokenIssuer | undefined;
  readonly allocatable: NodeAllocatable;
  readonly paths: { podsDir: string; nodeDir: string; claimsDir: string };
  tools(): Promise<WorkbenchTools>;
  /** The simulated network's proxy socket for this namespace (see service-network.ts). */
  serviceSocket(namespace: string): Promise<string>;
  now(): Date;
  /** Real milliseconds for a start-up delay (pull, create, sandbox). */
  startDelay(ms: number): number;
  /** Real milliseconds for back-off, probes, grace periods and propagation. */
  scaled(ms: number): number;
  /** How many bytes each container's log may keep now. */
  logLimit(): number;
  imagePresent(image: string): boolean;
  markImagePresent(image: string): void;
  allocateIP(uid: string, wanted: string | undefined): string | undefined;
  releaseIP(uid: string): void;
  writeStatus(pod: KubeObject, status: Json): void;
  removePod(pod: KubeObject): void;
  workerGone(uid: string): void;
}

export interface ContainerUsage {
  name: string;
  cpuMillis: number;
  memoryBytes: number;
}

const SHELLS = new Set(['sh', 'bash', 'ash', 'dash', 'zsh', 'ksh']);
const UTILITIES = new Set(['sleep', 'echo', 'printenv', 'env', 'cat', 'true', 'false', 'date', 'ls', 'tail', 'yes', 'watch', 'timeout', 'printf', 'seq', 'id', 'hostname', 'nc', 'wget', 'curl']);
const SIMULATE_CPU = 'formicary.dev/simulate-cpu';
const SIMULATE_MEMORY = 'formicary.dev/simulate-memory';
const CONFIG_RETRY_MS = 10_000;
const MOUNT_RETRY_MS = 15_000;
const OOM_AFTER_MS = 1_500;

function basename(command: string): string {
  return command.split('/').pop() ?? command;
}

/** busybox-style images, or a command that names a shell or a simple utility, run for real. */
export function runsForReal(image: ResolvedImage, spec: Json): boolean {
  const kind = image.catalog?.kind;
  if (kind === 'shell') return true;
  if (kind === 'workbench') return false;
  const first = strings(spec['command'])[0] ?? (kind === undefined ? strings(spec['args'])[0] : undefined);
  return first !== undefined && (SHELLS.has(basename(first)) || UTILITIES.has(basename(first)));
}

function quantityMillis(value: string | undefined): number | undefined {
  const quantity = tryParseQuantity(value);
  return quantity ? quantity.milliValue() : undefined;
}

function quantityBytes(value: string | undefined): number | undefined {
  const quantity = tryParseQuantity(value);
  return quantity ? quantity.value() : undefined;
}

export class PodWorker {
  readonly uid: string;
  pod: KubeObject;
  readonly #node: NodeRuntime;
  readonly #volumes: PodVolumes;
  readonly #podDir: string;
  readonly init: ContainerSlot[];
  readonly containers: ContainerSlot[];
  readonly #timers = new Set<NodeJS.Timeout>();
  #podIP: string | undefined;
  #startTime: string;
  #sandboxReady = false;
  #preparing = false;
  #mountRetryAt: number | undefined;
  #terminating = false;
  /** Every container stopped for deletion. */
  #terminal = false;
  #gone = false;
  #final = false;
  #syncQueued = false;
  #statusQueued = false;
  #lastStatus = '';
  #graceMs = Infinity;
  #deadlineTimer = false;
  #wake: { at: number; timer: NodeJS.Timeout } | undefined;
  /** spec.activeDeadlineSeconds passed: the pod failed with DeadlineExceeded. */
  #deadlineExceeded = false;

  constructor(node: NodeRuntime, pod: KubeObject) {
    this.#node = node;
    this.pod = pod;
    this.uid = pod.metadata.uid ?? '';
    this.#podDir = join(node.paths.podsDir, this.uid);
    this.#volumes = new PodVolumes({
      view: node.view,
      podDir: this.#podDir,
      nodeDir: node.paths.nodeDir,
      claimsDir: node.paths.claimsDir,
      tokens: node.tokens,
      allocatable: node.allocatable,
      now: () => node.now(),
    });
    const spec = specOf(pod);
    const hasInit = objects(spec['initContainers']).length > 0;
    this.init = objects(spec['initContainers']).map((c) => new ContainerSlot(c, true, 'PodInitializing'));
    this.containers = objects(spec['containers']).map((c) => new ContainerSlot(c, false, hasInit ? 'PodInitializing' : 'ContainerCreating'));
    const status = statusOf(pod);
    this.#startTime = str(status['startTime']) ?? timestamp(node.now());
    this.#restore(status);
  }

  get namespace(): string {
    return this.pod.metadata.namespace ?? 'default';
  }

  get name(): string {
    return this.pod.metadata.name ?? '';
  }

  get podIP(): string | undefined {
    return this.#podIP;
  }

  /** hostNetwork pods share the node's address. */
  get #hostNetwork(): boolean {
    return specOf(this.pod)['hostNetwork'] === true;
  }

  get description(): string {
    return `${this.name}_${this.namespace}(${this.uid})`;
  }

  /** After a cluster restart the processes are gone: containers that ran come back as restarts, as after a node reboot. */
  #restore(status: Json): void {
    const phase = str(status['phase']);
    this.#final = phase === 'Succeeded' || phase === 'Failed';
    const restore = (slots: ContainerSlot[], statuses: Json[]) => {
      for (const slot of slots) {
        const previous = statuses.find((s) => s['name'] === slot.name);
        if (!previous) continue;
        slot.restartCount = num(previous['restartCount']) ?? 0;
        const last = obj(obj(previous['lastState'])['terminated']);
        if (Object.keys(last).length > 0) slot.lastState = last as unknown as TerminatedState;
        const state = obj(previous['state']);
        if (state['running'] || state['terminated']) {
          const started = str(obj(state['running'])['startedAt']) ?? str(obj(state['terminated'])['startedAt']) ?? this.#startTime;
          const terminated = obj(state['terminated']);
          slot.state = {
            terminated: state['terminated']
              ? (terminated as unknown as TerminatedState)
              : { exitCode: 255, reason: 'Unknown', startedAt: started, finishedAt: timestamp(this.#node.now()), containerID: str(previous['containerID']) ?? '' },
          };
          slot.imageID = str(previous['imageID']) ?? '';
          slot.exit = 'terminated' in slot.state ? slot.state.terminated : undefined;
          if (!this.#final && this.#restarts(slot, slot.exit?.exitCode ?? 0)) slot.restartAt = 0;
        }
      }
    };
    restore(this.init, objects(status['initContainerStatuses']));
    restore(this.containers, objects(status['containerStatuses']));
    const ip = str(status['podIP']);
    if (ip) this.#podIP = this.#hostNetwork ? this.#node.hostIP : this.#node.allocateIP(this.uid, ip);
    if (this.#final) this.#sandboxReady = true;
  }

  // ---- triggers ------------------------------------------------------------------------

  /** The pod changed (or a ConfigMap/Secret it reads did): look again. */
  update(pod: KubeObject): void {
    const previous = this.pod;
    this.pod = pod;
    if (this.#gone) return;
    this.#applySpecChanges(previous);
    this.#checkSimulatedMemory();
    if (this.#volumes.materialized && (JSON.stringify(previous.metadata.labels) !== JSON.stringify(pod.metadata.labels) || JSON.stringify(previous.metadata.annotations) !== JSON.stringify(pod.metadata.annotations))) {
      this.#after(this.#node.scaled(2_000), () => this.#refreshVolumes());
    }
    this.kick();
  }

  /** A ConfigMap or Secret this pod reads changed: volumes follow after the kubelet's sync delay, a waiting container retries. */
  configChanged(): void {
    if (this.#gone) return;
    for (const slot of [...this.init, ...this.containers]) if (slot.configRetryAt !== undefined) slot.configRetryAt = 0;
    if (this.#mountRetryAt !== undefined) this.#mountRetryAt = 0;
    if (this.#volumes.materialized) this.#after(this.#node.scaled(5_000), () => this.#refreshVolumes());
    this.kick();
  }

  #refreshVolumes(): void {
    if (this.#gone) return;
    try {
      this.#volumes.refresh(this.pod);
    } catch {
      // A volume that cannot be written now is written on the next change.
    }
  }

  kick(): void {
    if (this.#syncQueued || this.#gone) return;
    this.#syncQueued = true;
    setImmediate(() => {
      this.#syncQueued = false;
      this.#sync();
    });
  }

  #after(ms: number, callback: () => void): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      if (!this.#gone) callback();
    }, Math.max(0, ms));
    timer.unref();
    this.#timers.add(timer);
  }

  /** One timer for "look again at": syncs while waiting do not pile timers up. */
  #wakeAt(at: number): void {
    if (this.#wake && this.#wake.at <= at) return;
    if (this.#wake) {
      clearTimeout(this.#wake.timer);
      this.#timers.delete(this.#wake.timer);
    }
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#wake = undefined;
      this.kick();
    }, Math.max(0, at - this.#node.now().getTime()));
    timer.unref();
    this.#timers.add(timer);
    this.#wake = { at, timer };
  }

  #event(type: 'Normal' | 'Warning', reason: string, message: string, slot?: ContainerSlot): void {
    this.#node.recorder.event(this.pod, type, reason, message, slot ? { fieldPath: slot.fieldPath } : undefined);
  }

  // ---- the sync loop -------------------------------------------------------------------

  #sync(): void {
    if (this.#gone) return;
    if (this.pod.metadata.deletionTimestamp) {
      this.#terminate();
      this.#statusChanged();
      return;
    }
    if (this.#final) return;
    if (!this.#sandboxReady) {
      this.#prepareSandbox();
      this.#statusChanged();
      return;
    }
    this.#watchDeadline();
    for (const slot of this.init) {
      if (slot.starting || slot.running) {
        if (slot.sidecar && slot.started) continue;
        this.#statusChanged();
        return;
      }
      const terminated = slot.terminated;
      if (terminated && slot.restartAt === undefined) {
        if (!slot.sidecar && terminated.exitCode === 0) continue;
        // An init container failed and will not be restarted (restartPolicy Never): the pod failed.
        this.#finish();
        return;
      }
      this.#startOrWait(slot);
      this.#statusChanged();
      return;
    }
    let active = false;
    for (const slot of this.containers) {
      if (slot.starting || slot.running) {
        active = true;
        continue;
      }
      if (!slot.terminated || slot.restartAt !== undefined) {
        active = true;
        this.#startOrWait(slot);
      }
    }
    if (!active && this.containers.length > 0) this.#finish();
    this.#statusChanged();
  }

  /** Starts the container now, or waits out its back-off (CrashLoopBackOff, ImagePullBackOff, a config error). */
  #startOrWait(slot: ContainerSlot): void {
    const now = this.#node.now().getTime();
    if (slot.restartAt !== undefined && slot.restartAt > now) {
      if (!('waiting' in slot.state && slot.state.waiting.reason === 'CrashLoopBackOff')) {
        // While it backs off, the exit it backs off from is the container's lastState.
        slot.lastState = slot.exit ?? slot.lastState;
        slot.previousLog = slot.instance?.log ?? slot.previousLog;
        const delay = goDuration(backoffDelayMs(slot.crashes - 1));
        slot.state = { waiting: { reason: 'CrashLoopBackOff', message: `back-off ${delay} restarting failed container=${slot.name} pod=${this.description}` } };
        this.#event('Warning', 'BackOff', `Back-off restarting failed container ${slot.name} in pod ${this.description}`, slot);
      }
      this.#wakeAt(slot.restartAt);
      return;
    }
    if (slot.pullRetryAt !== undefined && slot.pullRetryAt > now) {
      if (!('waiting' in slot.state && slot.state.waiting.reason === 'ImagePullBackOff')) {
        slot.state = { waiting: { reason: 'ImagePullBackOff', message: `Back-off pulling image "${slot.imageText}": ErrImagePull: ${slot.pullError ?? ''}` } };
        this.#event('Normal', 'BackOff', `Back-off pulling image "${slot.imageText}"`, slot);
        this.#event('Warning', 'Failed', 'Error: ImagePullBackOff', slot);
      }
      this.#wakeAt(slot.pullRetryAt);
      return;
    }
    if (slot.configRetryAt !== undefined && slot.configRetryAt > now) {
      this.#wakeAt(slot.configRetryAt);
      return;
    }
    // An image name that cannot work waits for the spec to change (kubectl set image).
    if (slot.blockedImage === slot.imageText) return;
    void this.#start(slot);
  }

  #prepareSandbox(): void {
    if (this.#preparing) return;
    const now = this.#node.now().getTime();
    if (this.#mountRetryAt !== undefined && this.#mountRetryAt > now) return;
    const problem = this.#volumes.check(this.pod);
    if (problem) {
      this.#event('Warning', 'FailedMount', problem);
      this.#mountRetryAt = now + this.#node.scaled(MOUNT_RETRY_MS);
      this.#wakeAt(this.#mountRetryAt);
      return;
    }
    this.#mountRetryAt = undefined;
    if (this.#hostNetwork) this.#podIP = this.#node.hostIP;
    if (!this.#podIP) {
      this.#podIP = this.#node.allocateIP(this.uid, undefined);
      if (!this.#podIP) {
        this.#event(
          'Warning',
          'FailedCreatePodSandBox',
          `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "${this.uid.replace(/-/g, '')}": plugin type="ptp" failed (add): failed to allocate for range 0: no IP addresses available in range set`,
        );
        this.#wakeAt(now + this.#node.scaled(MOUNT_RETRY_MS));
        return;
      }
    }
    this.#preparing = true;
    this.#after(this.#node.startDelay(150), () => {
      this.#preparing = false;
      this.#sandboxReady = true;
      this.kick();
    });
  }

  // ---- starting a container ---------------------------------------------------------------

  async #start(slot: ContainerSlot): Promise<void> {
    const attempt = ++slot.attempt;
    slot.starting = true;
    const current = () => !this.#gone && !this.#terminating && slot.attempt === attempt;
    try {
      const image = await this.#pull(slot, current);
      if (!image || !current()) return;
      await this.#delay(this.#node.startDelay(80));
      if (!current()) return;
      const instance = await this.#create(slot, image);
      if (!instance || !current()) {
        instance?.stop(0);
        return;
      }
      this.#run(slot, instance);
    } finally {
      if (slot.attempt === attempt) slot.starting = false;
      this.kick();
    }
  }

  #delay(ms: number): Promise<void> {
    return new Promise((resolve) => this.#after(ms, resolve));
  }

  /** Pull per imagePullPolicy, with the kubelet's events; undefined when the container must wait. */
  async #pull(slot: ContainerSlot, current: () => boolean): Promise<ResolvedImage | undefined> {
    const text = slot.imageText;
    const resolution = resolveImage(text, { credentials: this.#hasPullCredentials() });
    if (resolution.outcome === 'invalid') {
      slot.image = undefined;
      slot.blockedImage = text;
      slot.state = { waiting: { reason: 'InvalidImageName', message: resolution.message } };
      this.#event('Warning', 'InspectFailed', resolution.message, slot);
      this.#event('Warning', 'Failed', 'Error: InvalidImageName', slot);
      return undefined;
    }
    const normalized = resolution.outcome === 'available' ? resolution.image.reference.normalized : text;
    const policy = str(slot.spec['imagePullPolicy']) ?? 'IfNotPresent';
    const present = this.#node.imagePresent(normalized);
    if (policy === 'Never' && !present) {
      const message = `Container image "${text}" is not present with pull policy of Never`;
      slot.image = undefined;
      slot.blockedImage = text;
      slot.state = { waiting: { reason: 'ErrImageNeverPull', message } };
      this.#event('Warning', 'ErrImageNeverPull', message, slot);
      this.#event('Warning', 'Failed', 'Error: ErrImageNeverPull', slot);
      return undefined;
    }
    if (present && policy !== 'Always' && resolution.outcome === 'available') {
      this.#event('Normal', 'Pulled', `Container image "${text}" already present on machine`, slot);
      return this.#pulled(slot, resolution.image);
    }
    // A retry after a failed start keeps reporting that failure (CreateContainerConfigError,
    // ImagePullBackOff …) while it pulls, as the kubelet's reason cache does; only a first start shows ContainerCreating.
    const waitingFor = 'waiting' in slot.state ? slot.state.waiting?.reason : undefined;
    if (!slot.terminated && !slot.lastState && (waitingFor === undefined || waitingFor === 'ContainerCreating' || waitingFor === 'PodInitializing')) {
      slot.state = { waiting: { reason: 'ContainerCreating' } };
    }
    this.#event('Normal', 'Pulling', `Pulling image "${text}"`, slot);
    this.#statusChanged();
    const duration = resolution.outcome === 'available' ? this.#node.startDelay(present ? 400 : pullDurationMs(resolution.image)) : this.#node.startDelay(600);
    const started = performance.now();
    await this.#delay(duration);
    if (!current()) return undefined;
    if (resolution.outcome === 'unavailable') {
      slot.pullFailures++;
      slot.pullError = resolution.message;
      slot.pullRetryAt = this.#node.now().getTime() + this.#node.scaled(pullBackoffDelayMs(slot.pullFailures));
      slot.state = { waiting: { reason: 'ErrImagePull', message: resolution.message } };
      this.#event('Warning', 'Failed', `Failed to pull image "${text}": ${resolution.message}`, slot);
      this.#event('Warning', 'Failed', 'Error: ErrImagePull', slot);
      return undefined;
    }
    const took = goDuration(Math.max(performance.now() - started, present ? 400 : pullDurationMs(resolution.image)));
    this.#node.markImagePresent(normalized);
    this.#event('Normal', 'Pulled', `Successfully pulled image "${text}" in ${took} (${took} including waiting). Image size: ${resolution.image.sizeBytes} bytes.`, slot);
    return this.#pulled(slot, resolution.image);
  }

  /** imagePullSecrets of the pod or its ServiceAccount that exist and hold registry credentials. */
  #hasPullCredentials(): boolean {
    const spec = specOf(this.pod);
    const account = this.#node.view.get('serviceaccounts', this.namespace, str(spec['serviceAccountName']) ?? 'default');
    const names = [...objects(spec['imagePullSecrets']), ...objects(account?.['imagePullSecrets'])].map((ref) => str(ref['name']) ?? '');
    return names.some((name) => {
      const secret = this.#node.view.get('secrets', this.namespace, name);
      return secret?.['type'] === 'kubernetes.io/dockerconfigjson' || secret?.['type'] === 'kubernetes.io/dockercfg';
    });
  }

  #pulled(slot: ContainerSlot, image: ResolvedImage): ResolvedImage {
    slot.image = image;
    slot.imageID = image.imageID;
    slot.pullFailures = 0;
    slot.pullRetryAt = undefined;
    slot.pullError = undefined;
    return image;
  }

  #argv(slot: ContainerSlot, image: ResolvedImage, env: Map<string, string>): { argv: string[]; args: string[] } {
    const command = strings(slot.spec['command']);
    const args = slot.spec['args'] !== undefined ? strings(slot.spec['args']) : command.length > 0 ? [] : (image.catalog?.cmd ?? []);
    const entrypoint = command.length > 0 ? command : (image.catalog?.entrypoint ?? []);
    const lookup = (name: string) => env.get(name);
    return { argv: [...entrypoint, ...args].map((part) => expand(part, lookup)), args: args.map((part) => expand(part, lookup)) };
  }

  #instanceDir(slot: ContainerSlot): string {
    return join(this.#podDir, 'containers', slot.name, String(slot.restartCount + (slot.exit ? 1 : 0)));
  }

  /** Resolves env and mounts, then makes the instance: a sandboxed process or a simulated server. */
  async #create(slot: ContainerSlot, image: ResolvedImage): Promise<ContainerInstance | undefined> {
    let environment;
    try {
      // status.podIP and hostIP are the kubelet's own knowledge, even before the status carrying them is written.
      const pod = { ...this.pod, status: { ...statusOf(this.pod), podIP: this.#podIP, hostIP: this.#node.hostIP } };
      environment = containerEnvironment(this.#node.view, pod, slot.spec, this.#node.allocatable);
    } catch (error) {
      if (!(error instanceof ContainerConfigError)) throw error;
      slot.state = { waiting: { reason: 'CreateContainerConfigError', message: error.message } };
      slot.configRetryAt = this.#node.now().getTime() + this.#node.scaled(CONFIG_RETRY_MS);
      this.#event('Warning', 'Failed', `Error: ${error.message}`, slot);
      return undefined;
    }
    slot.configRetryAt = undefined;
    for (const skipped of environment.skipped) {
      this.#event('Warning', 'InvalidEnvironmentVariableNames', `Keys [${skipped.keys.join(', ')}] from the EnvFrom ${skipped.kind} ${skipped.namespace}/${skipped.name} were skipped since they are considered invalid environment variable names.`, slot);
    }
    const envMap = new Map(environment.env);
    const { argv, args } = this.#argv(slot, image, envMap);
    const previous = slot.exit;
    const instanceDir = this.#instanceDir(slot);
    if (runsForReal(image, slot.spec)) {
      const spawned = await this.#spawnReal(slot, argv, environment.env, instanceDir);
      if (typeof spawned === 'string') {
        this.#startFailed(slot, spawned, previous);
        return undefined;
      }
      this.#created(slot, environment.env, previous);
      return new ProcessContainer(spawned.process, spawned.tmp, () => this.#node.now(), () => this.#node.logLimit());
    }
    const behaviour = this.#behaviour(image, args);
    const requirement = image.catalog?.requiredEnv;
    const failure = requirement && !requirement.anyOf.some((name) => (envMap.get(name) ?? '') !== '') ? { logs: requirement.logs, exitCode: requirement.exitCode } : undefined;
    const limit = quantityBytes(str(obj(obj(slot.spec['resources'])['limits'])['memory']));
    const memory = this.#simulatedUsage(slot, behaviour).memoryBytes;
    this.#created(slot, environment.env, previous);
    return new SimulatedContainer({
      behaviour: image.catalog ? behaviour : undefined,
      templates: { hostname: str(specOf(this.pod)['hostname']) ?? this.name, version: versionOf(image), podIP: this.#podIP ?? '', port: String(behaviour?.httpPort ?? '') },
      env: envMap,
      ...(failure ? { failure } : {}),
      ...(limit !== undefined && memory > limit ? { oomAfterMs: this.#node.scaled(OOM_AFTER_MS) } : {}),
      now: () => this.#node.now(),
      logLimit: () => this.#node.logLimit(),
      scaled: (ms) => this.#node.scaled(ms),
      tmpDir: join(instanceDir, 'tmp'),
    });
  }

  #behaviour(image: ResolvedImage, args: string[]): ImageBehaviour | undefined {
    const behaviour = behaviourOf(image, args);
    const port = Number(/^--http-port=(\d+)$/.exec(args.find((arg) => arg.startsWith('--http-port=')) ?? '')?.[1]);
    if (!behaviour || !Number.isInteger(port) || port <= 0) return behaviour;
    return { ...behaviour, httpPort: port, ports: [port, ...behaviour.ports.filter((p) => p !== behaviour.httpPort)] };
  }

  #created(slot: ContainerSlot, env: Array<[string, string]>, previous: TerminatedState | undefined): void {
    if (previous) {
      slot.exit = undefined;
      slot.lastState = previous;
      slot.previousLog = slot.instance?.log ?? slot.previousLog;
      // The old instance's writable layer goes with it, as a container's does.
      rmSync(join(this.#podDir, 'containers', slot.name, String(slot.restartCount)), { recursive: true, force: true });
      slot.restartCount++;
    }
    slot.env = env;
    slot.restartAt = undefined;
    this.#event('Normal', 'Created', `Created container: ${slot.name}`, slot);
  }

  /** The container's process could not start (a missing executable): StartError, then restarts per policy. */
  #startFailed(slot: ContainerSlot, message: string, previous: TerminatedState | undefined): void {
    if (message.startsWith('sandbox:')) {
      const reason = message.slice('sandbox:'.length);
      slot.state = { waiting: { reason: 'CreateContainerError', message: reason } };
      slot.configRetryAt = this.#node.now().getTime() + this.#node.scaled(CONFIG_RETRY_MS * 6);
      this.#event('Warning', 'Failed', `Error: ${reason}`, slot);
      return;
    }
    this.#created(slot, [], previous);
    this.#event('Warning', 'Failed', `Error: ${message}`, slot);
    const at = timestamp(new Date(0));
    slot.instance = undefined;
    slot.state = { terminated: { exitCode: 128, reason: 'StartError', message, startedAt: at, finishedAt: timestamp(this.#node.now()), containerID: `containerd://${this.uid.replace(/-/g, '')}${slot.restartCount}` } };
    slot.exit = slot.state.terminated;
    this.#scheduleRestart(slot, 128, 0);
  }

  async #spawnReal(slot: ContainerSlot, argv: string[], env: Array<[string, string]>, instanceDir: string): Promise<{ process: SandboxedProcess; tmp: string } | string> {
    const support = this.#node.sandbox();
    if (support.mode === 'unavailable') return `sandbox:${support.reason}`;
    try {
      this.#volumes.materialize(this.pod);
      this.#scheduleTokenRefresh();
      const instance = instanceDirectories(instanceDir);
      const volumeMounts = this.#volumes.mountsFor(this.pod, slot.spec, instanceDir);
      const path = env.find(([name]) => name === 'PATH')?.[1] ?? DEFAULT_PATH;
      const command = argv[0];
      if (command === undefined) return 'failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: no command specified: unknown';
      if (!findExecutable(command, path, volumeMounts)) {
        return `failed to create containerd task: failed to create shim task: OCI runtime create failed: runc create failed: unable to start container process: error during container init: exec: "${command}": ${command.includes('/') ? 'stat ' + command + ': no such file or directory' : 'executable file not found in $PATH'}: unknown`;
      }
      const tty = slot.spec['tty'] === true ? { cols: 80, rows: 24 } : undefined;
      const spec = containerSandboxSpec({
        pod: this.pod,
        container: slot.spec,
        argv,
        env,
        volumeMounts,
        etcMounts: podEtcFiles(this.pod, this.#podDir, this.#podIP),
        instance,
        ...(tty ? { tty } : {}),
      });
      const process = await spawnSandboxed(support.mode === 'unsafe-local' ? { ...spec, env: { ...spec.env, TMPDIR: instance.tmp, HOME: instance.root } } : await this.#withNetwork(spec), support);
      if (slot.spec['stdin'] !== true && !tty) process.endInput();
      return { process, tmp: instance.tmp };
    } catch (error) {
      return `sandbox:${error instanceof Error ? error.message : String(error)}`;
    }
  }

  #run(slot: ContainerSlot, instance: ContainerInstance): void {
    slot.instance = instance;
    slot.state = { running: { startedAt: timestamp(instance.startedAt) } };
    const probes = { startup: obj(slot.spec['startupProbe']), liveness: obj(slot.spec['livenessProbe']), readiness: obj(slot.spec['readinessProbe']) };
    const hasStartup = Object.keys(probes.startup).length > 0;
    slot.started = !hasStartup;
    slot.ready = slot.started && Object.keys(probes.readiness).length === 0 && (!slot.init || slot.sidecar);
    this.#event('Normal', 'Started', `Started container ${slot.name}`, slot);
    if (hasStartup) this.#startProbe(slot, instance, 'Startup', probes.startup);
    else this.#startRunningProbes(slot, instance);
    void instance.exited.then((exit) => this.#exited(slot, instance, exit));
    const postStart = obj(obj(slot.spec['lifecycle'])['postStart']);
    if (Object.keys(postStart).length > 0) {
      void this.#runHook(slot, instance, postStart, 30_000).then((failure) => {
        if (!failure || !instance.running) return;
        this.#event('Warning', 'FailedPostStartHook', failure, slot);
        this.#event('Normal', 'Killing', 'FailedPostStartHook', slot);
        instance.stop(this.#node.scaled((num(specOf(this.pod)['terminationGracePeriodSeconds']) ?? 30) * 1000));
      });
    }
  }

  /** Runs a postStart or preStop hook (exec, httpGet, sleep); the failure message as the kubelet words it, or undefined. */
  async #runHook(slot: ContainerSlot, instance: ContainerInstance, hook: Json, timeoutMs: number): Promise<string | undefined> {
    const where = `for Container "${slot.name}" in Pod "${this.description}" failed`;
    if (hook['sleep']) {
      await this.#delay(this.#node.scaled((num(obj(hook['sleep'])['seconds']) ?? 0) * 1000));
      return undefined;
    }
    if (hook['httpGet']) {
      const httpGet = obj(hook['httpGet']);
      const target = this.#probeTarget(slot, instance);
      const port = target.resolvePort(httpGet['port']);
      const path = str(httpGet['path']) ?? '/';
      const url = `http://${this.#podIP ?? ''}:${String(port ?? httpGet['port'])}${path}`;
      const answer = port === undefined ? undefined : target.http(port, path, 'kube-lifecycle/1.33');
      if (!answer) return `HTTP lifecycle hook (${path}) ${where} - error: Get "${url}": dial tcp ${this.#podIP ?? ''}:${String(port ?? httpGet['port'])}: connect: connection refused, message: ""`;
      return answer.status >= 400 ? `HTTP lifecycle hook (${path}) ${where} - error: HTTP lifecycle hook (${path}) returned status ${answer.status}, message: ""` : undefined;
    }
    const command = strings(obj(hook['exec'])['command']);
    if (command.length === 0) return undefined;
    const outcome = await this.#probeTarget(slot, instance).exec(command, timeoutMs);
    const text = command.join(' ');
    if ('timedOut' in outcome) return `Exec lifecycle hook ([${text}]) ${where} - error: command '${text}' timed out, message: ""`;
    if (outcome.exitCode === 0) return undefined;
    return `Exec lifecycle hook ([${text}]) ${where} - error: command '${text}' exited with ${outcome.exitCode}: ${outcome.output}, message: ${JSON.stringify(outcome.output)}`;
  }

  #startRunningProbes(slot: ContainerSlot, instance: ContainerInstance): void {
    const probes = { liveness: obj(slot.spec['livenessProbe']), readiness: obj(slot.spec['readinessProbe']) };
    if (Object.keys(probes.liveness).length > 0) this.#startProbe(slot, instance, 'Liveness', probes.liveness);
    if (Object.keys(probes.readiness).length > 0) this.#startProbe(slot, instance, 'Readiness', probes.readiness);
  }

  #startProbe(slot: ContainerSlot, instance: ContainerInstance, kind: ProbeKind, spec: Json): void {
    const worker = new ProbeWorker(kind, spec, this.#probeTarget(slot, instance), { scaled: (ms) => Math.max(this.#node.scaled(ms), 10), userAgent: 'kube-probe/1.33' }, {
      attempt: (probeKind, result) => {
        if (!result.success && slot.instance === instance && instance.running) this.#event('Warning', 'Unhealthy', `${probeKind} probe failed: ${result.message}`, slot);
      },
      transition: (probeKind, healthy) => {
        if (slot.instance !== instance || !instance.running) return;
        if (probeKind === 'Readiness') {
          slot.ready = healthy;
        } else if (probeKind === 'Startup' && healthy) {
          slot.started = true;
          slot.ready = Object.keys(obj(slot.spec['readinessProbe'])).length === 0;
          this.#startRunningProbes(slot, instance);
        } else {
          this.#event('Normal', 'Killing', `Container ${slot.name} failed ${probeKind.toLowerCase()} probe, will be restarted`, slot);
          slot.ready = false;
          const grace = num(obj(slot.spec[probeKind === 'Liveness' ? 'livenessProbe' : 'startupProbe'])['terminationGracePeriodSeconds']) ?? num(specOf(this.pod)['terminationGracePeriodSeconds']) ?? 30;
          instance.stop(this.#node.scaled(grace * 1000));
        }
        this.#statusChanged();
      },
    });
    slot.probes.push(worker);
    worker.start();
  }

  #probeTarget(slot: ContainerSlot, instance: ContainerInstance): ProbeTarget {
    return {
      podIP: this.#podIP ?? '',
      resolvePort: (port) => {
        if (typeof port === 'number') return port;
        const named = objects(slot.spec['ports']).find((p) => p['name'] === port);
        return named ? num(named['containerPort']) : /^\d+$/.test(String(port)) ? Number(port) : undefined;
      },
      http: (port, path, userAgent) => instance.http(port, path, this.#gatewayIP(), userAgent),
      tcp: (port) => instance.listens(port),
      exec: async (command, timeoutMs) => {
        const spec = await this.execSandbox(slot, command, undefined);
        if (typeof spec === 'string') return { exitCode: 1, output: spec };
        const process = await spawnSandboxed(spec, this.#node.sandbox());
        process.endInput();
        let output = '';
        process.onOutput((_stream, data) => (output += data.toString('utf8')));
        const timer = setTimeout(() => process.kill('SIGKILL'), timeoutMs);
        const exit = await process.exited;
        clearTimeout(timer);
        if (exit.signal === 'SIGKILL' || exit.exitCode === 137) return { timedOut: true };
        return { exitCode: exit.exitCode, output };
      },
    };
  }

  #gatewayIP(): string {
    return (this.#podIP ?? '10.244.0.0').replace(/\.\d+$/, '.1');
  }

  #exited(slot: ContainerSlot, instance: ContainerInstance, exit: ContainerExit): void {
    if (slot.instance !== instance) return;
    slot.stopProbes();
    slot.endSessions();
    slot.ready = false;
    if (!slot.init || slot.sidecar) slot.started = false;
    const finishedAt = this.#node.now();
    const terminated: TerminatedState = {
      exitCode: exit.exitCode,
      reason: exit.reason,
      ...(exit.signal ? { signal: exit.signal } : {}),
      startedAt: timestamp(instance.startedAt),
      finishedAt: timestamp(finishedAt),
      containerID: instance.containerID,
    };
    slot.state = { terminated };
    slot.exit = terminated;
    if (!this.#terminating && !this.#deadlineExceeded) this.#scheduleRestart(slot, exit.exitCode, finishedAt.getTime() - instance.startedAt.getTime());
    this.#statusChanged();
    this.kick();
  }

  /** Whether an exit with this code restarts the container under the pod's restartPolicy. */
  #restarts(slot: ContainerSlot, exitCode: number): boolean {
    const policy = str(specOf(this.pod)['restartPolicy']) ?? 'Always';
    return slot.sidecar || (slot.init ? exitCode !== 0 && policy !== 'Never' : policy === 'Always' || (policy === 'OnFailure' && exitCode !== 0));
  }

  #scheduleRestart(slot: ContainerSlot, exitCode: number, ranMs: number): void {
    if (!this.#restarts(slot, exitCode)) {
      slot.restartAt = undefined;
      return;
    }
    if (ranMs > this.#node.scaled(BACKOFF_RESET_MS)) slot.crashes = 0;
    slot.restartAt = this.#node.now().getTime() + this.#node.scaled(backoffDelayMs(slot.crashes));
    slot.crashes++;
  }

  /** spec.activeDeadlineSeconds counts from the pod's start on this node (activeDeadlineHandler). */
  #watchDeadline(): void {
    const deadline = num(specOf(this.pod)['activeDeadlineSeconds']);
    if (deadline === undefined || this.#deadlineTimer) return;
    this.#deadlineTimer = true;
    const due = Date.parse(this.#startTime) + this.#node.scaled(deadline * 1000) - this.#node.now().getTime();
    this.#after(due, () => {
      if (this.#final || this.#terminating) return;
      this.#deadlineExceeded = true;
      this.#event('Warning', 'DeadlineExceeded', 'Pod was active on the node longer than the specified deadline');
      const grace = this.#node.scaled((num(specOf(this.pod)['terminationGracePeriodSeconds']) ?? 30) * 1000);
      for (const slot of [...this.containers, ...this.init]) {
        slot.attempt++;
        slot.restartAt = undefined;
        slot.stopProbes();
        if (slot.instance?.running) {
          this.#event('Normal', 'Killing', `Stopping container ${slot.name}`, slot);
          slot.instance.stop(grace);
        } else if ('waiting' in slot.state) {
          const at = timestamp(this.#node.now());
          slot.state = { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', startedAt: at, finishedAt: at } };
        }
      }
      this.#finish();
    });
  }

  /** Every container that will run has finished: the pod is Succeeded or Failed. */
  #finish(): void {
    if (this.#final) return;
    this.#final = true;
    // The sandbox of a finished pod goes, and its address with it; the status keeps showing it.
    this.#node.releaseIP(this.uid);
    for (const slot of this.init) if (slot.sidecar && slot.instance?.running) slot.instance.stop(this.#node.scaled(2_000));
    this.#statusChanged();
  }

  // ---- spec changes and usage -------------------------------------------------------------

  #applySpecChanges(previous: KubeObject): void {
    const before = objects(specOf(previous)['containers']);
    const after = objects(specOf(this.pod)['containers']);
    for (const slot of this.containers) {
      const next = after.find((c) => c['name'] === slot.name);
      const old = before.find((c) => c['name'] === slot.name);
      if (!next || !old || next['image'] === old['image']) continue;
      slot.spec = next;
      if (slot.instance?.running) {
        this.#event('Normal', 'Killing', `Container ${slot.name} definition changed, will be restarted`, slot);
        slot.instance.stop(this.#node.scaled((num(specOf(this.pod)['terminationGracePeriodSeconds']) ?? 30) * 1000));
        slot.crashes = 0;
      } else {
        slot.pullRetryAt = undefined;
        slot.pullFailures = 0;
        slot.image = undefined;
        if (slot.restartAt !== undefined) slot.restartAt = 0;
      }
    }
  }

  #simulatedUsage(slot: ContainerSlot, behaviour: ImageBehaviour | undefined): { cpuMillis: number; memoryBytes: number } {
    const idle = behaviour?.usage ?? { cpuMillis: 1, memoryBytes: 4 * 1024 * 1024 };
    const served = (slot.instance?.requestRate() ?? 0) * (behaviour?.cpuPerRequestMillis ?? 0.05);
    const base = { cpuMillis: Math.round(idle.cpuMillis + served), memoryBytes: idle.memoryBytes };
    if (slot !== this.containers[0]) return base;
    const annotations = this.pod.metadata.annotations ?? {};
    return {
      cpuMillis: quantityMillis(annotations[SIMULATE_CPU]) ?? base.cpuMillis,
      memoryBytes: quantityBytes(annotations[SIMULATE_MEMORY]) ?? base.memoryBytes,
    };
  }

  /** A lab raised the simulated memory past the limit: the kernel's OOM killer ends the container. */
  #checkSimulatedMemory(): void {
    const slot = this.containers[0];
    const instance = slot?.instance;
    if (!slot || !instance?.running || instance.process || !slot.image) return;
    const limit = quantityBytes(str(obj(obj(slot.spec['resources'])['limits'])['memory']));
    const usage = this.#simulatedUsage(slot, behaviourOf(slot.image, strings(slot.spec['args']))).memoryBytes;
    if (limit !== undefined && usage > limit && instance instanceof SimulatedContainer) instance.oomKill(this.#node.scaled(OOM_AFTER_MS));
  }

  usage(): ContainerUsage[] {
    return this.containers
      .filter((slot) => slot.instance?.running && slot.image)
      .map((slot) => {
        const instance = slot.instance as ContainerInstance;
        const simulated = this.#simulatedUsage(slot, slot.image ? behaviourOf(slot.image, strings(slot.spec['args'])) : undefined);
        if (!instance.process) return { name: slot.name, ...simulated };
        const memory = instance.memoryBytes() ?? 1024 * 1024;
        return { name: slot.name, cpuMillis: slot === this.containers[0] && this.pod.metadata.annotations?.[SIMULATE_CPU] ? simulated.cpuMillis : 1, memoryBytes: memory };
      });
  }

  // ---- exec sessions ---------------------------------------------------------------------------

  /** An HTTP request through the simulated network: the first running container that listens on the port answers. */
  serveHttp(port: number, path: string, client: string, userAgent: string): HttpAnswer | undefined {
    for (const slot of [...this.containers, ...this.init]) {
      const instance = slot.instance;
      if (instance?.running && instance.listens(port)) return instance.http(port, path, client, userAgent);
    }
    return undefined;
  }

  /** A containerPort by name (a Service's named targetPort). */
  namedPort(name: string): number | undefined {
    for (const slot of this.containers) {
      const port = objects(slot.spec['ports']).find((p) => p['name'] === name);
      if (port) return num(port['containerPort']);
    }
    return undefined;
  }

  findContainer(name: string): ContainerSlot | undefined {
    return [...this.containers, ...this.init].find((slot) => slot.name === name);
  }

  /** HTTP to Services and pods through the simulated network: curl and wget honour http_proxy. */
  async #withNetwork(spec: SandboxSpec): Promise<SandboxSpec> {
    const unixSocket = await this.#node.serviceSocket(this.namespace);
    const proxy = `http://127.0.0.1:${SERVICE_PROXY_PORT}`;
    return {
      ...spec,
      env: { http_proxy: proxy, HTTP_PROXY: proxy, no_proxy: '127.0.0.1,localhost', NO_PROXY: '127.0.0.1,localhost', ...spec.env },
      forwards: [...(spec.forwards ?? []), { port: SERVICE_PROXY_PORT, unixSocket }],
    };
  }

  /** The sandbox for a process inside this container (exec sessions with the network, exec probes without), or why there can be none. */
  async execSandbox(slot: ContainerSlot, argv: string[], tty: { cols: number; rows: number } | undefined, network = false): Promise<SandboxSpec | string> {
    const support = this.#node.sandbox();
    if (support.mode === 'unavailable') return support.reason;
    const instance = slot.instance;
    if (!instance) return `container not found ("${slot.name}")`;
    this.#volumes.materialize(this.pod);
    this.#scheduleTokenRefresh();
    const instanceDir = join(instance.tmpDir, '..');
    const dirs = instanceDirectories(instanceDir);
    const volumeMounts = this.#volumes.mountsFor(this.pod, slot.spec, instanceDir);
    const workbench = slot.image?.catalog?.kind === 'workbench';
    let extra;
    if (workbench) {
      const tools = await this.#node.tools();
      const homeMount = volumeMounts.find((mount) => mount.target === WORKBENCH_HOME);
      const homeDir = homeMount?.source ?? join(this.#podDir, 'home');
      if (!homeMount && !existsSync(homeDir)) createSandboxDirectory(homeDir);
      if (support.mode === 'unsafe-local') {
        const token = this.#node.tokens?.issue(this.pod, undefined, 3607)?.token;
        extra = { env: unsafeWorkbenchEnv({ pod: this.pod, podDir: this.#podDir, homeDir, apiUrl: this.#node.apiUrl, token, caFile: this.#node.caFile, tools }), mounts: [], forwards: [] };
      } else {
        extra = workbenchSandbox({ pod: this.pod, podDir: this.#podDir, homeDir, homeFromVolume: homeMount !== undefined, tools, apiSocket: this.#node.apiSocket });
      }
    }
    const spec = containerSandboxSpec({
      pod: this.pod,
      container: slot.spec,
      argv,
      env: slot.env,
      volumeMounts,
      etcMounts: podEtcFiles(this.pod, this.#podDir, this.#podIP),
      instance: dirs,
      ...(tty ? { tty } : {}),
      ...(extra ? { extra } : {}),
    });
    if (workbench) spec.workingDir = WORKBENCH_HOME;
    if (support.mode === 'unsafe-local') return { ...spec, env: { ...spec.env, TMPDIR: dirs.tmp, ...(workbench ? {} : { HOME: dirs.root }) } };
    return network ? this.#withNetwork(spec) : spec;
  }

  #tokenTimer: NodeJS.Timeout | undefined;
  #scheduleTokenRefresh(): void {
    const at = this.#volumes.tokenRefreshAt;
    if (at === undefined || this.#tokenTimer) return;
    this.#tokenTimer = setTimeout(() => {
      this.#tokenTimer = undefined;
      if (this.#gone) return;
      this.#volumes.materialize(this.pod);
      this.#scheduleTokenRefresh();
    }, Math.max(1000, at - Date.now()));
    this.#tokenTimer.unref();
  }

  // ---- termination ---------------------------------------------------------------------------

  #terminate(): void {
    const grace = this.#node.scaled((num(this.pod.metadata.deletionGracePeriodSeconds) ?? 30) * 1000);
    if (this.#terminating) {
      if (grace < this.#graceMs) {
        this.#graceMs = grace;
        for (const slot of [...this.containers, ...this.init]) if (slot.instance?.running) slot.instance.stop(grace);
      }
      return;
    }
    this.#terminating = true;
    this.#graceMs = grace;
    const running: ContainerInstance[] = [];
    for (const slot of [...this.containers, ...this.init]) {
      slot.attempt++;
      slot.starting = false;
      slot.stopProbes();
      slot.restartAt = undefined;
      const instance = slot.instance;
      if (instance?.running) {
        this.#event('Normal', 'Killing', `Stopping container ${slot.name}`, slot);
        const preStop = obj(obj(slot.spec['lifecycle'])['preStop']);
        if (Object.keys(preStop).length === 0) instance.stop(grace);
        else {
          // preStop runs first, inside the grace period; SIGTERM follows when it is done.
          const started = Date.now();
          this.#after(grace, () => instance.stop(0));
          void this.#runHook(slot, instance, preStop, grace).then((failure) => {
            if (failure) this.#event('Warning', 'FailedPreStopHook', failure, slot);
            instance.stop(Math.max(0, grace - (Date.now() - started)));
          });
        }
        running.push(instance);
      }
    }
    void Promise.all(running.map((instance) => instance.exited)).then(() => {
      if (this.#gone) return;
      this.#terminal = true;
      this.#writeStatusNow();
      this.#node.removePod(this.pod);
    });
  }

  /** The pod object is gone (or its node kubelet stops): end every process at once and clean up. */
  dispose(removeFiles: boolean): void {
    if (this.#gone) return;
    this.#gone = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (this.#tokenTimer) clearTimeout(this.#tokenTimer);
    for (const slot of [...this.containers, ...this.init]) {
      slot.stopProbes();
      slot.endSessions();
      if (slot.instance?.running) slot.instance.stop(0);
      if (slot.instance?.process) slot.instance.process.kill('SIGKILL');
    }
    this.#node.releaseIP(this.uid);
    if (removeFiles) this.#volumes.remove();
    this.#node.workerGone(this.uid);
  }

  // ---- status ---------------------------------------------------------------------------------

  #statusChanged(): void {
    if (this.#statusQueued || this.#gone) return;
    this.#statusQueued = true;
    setImmediate(() => {
      this.#statusQueued = false;
      this.#writeStatusNow();
    });
  }

  #writeStatusNow(): void {
    if (this.#gone) return;
    const status = buildPodStatus({
      pod: this.pod,
      hostIP: this.#node.hostIP,
      podIP: this.#sandboxReady || this.#preparing ? this.#podIP : undefined,
      startTime: this.#startTime,
      sandboxReady: this.#sandboxReady,
      initContainers: this.init.map((slot) => slot.statusInput()),
      containers: this.containers.map((slot) => slot.statusInput()),
      terminal: this.#terminal,
      ...(this.#deadlineExceeded ? { failure: { reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' } } : {}),
      now: this.#node.now(),
    });
    const text = JSON.stringify(status);
    if (text === this.#lastStatus) return;
    this.#lastStatus = text;
    this.#node.writeStatus(this.pod, status);
  }
}
