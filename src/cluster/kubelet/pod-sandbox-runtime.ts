// One pod's sandbox as the container runtime keeps it (the CRI's RunPodSandbox and
// StopPodSandbox): the set of namespaces every real process of the pod joins, the pod's cgroup
// with one child per container, and the pod's network namespace on the pod network (CNI ADD).
// Made on first need; the pod worker decides when it goes. A pause process that dies on its own
// (killed, OOM) is reported to the worker, which makes a new sandbox (the kubelet's SandboxChanged).
import type { Duplex } from 'node:stream';
import type { KubeObject } from '../types.ts';
import { limitsOf, podLimits } from './container-sandbox.ts';
import type { ContainerSlot } from './container-slot.ts';
import { type HttpAnswer, type ContainerInstance, SimulatedContainer } from './containers.ts';
import { num, objects, specOf, str } from '../json.ts';
import { gatewayOf, openPodPort } from './network/index.ts';
import type { NodeRuntime } from './pod-context.ts';
import { type InsideUser, PodSandbox, type SandboxCgroup, type SandboxIdentity } from './sandbox/index.ts';

export interface PodSandboxOwner {
  readonly node: NodeRuntime;
  readonly uid: string;
  readonly identity: SandboxIdentity;
  readonly user: InsideUser;
  /** The pod as last seen. */
  pod(): KubeObject;
  /** The pod's worker was disposed: nothing is made any more. */
  gone(): boolean;
  /** The worker was disposed or the pod finished: a sandbox made meanwhile is stopped at once. */
  ended(): boolean;
  /** The pod sandbox's pause process exited without the kubelet stopping it: the sandbox is no longer ready. */
  sandboxExited(): void;
}

export class PodSandboxRuntime {
  readonly #owner: PodSandboxOwner;
  /** The pod sandbox (namespaces, cgroup), made when the first real process needs it. */
  #podSandbox: Promise<PodSandbox | undefined> | undefined;
  /** The same once made, so a stopping kubelet ends it at once. */
  #madePodSandbox: PodSandbox | undefined;
  #podCgroup: Promise<SandboxCgroup | null> | undefined;
  readonly #containerCgroups = new Map<string, Promise<SandboxCgroup | null>>();
  /** The pod sandbox whose namespace is on the pod network (CNI ADD done). */
  #networkSandbox: PodSandbox | undefined;
  /**
   * Sandboxes made before this one (CRI's attempt): each has a pod cgroup of its own, as the old
   * one is still being killed and removed when its successor starts.
   */
  #attempt = 0;

  constructor(owner: PodSandboxOwner) {
    this.#owner = owner;
  }

  /** hostNetwork pods share the node's address. */
  get #hostNetwork(): boolean {
    return specOf(this.#owner.pod())['hostNetwork'] === true;
  }

  /** The pod sandbox, made once (again after a failure); undefined where processes cannot have one. */
  ensure(): Promise<PodSandbox | undefined> {
    const { node } = this.#owner;
    const support = node.sandbox();
    if (support.mode !== 'bubblewrap' || !support.nsenter || this.#owner.gone()) return Promise.resolve(undefined);
    const pod = this.#owner.pod();
    const hostname = (str(specOf(pod)['hostname']) ?? pod.metadata.name ?? '').slice(0, 63);
    this.#podSandbox ??= Promise.all([this.#ensurePodCgroup(), this.#hostNetwork ? node.podNetwork() : undefined])
      .then(([cgroup, network]) =>
        PodSandbox.start(support, {
          // A hostNetwork pod is the node by name, and on the pod network it is on the node's network
          // namespace; without a pod network it keeps a namespace of its own, never the host's.
          hostname: this.#hostNetwork ? node.nodeName : hostname,
          ...(network ? { netns: network.netns } : {}),
          identity: this.#owner.identity,
          cgroup,
          user: this.#owner.user,
        }),
      )
      .then(
        (sandbox) => {
          // The pod went while its sandbox was being made.
          if (this.#owner.ended()) sandbox.stop();
          else {
            this.#madePodSandbox = sandbox;
            void sandbox.exited.then(() => this.#exited(sandbox));
          }
          return sandbox;
        },
        (error: unknown) => {
          // The next process tries again.
          this.#podSandbox = undefined;
          throw error;
        },
      );
    return this.#podSandbox;
  }

  /**
   * The pause process exited: stopped by the kubelet (no longer the pod's sandbox), or ended by
   * something else. Then the sandbox stays the pod's until the worker has killed its containers
   * and stops it, as the kubelet kills a pod before StopPodSandbox.
   */
  #exited(sandbox: PodSandbox): void {
    if (this.#madePodSandbox === sandbox) this.#owner.sandboxExited();
  }

  /** The pod sandbox was made and is no longer ready: its PID 1 is exiting or gone. */
  get lost(): boolean {
    return this.#madePodSandbox !== undefined && !this.#madePodSandbox.ready;
  }

  #ensurePodCgroup(): Promise<SandboxCgroup | null> {
    const { node, uid } = this.#owner;
    const name = this.#attempt === 0 ? `pod-${uid}` : `pod-${uid}-${this.#attempt}`;
    this.#podCgroup ??= node.sandboxCgroup().then((parent) => parent?.child(name, podLimits(this.#owner.pod(), node.podLimitDefaults)) ?? null);
    return this.#podCgroup;
  }

  /** The cgroup of one container, under the pod's. */
  containerCgroup(slot: ContainerSlot): Promise<SandboxCgroup | null> {
    let cgroup = this.#containerCgroups.get(slot.name);
    if (!cgroup) {
      cgroup = this.#ensurePodCgroup().then((pod) => pod?.child(slot.name, limitsOf(slot.spec)) ?? null);
      this.#containerCgroups.set(slot.name, cgroup);
    }
    return cgroup;
  }

  /**
   * The pod's network namespace on the pod network, with its pod IP (none on the host's network or
   * without a pod network). The sandbox and its network are made in one turn of the kubelet's
   * sandbox starts, so a pod that began is finished before the next begins.
   */
  async setUpNetwork(podIP: string | undefined): Promise<void> {
    if (this.#hostNetwork) return;
    const network = await this.#owner.node.podNetwork();
    if (!network) return;
    await this.#owner.node.sandboxStart(async () => {
      if (this.#owner.ended()) return;
      const sandbox = await this.ensure();
      if (!sandbox || !podIP || this.#networkSandbox === sandbox) return;
      await network.attach(sandbox, podIP);
      // A sandbox stopped meanwhile (it died, the pod ended) is no longer the pod's.
      if (this.#madePodSandbox === sandbox) this.#networkSandbox = sandbox;
    });
  }

  /** A service image's simulated server listens on the pod's ports, on the pod network like a process would. */
  async serveSimulated(slot: ContainerSlot, instance: ContainerInstance, podIP: string | undefined, answer: (port: number, path: string, client: string, userAgent: string) => HttpAnswer | undefined): Promise<void> {
    if (!(instance instanceof SimulatedContainer) || this.#hostNetwork) return;
    const network = await this.#owner.node.podNetwork();
    const sandbox = this.#networkSandbox;
    if (!network || !sandbox || !podIP) return;
    const declared = objects(slot.spec['ports']).filter((port) => (str(port['protocol']) ?? 'TCP') === 'TCP').map((port) => num(port['containerPort'])).filter((port): port is number => port !== undefined);
    // The forwarder cannot tell who connects: the answer names the node's gateway, as a masqueraded client.
    const client = gatewayOf(podIP);
    await network.serve(this.#owner.uid, sandbox, instance.ports ?? declared, (port, path, userAgent) => answer(port, path, client, userAgent || 'curl'), instance.tls);
  }

  /** A TCP connection to the pod's port on its own localhost, inside its network namespace (kubectl port-forward); undefined without a pod network. */
  async openPort(port: number): Promise<Duplex | undefined> {
    const network = await this.#owner.node.podNetwork();
    const sandbox = this.#networkSandbox;
    if (!network || !sandbox?.running) return undefined;
    return openPodPort(sandbox, network.tools, port);
  }

  /** StopPodSandbox: the pause process, every process left in the pod and its cgroup go. */
  stop(): void {
    const sandbox = this.#podSandbox;
    this.#podSandbox = undefined;
    this.#madePodSandbox?.stop();
    this.#madePodSandbox = undefined;
    this.#networkSandbox = undefined;
    void this.#owner.node.podNetwork().then((network) => network?.release(this.#owner.uid));
    void sandbox?.then((made) => made?.stop(), () => {});
    // Without a pause process (none was made) the pod's cgroup goes by itself.
    if (!sandbox)
      void this.#podCgroup?.then((cgroup) => {
        cgroup?.killAll();
        void cgroup?.remove();
      });
    if (this.#podCgroup) this.#attempt++;
    this.#podCgroup = undefined;
    this.#containerCgroups.clear();
  }
}
