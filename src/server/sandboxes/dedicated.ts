// Sandboxes that are a whole cluster (labs with `needs: cluster`): nodes to drain, CRDs to install,
// cluster-wide RBAC to write. The learner gets an embedded cluster of their own, started by a
// DedicatedClusterHost; on the lab cluster a Namespace stays the sandbox's record (labels: lab,
// learner, expiry, ready), so listing, the reaper, idle time and limits work as for any sandbox.
// In the learner's cluster a namespace of the same name holds the workbench, whose ServiceAccount
// is cluster-admin there.
import { errorMessage, type KubeClient } from '../../labs/index.ts';
import {
  ANNOTATION_CLUSTER_HOST,
  ANNOTATION_CREATED,
  ANNOTATION_LAB_TITLE,
  DEDICATED,
  LABEL_CLUSTER,
  LABEL_EXPIRES,
  LABEL_LAB,
  LABEL_LAB_DIGEST,
  LABEL_READY,
  seconds,
} from './labels.ts';
import { clusterAdminAccess, namespaceManifest, podSecurityLabels, workbenchPod } from './objects.ts';
import {
  PHASE_MESSAGES,
  PROVISIONING_GRACE_MS,
  SandboxError,
  StartPhases,
  createSettling,
  deleteSandbox,
  ownerAnnotations,
  ownerLabels,
  runSetup,
  waitForWorkbench,
  type ProvisionContext,
  type ProvisionRequest,
  type StartPhase,
} from './provision.ts';

/** A learner's own cluster, running. */
export interface DedicatedCluster {
  /** Its admin kubeconfig, for the portal (checks, the terminal, setup). */
  readonly kubeconfigPath: string;
  /** Stops its process and removes its data. */
  stop(): Promise<void>;
  /** Stops its process and keeps its data, to be started again (the portal is stopping). */
  halt(): Promise<void>;
}

/** Where learners' own clusters come from: processes on the portal's host (LAB_CLUSTER=embedded). */
export interface DedicatedClusterHost {
  /** Names this host on the sandboxes' records: a portal started again finds its own leftovers. */
  readonly id: string;
  /** At most this many at once: each one is a process with its own API server and kubelet. */
  readonly limit: number;
  /** Starts the cluster of the sandbox `name` (again, from its data, when it has some); resolves once it serves. */
  start(name: string): Promise<DedicatedCluster>;
  /** The sandboxes whose clusters left data here (an earlier run of the portal). */
  leftovers(): Promise<string[]>;
  /** Removes the data a cluster left (its sandbox is gone). */
  remove(name: string): Promise<void>;
}

/** A start refused because DEDICATED_CLUSTER_LIMIT learners' clusters run already. */
export class DedicatedClusterLimitError extends SandboxError {
  readonly limit: number;
  constructor(limit: number, lab: string) {
    super(
      'starting-cluster',
      null,
      `Lab ${lab} needs a cluster of its own, and every one this portal can run is in use (at most ${limit} at once, DEDICATED_CLUSTER_LIMIT: each is a process); try again in a few minutes, or end a lab you no longer need.`,
    );
    this.name = 'DedicatedClusterLimitError';
    this.limit = limit;
  }
}

export function noDedicatedClusters(lab: string): SandboxError {
  return new SandboxError(
    'starting-cluster',
    null,
    `Lab ${lab} needs a cluster of its own (needs: cluster), and none can be started here: DEDICATED_CLUSTER_LIMIT is 0 (above 0, learners' own clusters are processes beside the portal with LAB_CLUSTER=embedded, pods in their sandboxes with LAB_CLUSTER=kubernetes).`,
  );
}

/** Starts and stops the learner's cluster for provisionDedicated; the caller keeps track of it. */
export interface DedicatedClusters {
  /** Starts the cluster of sandbox `name`; resolves with a cluster-admin client of it. */
  start(name: string): Promise<KubeClient>;
  stop(name: string): Promise<void>;
}

/**
 * Makes a dedicated sandbox named `namespace`: its record, the learner's cluster, the workbench
 * there (Ready), then the lab's setup, run in that cluster. Half-made, everything goes again.
 */
export async function provisionDedicated(ctx: ProvisionContext, request: ProvisionRequest & { namespace: string; hostId: string }, clusters: DedicatedClusters): Promise<string> {
  const { lab, owner, namespace } = request;
  const phases = new StartPhases(request.onProgress);
  const report = (next: StartPhase) => phases.report(next);
  const now = ctx.now();
  report('creating-namespace');
  try {
    await ctx.client.create(
      namespaceManifest(
        namespace,
        {
          [LABEL_LAB]: lab.id,
          [LABEL_LAB_DIGEST]: request.digest,
          [LABEL_EXPIRES]: seconds(new Date(now.getTime() + PROVISIONING_GRACE_MS)),
          [LABEL_READY]: 'false',
          [LABEL_CLUSTER]: DEDICATED,
          ...ownerLabels(owner),
        },
        { [ANNOTATION_LAB_TITLE]: lab.title, [ANNOTATION_CREATED]: seconds(now), [ANNOTATION_CLUSTER_HOST]: request.hostId, ...ownerAnnotations(owner, now) },
      ),
      undefined,
    );
  } catch (error) {
    throw new SandboxError('creating-namespace', null, `Could not record a sandbox for lab ${lab.id}: ${errorMessage(error)}`);
  }
  try {
    report('starting-cluster');
    const client = await clusters.start(namespace);
    const own: ProvisionContext = { ...ctx, client };
    report('granting-access');
    await client.create(namespaceManifest(namespace, podSecurityLabels(lab.podSecurity), { [ANNOTATION_LAB_TITLE]: lab.title }), undefined);
    for (const object of clusterAdminAccess(namespace)) await client.create(object, object.metadata.namespace);
    report('starting-workbench');
    await createSettling(client, workbenchPod(namespace, ctx.workbenchImage), namespace);
    await waitForWorkbench(own, namespace);
    report('running-setup');
    await runSetup(own, lab, namespace);
    await ctx.client.api.request('PATCH', `/api/v1/namespaces/${namespace}`, {
      contentType: 'application/merge-patch+json',
      body: { metadata: { labels: { [LABEL_READY]: 'true', [LABEL_EXPIRES]: seconds(request.expiresAt) } } },
    });
    report('ready');
    return namespace;
  } catch (error) {
    await clusters.stop(namespace).catch(() => undefined);
    await deleteSandbox(ctx.client, namespace).catch(() => undefined);
    if (error instanceof SandboxError) throw error;
    throw new SandboxError(phases.phase, namespace, `Starting a cluster of your own for lab ${lab.id} failed while ${PHASE_MESSAGES[phases.phase].toLowerCase()}: ${errorMessage(error)}`);
  }
}

/**
 * The learners' clusters this process runs (or is starting), by sandbox namespace: what exec,
 * checks and the terminal reach, what counts against the host's limit, and what is stopped when
 * a sandbox ends or halted when the portal stops.
 */
export class OwnClusters {
  readonly host: DedicatedClusterHost;
  readonly #running = new Map<string, { cluster: DedicatedCluster; client: KubeClient }>();
  readonly #starting = new Set<string>();
  readonly #connect: (kubeconfigPath: string) => KubeClient;

  constructor(host: DedicatedClusterHost, connect: (kubeconfigPath: string) => KubeClient) {
    this.host = host;
    this.#connect = connect;
  }

  /** Running and starting: what the host's limit counts. */
  get count(): number {
    return this.#running.size + this.#starting.size;
  }

  get running(): number {
    return this.#running.size;
  }

  /** Running or being started by this process. */
  busy(namespace: string): boolean {
    return this.#running.has(namespace) || this.#starting.has(namespace);
  }

  client(namespace: string): KubeClient | undefined {
    return this.#running.get(namespace)?.client;
  }

  kubeconfig(namespace: string): string | null {
    return this.#running.get(namespace)?.cluster.kubeconfigPath ?? null;
  }

  names(): string[] {
    return [...this.#running.keys()];
  }

  /** Holds a place under the limit while `work` makes the sandbox `namespace`. */
  async reserving<T>(namespace: string, work: () => Promise<T>): Promise<T> {
    this.#starting.add(namespace);
    try {
      return await work();
    } finally {
      this.#starting.delete(namespace);
    }
  }

  /** Starts the cluster of `namespace` (from its data when it has some); `ready` must pass before exec and checks go to it. */
  async start(namespace: string, ready: (client: KubeClient) => Promise<void> = async () => undefined): Promise<KubeClient> {
    const cluster = await this.host.start(namespace);
    const client = this.#connect(cluster.kubeconfigPath);
    try {
      await ready(client);
    } catch (error) {
      await cluster.stop().catch(() => undefined);
      throw error;
    }
    this.#running.set(namespace, { cluster, client });
    return client;
  }

  /** Stops the cluster of `namespace` and removes its data (also data an earlier run left). */
  async stop(namespace: string): Promise<void> {
    const running = this.#running.get(namespace);
    this.#running.delete(namespace);
    if (running) await running.cluster.stop();
    else await this.host.remove(namespace);
  }

  /** The portal stops: every process goes, the data stays for the next run to start again. */
  async haltAll(): Promise<void> {
    const all = [...this.#running.values()];
    this.#running.clear();
    await Promise.all(all.map(({ cluster }) => cluster.halt().catch(() => undefined)));
  }
}
