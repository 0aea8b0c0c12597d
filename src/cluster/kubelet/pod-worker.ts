// One pod on one node, as the kubelet's pod worker handles it: set up the pod sandbox (volumes,
// IP, network: pod-sandbox-runtime.ts), run init containers in order, start containers
// (image-pull.ts, container-start.ts), probe them and run their hooks (container-lifecycle.ts),
// restart them per restartPolicy with back-off, make a new pod sandbox when the old one dies
// (SandboxChanged), and tear everything down gracefully when the pod is deleted. `sync` is
// level-triggered: it looks at what is and does the next step; every timer, exit and watch event
// just asks for another sync.
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { KubeObject } from '../types.ts';
import { createContainer } from './container-start.ts';
import { execSandbox } from './container-exec.ts';
import { runPostStart, startProbes, stopContainer } from './container-lifecycle.ts';
import { BACKOFF_RESET_MS, backoffDelayMs, ContainerSlot } from './container-slot.ts';
import type { ContainerExit, ContainerInstance, HttpAnswer } from './containers.ts';
import { type PodDiskUsage, PodStorage, type PodStorageStats } from './ephemeral-storage/index.ts';
import { type Json, num, obj, objects, specOf, statusOf, str } from '../json.ts';
import { goDuration, timestamp } from './format.ts';
import { pullImage } from './image-pull.ts';
import { type NodeRuntime, podGraceMs, type PodContext } from './pod-context.ts';
import { PodSandboxRuntime } from './pod-sandbox-runtime.ts';
import { buildPodStatus, type TerminatedState } from './pod-status.ts';
import { podFsGroup, podSupplementalGroups, podUser } from './security-context.ts';
import type { InsideUser, SandboxIdentity, SandboxSpec } from './sandbox/index.ts';
import { checkSimulatedMemory, type ContainerSample, OOM_AFTER_MS, podSamples } from './usage.ts';
import { PodVolumes } from './volumes.ts';

const MOUNT_RETRY_MS = 15_000;
/**
 * From a terminated pod's last status to the kubelet deleting its object: upstream's status
 * manager deletes it only once its volumes are unmounted, which takes the volume manager's
 * populator and reconciler loops (100 ms each) at least. Not scaled: what races it runs in real
 * time, kubectl's `delete --wait` above all, which GETs the pod and then lists it by name; a
 * successor of the same name created between the two (a StatefulSet's) is waited on until it
 * too is deleted, so a kubelet finishing in a few milliseconds made that wait hang.
 */
const VOLUME_TEARDOWN_MS = 200;

/**
 * The pod's host identity with its supplementary groups mapped; past the sandbox's limit of
 * distinct groups the pod runs with its primary group only (the README names the limit).
 */
function identityWithGroups(node: NodeRuntime, pod: KubeObject, user: InsideUser): SandboxIdentity {
  const namespace = pod.metadata.namespace ?? 'default';
  try {
    return node.identityOf(namespace, podSupplementalGroups(pod, user));
  } catch {
    return { ...node.identityOf(namespace), groups: [] };
  }
}

export class PodWorker {
  readonly uid: string;
  pod: KubeObject;
  readonly #node: NodeRuntime;
  readonly #volumes: PodVolumes;
  readonly #podDir: string;
  readonly init: ContainerSlot[];
  readonly containers: ContainerSlot[];
  /** Ephemeral containers, in the order pods/ephemeralcontainers added them. */
  readonly ephemeral: ContainerSlot[];
  readonly #timers = new Set<NodeJS.Timeout>();
  /** What the worker's parts (pull, start, probes and hooks, exec) see of it. */
  readonly #context: PodContext;
  readonly #identity: SandboxIdentity;
  readonly #sandbox: PodSandboxRuntime;
  #podIP: string | undefined;
  #startTime: string;
  #sandboxReady = false;
  #preparing = false;
  /** The pod sandbox died: its containers are being killed before a new one is made (or the pod ends). */
  #sandboxChanging = false;
  /** Bumped when the pod sandbox dies, so a setup begun for the old one does not report the pod ready. */
  #sandboxGeneration = 0;
  /** Containers that ended with the pod sandbox, and how: restarted per restartPolicy in the new one. */
  readonly #endedWithSandbox = new Map<ContainerSlot, { exitCode: number; ranMs: number }>();
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
  /** The kubelet failed the pod (DeadlineExceeded, Evicted): the status's reason and message. */
  #failure: { reason: string; message: string } | undefined;
  readonly #storage: PodStorage;
  #storageReady: Promise<void> | undefined;
  /** dispose() removed the pod's files (rather than keeping them for the next start). */
  #filesRemoved = false;

  constructor(node: NodeRuntime, pod: KubeObject) {
    this.#node = node;
    this.pod = pod;
    this.uid = pod.metadata.uid ?? '';
    this.#podDir = join(node.paths.podsDir, this.uid);
    const user = podUser(pod);
    this.#identity = identityWithGroups(node, pod, user);
    const fsGroup = podFsGroup(pod);
    this.#volumes = new PodVolumes({
      view: node.view,
      podDir: this.#podDir,
      nodeDir: node.paths.nodeDir,
      claimsDir: node.paths.claimsDir,
      tokens: node.tokens,
      allocatable: node.allocatable,
      now: () => node.now(),
      owner: this.#identity,
      ...(fsGroup !== undefined ? { fsGroup: fsGroup === user.gid ? this.#identity.gid : this.#identity.groups?.find((group) => group.inside === fsGroup)?.host } : {}),
    });
    this.#storage = new PodStorage({ podDir: this.#podDir, storageDir: node.paths.storageDir, uid: this.uid, unlimitedBytes: node.unlimitedPodStorageBytes, disk: node.hostDisk });
    const spec = specOf(pod);
    const hasInit = objects(spec['initContainers']).length > 0;
    this.init = objects(spec['initContainers']).map((c) => new ContainerSlot(c, true, 'PodInitializing'));
    this.containers = objects(spec['containers']).map((c) => new ContainerSlot(c, false, hasInit ? 'PodInitializing' : 'ContainerCreating'));
    this.ephemeral = [];
    this.#addEphemeralContainers();
    this.#sandbox = new PodSandboxRuntime({
      node,
      uid: this.uid,
      identity: this.#identity,
      user,
      pod: () => this.pod,
      gone: () => this.#gone,
      ended: () => this.#gone || this.#final,
      sandboxExited: () => this.#sandboxChanged(),
    });
    this.#context = {
      node,
      uid: this.uid,
      podDir: this.#podDir,
      volumes: this.#volumes,
      pod: () => this.pod,
      podIP: () => this.#podIP,
      description: () => this.description,
      event: (type, reason, message, slot) => this.#event(type, reason, message, slot),
      delay: (ms) => this.#delay(ms),
      statusChanged: () => this.#statusChanged(),
      scheduleRestart: (slot, exitCode, ranMs) => this.#scheduleRestart(slot, exitCode, ranMs),
      scheduleTokenRefresh: () => this.#scheduleTokenRefresh(),
      prepareStorage: () => this.#prepareStorage(),
      identity: this.#identity,
      user,
      podSandbox: () => this.#sandbox.ensure(),
      containerCgroup: (slot) => this.#sandbox.containerCgroup(slot),
      pidNamespaceOf: (name) => [...this.containers, ...this.init].find((slot) => slot.name === name)?.instance?.pidNamespace,
    };
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
    const now = timestamp(this.#node.now());
    const restore = (slots: ContainerSlot[], statuses: Json[]) => {
      for (const slot of slots) {
        const previous = statuses.find((s) => s['name'] === slot.name);
        if (previous && slot.restore(previous, this.#startTime, now) && !this.#final && this.#restarts(slot, slot.exit?.exitCode ?? 0)) slot.restartAt = 0;
      }
    };
    restore(this.init, objects(status['initContainerStatuses']));
    restore(this.containers, objects(status['containerStatuses']));
    // An ephemeral container that ran before the restart stays ended: they never run twice.
    restore(this.ephemeral, objects(status['ephemeralContainerStatuses']));
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
    this.#addEphemeralContainers();
    checkSimulatedMemory(this.pod, this.containers, this.#node.scaled(OOM_AFTER_MS));
    if (this.#volumes.materialized && (JSON.stringify(previous.metadata.labels) !== JSON.stringify(pod.metadata.labels) || JSON.stringify(previous.metadata.annotations) !== JSON.stringify(pod.metadata.annotations))) {
      this.#after(this.#node.scaled(2_000), () => this.#refreshVolumes());
    }
    this.kick();
  }

  /** Ephemeral containers the spec has and the worker does not yet (they can only be added). */
  #addEphemeralContainers(): void {
    for (const spec of objects(specOf(this.pod)['ephemeralContainers'])) {
      if (!this.ephemeral.some((slot) => slot.name === spec['name'])) this.ephemeral.push(new ContainerSlot(spec, false, 'ContainerCreating', true));
    }
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
    // A lost sandbox's exit is on its way (#sandboxChanged): nothing starts or finishes before it.
    if (this.#final || this.#sandboxChanging || this.#sandbox.lost) return;
    if (!this.#sandboxReady) {
      this.#prepareSandbox();
      this.#statusChanged();
      return;
    }
    this.#watchDeadline();
    // As the kubelet does (computePodActions step 7), ephemeral containers start whatever the init containers do.
    for (const slot of this.ephemeral) if (!slot.starting && !slot.running && !slot.terminated) this.#startOrWait(slot);
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
    const generation = this.#sandboxGeneration;
    void Promise.all([this.#delay(this.#node.startDelay(150)), this.#sandbox.setUpNetwork(this.#podIP)]).then(
      () => {
        if (generation !== this.#sandboxGeneration) return;
        this.#preparing = false;
        this.#sandboxReady = true;
        this.kick();
      },
      (error: unknown) => {
        if (generation !== this.#sandboxGeneration) return;
        this.#preparing = false;
        const message = error instanceof Error ? error.message : String(error);
        this.#event('Warning', 'FailedCreatePodSandBox', `Failed to create pod sandbox: rpc error: code = Unknown desc = failed to setup network for sandbox "${this.uid.replace(/-/g, '')}": ${message}`);
        this.#wakeAt(this.#node.now().getTime() + this.#node.scaled(MOUNT_RETRY_MS));
      },
    );
  }

  /** A TCP connection to the pod's port on its own localhost, inside its network namespace (kubectl port-forward); undefined without a pod network. */
  openPort(port: number): Promise<Duplex | undefined> {
    return this.#sandbox.openPort(port);
  }

  /** Once per pod (again after a failure): its own file system and its claims'. */
  #prepareStorage(): Promise<void> {
    this.#storageReady ??= (async () => {
      const claims = objects(specOf(this.pod)['volumes'])
        .map((volume) => str(obj(volume['persistentVolumeClaim'])['claimName']))
        .map((name) => (name ? this.#node.view.get('persistentvolumeclaims', this.namespace, name) : undefined))
        .filter((claim): claim is KubeObject => claim !== undefined);
      await Promise.all([this.#storage.prepare(this.pod), this.#node.claimStorage.prepare(claims)]);
      await this.#volumes.setClaimOwnership(this.pod);
      // Disposed while the file system was being made (the kubelet stopped, the pod went): what the
      // disposal did to it is done again now, or it would stay mounted.
      if (this.#gone) await (this.#filesRemoved ? this.#removeFiles() : this.#storage.detach());
    })().catch((error: unknown) => {
      this.#storageReady = undefined;
      throw error;
    });
    return this.#storageReady;
  }

  // ---- starting a container ---------------------------------------------------------------

  async #start(slot: ContainerSlot): Promise<void> {
    const attempt = ++slot.attempt;
    slot.starting = true;
    const current = () => !this.#gone && !this.#terminating && slot.attempt === attempt;
    try {
      const image = await pullImage(this.#context, slot, current);
      if (!image || !current()) return;
      await this.#delay(this.#node.startDelay(80));
      if (!current()) return;
      const instance = await createContainer(this.#context, slot, image, this.containers[0]);
      if (!instance || !current()) {
        instance?.stop(0);
        return;
      }
      await this.#sandbox.serveSimulated(slot, instance, this.#podIP, (port, path, client, userAgent) => this.serveHttp(port, path, client, userAgent)).catch(() => undefined);
      if (!current()) {
        instance.stop(0);
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

  #run(slot: ContainerSlot, instance: ContainerInstance): void {
    slot.instance = instance;
    slot.state = { running: { startedAt: timestamp(instance.startedAt) } };
    const hasStartup = Object.keys(obj(slot.spec['startupProbe'])).length > 0;
    slot.started = !hasStartup;
    slot.ready = slot.started && Object.keys(obj(slot.spec['readinessProbe'])).length === 0 && (!slot.init || slot.sidecar);
    this.#event('Normal', 'Started', `Started container ${slot.name}`, slot);
    if (slot.ephemeral) slot.ready = false;
    startProbes(this.#context, slot, instance);
    void instance.exited.then((exit) => this.#exited(slot, instance, exit));
    runPostStart(this.#context, slot, instance);
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
    const ranMs = finishedAt.getTime() - instance.startedAt.getTime();
    // A process that ended with its pod sandbox (the kernel ends a PID namespace's processes as its
    // PID 1 exits, before that exit reaches the kubelet) restarts in the new sandbox, not in the old.
    if (this.#sandboxChanging || (instance.process !== undefined && this.#sandbox.lost)) this.#endedWithSandbox.set(slot, { exitCode: exit.exitCode, ranMs });
    else if (!this.#terminating && !this.#failure) this.#scheduleRestart(slot, exit.exitCode, ranMs);
    this.#statusChanged();
    this.kick();
  }

  /** Whether an exit with this code restarts the container under the pod's restartPolicy. */
  #restarts(slot: ContainerSlot, exitCode: number): boolean {
    return slot.restartsAfter(exitCode, str(specOf(this.pod)['restartPolicy']) ?? 'Always');
  }

  #scheduleRestart(slot: ContainerSlot, exitCode: number, ranMs: number, whateverThePolicy = false): void {
    if (slot.definitionChanged) {
      slot.definitionChanged = false;
      slot.restartAt = this.#node.now().getTime();
      return;
    }
    if (!whateverThePolicy && !this.#restarts(slot, exitCode)) {
      slot.restartAt = undefined;
      return;
    }
    if (ranMs > this.#node.scaled(BACKOFF_RESET_MS)) slot.crashes = 0;
    slot.restartAt = this.#node.now().getTime() + this.#node.scaled(backoffDelayMs(slot.crashes));
    slot.crashes++;
  }

  /**
   * The pod sandbox's pause process died without the kubelet stopping it (killed, OOM): like the
   * kubelet's computePodActions finding no ready sandbox (PodSandboxChanged), the pod is killed
   * (its running containers, then the old sandbox) and a new sandbox is made, with a new address
   * from the pod network, in which the init containers run again from the first and the containers
   * start again per restartPolicy. A restartPolicy Never pod whose containers already ran gets no
   * new sandbox and no SandboxChanged: it is only killed, and ends. A pod being deleted, or
   * finished, is left to its end.
   */
  #sandboxChanged(): void {
    if (this.#gone || this.#terminating || this.#final || this.#sandboxChanging) return;
    const slots = [...this.init, ...this.containers, ...this.ephemeral];
    const ran = slots.some((slot) => slot.instance !== undefined || slot.terminated !== undefined);
    const recreate = str(specOf(this.pod)['restartPolicy']) !== 'Never' || !ran;
    if (recreate) this.#event('Normal', 'SandboxChanged', 'Pod sandbox changed, it will be killed and re-created.');
    this.#sandboxChanging = true;
    this.#sandboxGeneration++;
    this.#preparing = false;
    const grace = podGraceMs(this.#context);
    const stopping: Array<Promise<unknown>> = [];
    for (const slot of slots) {
      slot.attempt++;
      slot.starting = false;
      slot.stopProbes();
      const instance = slot.instance;
      if (instance?.running) {
        this.#event('Normal', 'Killing', `Stopping container ${slot.name}`, slot);
        stopContainer(this.#context, slot, instance, grace);
        stopping.push(instance.exited);
      }
    }
    this.#statusChanged();
    void Promise.all(stopping).then(() => {
      this.#sandboxChanging = false;
      const ended = [...this.#endedWithSandbox];
      this.#endedWithSandbox.clear();
      if (this.#gone || this.#terminating) return;
      if (!recreate) {
        this.#finish();
        return;
      }
      // StopPodSandbox: what is left of the old sandbox goes, its address with it (CNI DEL).
      this.#sandbox.stop();
      this.#node.releaseIP(this.uid);
      this.#podIP = undefined;
      this.#sandboxReady = false;
      // What the kill ended starts again whatever its exit code (computePodActions chose the containers
      // to start before killing: all but those that had already succeeded under OnFailure).
      for (const [slot, { exitCode, ranMs }] of ended) if (!slot.ephemeral) this.#scheduleRestart(slot, exitCode, ranMs, true);
      const now = this.#node.now().getTime();
      for (const slot of this.init) if (!slot.sidecar && slot.terminated?.exitCode === 0) slot.restartAt = now;
      this.kick();
    });
  }

  /** spec.activeDeadlineSeconds counts from the pod's start on this node (activeDeadlineHandler). */
  #watchDeadline(): void {
    const deadline = num(specOf(this.pod)['activeDeadlineSeconds']);
    if (deadline === undefined || this.#deadlineTimer) return;
    this.#deadlineTimer = true;
    const due = Date.parse(this.#startTime) + this.#node.scaled(deadline * 1000) - this.#node.now().getTime();
    this.#after(due, () => {
      if (this.#final || this.#terminating) return;
      const message = 'Pod was active on the node longer than the specified deadline';
      this.#event('Warning', 'DeadlineExceeded', message);
      this.#fail({ reason: 'DeadlineExceeded', message }, this.#node.scaled((num(specOf(this.pod)['terminationGracePeriodSeconds']) ?? 30) * 1000));
    });
  }

  /** The kubelet ends the pod for good: every container stops within the grace period and the pod is Failed with this reason. */
  #fail(failure: { reason: string; message: string }, graceMs: number): Promise<void> {
    this.#failure = failure;
    const stopping: Array<Promise<unknown>> = [];
    for (const slot of [...this.containers, ...this.init, ...this.ephemeral]) {
      slot.attempt++;
      slot.restartAt = undefined;
      slot.stopProbes();
      if (slot.instance?.running) {
        this.#event('Normal', 'Killing', `Stopping container ${slot.name}`, slot);
        slot.instance.stop(graceMs);
        stopping.push(slot.instance.exited);
      } else if ('waiting' in slot.state) {
        const at = timestamp(this.#node.now());
        slot.state = { terminated: { exitCode: 137, reason: 'ContainerStatusUnknown', message: 'The container could not be located when the pod was terminated', startedAt: at, finishedAt: at } };
      }
    }
    this.#finish();
    return Promise.all(stopping).then(() => undefined);
  }

  // ---- local ephemeral storage (the eviction manager's view of this pod) ------------------------

  /** Running here and neither finished nor being deleted: what the eviction manager may evict. */
  get evictable(): boolean {
    return this.#sandboxReady && !this.#final && !this.#terminating && !this.#gone;
  }

  storageStats(): Promise<PodStorageStats> {
    return this.#storage.stats(this.pod);
  }

  diskUsage(): Promise<PodDiskUsage> {
    return this.#storage.usage(this.pod);
  }

  /**
   * The eviction manager evicts the pod (its local storage passed a limit): the Evicted event, every
   * container stopped with the 1 s grace period of immediate evictions, phase Failed with reason
   * Evicted. Its local storage is freed once the containers are gone, as a terminated pod's volumes are.
   */
  evict(message: string): boolean {
    if (!this.evictable) return false;
    this.#event('Warning', 'Evicted', message);
    void this.#fail({ reason: 'Evicted', message }, this.#node.scaled(1_000)).then(() => (this.#gone ? undefined : this.#removeFiles()));
    return true;
  }

  /** Every container that will run has finished: the pod is Succeeded or Failed. */
  #finish(): void {
    if (this.#final) return;
    this.#final = true;
    // The sandbox of a finished pod goes, and its address with it; the status keeps showing it.
    this.#node.releaseIP(this.uid);
    const sidecars = [...this.init.filter((slot) => slot.sidecar), ...this.ephemeral].filter((slot) => slot.instance?.running).map((slot) => slot.instance as ContainerInstance);
    for (const sidecar of sidecars) sidecar.stop(this.#node.scaled(2_000));
    void Promise.all(sidecars.map((sidecar) => sidecar.exited)).then(() => this.#sandbox.stop());
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
        slot.definitionChanged = true;
        slot.instance.stop(podGraceMs(this.#context));
        slot.crashes = 0;
      } else {
        slot.pullRetryAt = undefined;
        slot.pullFailures = 0;
        slot.image = undefined;
        if (slot.restartAt !== undefined) slot.restartAt = 0;
      }
    }
  }

  /** What its running containers use now (metrics-server's scrape of this pod): sidecars and ephemeral containers are containers the runtime reports too. */
  samples(): ContainerSample[] {
    return podSamples(this.pod, [...this.containers, ...this.init, ...this.ephemeral], () => this.#node.now().getTime());
  }

  // ---- exec sessions ---------------------------------------------------------------------------

  /** An HTTP request through the simulated network: the first running container that listens on the port answers. */
  serveHttp(port: number, path: string, client: string, userAgent: string): HttpAnswer | undefined {
    for (const slot of [...this.containers, ...this.init, ...this.ephemeral]) {
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
    return [...this.containers, ...this.init, ...this.ephemeral].find((slot) => slot.name === name);
  }

  /** The sandbox for a process inside this container (exec sessions with the network, exec probes without), or why there can be none. */
  execSandbox(slot: ContainerSlot, argv: string[], tty: { cols: number; rows: number } | undefined, network = false): Promise<SandboxSpec | string> {
    return execSandbox(this.#context, slot, argv, tty, network);
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
        for (const slot of [...this.containers, ...this.init, ...this.ephemeral]) if (slot.instance?.running) slot.instance.stop(grace);
      }
      return;
    }
    this.#terminating = true;
    this.#graceMs = grace;
    const running: ContainerInstance[] = [];
    for (const slot of [...this.containers, ...this.init, ...this.ephemeral]) {
      slot.attempt++;
      slot.starting = false;
      slot.stopProbes();
      slot.restartAt = undefined;
      const instance = slot.instance;
      if (instance?.running) {
        this.#event('Normal', 'Killing', `Stopping container ${slot.name}`, slot);
        stopContainer(this.#context, slot, instance, grace);
        running.push(instance);
      }
    }
    void Promise.all(running.map((instance) => instance.exited)).then(() => {
      if (this.#gone) return;
      this.#terminal = true;
      this.#writeStatusNow();
      this.#after(VOLUME_TEARDOWN_MS, () => this.#node.removePod(this.pod));
    });
  }

  /** The pod's file system, image and directory go; what cannot go now is an orphan the next start removes. */
  #removeFiles(): Promise<void> {
    return this.#storage
      .release()
      .then(() => this.#volumes.remove())
      .catch(() => undefined);
  }

  /**
   * The pod object is gone (or its node kubelet stops): end every process at once and clean up.
   * Resolves once the pod's files are removed (or, on a stop, its file system unmounted).
   */
  dispose(removeFiles: boolean): Promise<void> {
    if (this.#gone) return Promise.resolve();
    this.#gone = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (this.#tokenTimer) clearTimeout(this.#tokenTimer);
    for (const slot of [...this.containers, ...this.init, ...this.ephemeral]) {
      slot.stopProbes();
      slot.endSessions();
      if (slot.instance?.running) slot.instance.stop(0);
      if (slot.instance?.process) slot.instance.process.kill('SIGKILL');
    }
    this.#node.releaseIP(this.uid);
    this.#sandbox.stop();
    this.#node.workerGone(this.uid);
    this.#filesRemoved = removeFiles;
    return removeFiles ? this.#removeFiles() : this.#storage.detach().catch(() => undefined);
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
      ephemeralContainers: this.ephemeral.map((slot) => slot.statusInput()),
      terminal: this.#terminal,
      ...(this.#failure ? { failure: this.#failure } : {}),
      now: this.#node.now(),
    });
    const text = JSON.stringify(status);
    if (text === this.#lastStatus) return;
    this.#lastStatus = text;
    this.#node.writeStatus(this.pod, status);
  }
}
