// The fallback where the pod network (network/) cannot be made (the cluster does not run as root,
// or nftables is missing): a small simulated pod network for HTTP. Sandboxes have no network; their
// http_proxy points at 127.0.0.1:3128, which a forward carries to this proxy (one Unix socket per
// pod, so the proxy knows who asks, and short Service names resolve in the asker's namespace). The
// proxy resolves what curl or wget asked for — a Service name, a cluster IP, a pod IP, a
// StatefulSet pod's DNS name — to a ready pod, as kube-proxy and CoreDNS would; the cluster's
// NetworkPolicies decide whether the connection may be made (network-policy.ts), and the pod's
// simulated server answers.
//
// A connection a policy refuses is a dropped packet on a real cluster: the client hears nothing
// and times out. The proxy comes as close as it can: it accepts the request (curl has already
// connected to the proxy) and never answers it, until the client gives up (curl --max-time,
// wget -T) or the time a kernel gives a connection attempt has passed; then it closes with a
// curl-like "Connection timed out". It never answers with a page saying why. Names are looked up
// first: a pod whose egress policies keep it from the cluster's DNS gets no answer to its lookup,
// then "Could not resolve host", as a resolver times out.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../types.ts';
import type { ClusterView } from './cluster-view.ts';
import type { HttpAnswer } from './containers.ts';
import { num, obj, objects, specOf, statusOf, str } from '../json.ts';
import { admits, type Endpoint, type PolicyState } from './network-policy.ts';

/** The port the proxy listens on inside every sandbox that gets the network. */
export const SERVICE_PROXY_PORT = 3128;

/** How long Linux keeps retrying a connection whose SYNs go unanswered (tcp_syn_retries=6). */
const CONNECT_TIMEOUT_MS = 130_000;
/** How long a resolver waits for a DNS server that never answers (glibc: 5 s, 2 attempts). */
const RESOLVE_TIMEOUT_MS = 10_000;
/** The cluster's DNS server as the pods' resolv.conf names it, and as egress rules select it. */
const CLUSTER_DNS: Endpoint = {
  ip: '10.96.0.10',
  pod: {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'coredns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
    spec: { containers: [{ name: 'coredns', ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' }] }] },
  },
};
/** Dropped connections one pod may have waiting at once; past that they close at once (no resource a learner can pile up). */
const MAX_HELD_PER_POD = 32;

export interface ServiceNetworkOptions {
  /** Real milliseconds a dropped connection is held before it times out; default 130 s. */
  connectTimeoutMs?: number;
  /** Real milliseconds a name lookup whose DNS packets are dropped takes to fail; default 10 s. */
  resolveTimeoutMs?: number;
}

/** What the proxy needs of a pod on this node (its pod worker). */
export interface ServedPod {
  readonly pod: KubeObject;
  readonly podIP: string | undefined;
  /** The answer of the first running container that listens on the port. */
  serveHttp(port: number, path: string, client: string, userAgent: string): HttpAnswer | undefined;
  /** A containerPort by name (a Service's named targetPort). */
  namedPort(name: string): number | undefined;
}

export interface PodDirectory {
  byIP(ip: string): ServedPod | undefined;
  byUid(uid: string): ServedPod | undefined;
}

type Target = { worker: ServedPod; port: number } | { error: string };

function isReady(pod: KubeObject): boolean {
  if (pod.metadata.deletionTimestamp) return false;
  return objects(statusOf(pod)['conditions']).some((c) => c['type'] === 'Ready' && c['status'] === 'True');
}

function matches(selector: Record<string, unknown>, labels: Record<string, string> | undefined): boolean {
  const entries = Object.entries(selector);
  return entries.length > 0 && entries.every(([key, value]) => labels?.[key] === value);
}

export class ServiceNetwork {
  readonly #view: ClusterView;
  readonly #pods: PodDirectory;
  readonly #dir: string;
  readonly #servers = new Map<string, { path: string; server: Promise<Server> }>();
  readonly #held = new Map<string, Set<ServerResponse>>();
  readonly #connectTimeoutMs: number;
  readonly #resolveTimeoutMs: number;
  #turn = 0;
  #sockets = 0;

  constructor(view: ClusterView, pods: PodDirectory, runtimeDir: string, options: ServiceNetworkOptions = {}) {
    this.#view = view;
    this.#pods = pods;
    this.#dir = runtimeDir;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
    this.#resolveTimeoutMs = options.resolveTimeoutMs ?? RESOLVE_TIMEOUT_MS;
  }

  /** The Unix socket a pod's sandboxes forward their proxy port to (started on first use). */
  async socketFor(namespace: string, podUid: string): Promise<string> {
    let entry = this.#servers.get(podUid);
    if (!entry) {
      // Numbered, not named after the pod: a Unix socket's path must stay under 108 bytes.
      const path = join(this.#dir, `services-${++this.#sockets}.sock`);
      const server = new Promise<Server>((resolve, reject) => {
        rmSync(path, { force: true });
        const created = createServer((req, res) => this.#serve(namespace, podUid, req, res));
        created.once('error', reject);
        created.listen(path, () => {
          chmodSync(path, 0o666);
          resolve(created);
        });
      });
      entry = { path, server };
      this.#servers.set(podUid, entry);
    }
    await entry.server;
    return entry.path;
  }

  /** The pod is gone: its socket and whatever it was waiting on go with it. */
  async forget(podUid: string): Promise<void> {
    const entry = this.#servers.get(podUid);
    if (!entry) return;
    this.#servers.delete(podUid);
    await stop(await entry.server);
    rmSync(entry.path, { force: true });
  }

  async close(): Promise<void> {
    const servers = await Promise.all([...this.#servers.values()].map((entry) => entry.server));
    await Promise.all(servers.map(stop));
    this.#servers.clear();
  }

  #serve(namespace: string, podUid: string, req: IncomingMessage, res: ServerResponse): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '', `http://${req.headers.host ?? 'localhost'}`);
    } catch {
      this.#fail(res, 400, `malformed request for ${req.url ?? ''}`);
      return;
    }
    const port = url.port ? Number(url.port) : 80;
    const source = this.#pods.byUid(podUid);
    const client = source?.podIP ?? '10.244.0.1';
    const from: Endpoint = { ...(source ? { pod: source.pod } : {}), ip: client };
    const policies: PolicyState = { policies: this.#view.list('networkpolicies'), namespaces: this.#view.list('namespaces') };
    // A name is looked up first: an egress policy that does not let the pod reach the cluster's DNS
    // leaves it unresolved, after the resolver's timeout (the classic default-deny surprise).
    if (!isIPv4(url.hostname) && !admits(policies, { source: from, destination: CLUSTER_DNS, port: 53, protocol: 'UDP' }).allowed) {
      this.#drop(podUid, res, { status: 502, message: `Could not resolve host: ${url.hostname}`, afterMs: this.#resolveTimeoutMs });
      return;
    }
    const target = this.#resolve(namespace, url.hostname, port);
    if ('error' in target) {
      this.#fail(res, 502, target.error);
      return;
    }
    const decision = admits(policies, { source: from, destination: { pod: target.worker.pod, ip: target.worker.podIP ?? '' }, port: target.port });
    if (!decision.allowed) {
      const message = `Failed to connect to ${url.hostname} port ${port} after ${this.#connectTimeoutMs} ms: Connection timed out`;
      this.#drop(podUid, res, { status: 504, message, afterMs: this.#connectTimeoutMs });
      return;
    }
    const answer = target.worker.serveHttp(target.port, `${url.pathname}${url.search}`, client, String(req.headers['user-agent'] ?? 'curl'));
    if (!answer) {
      this.#fail(res, 502, `Failed to connect to ${url.hostname} port ${url.port || 80}: Connection refused`);
      return;
    }
    res.writeHead(answer.status, { 'Content-Type': 'text/html; charset=utf-8', Server: 'formicary-simulated' });
    res.end(req.method === 'HEAD' ? undefined : answer.body);
  }

  /** Packets dropped: no answer until the client gives up or the attempt would have timed out, then `failure`. */
  #drop(podUid: string, res: ServerResponse, failure: { status: number; message: string; afterMs: number }): void {
    let held = this.#held.get(podUid);
    if (!held) this.#held.set(podUid, (held = new Set()));
    if (held.size >= MAX_HELD_PER_POD) {
      res.destroy();
      return;
    }
    held.add(res);
    const timer = setTimeout(() => this.#fail(res, failure.status, failure.message), failure.afterMs);
    timer.unref();
    res.once('close', () => {
      clearTimeout(timer);
      held.delete(res);
      if (held.size === 0 && this.#held.get(podUid) === held) this.#held.delete(podUid);
    });
  }

  #fail(res: ServerResponse, status: number, message: string): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Formicary-Network': 'simulated' });
    res.end(`${message}\n`);
  }

  /** A host as curl wrote it, resolved the way cluster DNS and kube-proxy would. */
  #resolve(namespace: string, host: string, port: number): Target {
    if (isIPv4(host)) {
      const worker = this.#pods.byIP(host);
      if (worker) return { worker, port };
      const service = this.#view.list('services').find((s) => specOf(s)['clusterIP'] === host);
      if (service) return this.#throughService(service, port);
      return { error: `Failed to connect to ${host} port ${port}: No route to host` };
    }
    const parts = host.replace(/\.cluster\.local$/, '').replace(/\.svc$/, '').split('.');
    if (parts.length === 1 || parts.length === 2) {
      const [name = '', ns = namespace] = parts;
      const service = this.#view.get('services', ns, name);
      if (service) return this.#throughService(service, port);
    }
    if (parts.length === 3) {
      // <pod hostname>.<headless service>.<namespace> (StatefulSet pods)
      const [hostname, subdomain, ns = namespace] = parts;
      const pod = this.#view.list('pods', ns).find((p) => specOf(p)['hostname'] === hostname && specOf(p)['subdomain'] === subdomain);
      const worker = pod ? this.#pods.byUid(pod.metadata.uid ?? '') : undefined;
      if (worker) return { worker, port };
    }
    return { error: `Could not resolve host: ${host}` };
  }

  #throughService(service: KubeObject, port: number): Target {
    const spec = specOf(service);
    const name = service.metadata.name ?? '';
    const servicePort = objects(spec['ports']).find((p) => p['port'] === port);
    const headless = spec['clusterIP'] === 'None';
    if (!servicePort && !headless) return { error: `Failed to connect to ${name} port ${port}: Connection refused` };
    const selector = obj(spec['selector']);
    const ready = this.#view.list('pods', service.metadata.namespace).filter((pod) => matches(selector, pod.metadata.labels) && isReady(pod));
    if (ready.length === 0) return { error: `Failed to connect to ${name} port ${port}: Connection refused (the Service has no ready endpoints)` };
    const pod = ready[this.#turn++ % ready.length] as KubeObject;
    const worker = this.#pods.byUid(pod.metadata.uid ?? '');
    if (!worker) return { error: `Failed to connect to ${name} port ${port}: Connection refused` };
    const targetPort = servicePort ? servicePort['targetPort'] ?? servicePort['port'] : port;
    return { worker, port: typeof targetPort === 'number' ? targetPort : (worker.namedPort(str(targetPort) ?? '') ?? num(servicePort?.['port']) ?? port) };
  }
}

function isIPv4(host: string): boolean {
  return /^\d+\.\d+\.\d+\.\d+$/.test(host);
}

function stop(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
