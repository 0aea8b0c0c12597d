// Public face of the embedded cluster: start it, get a kubeconfig, stop it. The portal and the
// tests know the cluster only through this and the kubeconfig it writes.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { admissionPlugins, bootstrapCluster, createWebhookAdmission, loadOrCreateServingCertificates, openServiceAccountTokens, startApiServer, stderrLogger, type AuditSink, type ClusterEgress, type ConnectHandler, type Logger } from './apiserver/index.ts';
import { openRegistry, type Registry, type StorageLimits } from './registry/index.ts';
import { startControllers, type ControllersOptions, type EvictionOptions, type RunningControllers } from './controllers/index.ts';
import type { KubeletOptions, RunningKubelet } from './kubelet/index.ts';
import { lockDataDir, type DataDirLock } from './data-dir-lock.ts';
import { StatusError } from './types.ts';

export type { ConnectHandler, ConnectRequest, Logger } from './apiserver/index.ts';
export { DataDirLockedError } from './data-dir-lock.ts';
export { nodeResourcesForHost, type HostResources, type NodeResources } from './controllers/index.ts';
export { inUserNamespace, rootlessLaunch, runRootless, type RootlessLaunch } from './kubelet/sandbox/user-namespace.ts';

export interface ClusterOptions {
  /** Where certificates, credentials and every object live; default `.formicary/cluster`. */
  dataDir?: string;
  /** Listening port; 0 (the default) picks a free one. */
  port?: number;
  /** The address to listen on (kube-apiserver's --bind-address); default 127.0.0.1. 0.0.0.0: every interface, as a cluster in a pod behind a Service. */
  bindAddress?: string;
  /** Names and addresses the serving certificate holds besides 127.0.0.1, localhost and `kubernetes…` (k3s's --tls-san). */
  tlsSans?: string[];
  /** How many Nodes the cluster registers; default 3 (1 without controllers). */
  nodes?: number;
  /** Controllers, scheduler and Nodes (default on); false serves a bare API server. */
  controllers?: false | Omit<ControllersOptions, 'registry' | 'caPem'>;
  clock?: () => Date;
  /** Where the cluster reports failures and warnings; default one JSON object a line on stderr. */
  log?: Logger;
  /** Receives an audit.k8s.io/v1 Event per authenticated request, as kube-apiserver's audit log. */
  audit?: AuditSink;
  /** Serves pods log/exec/attach/portforward (the kubelet, part 2). */
  connect?: ConnectHandler;
  /**
   * Watch tuning: how many changes a resource keeps for resuming watches, how often bookmarks go
   * out, and the unsent bytes all watch responses together may hold (default 64 MiB; a watch past
   * its even share is cut off).
   */
  watch?: { historySize?: number; bookmarkIntervalMs?: number; maxBufferedBytes?: number };
  /**
   * What the store holds at most (the embedded cluster's, not Kubernetes' limits): each
   * namespace's objects serialized together (default 16 MiB, 0 for no budget) and the old versions
   * kept for watches (default 64 MiB).
   */
  storage?: Partial<StorageLimits>;
  /**
   * The simulated kubelet (pods start, log, exec, attach; the workbench shell). Opt-in for now:
   * the controllers' tests run their own stand-in kubelet. `formicary cluster` turns it on.
   */
  kubelet?: Pick<KubeletOptions, 'kubeletDir' | 'unsafeLocalShell' | 'timing' | 'unlimitedPodStorageBytes' | 'hostDiskReserveBytes' | 'hostDiskEvictionBytes' | 'resources' | 'hiddenPaths' | 'identitySlicesDir'>;
}

export interface KubeconfigOptions {
  /** Bearer token of the user; default the admin token. */
  token?: string;
  /** Default namespace of the context. */
  namespace?: string;
}

export interface RunningCluster {
  /** https://127.0.0.1:<port> */
  url: string;
  port: number;
  /** PEM of the CA that signed the serving certificate. */
  caPem: string;
  /** Bearer token of the cluster admin (group system:masters). */
  adminToken: string;
  dataDir: string;
  /** The store itself, for in-process controllers and kubelet. */
  registry: Registry;
  /** The running controllers (absent with `controllers: false`): their event recorder, idle(). */
  controllers?: RunningControllers;
  /** The simulated kubelet, when started (`kubelet` option): metrics, sandbox mode. */
  kubelet?: RunningKubelet;
  /** A kubeconfig (YAML) whose cluster, context and user are all named `formicary`. */
  kubeconfig(options?: KubeconfigOptions): string;
  /** Writes kubeconfig() to file (mode 0600), creating its folder. */
  writeKubeconfig(file: string, options?: KubeconfigOptions): Promise<void>;
  /** Stops serving, then flushes the registry to the data dir. */
  stop(): Promise<void>;
}

async function readOrCreateSecret(file: string, create: () => string): Promise<string> {
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing !== '') return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const value = create();
  await writeFile(file, value + '\n', { mode: 0o600 });
  return value;
}

/**
 * The kubeconfig as YAML text. Written by hand (every value a JSON-quoted scalar, which YAML
 * reads as is) so start-up does not load a YAML library for five fixed keys.
 */
function kubeconfigYaml(config: { server: string; caPem: string; token: string; namespace: string | undefined }): string {
  const q = (value: string) => JSON.stringify(value);
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: formicary',
    '  cluster:',
    `    server: ${q(config.server)}`,
    `    certificate-authority-data: ${q(Buffer.from(config.caPem).toString('base64'))}`,
    'contexts:',
    '- name: formicary',
    '  context:',
    '    cluster: formicary',
    '    user: formicary',
    ...(config.namespace ? [`    namespace: ${q(config.namespace)}`] : []),
    'current-context: formicary',
    'users:',
    '- name: formicary',
    '  user:',
    `    token: ${q(config.token)}`,
    'preferences: {}',
    '',
  ].join('\n');
}

export async function startCluster(options: ClusterOptions = {}): Promise<RunningCluster> {
  const dataDir = resolve(options.dataDir ?? join('.formicary', 'cluster'));
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  // Before anything is read: a second cluster on this directory would lose the first one's writes.
  const lock = await lockDataDir(dataDir);
  try {
    return await startLocked(options, dataDir, lock);
  } catch (error) {
    await lock.release();
    throw error;
  }
}

async function startLocked(options: ClusterOptions, dataDir: string, lock: DataDirLock): Promise<RunningCluster> {
  const clock = options.clock ?? (() => new Date());
  const log = options.log ?? stderrLogger;
  const [certificates, adminToken, tokens, registry] = await Promise.all([
    loadOrCreateServingCertificates(dataDir, options.tlsSans ?? []),
    readOrCreateSecret(join(dataDir, 'admin.token'), () => randomBytes(32).toString('base64url')),
    openServiceAccountTokens(dataDir),
    openRegistry({
      dataDir: join(dataDir, 'store'),
      clock,
      logger: log,
      admission: admissionPlugins(),
      ...(options.watch?.historySize ? { historySize: options.watch.historySize } : {}),
      ...(options.watch?.bookmarkIntervalMs ? { bookmarkIntervalMs: options.watch.bookmarkIntervalMs } : {}),
      ...(options.storage ? { limits: options.storage } : {}),
    }),
  ]);
  let server;
  let controllers: RunningControllers | undefined;
  let kubelet: RunningKubelet | undefined;
  const kubeletConnect: ConnectHandler = (request) => {
    if (!kubelet) throw new StatusError({ code: 503, reason: 'ServiceUnavailable', message: 'the kubelet is still starting; try again in a moment' });
    return kubelet.connect(request);
  };
  const connect = options.connect ?? (options.kubelet ? kubeletConnect : undefined);
  // One set of admission webhooks for API requests and the pods controllers create; they reach the cluster's network through the kubelet.
  const starting = () => Promise.reject(new Error('the kubelet is still starting'));
  const egress: ClusterEgress | undefined = options.kubelet
    ? { dialService: (namespace, name, port) => (kubelet ? kubelet.egress.dialService(namespace, name, port) : starting()), dial: (host, port) => (kubelet ? kubelet.egress.dial(host, port) : starting()) }
    : undefined;
  const webhooks = createWebhookAdmission(registry, egress);
  try {
    const apiServer = await startApiServer({
      registry,
      certPem: certificates.certPem,
      keyPem: certificates.keyPem,
      clientCaPem: certificates.caPem,
      adminToken,
      tokens,
      port: options.port ?? 0,
      ...(options.bindAddress ? { host: options.bindAddress } : {}),
      clock,
      ...(connect ? { connect } : {}),
      webhooks,
      ...(options.audit ? { audit: options.audit } : {}),
      // metrics-server runs where the kubelet does: its figures are the kubelet's.
      ...(options.kubelet ? { metrics: { podMetrics: (namespace: string, name: string) => kubelet?.podMetrics(namespace, name), nodeMetrics: (name: string) => kubelet?.nodeMetrics(name) } } : {}),
      log,
      ...(options.watch?.maxBufferedBytes ? { watch: { maxBufferedBytes: options.watch.maxBufferedBytes } } : {}),
      ...(options.controllers === false ? {} : { evict: (namespace: string, name: string, evictOptions: EvictionOptions) => controllers?.evict(namespace, name, evictOptions) }),
    });
    server = apiServer;
    // With controllers the Nodes are theirs (registered, heartbeating, cordoned).
    const stopBootstrap = bootstrapCluster({ registry, tokens, caPem: certificates.caPem, nodes: options.controllers === false ? (options.nodes ?? 1) : 0, clock, metricsServed: options.kubelet !== undefined });
    controllers =
      options.controllers === false
        ? undefined
        : startControllers({ registry, caPem: certificates.caPem, caKeyPem: certificates.caKeyPem, webhooks, ...(options.log ? { log: options.log } : {}), ...options.controllers, nodes: { count: options.nodes ?? 3, ...options.controllers?.nodes } });
    if (options.kubelet) {
      // Loaded only when asked for: a bare API server starts without the sandbox and stream code.
      const { startKubelet } = await import('./kubelet/index.ts');
      kubelet = await startKubelet({
        ...options.kubelet,
        registry,
        ...(controllers ? { events: controllers.events } : {}),
        apiUrl: apiServer.url,
        caPem: certificates.caPem,
        tokens,
        dataDir,
        clock,
        log,
      });
      controllers?.setPodMetrics(kubelet);
    }
    const kubeconfig = (kubeconfigOptions: KubeconfigOptions = {}) =>
      kubeconfigYaml({ server: apiServer.url, caPem: certificates.caPem, token: kubeconfigOptions.token ?? adminToken, namespace: kubeconfigOptions.namespace });
    let stopping: Promise<void> | undefined;
    return {
      url: apiServer.url,
      port: apiServer.port,
      caPem: certificates.caPem,
      adminToken,
      dataDir,
      registry,
      ...(controllers ? { controllers } : {}),
      ...(kubelet ? { kubelet } : {}),
      kubeconfig,
      async writeKubeconfig(file, kubeconfigOptions) {
        const target = resolve(file);
        await mkdir(dirname(target), { recursive: true });
        // Written aside and renamed, so a reader never sees half a kubeconfig.
        const temporary = `${target}.${process.pid}.tmp`;
        await writeFile(temporary, kubeconfig(kubeconfigOptions), { mode: 0o600 });
        await rename(temporary, target);
      },
      stop() {
        stopping ??= (async () => {
          await kubelet?.stop();
          controllers?.stop();
          stopBootstrap();
          await apiServer.close();
          await registry.close();
          await lock.release();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await kubelet?.stop();
    controllers?.stop();
    await server?.close();
    await registry.close();
    throw error;
  }
}
