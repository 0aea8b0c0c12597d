// Public face of the simulated kubelet: one per cluster, a node kubelet per Node. It makes pods
// come alive (images, containers, probes, restarts, termination), serves pods/log, exec and attach
// through the API server's connect hook, runs shell containers and exec sessions for real in the
// sandbox, and reports the CPU and memory figures the HPA reads.
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect as connectTcp, createServer, type Socket } from 'node:net';
import { availableParallelism, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { type ClusterEgress, type ConnectHandler, type Logger, type ServiceAccountTokens, stderrLogger } from '../apiserver/index.ts';
import { EventBroadcaster } from '../controllers/index.ts';
import { ClaimStorage } from './claim-storage.ts';
import { HostDisk, removeOrphanedMounts, removeOrphanedPodStorage, startNodeFsEviction, UNLIMITED_POD_CEILING_BYTES } from './ephemeral-storage/index.ts';
import type { Registry, Watch } from '../registry/index.ts';
import { StatusError, type KubeObject } from '../types.ts';
import { ClusterView } from './cluster-view.ts';
import { cpuQuantity, FRESH_CONTAINER_MIN_MS, goDuration, memoryQuantity, METRIC_RESOLUTION_MS, ResourceMetricsStore } from './resource-metrics.ts';
import { createConnectHandler } from './connect.ts';
import { clusterEgress } from './cluster-egress.ts';
import { specOf, str } from '../json.ts';
import { timestamp } from './format.ts';
import { type KubeletShared, NodeKubelet } from './node-kubelet.ts';
import { ParallelLimit } from './parallel-limit.ts';
import type { PodWorker } from './pod-worker.ts';
import { detectSandboxSupport, SandboxCgroup, type SandboxLimits, type SandboxSupport } from './sandbox/index.ts';
import { SandboxIdentities } from './sandbox/identities.ts';
import { identitySlicesDir } from './sandbox/identity-slices.ts';
import { ensurePassage, PodVolumes, type TokenIssuer } from './volumes.ts';
import { PodNetwork } from './network/index.ts';
import { ServiceNetwork } from './service-network.ts';
import { detectWorkbenchTools, type WorkbenchTools } from './workbench.ts';

export { resolveImage, parseImageReference, type ImageResolution } from './images/index.ts';
export { imageCatalog } from './images/catalog.ts';
export type { CatalogImage } from './images/index.ts';
export { WORKBENCH_HOME, WORKBENCH_API_PORT } from './workbench.ts';
export type { SandboxSupport } from './sandbox/index.ts';

export interface KubeletTiming {
  /** Multiplies start-up delays (sandbox, pull, create): 1 realistic (default), 0 instant. */
  startDelayScale?: number;
  /** Multiplies back-off, probe periods, grace periods and ConfigMap propagation: 1 real time (default). */
  timeScale?: number;
}

export interface KubeletOptions {
  registry: Registry;
  /** The controllers' event broadcaster, so kubelet events share its correlation; one is made otherwise. */
  events?: EventBroadcaster;
  /** https://127.0.0.1:<port> of the API server (workbenches reach it through a Unix socket). */
  apiUrl: string;
  caPem: string;
  /** Issues the pods' ServiceAccount tokens (projected into /var/run/secrets/kubernetes.io/serviceaccount). */
  tokens?: ServiceAccountTokens;
  /** Where pod volumes and sockets live; default a folder in the system temp dir named after dataDir. */
  kubeletDir?: string;
  dataDir: string;
  /** Run shells unsandboxed when bubblewrap is unavailable (a single-user laptop). */
  unsafeLocalShell?: boolean;
  /** The disk a pod without an ephemeral-storage limit may fill: the size of its file system (default 1 GiB). */
  unlimitedPodStorageBytes?: number;
  /** Disk the pods' and claims' file systems together always leave free on the host (default 10% of the disk). */
  hostDiskReserveBytes?: number;
  /** Node-pressure eviction starts when less than this is free (evictionHard nodefs.available; default the reserve). */
  hostDiskEvictionBytes?: number;
  timing?: KubeletTiming;
  clock?: () => Date;
  resources?: KubeletResources;
  /** Host paths no sandbox may see wherever they lie (the portal's data directory); the cluster's dataDir is always hidden. */
  hiddenPaths?: string[];
  /** The host-wide directory where clusters claim slices of the sandbox identity range (default identitySlicesDir()). */
  identitySlicesDir?: string;
  /** Where the kubelet says what it cannot do on this machine (cgroups); default JSON lines on stderr. */
  log?: Logger;
}

/** How much of the host pod sandboxes take, together and one by one. */
export interface KubeletResources {
  /** The share of the host's memory and CPUs all pod sandboxes together may use (0–1; default 0.5). */
  hostShare?: number;
  /** The ceiling of a pod whose containers set no limits (default 1 GiB of memory, 1024 processes). */
  podDefaults?: SandboxLimits;
}

const DEFAULT_HOST_SHARE = 0.5;
const DEFAULT_POD_LIMITS: SandboxLimits = { memoryBytes: 1024 ** 3, pids: 1024 };
/** Pod sandboxes started (and attached to the pod network) at once, for each CPU of the host. */
const SANDBOX_STARTS_PER_CPU = 4;
/** Processes every sandbox together may have: a fork bomb in one stops at its pod, many pods stop here. */
const HOST_PIDS = 16_384;

/** metrics.k8s.io/v1beta1 PodMetrics, as metrics-server serves it. */
export type PodMetrics = {
  kind: 'PodMetrics';
  apiVersion: 'metrics.k8s.io/v1beta1';
  metadata: { name: string; namespace: string; creationTimestamp: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  containers: Array<{ name: string; usage: { cpu: string; memory: string } }>;
};

/** metrics.k8s.io/v1beta1 NodeMetrics. */
export type NodeMetrics = {
  kind: 'NodeMetrics';
  apiVersion: 'metrics.k8s.io/v1beta1';
  metadata: { name: string; creationTimestamp: string; labels?: Record<string, string> };
  timestamp: string;
  window: string;
  usage: { cpu: string; memory: string };
};

export interface RunningKubelet {
  /** Serves pods/log, pods/exec and pods/attach: pass it to the API server. */
  readonly connect: ConnectHandler;
  /** The API server's way into the pod network, for admission webhooks: Services, cluster IPs and pod IPs, never the host. */
  readonly egress: ClusterEgress;
  /** How shells run here: bubblewrap, unsafe-local, or unavailable with the reason (detected on first read). */
  readonly sandbox: SandboxSupport;
  /** Everyday tools the workbench has and lacks on this host. */
  workbenchTools(): Promise<WorkbenchTools>;
  /** CPU and memory of a running pod (what the HPA and `kubectl top` read); undefined when it runs nowhere. */
  podMetrics(namespace: string, name: string): PodMetrics | undefined;
  nodeMetrics(name: string): NodeMetrics | undefined;
  /** The pod's total usage, as the HPA controller reads it (controllers' PodMetricsSource). */
  podUsage(pod: KubeObject): { cpuMillis: number; memoryBytes: number } | undefined;
  stop(): Promise<void>;
}

/**
 * The kubelet's DiskPressure condition on its Node (setNodeStatus): True with KubeletHasDiskPressure
 * while the eviction manager sees nodefs under its threshold; the node lifecycle controller taints on it.
 */
function reportDiskPressure(registry: Registry, view: ClusterView, name: string, pressure: boolean, now: Date): void {
  const definition = view.definition('nodes');
  const user = { username: `system:node:${name}`, groups: ['system:nodes', 'system:authenticated'] };
  const condition = pressure
    ? { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' }
    : { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const node = registry.get(definition, undefined, name);
      const status = (node['status'] ?? {}) as Record<string, unknown>;
      const stamp = timestamp(now);
      const conditions = (Array.isArray(status['conditions']) ? status['conditions'] : []) as Array<Record<string, unknown>>;
      const next = conditions.map((c) => (c['type'] === 'DiskPressure' ? { ...c, ...condition, lastHeartbeatTime: stamp, lastTransitionTime: c['status'] === condition.status ? c['lastTransitionTime'] : stamp } : c));
      registry.update(definition, undefined, name, { ...node, status: { ...status, conditions: next } }, { subresource: 'status', user });
      return;
    } catch (error) {
      if (!(error instanceof StatusError && error.code === 409)) return;
    }
  }
}

/** Memory all container logs share; each keeps between 16 KiB and 1 MiB of it. */
const LOG_BUDGET_BYTES = 64 * 1024 * 1024;
const NODE_BASE_CPU_MILLIS = 120;
const NODE_BASE_MEMORY = 700 * 1024 * 1024;

function labelsOf(object: KubeObject | undefined): { labels?: Record<string, string> } {
  const labels = object?.metadata.labels;
  return labels ? { labels: { ...labels } } : {};
}

function isEmptyDirectory(path: string): boolean {
  try {
    return readdirSync(path).every((entry) => isEmptyDirectory(join(path, entry)));
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
}

const DEFAULT_KUBELET_DIR_PREFIX = 'formicary-kubelet-';
/** In a kubelet dir of the default location: the data dir it belongs to. */
const DATA_DIR_NOTE = 'data-dir';

/**
 * Kubelet dirs in the temp dir whose data dir is gone (a test's, a playground's) hold nothing
 * anyone can start again: their pods' and claims' file systems are unmounted and they go.
 */
function removeAbandonedKubeletDirs(dir: string): void {
  for (const entry of readdirSync(dir)) {
    if (!entry.startsWith(DEFAULT_KUBELET_DIR_PREFIX)) continue;
    const kubeletDir = join(dir, entry);
    let dataDir: string;
    try {
      dataDir = readFileSync(join(kubeletDir, DATA_DIR_NOTE), 'utf8');
    } catch {
      continue;
    }
    if (!dataDir || existsSync(dataDir)) continue;
    try {
      for (const mounts of ['pods', 'claims']) removeOrphanedMounts(join(kubeletDir, mounts), new Set());
      rmSync(kubeletDir, { recursive: true, force: true });
    } catch {
      // Still busy: the next start tries again.
    }
  }
}

function tokenIssuer(view: ClusterView, tokens: ServiceAccountTokens, caPem: string, now: () => Date): TokenIssuer {
  return {
    caPem,
    issue(pod, audiences, expirationSeconds) {
      const spec = specOf(pod);
      const account = view.get('serviceaccounts', pod.metadata.namespace, str(spec['serviceAccountName']) ?? 'default');
      if (!account?.metadata.uid) return undefined;
      const nodeName = str(spec['nodeName']) ?? '';
      const node = nodeName ? view.get('nodes', undefined, nodeName) : undefined;
      const issued = tokens.issueServiceAccountToken({
        namespace: pod.metadata.namespace ?? 'default',
        serviceAccountName: account.metadata.name ?? 'default',
        serviceAccountUid: account.metadata.uid,
        ...(audiences ? { audiences } : {}),
        expirationSeconds,
        boundObject: { kind: 'Pod', name: pod.metadata.name ?? '', uid: pod.metadata.uid ?? '', ...(nodeName ? { nodeName } : {}), ...(node?.metadata.uid ? { nodeUid: node.metadata.uid } : {}) },
        now: now(),
      });
      return { token: issued.token, expiresAt: Date.parse(issued.expirationTimestamp) };
    },
  };
}

/** Carries connections from sandboxes (which have no network) to the API server's TCP port. */
function startApiSocket(path: string, apiUrl: string): Promise<{ close(): Promise<void> }> {
  const { port, hostname } = new URL(apiUrl);
  rmSync(path, { force: true });
  const open = new Set<Socket>();
  const server = createServer((client) => {
    const upstream = connectTcp(Number(port), hostname);
    open.add(client);
    client.on('close', () => open.delete(client));
    client.pipe(upstream).pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Closing waits for every connection: a stopping cluster ends them.
      for (const client of open) client.destroy();
    });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      chmodSync(path, 0o666);
      resolve({ close });
    });
  });
}

export async function startKubelet(options: KubeletOptions): Promise<RunningKubelet> {
  const { registry } = options;
  const now = options.clock ?? (() => new Date());
  const startScale = options.timing?.startDelayScale ?? 1;
  const timeScale = options.timing?.timeScale ?? 1;
  const kubeletDir = options.kubeletDir ?? join(tmpdir(), `${DEFAULT_KUBELET_DIR_PREFIX}${createHash('sha256').update(options.dataDir).digest('hex').slice(0, 12)}`);
  if (options.kubeletDir === undefined) removeAbandonedKubeletDirs(tmpdir());
  ensurePassage(kubeletDir);
  if (options.kubeletDir === undefined) writeFileSync(join(kubeletDir, DATA_DIR_NOTE), options.dataDir, { mode: 0o600 });
  const podsDir = join(kubeletDir, 'pods');
  for (const dir of [podsDir, join(kubeletDir, 'nodes'), join(kubeletDir, 'claims')]) ensurePassage(dir);
  // The pods' and claims' file system images: the kubelet's alone.
  const storageDir = join(kubeletDir, 'ephemeral');
  const claimImagesDir = join(kubeletDir, 'claim-images');
  for (const dir of [storageDir, claimImagesDir]) mkdirSync(dir, { recursive: true, mode: 0o700 });
  const hostDisk = new HostDisk({ root: kubeletDir, imageDirs: [storageDir, claimImagesDir], ...(options.hostDiskReserveBytes !== undefined ? { reserveBytes: options.hostDiskReserveBytes } : {}) });
  const log = options.log ?? stderrLogger;
  const identities = new SandboxIdentities(join(options.dataDir, 'sandbox-identities.json'), {
    // Chosen now: a bad FORMICARY_IDENTITY_SLICES_DIR stops the start, not the first pod.
    slicesDir: options.identitySlicesDir ?? identitySlicesDir(),
    warn: (message) => log.warn({ dataDir: options.dataDir }, message),
  });
  // Unsandboxed (--unsafe-local-shell) every pod runs as this process's own user: there is no range
  // of users to hand out (in a pod of a real cluster, a user namespace maps this one user only).
  const ownUser = options.unsafeLocalShell ? { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 } : null;
  const identityOf = (namespace: string) => ownUser ?? identities.of(namespace);
  const claimStorage = new ClaimStorage(join(kubeletDir, 'claims'), claimImagesDir, hostDisk, identityOf);
  // As on a node after a reboot: the processes of an earlier run are gone, but a pod that still
  // exists keeps its directory (emptyDir volumes, the workbench's home); only pods deleted meanwhile lose theirs.
  const view = new ClusterView(registry);
  removeOrphanedPodStorage(podsDir, storageDir, new Set(view.list('pods').map((pod) => pod.metadata.uid ?? '')));
  claimStorage.removeOrphans(new Set(view.list('persistentvolumeclaims').map((claim) => claim.metadata.uid ?? '')));
  const runtimeDir = join(kubeletDir, 'run');
  ensurePassage(runtimeDir);
  // Probing bubblewrap runs processes: done on first need, not on the way to "ready".
  let support: SandboxSupport | undefined;
  const sandbox = () => (support ??= detectSandboxSupport({ unsafeLocalShell: options.unsafeLocalShell ?? false, runtimeDir, hiddenPaths: [options.dataDir, ...(options.hiddenPaths ?? [])] }));
  const share = Math.min(1, Math.max(0.05, options.resources?.hostShare ?? DEFAULT_HOST_SHARE));
  // One parent cgroup for this kubelet's pod sandboxes (several clusters on a host each have their own).
  let cgroupParent: Promise<SandboxCgroup | null> | undefined;
  const sandboxCgroup = () =>
    (cgroupParent ??= SandboxCgroup.parent(`formicary-${createHash('sha256').update(options.dataDir).digest('hex').slice(0, 12)}`, {
      memoryBytes: Math.floor(totalmem() * share),
      cpuMillis: Math.floor(availableParallelism() * 1000 * share),
      pids: HOST_PIDS,
    }).then((parent) => {
      if (!parent) log.warn({ cgroupRoot: '/sys/fs/cgroup' }, 'cgroups cannot be created here: pods run without memory, CPU and process limits');
      return parent;
    }));
  const caFile = join(runtimeDir, 'ca.crt');
  writeFileSync(caFile, options.caPem, { mode: 0o644 });
  const apiSocketPath = join(runtimeDir, 'api.sock');
  const apiSocket = await startApiSocket(apiSocketPath, options.apiUrl);

  const events = options.events ?? new EventBroadcaster(registry);
  const ownEvents = options.events === undefined;
  let tools: Promise<WorkbenchTools> | undefined;
  const workers = new Map<string, PodWorker>();
  const byName = new Map<string, PodWorker>();
  const references = new Map<string, Set<PodWorker>>();
  const referenceKeys = (worker: PodWorker): string[] => {
    const { configMaps, secrets } = PodVolumes.references(worker.pod);
    return [...[...configMaps].map((name) => `configmaps/${worker.namespace}/${name}`), ...[...secrets].map((name) => `secrets/${worker.namespace}/${name}`)];
  };

  let podNetwork: Promise<PodNetwork | undefined> | undefined;
  const shared: KubeletShared = {
    registry,
    view,
    recorder: (nodeName) => events.recorder({ component: 'kubelet', host: nodeName }),
    sandbox,
    apiSocket: apiSocketPath,
    apiUrl: options.apiUrl,
    caFile,
    tokens: options.tokens ? tokenIssuer(view, options.tokens, options.caPem, now) : undefined,
    tools: () => (tools ??= detectWorkbenchTools()),
    serviceSocket: (namespace, podUid) => network.socketFor(namespace, podUid),
    podNetwork: () =>
      (podNetwork ??= (async () => {
        const support = sandbox();
        // Pods get their own network namespaces only in pod sandboxes.
        if (support.mode !== 'bubblewrap' || !support.nsenter || stopped) return undefined;
        const started = await PodNetwork.start({ registry, view, runtimeDir, apiSocket: apiSocketPath });
        if (typeof started === 'string') {
          process.emitWarning(`no pod network, Services are reached through the HTTP proxy: ${started}`);
          return undefined;
        }
        if (stopped) started.stop();
        return stopped ? undefined : started;
      })()),
    now,
    startDelay: (ms) => ms * startScale,
    scaled: (ms) => ms * timeScale,
    logLimit: () => Math.max(16 * 1024, Math.min(1024 * 1024, Math.floor(LOG_BUDGET_BYTES / Math.max(1, workers.size)))),
    paths: { podsDir, nodesDir: join(kubeletDir, 'nodes'), claimsDir: join(kubeletDir, 'claims'), storageDir, imagesDir: join(kubeletDir, 'images') },
    unlimitedPodStorageBytes: options.unlimitedPodStorageBytes ?? UNLIMITED_POD_CEILING_BYTES,
    claimStorage,
    hostDisk,
    identityOf: (namespace, groups) => (groups && !ownUser ? { ...identities.of(namespace), groups: identities.groupsOf(namespace, groups) } : identityOf(namespace)),
    sandboxCgroup,
    sandboxStarts: new ParallelLimit(availableParallelism() * SANDBOX_STARTS_PER_CPU),
    podLimitDefaults: { ...DEFAULT_POD_LIMITS, ...options.resources?.podDefaults },
    workerAdded(worker) {
      workers.set(worker.uid, worker);
      byName.set(`${worker.namespace}/${worker.name}`, worker);
      for (const key of referenceKeys(worker)) {
        let set = references.get(key);
        if (!set) references.set(key, (set = new Set()));
        set.add(worker);
      }
    },
    workerRemoved(worker) {
      workers.delete(worker.uid);
      void network.forget(worker.uid);
      if (byName.get(`${worker.namespace}/${worker.name}`) === worker) byName.delete(`${worker.namespace}/${worker.name}`);
      for (const key of referenceKeys(worker)) references.get(key)?.delete(worker);
    },
  };

  const network = new ServiceNetwork(
    view,
    {
      byUid: (uid) => workers.get(uid),
      byIP: (ip) => {
        for (const worker of workers.values()) if (worker.podIP === ip) return worker;
        return undefined;
      },
    },
    runtimeDir,
    { connectTimeoutMs: 130_000 * timeScale, resolveTimeoutMs: 10_000 * timeScale },
  );
  const nodes = new Map<string, NodeKubelet>();
  const nodeWatch = registry.watch(view.definition('nodes'), {}, (event) => {
    const name = event.object.metadata.name ?? '';
    if (event.type === 'ADDED' && !nodes.has(name)) {
      const node = event.object;
      setImmediate(() => {
        if (!stopped && !nodes.has(name)) nodes.set(name, new NodeKubelet(shared, node));
      });
    } else if (event.type === 'DELETED') {
      setImmediate(() => {
        void nodes.get(name)?.stop();
        nodes.delete(name);
      });
    }
  });
  // The nodes share the host's disk: one eviction manager watches it for all of them.
  const diskPressure = startNodeFsEviction({
    signal: async () => {
      const signal = await hostDisk.signal();
      return options.hostDiskEvictionBytes === undefined ? signal : { ...signal, thresholdBytes: options.hostDiskEvictionBytes };
    },
    candidates: () => workers.values(),
    setPressure: (pressure) => {
      for (const name of nodes.keys()) reportDiskPressure(registry, view, name, pressure, now());
    },
    intervalMs: Math.max(timeScale * 10_000, 200),
    transitionMs: timeScale * 5 * 60_000,
    now: () => now().getTime(),
  });
  const configWatches: Watch[] = (['configmaps', 'secrets'] as const).map((resource) =>
    registry.watch(view.definition(resource), {}, (event) => {
      if (event.type === 'BOOKMARK' || event.type === 'ERROR') return;
      const dependents = references.get(`${resource}/${event.object.metadata.namespace ?? ''}/${event.object.metadata.name ?? ''}`);
      if (!dependents || dependents.size === 0) return;
      setImmediate(() => {
        for (const worker of dependents) worker.configChanged();
      });
    }),
  );

  const claimWatch = registry.watch(view.definition('persistentvolumeclaims'), {}, (event) => {
    if (event.type !== 'DELETED') return;
    const uid = event.object.metadata.uid ?? '';
    setImmediate(() => void claimStorage.release(uid).catch(() => undefined));
  });

  let stopped = false;
  // metrics-server: scrapes every resolution (scaled with the kubelet's time) and keeps two points a container.
  const resolutionMs = Math.max(50, METRIC_RESOLUTION_MS * timeScale);
  const resourceMetrics = new ResourceMetricsStore({ resolutionMs, freshContainerMinMs: FRESH_CONTAINER_MIN_MS * timeScale });
  const scrape = () => {
    const at = now().getTime();
    resourceMetrics.storePods(at, new Map([...workers.values()].map((worker) => [worker.uid, worker.samples()])));
    for (const [name, node] of nodes) {
      let cpuNanocores = NODE_BASE_CPU_MILLIS * 1_000_000;
      let memoryBytes = NODE_BASE_MEMORY;
      for (const worker of node.workers.values()) {
        for (const container of resourceMetrics.pod(worker.uid)?.containers ?? []) {
          cpuNanocores += container.cpuNanocores;
          memoryBytes += container.memoryBytes;
        }
      }
      resourceMetrics.storeNode(name, at, { cpuNanocores, memoryBytes });
    }
  };
  const scraper = setInterval(scrape, resolutionMs);
  scraper.unref();
  return {
    connect: createConnectHandler({ workerFor: (pod: KubeObject) => workers.get(pod.metadata.uid ?? ''), sandbox }),
    egress: clusterEgress(view, (namespace, name) => byName.get(`${namespace}/${name}`), () => workers.values()),
    get sandbox() {
      return sandbox();
    },
    workbenchTools: () => shared.tools(),
    podMetrics(namespace, name) {
      const worker = byName.get(`${namespace}/${name}`);
      const usage = worker ? resourceMetrics.pod(worker.uid) : undefined;
      if (!worker || !usage) return undefined;
      return {
        kind: 'PodMetrics',
        apiVersion: 'metrics.k8s.io/v1beta1',
        metadata: { name, namespace, creationTimestamp: timestamp(now()), ...(worker.pod.metadata.labels ? { labels: { ...worker.pod.metadata.labels } } : {}) },
        timestamp: timestamp(new Date(usage.timestamp)),
        window: goDuration(usage.windowMs),
        containers: usage.containers.map((container) => ({ name: container.name, usage: { cpu: cpuQuantity(container.cpuNanocores), memory: memoryQuantity(container.memoryBytes) } })),
      };
    },
    podUsage(pod) {
      const usage = resourceMetrics.pod(pod.metadata.uid ?? '');
      if (!usage || usage.containers.length === 0) return undefined;
      return {
        cpuMillis: Math.round(usage.containers.reduce((sum, c) => sum + c.cpuNanocores, 0) / 1_000_000),
        memoryBytes: usage.containers.reduce((sum, c) => sum + c.memoryBytes, 0),
      };
    },
    nodeMetrics(name) {
      const node = nodes.get(name);
      const usage = node ? resourceMetrics.node(name) : undefined;
      if (!node || !usage) return undefined;
      return {
        kind: 'NodeMetrics',
        apiVersion: 'metrics.k8s.io/v1beta1',
        metadata: { name, creationTimestamp: timestamp(now()), ...labelsOf(view.get('nodes', undefined, name)) },
        timestamp: timestamp(new Date(usage.timestamp)),
        window: goDuration(usage.windowMs),
        usage: { cpu: cpuQuantity(usage.cpuNanocores), memory: memoryQuantity(usage.memoryBytes) },
      };
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      clearInterval(scraper);
      diskPressure.stop();
      nodeWatch.stop();
      for (const watch of [...configWatches, claimWatch]) watch.stop();
      await Promise.all([...nodes.values()].map((node) => node.stop()));
      nodes.clear();
      if (ownEvents) events.stop();
      await apiSocket.close();
      await network.close();
      (await podNetwork)?.stop();
      // Every pod's processes end with the kubelet; their cgroups go once the kernel has let them go.
      const parent = await cgroupParent;
      parent?.killAll();
      for (let waited = 0; parent && parent.pids().length > 0 && waited < 40; waited++) await new Promise((resolve) => setTimeout(resolve, 25));
      await parent?.remove(1);
      // Sockets go with the kubelet; pod, claim and node directories hold data the next start carries on with.
      await claimStorage.detachAll();
      rmSync(runtimeDir, { recursive: true, force: true });
      if (options.kubeletDir === undefined && ['pods', 'nodes', 'claims', 'ephemeral', 'claim-images'].every((dir) => isEmptyDirectory(join(kubeletDir, dir)))) rmSync(kubeletDir, { recursive: true, force: true });
    },
  };
}
