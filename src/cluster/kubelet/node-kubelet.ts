// The kubelet of one Node: it watches the pods bound to its node (a field selector on
// spec.nodeName, as the real kubelet does), keeps a pod worker for each, hands out pod IPs from
// the node's podCIDR, remembers which images the node has pulled, and writes pod status and the
// final removal under the node's identity.
import type { EventRecorder } from '../controllers/index.ts';
import type { Registry, UserInfo, Watch } from '../registry/index.ts';
import { StatusError, type KubeObject } from '../types.ts';
import type { ClaimStorage } from './claim-storage.ts';
import type { ClusterView } from './cluster-view.ts';
import { type HostDisk, startLocalStorageEviction } from './ephemeral-storage/index.ts';
import type { NodeAllocatable } from './environment.ts';
import { type Json, obj, objects, specOf, str } from '../json.ts';
import type { PodNetwork } from './network/index.ts';
import type { ParallelLimit } from './parallel-limit.ts';
import type { NodeRuntime } from './pod-context.ts';
import { PodWorker } from './pod-worker.ts';
import type { SandboxCgroup, SandboxIdentity, SandboxLimits, SandboxSupport } from './sandbox/index.ts';
import type { TokenIssuer } from './volumes.ts';
import type { WorkbenchTools } from './workbench.ts';
import { tryParseQuantity } from '../registry/index.ts';

/** What every node's kubelet shares (one Kubelet per cluster). */
export interface KubeletShared {
  registry: Registry;
  view: ClusterView;
  recorder(nodeName: string): EventRecorder;
  sandbox(): SandboxSupport;
  apiSocket: string;
  apiUrl: string;
  caFile: string;
  tokens: TokenIssuer | undefined;
  tools(): Promise<WorkbenchTools>;
  serviceSocket(namespace: string, podUid: string): Promise<string>;
  podNetwork(): Promise<PodNetwork | undefined>;
  now(): Date;
  startDelay(ms: number): number;
  scaled(ms: number): number;
  logLimit(): number;
  paths: { podsDir: string; nodesDir: string; claimsDir: string; storageDir: string; imagesDir: string };
  unlimitedPodStorageBytes: number;
  claimStorage: ClaimStorage;
  hostDisk: HostDisk;
  workerAdded(worker: PodWorker): void;
  workerRemoved(worker: PodWorker): void;
  identityOf(namespace: string, supplementalGroups?: number[]): SandboxIdentity;
  sandboxCgroup(): Promise<SandboxCgroup | null>;
  /** Pod sandbox starts and network attaches of every node, a few at a time (the host's processes and network locks are shared). */
  sandboxStarts: ParallelLimit;
  podLimitDefaults: SandboxLimits;
}

function nodeUserOf(name: string): UserInfo {
  return { username: `system:node:${name}`, groups: ['system:nodes', 'system:authenticated'] };
}

/** Hands out addresses of a node's pod CIDR; .1 is the node's bridge. */
class PodAddresses {
  readonly #base: number;
  readonly #size: number;
  readonly #used = new Map<string, number>();
  readonly #taken = new Set<number>();
  #next = 2;

  constructor(cidr: string) {
    const [address, bits] = cidr.split('/') as [string, string | undefined];
    const octets = address.split('.').map(Number);
    const prefix = Math.min(Math.max(Number(bits ?? 24), 8), 30);
    this.#base = ((octets[0] ?? 10) << 24) | ((octets[1] ?? 244) << 16) | ((octets[2] ?? 0) << 8) | (octets[3] ?? 0);
    this.#size = 2 ** (32 - prefix);
  }

  #text(offset: number): string {
    const value = (this.#base + offset) >>> 0;
    return [value >>> 24, (value >>> 16) & 255, (value >>> 8) & 255, value & 255].join('.');
  }

  allocate(uid: string, wanted: string | undefined): string | undefined {
    const held = this.#used.get(uid);
    if (held !== undefined) return this.#text(held);
    if (wanted) {
      const parts = wanted.split('.').map(Number);
      const value = (((parts[0] ?? 0) << 24) | ((parts[1] ?? 0) << 16) | ((parts[2] ?? 0) << 8) | (parts[3] ?? 0)) >>> 0;
      const offset = value - (this.#base >>> 0);
      if (offset > 1 && offset < this.#size - 1 && !this.#taken.has(offset)) {
        this.#used.set(uid, offset);
        this.#taken.add(offset);
        return wanted;
      }
    }
    for (let tried = 0; tried < this.#size; tried++) {
      const offset = this.#next;
      this.#next = this.#next + 1 >= this.#size - 1 ? 2 : this.#next + 1;
      if (!this.#taken.has(offset)) {
        this.#used.set(uid, offset);
        this.#taken.add(offset);
        return this.#text(offset);
      }
    }
    return undefined;
  }

  release(uid: string): void {
    const offset = this.#used.get(uid);
    if (offset === undefined) return;
    this.#used.delete(uid);
    this.#taken.delete(offset);
  }
}

function allocatableOf(node: KubeObject): NodeAllocatable {
  const allocatable = obj(obj(node['status'])['allocatable']);
  return {
    cpuMillis: tryParseQuantity(allocatable['cpu'])?.milliValue() ?? 4000,
    memoryBytes: tryParseQuantity(allocatable['memory'])?.value() ?? 8 * 1024 ** 3,
  };
}

export class NodeKubelet implements NodeRuntime {
  readonly nodeName: string;
  readonly hostIP: string;
  readonly view: ClusterView;
  readonly recorder: EventRecorder;
  readonly apiSocket: string;
  readonly apiUrl: string;
  readonly caFile: string;
  readonly tokens: TokenIssuer | undefined;
  readonly allocatable: NodeAllocatable;
  readonly paths: { podsDir: string; nodeDir: string; claimsDir: string; storageDir: string; imagesDir: string };
  readonly unlimitedPodStorageBytes: number;
  readonly claimStorage: ClaimStorage;
  readonly hostDisk: HostDisk;
  readonly podLimitDefaults: SandboxLimits;
  readonly workers = new Map<string, PodWorker>();
  readonly #shared: KubeletShared;
  readonly #addresses: PodAddresses;
  readonly #images = new Set<string>();
  readonly #user: UserInfo;
  readonly #watch: Watch;
  readonly #eviction: { stop(): void };
  #pending = new Map<string, KubeObject | null>();
  #flushQueued = false;
  #stopped = false;

  constructor(shared: KubeletShared, node: KubeObject) {
    this.#shared = shared;
    this.nodeName = node.metadata.name ?? '';
    const addresses = objects(obj(node['status'])['addresses']);
    this.hostIP = str(addresses.find((a) => a['type'] === 'InternalIP')?.['address']) ?? '172.18.0.2';
    this.#addresses = new PodAddresses(str(specOf(node)['podCIDR']) ?? '10.244.0.0/24');
    this.view = shared.view;
    this.recorder = shared.recorder(this.nodeName);
    this.apiSocket = shared.apiSocket;
    this.apiUrl = shared.apiUrl;
    this.caFile = shared.caFile;
    this.tokens = shared.tokens;
    this.allocatable = allocatableOf(node);
    this.paths = { podsDir: shared.paths.podsDir, nodeDir: `${shared.paths.nodesDir}/${this.nodeName}`, claimsDir: shared.paths.claimsDir, storageDir: shared.paths.storageDir, imagesDir: shared.paths.imagesDir };
    this.unlimitedPodStorageBytes = shared.unlimitedPodStorageBytes;
    this.claimStorage = shared.claimStorage;
    this.hostDisk = shared.hostDisk;
    this.podLimitDefaults = shared.podLimitDefaults;
    this.#user = nodeUserOf(this.nodeName);
    this.#watch = shared.registry.watch(shared.view.definition('pods'), { fieldSelector: `spec.nodeName=${this.nodeName}` }, (event) => {
      if (event.type === 'BOOKMARK' || event.type === 'ERROR') return;
      const uid = event.object.metadata.uid ?? '';
      this.#pending.set(uid, event.type === 'DELETED' ? null : event.object);
      this.#scheduleFlush();
    });
    // The eviction manager's monitoring interval is 10 s; scaled time makes tests see it sooner.
    this.#eviction = startLocalStorageEviction({ candidates: () => this.workers.values(), intervalMs: Math.max(shared.scaled(10_000), 200) });
  }

  /** Watch events are handled on the next turn: a kubelet never writes from inside the registry's delivery. */
  #scheduleFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    setImmediate(() => {
      this.#flushQueued = false;
      const batch = this.#pending;
      this.#pending = new Map();
      for (const [uid, pod] of batch) this.#handle(uid, pod);
    });
  }

  #handle(uid: string, pod: KubeObject | null): void {
    if (this.#stopped) return;
    const worker = this.workers.get(uid);
    if (pod === null) {
      void worker?.dispose(true);
      return;
    }
    if (worker) {
      worker.update(pod);
      return;
    }
    const created = new PodWorker(this, pod);
    this.workers.set(uid, created);
    this.#shared.workerAdded(created);
    created.kick();
  }

  sandbox(): SandboxSupport {
    return this.#shared.sandbox();
  }
  identityOf(namespace: string, supplementalGroups?: number[]): SandboxIdentity {
    return this.#shared.identityOf(namespace, supplementalGroups);
  }
  sandboxCgroup(): Promise<SandboxCgroup | null> {
    return this.#shared.sandboxCgroup();
  }
  sandboxStart<T>(start: () => Promise<T>): Promise<T> {
    return this.#shared.sandboxStarts.run(start);
  }
  tools(): Promise<WorkbenchTools> {
    return this.#shared.tools();
  }
  serviceSocket(namespace: string, podUid: string): Promise<string> {
    return this.#shared.serviceSocket(namespace, podUid);
  }
  podNetwork(): Promise<PodNetwork | undefined> {
    return this.#shared.podNetwork();
  }
  now(): Date {
    return this.#shared.now();
  }
  startDelay(ms: number): number {
    return this.#shared.startDelay(ms);
  }
  scaled(ms: number): number {
    return this.#shared.scaled(ms);
  }
  logLimit(): number {
    return this.#shared.logLimit();
  }
  imagePresent(image: string): boolean {
    return this.#images.has(image);
  }
  markImagePresent(image: string): void {
    this.#images.add(image);
  }
  allocateIP(uid: string, wanted: string | undefined): string | undefined {
    return this.#addresses.allocate(uid, wanted);
  }
  releaseIP(uid: string): void {
    this.#addresses.release(uid);
  }

  writeStatus(pod: KubeObject, status: Json): void {
    if (this.#stopped) return;
    const definition = this.view.definition('pods');
    try {
      const live = this.#shared.registry.get(definition, pod.metadata.namespace, pod.metadata.name ?? '');
      if (live.metadata.uid !== pod.metadata.uid) return;
      this.#shared.registry.update(definition, pod.metadata.namespace, pod.metadata.name ?? '', { ...live, status }, { subresource: 'status', user: this.#user });
    } catch (error) {
      if (!(error instanceof StatusError && (error.code === 404 || error.code === 409 || error.code === 422))) throw error;
    }
  }

  removePod(pod: KubeObject): void {
    if (this.#stopped) return;
    try {
      this.#shared.registry.delete(this.view.definition('pods'), pod.metadata.namespace, pod.metadata.name ?? '', {
        gracePeriodSeconds: 0,
        preconditions: { uid: pod.metadata.uid ?? '' },
        user: this.#user,
      });
    } catch (error) {
      if (!(error instanceof StatusError && (error.code === 404 || error.code === 409))) throw error;
    }
  }

  workerGone(uid: string): void {
    const worker = this.workers.get(uid);
    if (!worker) return;
    this.workers.delete(uid);
    this.#shared.workerRemoved(worker);
  }

  /** Stops watching; processes end (the cluster is stopping), pod directories stay for the next start, their file systems unmounted. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#watch.stop();
    this.#eviction.stop();
    await Promise.all([...this.workers.values()].map((worker) => worker.dispose(false)));
  }
}
