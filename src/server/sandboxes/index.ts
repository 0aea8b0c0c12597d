// Public face of the sandboxes: a learner's private piece of a cluster for one lab. Everything
// is a Kubernetes API call through @kubernetes/client-node against a KubeConfig, so the same code
// serves the embedded cluster and any real one. State lives only in the cluster (labels and
// annotations on each sandbox's Namespace), so any portal replica, or a restarted portal, sees
// every sandbox.
//
//   const sandboxes = new Sandboxes({ kubeConfig, catalog: new LabCatalog('labs'), warmPool: 1 });
//   sandboxes.startBackground();                          // reaper + warm pool
//   const sandbox = await sandboxes.start('deploy-and-expose', learner.id, { onProgress });
//   // terminal: exec into sandbox.workbench.pod / .container in sandbox.namespace
//   await sandboxes.touch(sandbox.namespace);             // on terminal input, at most once a minute counts
//   await sandboxes.reset(sandbox.namespace);             // a fresh sandbox of the same lab
//   await sandboxes.end(sandbox.namespace);
//
// A sandbox is: Namespace `lab-<learner>-<random>` (labels formicary.dev/lab, /learner = hashed
// learner id, /expires = unix seconds, /ready), ServiceAccount `learner`, RoleBinding to the
// ClusterRole `edit`, the lab's extra rules (Role + RoleBinding; cluster-scoped ones as a
// ClusterRole + ClusterRoleBinding labelled formicary.dev/sandbox), ResourceQuota `lab-budget`,
// LimitRange `lab-defaults`, NetworkPolicy `same-namespace-only`, and the Pod `workbench`
// (image formicary/workbench, the learner's ServiceAccount, HOME on an emptyDir).
import type { KubeConfig } from '@kubernetes/client-node';
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
import { DEFAULT_WORKBENCH_IMAGE } from './objects.ts';
import {
  PHASE_MESSAGES,
  SandboxError,
  deleteSandbox,
  ownerAnnotations,
  ownerLabels,
  provisionSandbox,
  runInWorkbench,
  type Owner,
  type ProvisionContext,
  type StartProgress,
} from './provision.ts';

export { SandboxError, type StartPhase, type StartProgress } from './provision.ts';
export { learnerLabel } from './labels.ts';
export { CONTAINER_DEFAULTS, DISK_BUDGET, OBJECT_COUNTS, WORKBENCH_RESOURCES } from './objects.ts';

export interface Sandbox extends SandboxRecord {
  /** When the idle timeout ends the sandbox, unless the learner is active again (null for warm sandboxes). */
  idleExpiresAt: Date | null;
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
  /** Warm sandboxes kept ready per lab: one number for every lab, or per lab id. Default 0. */
  warmPool?: number | Record<string, number>;
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
  now?: () => Date;
  log?: SandboxLog;
}

export interface StartOptions {
  onProgress?: (progress: StartProgress) => void;
}

const silent: SandboxLog = { info: () => undefined, warn: () => undefined, error: () => undefined };
/** Activity is written to the Namespace at most this often. */
const TOUCH_INTERVAL_MS = 60_000;

export class Sandboxes {
  readonly client: KubeClient;
  readonly #catalog: LabCatalog;
  readonly #options: Required<Omit<SandboxesOptions, 'kubeConfig' | 'catalog' | 'log' | 'now' | 'warmPool'>> & { warmPool: number | Record<string, number> };
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

  constructor(options: SandboxesOptions) {
    this.client = new KubeClient(options.kubeConfig);
    this.#catalog = options.catalog;
    this.#now = options.now ?? (() => new Date());
    this.#log = options.log ?? silent;
    this.#options = {
      warmPool: options.warmPool ?? 0,
      defaultLifetimeMinutes: options.defaultLifetimeMinutes ?? 120,
      idleTimeoutMinutes: options.idleTimeoutMinutes ?? 30,
      warmLifetimeMinutes: options.warmLifetimeMinutes ?? 24 * 60,
      reapIntervalMs: options.reapIntervalMs ?? 30_000,
      poolIntervalMs: options.poolIntervalMs ?? 10_000,
      workbenchReadyTimeoutMs: options.workbenchReadyTimeoutMs ?? 60_000,
      setupCommandTimeoutMs: options.setupCommandTimeoutMs ?? 120_000,
      workbenchImage: options.workbenchImage ?? DEFAULT_WORKBENCH_IMAGE,
    };
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
    return { ...record, idleExpiresAt };
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
  start(labId: string, learnerId: string, options: StartOptions = {}): Promise<Sandbox> {
    const key = `${learnerId}\u0000${labId}`;
    const running = this.#starting.get(key);
    if (running) return running;
    const started = this.#start(labId, learnerId, options).finally(() => this.#starting.delete(key));
    this.#starting.set(key, started);
    return started;
  }

  async #start(labId: string, learnerId: string, options: StartOptions, replacing?: string): Promise<Sandbox> {
    const lab = await this.#catalog.get(labId);
    const existing = (await this.list({ learnerId, labId })).find((sandbox) => sandbox.ready && sandbox.namespace !== replacing);
    if (existing) {
      await this.touch(existing.namespace);
      options.onProgress?.({ phase: 'ready', message: PHASE_MESSAGES.ready, elapsedMs: 0 });
      return existing;
    }
    const started = Date.now();
    const claimed = await this.#claim(lab, learnerId, started, options);
    if (claimed) {
      this.#log.info({ lab: labId, namespace: claimed.namespace, ms: Date.now() - started }, 'sandbox claimed from the warm pool');
      void this.fillWarmPool();
      return claimed;
    }
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

  /** Relabels a ready warm sandbox for the learner; an update with its resourceVersion makes two claims of one sandbox impossible. */
  async #claim(lab: Lab, learnerId: string, started: number, options: StartOptions): Promise<Sandbox | null> {
    const digest = labDigest(lab);
    const namespaces = await this.client.resolve('namespaces');
    const candidates = await this.client.list(namespaces, undefined, { labelSelector: `${LABEL_LAB}=${lab.id},${LABEL_LEARNER}=${WARM},${LABEL_READY}=true,${LABEL_LAB_DIGEST}=${digest}` });
    for (const candidate of candidates) {
      if (candidate.metadata.deletionTimestamp || !candidate.metadata.name) continue;
      options.onProgress?.({ phase: 'claiming-warm-sandbox', message: PHASE_MESSAGES['claiming-warm-sandbox'], elapsedMs: Date.now() - started });
      const now = this.#now();
      const owner: Owner = { learnerId };
      const updated: KubeObject = {
        ...candidate,
        metadata: {
          ...candidate.metadata,
          labels: { ...candidate.metadata.labels, ...ownerLabels(owner), [LABEL_EXPIRES]: seconds(new Date(now.getTime() + this.#lifetimeMs(lab))) },
          annotations: { ...candidate.metadata.annotations, ...ownerAnnotations(owner, now), [ANNOTATION_LAB_TITLE]: lab.title },
        },
      };
      try {
        const stored = await this.client.api.request<KubeObject>('PUT', `/api/v1/namespaces/${candidate.metadata.name}`, { body: updated });
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

  /** Runs a command in the sandbox's workbench as the learner would (`bash -lc`). */
  exec(namespace: string, command: string, options: { timeoutMs?: number } = {}): Promise<ExecResult> {
    return runInWorkbench(this.#context, namespace, command, options.timeoutMs);
  }

  /** Ends the sandbox (the lab's cleanup commands first, failures ignored) and starts a fresh one of the same lab. */
  async reset(namespace: string, options: StartOptions = {}): Promise<Sandbox> {
    const sandbox = await this.get(namespace);
    if (!sandbox || sandbox.learnerId === null) throw new SandboxError('creating-namespace', namespace, `There is no learner's sandbox ${namespace} to reset.`);
    await this.end(namespace);
    return this.#start(sandbox.labId, sandbox.learnerId, options, namespace);
  }

  /** Runs the lab's cleanup commands (bounded, failures logged) and deletes the sandbox. */
  async end(namespace: string): Promise<void> {
    const sandbox = await this.get(namespace);
    if (sandbox) {
      const lab = await this.#catalog.get(sandbox.labId).catch(() => null);
      for (const command of lab?.cleanup ?? []) {
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
    this.#log.info({ namespace }, 'sandbox ended');
  }

  /**
   * One pass of the reaper, level-triggered: every sandbox past its expiry or idle timeout is
   * deleted, and so is cluster-wide access left behind by a sandbox that is gone. Returns the
   * namespaces deleted.
   */
  async reap(): Promise<string[]> {
    const now = this.#now().getTime();
    const reaped: string[] = [];
    for (const sandbox of await this.list()) {
      const expired = now >= sandbox.expiresAt.getTime();
      const idle = sandbox.idleExpiresAt !== null && now >= sandbox.idleExpiresAt.getTime();
      const staleWarm = sandbox.learnerId === null && now >= sandbox.createdAt.getTime() + this.#options.warmLifetimeMinutes * 60_000;
      if (!expired && !idle && !staleWarm) continue;
      try {
        await deleteSandbox(this.client, sandbox.namespace);
        reaped.push(sandbox.namespace);
        this.#log.info({ namespace: sandbox.namespace, lab: sandbox.labId, reason: expired ? 'expired' : idle ? 'idle' : 'warm sandbox too old' }, 'sandbox reaped');
      } catch (error) {
        this.#log.warn({ namespace: sandbox.namespace, error: errorMessage(error) }, 'could not reap sandbox');
      }
    }
    const live = new Set((await this.list()).map((sandbox) => sandbox.namespace));
    for (const resource of ['clusterrolebindings', 'clusterroles']) {
      const objects = await this.client.list(await this.client.resolve(`${resource}.rbac.authorization.k8s.io`), undefined, { labelSelector: LABEL_SANDBOX });
      for (const object of objects) {
        const owner = object.metadata.labels?.[LABEL_SANDBOX];
        if (!owner || live.has(owner) || reaped.includes(owner)) continue;
        // The sandbox may be starting right now: only a sandbox namespace that is gone or going leaves orphans.
        const namespace = await this.client.get(await this.client.resolve('namespaces'), '', owner);
        if (namespace && !namespace.metadata.deletionTimestamp) continue;
        await this.client.api.request('DELETE', `/apis/rbac.authorization.k8s.io/v1/${resource}/${encodeURIComponent(object.metadata.name ?? '')}`).catch(() => undefined);
      }
    }
    return reaped;
  }

  #poolSize(labId: string): number {
    const pool = this.#options.warmPool;
    return Math.max(typeof pool === 'number' ? pool : (pool[labId] ?? 0), this.#reserved.get(labId) ?? 0);
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
      if (size === 0) continue;
      const digest = labDigest(lab);
      const warm = await this.list({ labId: lab.id, warm: true });
      const current = warm.filter((sandbox) => sandbox.labDigest === digest);
      for (const stale of warm.filter((sandbox) => sandbox.labDigest !== digest)) await deleteSandbox(this.client, stale.namespace).catch(() => undefined);
      for (let missing = size - current.length; missing > 0 && !this.#stopped; missing--) {
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

  /** Runs the reaper and the warm pool in the background until stop(). */
  startBackground(): void {
    if (this.#timers.length || this.#stopped) return;
    const every = (ms: number, task: () => Promise<unknown>) => {
      const timer = setInterval(() => {
        task().catch((error: unknown) => this.#log.error({ error: errorMessage(error) }, 'sandbox background task failed'));
      }, ms);
      timer.unref();
      this.#timers.push(timer);
    };
    every(this.#options.reapIntervalMs, () => this.reap());
    every(this.#options.poolIntervalMs, () => this.fillWarmPool());
    void this.reap().catch((error: unknown) => this.#log.error({ error: errorMessage(error) }, 'sandbox reaper failed'));
    void this.fillWarmPool();
  }

  /** Stops the background work and waits for a warm sandbox being prepared. Sandboxes stay. */
  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    await this.#filling?.catch(() => undefined);
  }
}
