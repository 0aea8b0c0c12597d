// The pod network: a node network namespace with a bridge (node-network.ts), every pod's network
// namespace on it with its pod IP, kube-proxy's Services and NetworkPolicy in nftables, the cluster
// DNS, and the simulated servers of service images listening on the pod's own ports. It needs root,
// iproute2, nftables, nsenter and socat; where any is missing the kubelet keeps the HTTP service
// proxy (service-network.ts) instead.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { join } from 'node:path';
import { Duplex } from 'node:stream';
import type { Registry, Watch } from '../../registry/index.ts';
import type { ClusterView, ViewedResource } from '../cluster-view.ts';
import { findExecutable } from '../host-tools.ts';
import { dropPrivileges, type PodSandbox, type SandboxIdentity } from '../sandbox/index.ts';
import { CLUSTER_DNS_IP, type ClusterObjects, dnsRecords, KUBERNETES_SERVICE_IP, nodeIPs, nodePodRanges, ruleset } from './cluster-state.ts';
import { gatewayOf, NodeNetwork, type NetworkTools } from './node-network.ts';

export { CLUSTER_DNS_IP } from './cluster-state.ts';
export { gatewayOf } from './node-network.ts';

const SYNC_RETRY_MS = 500;
const SYNC_RETRY_MAX_MS = 10_000;

const TOOL_PATH = '/usr/sbin:/usr/bin:/sbin:/bin';
/** How long a simulated server's forwarder may take to listen before its container counts as started anyway. */
const LISTEN_TIMEOUT_MS = 5_000;
const WATCHED: ViewedResource[] = ['services', 'endpoints', 'pods', 'nodes', 'networkpolicies', 'namespaces'];

/** The simulated server of a pod's port: what answers a connection the pod's forwarder carries. */
export type SimulatedHttp = (port: number, path: string, userAgent: string) => { status: number; body: string } | undefined;

const which = (command: string): string | null => findExecutable(command, TOOL_PATH);

function detectTools(): NetworkTools | string {
  if (process.getuid?.() !== 0) return 'the kubelet does not run as root';
  const tools = { ip: which('ip'), nft: which('nft'), nsenter: which('nsenter'), setpriv: which('setpriv'), socat: which('socat') };
  const missing = Object.entries(tools).filter(([, path]) => path === null).map(([name]) => name);
  if (missing.length > 0) return `missing ${missing.join(', ')} (apt-get install iproute2 nftables util-linux socat)`;
  return tools as NetworkTools;
}

export interface PodNetworkOptions {
  registry: Registry;
  view: ClusterView;
  runtimeDir: string;
  /** The kubelet's Unix socket to the API server (the `kubernetes` Service carries connections to it). */
  apiSocket: string;
}

/**
 * Opens a TCP connection to `port` on the pod's localhost, inside its network namespace, as the
 * pod's identity (what `kubectl port-forward` reaches: the container runtime dials there too).
 */
export function openPodPort(sandbox: PodSandbox, tools: Pick<NetworkTools, 'nsenter' | 'setpriv' | 'socat'>, port: number): Duplex {
  return socatConnection(tools.nsenter, [`--net=${sandbox.namespaces.net}`, '--', tools.setpriv, ...dropPrivileges(sandbox.identity), '--pdeathsig', 'SIGKILL', tools.socat, '-', `TCP:127.0.0.1:${port}`]);
}

/**
 * A TCP connection from the node's network namespace to ip:port (what the kubelet's prober and
 * lifecycle handler dial: the pod IP, or an httpGet's host), as the probed pod's identity (no
 * privilege, and an id that exists rootless too); the connect gives up after `timeoutSeconds`.
 * The stream ends as soon as the server closes (-t 0: the client never half-closes first, and
 * socat's default half second of waiting would count against the probe's timeout).
 */
export function openNodeConnection(netns: string, tools: Pick<NetworkTools, 'nsenter' | 'setpriv' | 'socat'>, identity: SandboxIdentity, ip: string, port: number, timeoutSeconds: number): Duplex {
  return socatConnection(tools.nsenter, [`--net=${netns}`, '--', tools.setpriv, ...dropPrivileges(identity), '--pdeathsig', 'SIGKILL', tools.socat, '-t', '0', '-', `TCP4:${ip}:${port},connect-timeout=${timeoutSeconds}`]);
}

/** socat's `-` side as a stream: what it reads from the connection, and what is written to it. */
function socatConnection(nsenter: string, argv: string[]): Duplex {
  const child = spawn(nsenter, argv, {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { PATH: TOOL_PATH },
  });
  let said = '';
  child.stderr.on('data', (chunk: Buffer) => {
    if (said.length < 4096) said += chunk.toString('utf8');
  });
  // What socat read ends only once its exit says how the connection went: after exit 0 the stream
  // ends; after a failure (socat's `E connect(…): Connection refused`, exit 1) it fails with those
  // words. Writes after socat is gone are dropped: its exit status, not EPIPE, is the news.
  child.stdin.on('error', () => {});
  const stream = new Duplex({
    read() {
      child.stdout.resume();
    },
    write(chunk: Buffer, _encoding, callback) {
      if (!child.stdin.writable) callback();
      else child.stdin.write(chunk, () => callback());
    },
    final(callback) {
      child.stdin.end();
      callback();
    },
    destroy(error, callback) {
      child.kill('SIGKILL');
      callback(error);
    },
  });
  child.stdout.on('data', (chunk: Buffer) => {
    if (!stream.push(chunk)) child.stdout.pause();
  });
  child.once('close', (code) => {
    if (code === 0) stream.push(null);
    else stream.destroy(new Error(/ E (.+)$/m.exec(said)?.[1] ?? `socat exited with ${code ?? 'a signal'}`));
  });
  return stream;
}

export class PodNetwork {
  readonly #node: NodeNetwork;
  readonly #options: PodNetworkOptions;
  readonly #watches: Watch[] = [];
  readonly #forwarders = new Map<string, { port: number; socat: ChildProcess; server: Server; path: string }[]>();
  #ruleset = '';
  #records = '';
  #syncing: Promise<void> | undefined;
  #dirty = false;
  /** A failed sync is tried again after this long (doubling to SYNC_RETRY_MAX_MS), as kube-proxy retries. */
  #retryMs = SYNC_RETRY_MS;
  #retry: NodeJS.Timeout | undefined;
  #sockets = 0;
  #stopped = false;

  private constructor(node: NodeNetwork, options: PodNetworkOptions) {
    this.#node = node;
    this.#options = options;
  }

  get tools(): NetworkTools {
    return this.#node.tools;
  }

  /** The node's network namespace (a hostNetwork pod's, and where the kubelet dials pods from). */
  get netns(): string {
    return this.#node.netns;
  }

  /** A TCP connection from the node to ip:port, as the kubelet's prober makes one for a pod of `identity`. */
  connect(identity: SandboxIdentity, ip: string, port: number, timeoutSeconds: number): Duplex {
    return openNodeConnection(this.#node.netns, this.tools, identity, ip, port, timeoutSeconds);
  }

  /** The pod network, or why this machine cannot have one. */
  static async start(options: PodNetworkOptions): Promise<PodNetwork | string> {
    const tools = detectTools();
    if (typeof tools === 'string') return tools;
    let node: NodeNetwork;
    try {
      node = await NodeNetwork.start(tools, { dns: CLUSTER_DNS_IP, forwards: [{ ip: KUBERNETES_SERVICE_IP, port: 443, unixSocket: options.apiSocket }] });
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
    const network = new PodNetwork(node, options);
    for (const resource of WATCHED) {
      network.#watches.push(options.registry.watch(options.view.definition(resource), {}, (event) => event.type !== 'BOOKMARK' && network.#changed()));
    }
    await network.sync();
    return network;
  }

  #changed(): void {
    if (this.#stopped) return;
    this.#dirty = true;
    // Watch events arrive inside the registry's delivery: the sync runs on the next turn, once for many events.
    if (!this.#syncing) setImmediate(() => void this.sync());
  }

  /** Makes the node's rules and zone what the API says (concurrent calls share one run, and one more after it). */
  sync(): Promise<void> {
    if (this.#syncing) {
      this.#dirty = true;
      return this.#syncing;
    }
    this.#dirty = false;
    clearTimeout(this.#retry);
    this.#syncing = this.#sync()
      .then(
        () => {
          this.#retryMs = SYNC_RETRY_MS;
        },
        (error: unknown) => {
          // Nothing else may come to trigger another sync (a lab's policies applied, then quiet):
          // without a retry the node would keep the rules from before the failure for good.
          process.emitWarning(`pod network: ${error instanceof Error ? error.message : String(error)}; trying again in ${this.#retryMs} ms`);
          if (!this.#stopped) this.#retry = setTimeout(() => void this.sync(), this.#retryMs);
          this.#retryMs = Math.min(this.#retryMs * 2, SYNC_RETRY_MAX_MS);
        },
      )
      .finally(() => {
        this.#syncing = undefined;
        if (this.#dirty && !this.#stopped) void this.sync();
      });
    return this.#syncing;
  }

  async #sync(): Promise<void> {
    if (this.#stopped) return;
    const { view } = this.#options;
    const state: ClusterObjects = {
      services: view.list('services'),
      endpoints: view.list('endpoints'),
      pods: view.list('pods'),
      nodes: view.list('nodes'),
      policies: { policies: view.list('networkpolicies'), namespaces: view.list('namespaces') },
    };
    const records = JSON.stringify(dnsRecords(state));
    if (records !== this.#records) {
      this.#records = records;
      this.#node.send({ type: 'records', records: JSON.parse(records) as ReturnType<typeof dnsRecords> });
    }
    await this.#node.nodeAddresses(nodeIPs(state.nodes));
    // Each node's bridge is there before its first pod, as a node's cbr0 is.
    await Promise.all(nodePodRanges(state.nodes).map((range) => this.#node.bridge(gatewayOf(range))));
    const rules = ruleset(state);
    if (rules !== this.#ruleset) {
      await this.#node.applyRuleset(rules);
      this.#ruleset = rules;
    }
  }

  /** The pod's network (CNI ADD): its namespace on the node's bridge with its pod IP. */
  attach(sandbox: PodSandbox, podIP: string): Promise<void> {
    return this.#node.attach(sandbox.pid, sandbox.namespaces.net, podIP);
  }

  /**
   * A simulated server (a service image without a process) listens on `ports` of the pod: a
   * forwarder in the pod's namespace, bound to every address there, carries each connection to
   * the kubelet, where `http` answers it. The forwarders end with the pod sandbox or `release`.
   */
  async serve(podUid: string, sandbox: PodSandbox, ports: readonly number[], http: SimulatedHttp, tls?: ReadonlyMap<number, { cert: string; key: string }>): Promise<void> {
    const { nsenter, setpriv, socat } = this.tools;
    const started = this.#forwarders.get(podUid) ?? [];
    this.#forwarders.set(podUid, started);
    for (const port of ports) {
      // A restarted container's port is served by the forwarder its first run started.
      if (started.some((forwarder) => forwarder.port === port)) continue;
      // Numbered, not named after the pod: a Unix socket's path must stay under 108 bytes.
      const path = join(this.#options.runtimeDir, `port-${++this.#sockets}.sock`);
      rmSync(path, { force: true });
      const handler = (req: IncomingMessage, res: ServerResponse) => {
        const answer = http(port, req.url ?? '/', String(req.headers['user-agent'] ?? ''));
        if (!answer) {
          res.destroy();
          return;
        }
        res.writeHead(answer.status, { 'Content-Type': 'text/html; charset=utf-8' });
        res.end(req.method === 'HEAD' ? undefined : answer.body);
      };
      // An HTTPS port (nginx's `listen … ssl`): the TLS ends here, with the pod's own certificate.
      const credentials = tls?.get(port);
      const server = credentials ? createHttpsServer(credentials, handler) : createServer(handler);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => resolve());
      });
      chmodSync(path, 0o666);
      // -d -d: socat says `listening on` once its socket listens (a notice on stderr), which is
      // when the container counts as started, as a server's would. Polling /proc/<pid>/net/tcp
      // for it instead walks the kernel's whole TCP hash table at each look: with hundreds of pods
      // starting, those reads took a fifth of the kubelet's time.
      const forwarder = spawn(
        nsenter,
        [`--net=${sandbox.namespaces.net}`, '--', setpriv, ...dropPrivileges(sandbox.identity), '--pdeathsig', 'SIGKILL', socat, '-d', '-d', `TCP-LISTEN:${port},fork,reuseaddr`, `UNIX-CONNECT:${path}`],
        { stdio: ['ignore', 'ignore', 'pipe'], env: { PATH: TOOL_PATH } },
      );
      started.push({ port, socat: forwarder, server, path });
      await new Promise<void>((resolve) => {
        let said = '';
        let listening = false;
        const done = () => {
          if (listening) return;
          listening = true;
          clearTimeout(timer);
          resolve();
        };
        const timer = setTimeout(done, LISTEN_TIMEOUT_MS);
        // Read to the end whatever socat says (a notice for each connection): a full pipe would stop it.
        forwarder.stderr?.on('data', (data: Buffer) => {
          if (listening) return;
          said = (said + data.toString('utf8')).slice(-512);
          if (said.includes(' N listening on ')) done();
        });
        forwarder.once('exit', done);
        forwarder.once('error', done);
      });
    }
  }

  /** The pod's simulated servers stop listening (its containers stopped, or it is gone). */
  release(podUid: string): void {
    for (const { socat, server, path } of this.#forwarders.get(podUid) ?? []) {
      socat.kill('SIGKILL');
      server.close();
      server.closeAllConnections();
      rmSync(path, { force: true });
    }
    this.#forwarders.delete(podUid);
  }

  stop(): void {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#retry);
    for (const watch of this.#watches) watch.stop();
    for (const uid of [...this.#forwarders.keys()]) this.release(uid);
    this.#node.stop();
  }
}
