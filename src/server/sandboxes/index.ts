// Public face of the sandboxes: a learner's private piece of a cluster for one lab. Everything
// is a Kubernetes API call through @kubernetes/client-node against a KubeConfig, so the same code
// serves the embedded cluster and any real one. State lives only in the cluster (labels and
// annotations on each sandbox's Namespace), so any portal replica, or a restarted portal, sees
// every sandbox.
//
//   const sandboxes = new Sandboxes({ kubeConfig, catalog: new LabCatalog('labs'), warmPool: 1 });
//   sandboxes.startBackground();                          // reaper + warm pool
//   const sandbox = await sandboxes.start(lab, learner.id, { onProgress });   // lab as the catalog loaded it
//   // terminal: exec into sandbox.workbench.pod / .container in sandbox.namespace
//   await sandboxes.touch(sandbox.namespace);             // on terminal input, at most once a minute counts
//   await sandboxes.reset(sandbox.namespace);             // a fresh sandbox of the same lab
//   await sandboxes.end(sandbox.namespace, lab);          // the lab's cleanup, then the namespace goes
//
// A sandbox is: Namespace `lab-<learner>-<random>` (labels formicary.dev/lab, /learner = hashed
// learner id, /expires = unix seconds, /ready), ServiceAccount `learner`, RoleBinding to the
// ClusterRole `edit`, the lab's extra rules (Role + RoleBinding; cluster-scoped ones as a
// ClusterRole + ClusterRoleBinding labelled formicary.dev/sandbox), ResourceQuota `lab-budget`,
// LimitRange `lab-defaults`, NetworkPolicy `same-namespace-only`, and the Pod `workbench`
// (image formicary/workbench, the learner's ServiceAccount, HOME on an emptyDir).
//
// A lab with `needs: cluster` gets a cluster of the learner's own instead. On the embedded host
// (dedicated.ts) it is a process: the Namespace on the lab cluster is then only its record, and
// exec, checks and the terminal go to that cluster (`clientOf`, `Sandbox.kubeconfig`); ending or
// reaping it stops its process. On a real lab cluster (pod-clusters.ts) it is a pod in the sandbox
// namespace, beside the usual workbench whose kubectl points at it; checks read it through
// `clusterClient`, and it goes with the namespace.
import { KubeConfig } from '@kubernetes/client-node';
import { errorMessage, labDigest, statusCode, type ExecResult, type KubeObject, type Lab, type LabCatalog } from '../../labs/index.ts';
import { KubeClient } from '../../labs/kube/index.ts';
import {
  ANNOTATION_LAB_TITLE,
  ANNOTATION_LAST_ACTIVITY,
  LABEL_EXPIRES,
  LABEL_LAB,
  LABEL_LAB_DIGEST,
  LABEL_LEARNER,
  LABEL_READY,
  LABEL_SANDBOX,
  WARM,
  learnerLabel,
  sandboxOf,
  seconds,
  type Sandbox as SandboxRecord,
} from './labels.ts';
import { DedicatedClusterLimitError, noDedicatedClusters, OwnClusters, provisionDedicated, type DedicatedClusterHost } from './dedicated.ts';
import { LeaderElection } from './leader.ts';
import { POD_CLUSTER_HOST, PodClusters } from './pod-clusters.ts';
import { DEFAULT_WORKBENCH_IMAGE } from './objects.ts';
import {
  PHASE_MESSAGES,
  SandboxError,
  deleteNamespace,
  deleteSandbox,
  ownerAnnotations,
  ownerLabels,
  provisionSandbox,
  runInWorkbench,
  sandboxName,
  waitForWorkbench,
  type Owner,
  type ProvisionContext,
  type StartProgress,
} from './provision.ts';

export { SandboxError, type StartPhase, type StartProgress } from './provision.ts';
export { learnerLabel } from './labels.ts';
export { LeaderElection, type LeaderElectionOptions } from './leader.ts';
export { DedicatedClusterLimitError, type DedicatedCluster, type DedicatedClusterHost } from './dedicated.ts';
export { CONTAINER_DEFAULTS, DISK_BUDGET, OBJECT_COUNTS, WORKBENCH_RESOURCES } from './objects.ts';

export interface Sandbox extends SandboxRecord {
  /** When the idle timeout ends the sandbox, unless the learner is active again (null for warm sandboxes). */
  idleExpiresAt: Date | null;
  /** The admin kubeconfig of the learner's own cluster, where the workbench runs (needs: cluster); null: the lab cluster. */
  kubeconfig: string | null;
  /** A dedicated sandbox that was ready, whose cluster this process does not run: not ready until it is started again. */
  clusterStopped: boolean;
}

export interface SandboxLog {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
  error(details: Record<string, unknown>, message: string): void;
}

export interface SandboxesOptions {
  /** Credentials of the portal on the lab cluster: may create namespaces, bind `edit`, and exec into pods. */
  kubeConfig: KubeConfig;
  catalog: LabCatalog;
  /** Warm sandboxes kept ready per lab: one number for every lab, or per lab id (`default` for the labs not named). Default 0. */
  warmPool?: number | Record<string, number>;
  /** At most this many sandboxes at once, warm ones included, across every replica; a start beyond it is refused. Default: no limit. */
  limit?: number | null;
  /**
   * Where replicas elect the one that runs the reaper and the warm pool (a coordination.k8s.io
   * Lease in the portal's namespace). Without it this process always does that work (one portal).
   */
  leaderLease?: { namespace: string; name?: string; identity?: string; leaseDurationSeconds?: number; renewDeadlineMs?: number; retryPeriodMs?: number };
  /** Lifetime of a sandbox whose lab sets no timeLimit. Default 120 minutes. */
  defaultLifetimeMinutes?: number;
  /** A sandbox nobody used for this long is deleted. Default 30 minutes. */
  idleTimeoutMinutes?: number;
  /** Warm sandboxes nobody claimed are replaced after this long. Default 24 hours. */
  warmLifetimeMinutes?: number;
  /** How often the reaper looks for expired sandboxes. Default 30 s. */
  reapIntervalMs?: number;
  /** How often the warm pool is topped up (it is also topped up after every claim). Default 10 s. */
  poolIntervalMs?: number;
  /** Default 60 s. */
  workbenchReadyTimeoutMs?: number;
  /** Per setup command. Default 120 s. */
  setupCommandTimeoutMs?: number;
  /** The workbench image: bash, kubectl, a kubeconfig from the pod's ServiceAccount. Default formicary/workbench:1.0 (the embedded cluster's). */
  workbenchImage?: string;
  /** Where labs with `needs: cluster` get a cluster of the learner's own; without it they are refused. */
  dedicatedClusters?: DedicatedClusterHost;
  /**
   * On a real lab cluster (LAB_CLUSTER=kubernetes): labs with `needs: cluster` get a pod of `image`
   * running `formicary cluster` in their sandbox namespace, at most `limit` at once across replicas.
   */
  podClusters?: { image?: string; limit: number };
  now?: () => Date;
  log?: SandboxLog;
}

export interface StartOptions {
  onProgress?: (progress: StartProgress) => void;
}

/** The key of SANDBOX_WARM_POOL's entry for every lab it does not name. */
export const DEFAULT_POOL = 'default';
/** Sandboxes the reaper deletes at once. */
const REAP_CONCURRENCY = 16;

/** A start refused because the sandboxes across every replica reached SANDBOX_LIMIT. */
export class SandboxLimitError extends SandboxError {
  readonly limit: number;
  constructor(limit: number) {
    super(
      'creating-namespace',
      null,
      `Every lab sandbox is in use right now (this portal runs at most ${limit} at once, SANDBOX_LIMIT); try again in a few minutes, or end a lab you no longer need.`,
    );
    this.name = 'SandboxLimitError';
    this.limit = limit;
  }
}

async function inParallel<T>(items: readonly T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await work(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, items.length) }, worker));
}

const silent: SandboxLog = { info: () => undefined, warn: () => undefined, error: () => undefined };
/** Activity is written to the Namespace at most this often. */
const TOUCH_INTERVAL_MS = 60_000;

export class Sandboxes {
  readonly client: KubeClient;
  readonly #catalog: LabCatalog;
  readonly #options: Required<Omit<SandboxesOptions, 'kubeConfig' | 'catalog' | 'log' | 'now' | 'warmPool' | 'limit' | 'leaderLease' | 'dedicatedClusters' | 'podClusters'>> & {
    warmPool: number | Record<string, number>;
    limit: number | null;
  };
  /** Null: this process is the only portal and always does the background work. */
  readonly leader: LeaderElection | null;
  readonly #now: () => Date;
  readonly #log: SandboxLog;
  readonly #context: ProvisionContext;
  readonly #starting = new Map<string, Promise<Sandbox>>();
  readonly #touched = new Map<string, number>();
  #timers: NodeJS.Timeout[] = [];
  #filling: Promise<number> | null = null;
  /** Warm sandboxes asked for beyond the configured pool (a workshop about to start), per lab. */
  readonly #reserved = new Map<string, number>();
  #stopped = false;
  /** Learners' own clusters (labs with needs: cluster); null where none can be started. */
  readonly #own: OwnClusters | null;
  /** Learners' own clusters as pods on the lab cluster (LAB_CLUSTER=kubernetes). */
  readonly #pods: PodClusters | null;

  constructor(options: SandboxesOptions) {
    this.client = new KubeClient(options.kubeConfig);
    this.#catalog = options.catalog;
    this.#now = options.now ?? (() => new Date());
    this.#log = options.log ?? silent;
    this.#own = options.dedicatedClusters
      ? new OwnClusters(options.dedicatedClusters, (file) => {
          const kubeConfig = new KubeConfig();
          kubeConfig.loadFromFile(file);
          return new KubeClient(kubeConfig);
        })
      : null;
    this.#pods = options.podClusters && !this.#own ? new PodClusters(this.client, options.podClusters) : null;
    this.#options = {
      warmPool: options.warmPool ?? 0,
      limit: options.limit ?? null,
      defaultLifetimeMinutes: options.defaultLifetimeMinutes ?? 120,
      idleTimeoutMinutes: options.idleTimeoutMinutes ?? 30,
      warmLifetimeMinutes: options.warmLifetimeMinutes ?? 24 * 60,
      reapIntervalMs: options.reapIntervalMs ?? 30_000,
      poolIntervalMs: options.poolIntervalMs ?? 10_000,
      workbenchReadyTimeoutMs: options.workbenchReadyTimeoutMs ?? 60_000,
      setupCommandTimeoutMs: options.setupCommandTimeoutMs ?? 120_000,
      workbenchImage: options.workbenchImage ?? DEFAULT_WORKBENCH_IMAGE,
    };
    const lease = options.leaderLease;
    this.leader = lease
      ? new LeaderElection({
          ...lease,
          client: this.client,
          name: lease.name ?? 'formicary-sandboxes',
          onError: (error) => this.#log.warn({ error: errorMessage(error) }, 'could not take or renew the sandboxes lease'),
        })
      : null;
    this.#context = {
      client: this.client,
      now: this.#now,
      workbenchReadyTimeoutMs: this.#options.workbenchReadyTimeoutMs,
      setupCommandTimeoutMs: this.#options.setupCommandTimeoutMs,
      workbenchImage: this.#options.workbenchImage,
    };
  }

  #sandbox(namespace: KubeObject): Sandbox | null {
    const record = sandboxOf(namespace);
    if (!record) return null;
    const idleExpiresAt = record.learnerId === null ? null : new Date(record.lastActivityAt.getTime() + this.#options.idleTimeoutMinutes * 60_000);
    // A learner's cluster in a pod is there for every replica; the workbench is on the lab cluster.
    if (!record.dedicated || record.clusterHost === POD_CLUSTER_HOST) return { ...record, idleExpiresAt, kubeconfig: null, clusterStopped: false };
    // A learner's cluster that this process does not run cannot be worked (yet: the reaper starts it again).
    const kubeconfig = this.#own?.kubeconfig(record.namespace) ?? null;
    return { ...record, ready: record.ready && kubeconfig !== null, idleExpiresAt, kubeconfig, clusterStopped: record.ready && kubeconfig === null };
  }

  #lifetimeMs(lab: Lab): number {
    return (lab.timeLimit ?? this.#options.defaultLifetimeMinutes) * 60_000;
  }

  /** Sandboxes by label, live ones only (not being deleted). */
  async list(filter: { learnerId?: string; labId?: string; warm?: boolean } = {}): Promise<Sandbox[]> {
    const selector = [LABEL_LAB + (filter.labId ? `=${filter.labId}` : '')];
    if (filter.learnerId !== undefined) selector.push(`${LABEL_LEARNER}=${learnerLabel(filter.learnerId)}`);
    else if (filter.warm !== undefined) selector.push(`${LABEL_LEARNER}${filter.warm ? '=' : '!='}${WARM}`);
    const namespaces = await this.client.list(await this.client.resolve('namespaces'), undefined, { labelSelector: selector.join(',') });
    return namespaces
      .map((namespace) => this.#sandbox(namespace))
      .filter((sandbox): sandbox is Sandbox => sandbox !== null && !sandbox.terminating)
      .sort((a, b) => a.createdAt.getTime() - b.createdAt.getTime());
  }

  /** The sandbox in this namespace, or null when there is none (or it is being deleted). */
  async get(namespace: string): Promise<Sandbox | null> {
    const object = await this.client.get(await this.client.resolve('namespaces'), '', namespace);
    const sandbox = object ? this.#sandbox(object) : null;
    return sandbox && !sandbox.terminating ? sandbox : null;
  }

  /**
   * The learner's sandbox for this lab: the live one if there is one, else a warm one claimed,
   * else a new one (workbench Ready, setup run). Concurrent starts of the same learner and lab
   * share one sandbox.
   */
  start(lab: Lab, learnerId: string, options: StartOptions = {}): Promise<Sandbox> {
    const key = `${learnerId}\u0000${lab.id}`;
    const running = this.#starting.get(key);
    if (running) return running;
    const started = this.#start(lab, learnerId, options).finally(() => this.#starting.delete(key));
    this.#starting.set(key, started);
    return started;
  }

  async #start(lab: Lab, learnerId: string, options: StartOptions, replacing?: string): Promise<Sandbox> {
    const labId = lab.id;
    const existing = (await this.list({ learnerId, labId })).find((sandbox) => sandbox.ready && sandbox.namespace !== replacing);
    if (existing) {
      await this.touch(existing.namespace);
      options.onProgress?.({ phase: 'ready', message: PHASE_MESSAGES.ready, elapsedMs: 0 });
      return existing;
    }
    const started = Date.now();
    if (lab.needs === 'cluster') return this.#startDedicated(lab, learnerId, started, options);
    const claimed = await this.#claim(lab, learnerId, started, options);
    if (claimed) {
      this.#log.info({ lab: labId, namespace: claimed.namespace, ms: Date.now() - started }, 'sandbox claimed from the warm pool');
      // The leader refills (or this replica, for a workshop it reserved warm sandboxes for).
      if (this.leader === null || this.leader.leading || this.#reserved.has(lab.id)) void this.fillWarmPool();
      return claimed;
    }
    await this.#makeRoom(lab.id);
    const namespace = await provisionSandbox(this.#context, {
      lab,
      digest: labDigest(lab),
      owner: { learnerId },
      expiresAt: new Date(this.#now().getTime() + this.#lifetimeMs(lab)),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    this.#log.info({ lab: labId, namespace, ms: Date.now() - started }, 'sandbox started');
    const sandbox = await this.get(namespace);
    if (!sandbox) throw new SandboxError('ready', namespace, `The sandbox ${namespace} disappeared right after it was started.`);
    return sandbox;
  }

  /** A sandbox that is a cluster of the learner's own: refused without a host, or at its limit. */
  async #startDedicated(lab: Lab, learnerId: string, started: number, options: StartOptions): Promise<Sandbox> {
    const own = this.#own;
    if (!own && this.#pods) return this.#startPodCluster(this.#pods, lab, learnerId, started, options);
    if (!own) throw noDedicatedClusters(lab.id);
    await this.#makeRoom(lab.id);
    if (own.count >= own.host.limit) {
      this.#log.warn({ lab: lab.id, limit: own.host.limit }, 'dedicated cluster refused: the limit is reached');
      throw new DedicatedClusterLimitError(own.host.limit, lab.id);
    }
    const name = sandboxName({ learnerId });
    await own.reserving(name, () =>
      provisionDedicated(
        this.#context,
        {
          lab,
          namespace: name,
          hostId: own.host.id,
          digest: labDigest(lab),
          owner: { learnerId },
          expiresAt: new Date(this.#now().getTime() + this.#lifetimeMs(lab)),
          ...(options.onProgress ? { onProgress: options.onProgress } : {}),
        },
        { start: (namespace) => own.start(namespace), stop: (namespace) => own.stop(namespace) },
      ),
    );
    this.#log.info({ lab: lab.id, namespace: name, ms: Date.now() - started }, 'dedicated cluster started');
    const sandbox = await this.get(name);
    if (!sandbox) throw new SandboxError('ready', name, `The sandbox ${name} disappeared right after it was started.`);
    return sandbox;
  }

  /** A learner's cluster as a pod on the lab cluster: refused at DEDICATED_CLUSTER_LIMIT of them across replicas. */
  async #startPodCluster(pods: PodClusters, lab: Lab, learnerId: string, started: number, options: StartOptions): Promise<Sandbox> {
    await this.#makeRoom(lab.id);
    if ((await this.list()).filter((sandbox) => sandbox.dedicated).length >= pods.limit) {
      this.#log.warn({ lab: lab.id, limit: pods.limit }, 'dedicated cluster refused: the limit is reached');
      throw new DedicatedClusterLimitError(pods.limit, lab.id);
    }
    const name = sandboxName({ learnerId });
    await pods.provision(this.#context, {
      lab,
      namespace: name,
      digest: labDigest(lab),
      owner: { learnerId },
      expiresAt: new Date(this.#now().getTime() + this.#lifetimeMs(lab)),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    });
    this.#log.info({ lab: lab.id, namespace: name, ms: Date.now() - started }, 'dedicated cluster started as a pod');
    const sandbox = await this.get(name);
    if (!sandbox) throw new SandboxError('ready', name, `The sandbox ${name} disappeared right after it was started.`);
    return sandbox;
  }

  /**
   * The client that reads the sandbox's objects, as checks do: its own cluster's (needs: cluster,
   * a process here or a pod on the lab cluster), else the lab cluster's. Exec reaches the workbench.
   */
  async clusterClient(namespace: string): Promise<KubeClient> {
    const own = this.#own?.client(namespace);
    if (own) return own;
    if (!this.#pods) return this.client;
    if (this.#pods.has(namespace)) return this.#pods.client(namespace);
    const sandbox = await this.get(namespace);
    return sandbox?.dedicated && sandbox.clusterHost === POD_CLUSTER_HOST ? this.#pods.client(namespace) : this.client;
  }

  /** The client that reaches the sandbox's workbench and objects: its own cluster's (needs: cluster), else the lab cluster's. */
  clientOf(namespace: string): KubeClient {
    return this.#own?.client(namespace) ?? this.client;
  }

  /** How many learners' own clusters this process runs now. */
  get dedicatedClusters(): number {
    return this.#own?.running ?? 0;
  }

  /**
   * Under the global limit a new sandbox needs a free place: a warm sandbox of another lab gives
   * its place up; else the start is refused. Replicas count the same sandboxes (the cluster's), so
   * the limit holds across them, give or take starts that count at the same instant.
   */
  async #makeRoom(labId: string): Promise<void> {
    const limit = this.#options.limit;
    if (limit === null) return;
    const live = await this.list();
    if (live.length < limit) return;
    const spare = live.find((sandbox) => sandbox.learnerId === null && sandbox.labId !== labId);
    if (spare && live.length === limit) {
      await deleteSandbox(this.client, spare.namespace);
      this.#log.info({ namespace: spare.namespace, lab: spare.labId, for: labId }, 'warm sandbox removed to make room under the sandbox limit');
      return;
    }
    this.#log.warn({ lab: labId, limit, running: live.length }, 'sandbox start refused: the sandbox limit is reached');
    throw new SandboxLimitError(limit);
  }

  /** Relabels a ready warm sandbox for the learner; a patch pinned to its resourceVersion makes two claims of one sandbox impossible. */
  async #claim(lab: Lab, learnerId: string, started: number, options: StartOptions): Promise<Sandbox | null> {
    const digest = labDigest(lab);
    const namespaces = await this.client.resolve('namespaces');
    const candidates = await this.client.list(namespaces, undefined, { labelSelector: `${LABEL_LAB}=${lab.id},${LABEL_LEARNER}=${WARM},${LABEL_READY}=true,${LABEL_LAB_DIGEST}=${digest}` });
    for (const candidate of candidates) {
      if (candidate.metadata.deletionTimestamp || !candidate.metadata.name) continue;
      options.onProgress?.({ phase: 'claiming-warm-sandbox', message: PHASE_MESSAGES['claiming-warm-sandbox'], elapsedMs: Date.now() - started });
      const now = this.#now();
      const owner: Owner = { learnerId };
      // A merge patch that names the resourceVersion it read: the portal may patch namespaces (its
      // RBAC has no update), and a second claim of the same sandbox gets 409.
      const claim = {
        metadata: {
          resourceVersion: candidate.metadata.resourceVersion,
          labels: { ...ownerLabels(owner), [LABEL_EXPIRES]: seconds(new Date(now.getTime() + this.#lifetimeMs(lab))) },
          annotations: { ...ownerAnnotations(owner, now), [ANNOTATION_LAB_TITLE]: lab.title },
        },
      };
      try {
        const stored = await this.client.api.request<KubeObject>('PATCH', `/api/v1/namespaces/${candidate.metadata.name}`, { contentType: 'application/merge-patch+json', body: claim });
        const sandbox = this.#sandbox(stored);
        if (!sandbox) continue;
        options.onProgress?.({ phase: 'ready', message: PHASE_MESSAGES.ready, elapsedMs: Date.now() - started });
        return sandbox;
      } catch (error) {
        // 409: another start claimed it first; 404: the reaper took it. Try the next one.
        if (statusCode(error) === 409 || statusCode(error) === 404) continue;
        throw error;
      }
    }
    return null;
  }

  /** Records learner activity (terminal input, a check); written at most once a minute per sandbox. */
  async touch(namespace: string): Promise<void> {
    const now = this.#now().getTime();
    const last = this.#touched.get(namespace);
    if (last !== undefined && now - last < TOUCH_INTERVAL_MS) return;
    this.#touched.set(namespace, now);
    try {
      await this.client.api.request('PATCH', `/api/v1/namespaces/${encodeURIComponent(namespace)}`, {
        contentType: 'application/merge-patch+json',
        body: { metadata: { annotations: { [ANNOTATION_LAST_ACTIVITY]: seconds(new Date(now)) } } },
      });
    } catch (error) {
      this.#touched.delete(namespace);
      if (statusCode(error) !== 404) throw error;
    }
  }

  /**
   * Gives the sandbox until `until` at least (a workshop's extra time): the reaper reads its expiry
   * from the namespace, so moving only the portal's record would let it go at the original time.
   * Never shortens a sandbox's life; a sandbox that is gone is left gone.
   */
  async extend(namespace: string, until: Date): Promise<void> {
    const sandbox = await this.get(namespace);
    if (!sandbox || sandbox.expiresAt.getTime() >= until.getTime()) return;
    try {
      await this.client.api.request('PATCH', `/api/v1/namespaces/${encodeURIComponent(namespace)}`, {
        contentType: 'application/merge-patch+json',
        body: { metadata: { labels: { [LABEL_EXPIRES]: seconds(until) } } },
      });
    } catch (error) {
      if (statusCode(error) !== 404) throw error;
    }
  }

  /** Runs a command in the sandbox's workbench as the learner would (`bash -lc`). */
  exec(namespace: string, command: string, options: { timeoutMs?: number } = {}): Promise<ExecResult> {
    return runInWorkbench({ ...this.#context, client: this.clientOf(namespace) }, namespace, command, options.timeoutMs);
  }

  /** Ends the sandbox (the lab's cleanup commands first, failures ignored) and starts a fresh one of the same lab. */
  async reset(namespace: string, options: StartOptions = {}): Promise<Sandbox> {
    const sandbox = await this.get(namespace);
    if (!sandbox || sandbox.learnerId === null) throw new SandboxError('creating-namespace', namespace, `There is no learner's sandbox ${namespace} to reset.`);
    const lab = await this.#catalog.get(sandbox.labId);
    await this.end(namespace, lab);
    return this.#start(lab, sandbox.learnerId, options, namespace);
  }

  /** Runs the lab's cleanup commands (bounded, failures logged) and deletes the sandbox; `lab` when the caller has it, else the catalog's. */
  async end(namespace: string, lab?: Lab): Promise<void> {
    const sandbox = await this.get(namespace);
    if (sandbox) {
      const ofSandbox = lab?.id === sandbox.labId ? lab : await this.#catalog.get(sandbox.labId).catch(() => null);
      for (const command of ofSandbox?.cleanup ?? []) {
        try {
          const result = await this.exec(namespace, command, { timeoutMs: 15_000 });
          if (result.exitCode !== 0) this.#log.warn({ namespace, command, exitCode: result.exitCode }, 'lab cleanup command failed');
        } catch (error) {
          this.#log.warn({ namespace, command, error: errorMessage(error) }, 'lab cleanup command could not run');
          break;
        }
      }
    }
    this.#touched.delete(namespace);
    await deleteSandbox(this.client, namespace);
    if (sandbox?.dedicated) await this.#own?.stop(namespace);
    await this.#pods?.forget(namespace);
    this.#log.info({ namespace }, 'sandbox ended');
  }

  /**
   * One pass of the reaper, level-triggered: every sandbox past its expiry or idle timeout is
   * deleted, and so is cluster-wide access left behind by a sandbox that is gone. Returns the
   * namespaces deleted.
   */
  async reap(): Promise<string[]> {
    const now = this.#now().getTime();
    const reaped = new Set<string>();
    // The sandboxes and every sandbox's cluster-wide access, each in one list: a pass over
    // thousands of sandboxes makes requests only for what it deletes.
    const [sandboxes, clusterAccess, leftovers] = await Promise.all([this.list(), this.#clusterAccess(), this.#own ? this.#own.host.leftovers().then((names) => new Set(names)) : new Set<string>()]);
    const resumable: Sandbox[] = [];
    const due = sandboxes.flatMap((sandbox) => {
      const expired = now >= sandbox.expiresAt.getTime();
      const idle = sandbox.idleExpiresAt !== null && now >= sandbox.idleExpiresAt.getTime();
      const staleWarm = sandbox.learnerId === null && now >= sandbox.createdAt.getTime() + this.#options.warmLifetimeMinutes * 60_000;
      const orphan = this.#orphanedCluster(sandbox);
      if (orphan && leftovers.has(sandbox.namespace) && !expired && !idle) resumable.push(sandbox);
      const clusterGone = orphan && !leftovers.has(sandbox.namespace);
      return expired || idle || staleWarm || clusterGone ? [{ sandbox, reason: expired ? 'expired' : idle ? 'idle' : staleWarm ? 'warm sandbox too old' : 'its cluster is gone' }] : [];
    });
    // A few deletions at a time: thousands of sandboxes expire at the end of a company-wide event.
    await inParallel(due, REAP_CONCURRENCY, async ({ sandbox, reason }) => {
      try {
        for (const path of clusterAccess.get(sandbox.namespace) ?? []) await this.#deleteIfThere(path);
        await deleteNamespace(this.client, sandbox.namespace);
        if (sandbox.dedicated) await this.#own?.stop(sandbox.namespace);
        await this.#pods?.forget(sandbox.namespace);
        reaped.add(sandbox.namespace);
        this.#log.info({ namespace: sandbox.namespace, lab: sandbox.labId, reason }, 'sandbox reaped');
      } catch (error) {
        this.#log.warn({ namespace: sandbox.namespace, error: errorMessage(error) }, 'could not reap sandbox');
      }
    });
    const live = new Set(sandboxes.map((sandbox) => sandbox.namespace));
    // A learner's cluster whose record is gone (ended through another portal, deleted by hand)
    // stops, and data an earlier run left without a record goes.
    for (const namespace of new Set([...(this.#own?.names() ?? []), ...leftovers])) {
      if (!live.has(namespace) && !this.#own?.busy(namespace)) await this.#own?.stop(namespace).catch(() => undefined);
    }
    // A learner's cluster halted with an earlier run of the portal starts again from its data.
    for (const sandbox of resumable) await this.#resume(sandbox.namespace);
    for (const [owner, paths] of clusterAccess) {
      if (live.has(owner) || reaped.has(owner)) continue;
      // The sandbox may be starting right now: only a sandbox namespace that is gone or going leaves orphans.
      const namespace = await this.client.get(await this.client.resolve('namespaces'), '', owner);
      if (namespace && !namespace.metadata.deletionTimestamp) continue;
      for (const path of paths) await this.#deleteIfThere(path).catch(() => undefined);
    }
    return [...reaped];
  }

  /** A dedicated sandbox of this host whose cluster this process does not run (nor is starting): its process ended with an earlier run of the portal. */
  #orphanedCluster(sandbox: Sandbox): boolean {
    const own = this.#own;
    return own !== null && sandbox.clusterStopped && sandbox.clusterHost === own.host.id && !own.busy(sandbox.namespace);
  }

  /** Starts a learner's cluster again from its data; ready for the learner once its workbench is. A cluster that cannot is removed with its sandbox. */
  async #resume(namespace: string): Promise<void> {
    const own = this.#own;
    if (!own) return;
    try {
      await own.reserving(namespace, () => own.start(namespace, (client) => waitForWorkbench({ ...this.#context, client }, namespace)));
      this.#log.info({ namespace }, 'dedicated cluster started again');
    } catch (error) {
      this.#log.warn({ namespace, error: errorMessage(error) }, 'dedicated cluster could not be started again; its sandbox is removed');
      await deleteSandbox(this.client, namespace).catch(() => undefined);
      await own.stop(namespace).catch(() => undefined);
    }
  }

  /** The API paths of the ClusterRoles and ClusterRoleBindings of labs' cluster-wide access, by sandbox namespace. */
  async #clusterAccess(): Promise<Map<string, string[]>> {
    const byOwner = new Map<string, string[]>();
    for (const resource of ['clusterrolebindings', 'clusterroles']) {
      const objects = await this.client.list(await this.client.resolve(`${resource}.rbac.authorization.k8s.io`), undefined, { labelSelector: LABEL_SANDBOX });
      for (const object of objects) {
        const owner = object.metadata.labels?.[LABEL_SANDBOX];
        if (!owner || !object.metadata.name) continue;
        byOwner.set(owner, [...(byOwner.get(owner) ?? []), `/apis/rbac.authorization.k8s.io/v1/${resource}/${encodeURIComponent(object.metadata.name)}`]);
      }
    }
    return byOwner;
  }

  async #deleteIfThere(path: string): Promise<void> {
    await this.client.api.request('DELETE', path).catch((error: unknown) => {
      if (statusCode(error) !== 404) throw error;
    });
  }

  #poolSize(labId: string): number {
    const pool = this.#options.warmPool;
    return Math.max(typeof pool === 'number' ? pool : (pool[labId] ?? pool[DEFAULT_POOL] ?? 0), this.#reserved.get(labId) ?? 0);
  }

  /**
   * Keeps at least `count` warm sandboxes of the lab ready from now on (a workshop about to
   * start), on top of the configured pool; 0 gives the reservation back. Returns how many were started.
   */
  reserveWarm(labId: string, count: number): Promise<number> {
    if (count > 0) this.#reserved.set(labId, count);
    else this.#reserved.delete(labId);
    return this.fillWarmPool();
  }

  /**
   * Tops up the warm pool of every lab, one sandbox at a time (a fill already running is joined).
   * Warm sandboxes of an older version of a lab are deleted. Returns how many were started.
   */
  fillWarmPool(): Promise<number> {
    if (this.#stopped) return Promise.resolve(0);
    this.#filling ??= this.#fill().finally(() => {
      this.#filling = null;
    });
    return this.#filling;
  }

  async #fill(): Promise<number> {
    let created = 0;
    const pool = this.#options.warmPool;
    if (this.#reserved.size === 0 && (pool === 0 || (typeof pool === 'object' && Object.values(pool).every((size) => size === 0)))) return 0;
    for (const lab of await this.#catalog.all()) {
      const size = this.#poolSize(lab.id);
      // A learner's own cluster is a process: none is started for nobody.
      if (size === 0 || lab.needs === 'cluster') continue;
      const digest = labDigest(lab);
      const warm = await this.list({ labId: lab.id, warm: true });
      const current = warm.filter((sandbox) => sandbox.labDigest === digest);
      for (const stale of warm.filter((sandbox) => sandbox.labDigest !== digest)) await deleteSandbox(this.client, stale.namespace).catch(() => undefined);
      for (let missing = size - current.length; missing > 0 && !this.#stopped; missing--) {
        // Warm sandboxes never take the last places under the limit from learners.
        if (this.#options.limit !== null && (await this.list()).length >= this.#options.limit) {
          this.#log.warn({ lab: lab.id, limit: this.#options.limit }, 'warm pool not filled: the sandbox limit is reached');
          return created;
        }
        try {
          const namespace = await provisionSandbox(this.#context, { lab, digest, owner: 'warm', expiresAt: new Date(this.#now().getTime() + this.#options.warmLifetimeMinutes * 60_000) });
          created += 1;
          this.#log.info({ lab: lab.id, namespace }, 'warm sandbox ready');
        } catch (error) {
          this.#log.error({ lab: lab.id, error: errorMessage(error) }, 'could not prepare a warm sandbox');
          break;
        }
      }
    }
    return created;
  }

  /** True when this process runs the reaper and the warm pool now: it holds the Lease, or there is no election. */
  async #leads(): Promise<boolean> {
    return this.leader === null || (await this.leader.tryAcquireOrRenew());
  }

  /**
   * Runs the reaper and the warm pool in the background until stop(), on the elected replica
   * only (see leaderLease). A replica asked to keep warm sandboxes for a workshop (reserveWarm)
   * keeps filling them itself: the reservation lives in its memory.
   */
  startBackground(): void {
    if (this.#timers.length || this.#stopped) return;
    const every = (ms: number, task: () => Promise<unknown>) => {
      const run = () => task().catch((error: unknown) => this.#log.error({ error: errorMessage(error) }, 'sandbox background task failed'));
      const timer = setInterval(() => void run(), ms);
      timer.unref();
      this.#timers.push(timer);
      void run();
    };
    this.leader?.start();
    every(this.#options.reapIntervalMs, async () => {
      if (await this.#leads()) await this.reap();
    });
    every(this.#options.poolIntervalMs, async () => {
      if (this.#reserved.size > 0 || (await this.#leads())) await this.fillWarmPool();
    });
  }

  /** Stops the background work, waits for a warm sandbox being prepared, stops learners' own clusters and hands the Lease on. Other sandboxes stay. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    await this.#filling?.catch(() => undefined);
    // Learners' own clusters are this process's children and stop with it; their data stays for the next run.
    await this.#own?.haltAll();
    await this.#pods?.closeAll();
    await this.leader?.stop();
  }
}
