// What the parts of a pod worker (image pull, container start, probes and hooks, exec, usage)
// share: the node they run on and the pod they serve. The worker owns the state machine; each
// part reads the pod through this face and reports back through events and status changes.
import type { EventRecorder } from '../controllers/index.ts';
import type { KubeObject } from '../types.ts';
import type { ClaimStorage } from './claim-storage.ts';
import type { ClusterView } from './cluster-view.ts';
import type { HostDisk } from './ephemeral-storage/index.ts';
import type { ContainerSlot } from './container-slot.ts';
import type { NodeAllocatable } from './environment.ts';
import { type Json, num, specOf } from '../json.ts';
import type { PodNetwork } from './network/index.ts';
import type { InsideUser, PodSandbox, SandboxCgroup, SandboxIdentity, SandboxLimits, SandboxSupport } from './sandbox/index.ts';
import type { PodVolumes, TokenIssuer } from './volumes.ts';
import type { WorkbenchTools } from './workbench.ts';

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
  /** imagesDir: the images' unpacked root file systems, shared by the node's containers. */
  readonly paths: { podsDir: string; nodeDir: string; claimsDir: string; storageDir: string; imagesDir: string };
  /** The size of the file system of a pod that sets no ephemeral-storage limit. */
  readonly unlimitedPodStorageBytes: number;
  /** The file systems of PersistentVolumeClaims on this node. */
  readonly claimStorage: ClaimStorage;
  /** The host's disk, on which the pods' and claims' thin-provisioned file systems are made while it keeps its reserve. */
  readonly hostDisk: HostDisk;
  tools(): Promise<WorkbenchTools>;
  /** The simulated network's proxy socket for this pod of this namespace (see service-network.ts). */
  serviceSocket(namespace: string, podUid: string): Promise<string>;
  /** The pod network (started on first need), or undefined where this machine cannot have one. */
  podNetwork(): Promise<PodNetwork | undefined>;
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
  /** The host identity of a sandbox (a namespace): every pod in it runs as this uid and owns its files with it. */
  identityOf(namespace: string, supplementalGroups?: number[]): SandboxIdentity;
  /** Runs a pod's sandbox start and network attach when its turn comes: a few pods of the kubelet's at a time. */
  sandboxStart<T>(start: () => Promise<T>): Promise<T>;
  /** The parent cgroup of every pod sandbox on this kubelet (the host's share); null where cgroups cannot be made. */
  sandboxCgroup(): Promise<SandboxCgroup | null>;
  /** The ceiling of a pod whose containers set no limits. */
  readonly podLimitDefaults: SandboxLimits;
}

export interface PodContext {
  readonly node: NodeRuntime;
  readonly uid: string;
  /** The pod's directory on the host (volumes, etc files, containers' writable dirs). */
  readonly podDir: string;
  readonly volumes: PodVolumes;
  /** The pod as last seen (it changes with every update). */
  pod(): KubeObject;
  podIP(): string | undefined;
  /** name_namespace(uid), as the kubelet's messages name a pod. */
  description(): string;
  event(type: 'Normal' | 'Warning', reason: string, message: string, slot?: ContainerSlot): void;
  /** Resolves after ms, or never once the pod is gone. */
  delay(ms: number): Promise<void>;
  statusChanged(): void;
  /** A container exited (or could not start) with this code after running this long: restart it per policy. */
  scheduleRestart(slot: ContainerSlot, exitCode: number, ranMs: number): void;
  /** Keeps the projected ServiceAccount token fresh once a real process reads it. */
  scheduleTokenRefresh(): void;
  /**
   * Mounts the pod's file system and its claims' before the first real process (a container's or
   * an exec's) makes the kubelet write anything of the pod; simulated pods never need them.
   */
  prepareStorage(): Promise<void>;
  /** The pod's identity on the host (its sandbox's). */
  readonly identity: SandboxIdentity;
  /** Who the pod's processes are inside (securityContext or the image's user). */
  readonly user: InsideUser;
  /** The pod sandbox every real process of the pod joins, made on first need; undefined without bubblewrap. */
  podSandbox(): Promise<PodSandbox | undefined>;
  /** The cgroup of one container, under the pod's (its limits and the pod's hold for all its processes). */
  containerCgroup(slot: ContainerSlot): Promise<SandboxCgroup | null>;
  /** The PID namespace of one of the pod's running containers (an ephemeral container's --target joins it). */
  pidNamespaceOf(containerName: string): string | undefined;
}

/** The grace period the pod's spec gives a stopping container, in real milliseconds. */
export function podGraceMs(context: PodContext): number {
  return context.node.scaled((num(specOf(context.pod())['terminationGracePeriodSeconds']) ?? 30) * 1000);
}
