// A small simulated pod network for HTTP. Sandboxes have no network of their own; their
// http_proxy points at 127.0.0.1:3128, which a forward carries to this proxy (one Unix socket per
// namespace, so short Service names resolve in the asker's namespace). The proxy resolves what
// curl or wget asked for — a Service name, a cluster IP, a pod IP, a StatefulSet pod's DNS name —
// to a ready pod, as kube-proxy and CoreDNS would, and the pod's simulated server answers.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../types.ts';
import type { ClusterView } from './cluster-view.ts';
import { num, obj, objects, specOf, statusOf, str } from './format.ts';
import type { PodWorker } from './pod-worker.ts';

/** The port the proxy listens on inside every sandbox that gets the network. */
export const SERVICE_PROXY_PORT = 3128;

export interface PodDirectory {
  byIP(ip: string): PodWorker | undefined;
  byUid(uid: string): PodWorker | undefined;
}

type Target = { worker: PodWorker; port: number } | { error: string };

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
  readonly #servers = new Map<string, Promise<Server>>();
  #turn = 0;

  constructor(view: ClusterView, pods: PodDirectory, runtimeDir: string) {
    this.#view = view;
    this.#pods = pods;
    this.#dir = runtimeDir;
  }

  /** The Unix socket a sandbox of this namespace forwards its proxy port to (started on first use). */
  async socketFor(namespace: string): Promise<string> {
    const path = join(this.#dir, `services-${namespace}.sock`);
    let server = this.#servers.get(namespace);
    if (!server) {
      server = new Promise((resolve, reject) => {
        rmSync(path, { force: true });
        const created = createServer((req, res) => this.#serve(namespace, req, res));
        created.once('error', reject);
        created.listen(path, () => {
          chmodSync(path, 0o666);
          resolve(created);
        });
      });
      this.#servers.set(namespace, server);
    }
    await server;
    return path;
  }

  async close(): Promise<void> {
    const servers = await Promise.all(this.#servers.values());
    await Promise.all(
      servers.map(
        (server) =>
          new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
          }),
      ),
    );
    this.#servers.clear();
  }

  #serve(namespace: string, req: IncomingMessage, res: ServerResponse): void {
    let url: URL;
    try {
      url = new URL(req.url ?? '', `http://${req.headers.host ?? 'localhost'}`);
    } catch {
      this.#fail(res, 400, `malformed request for ${req.url ?? ''}`);
      return;
    }
    const target = this.#resolve(namespace, url.hostname, url.port ? Number(url.port) : 80);
    if ('error' in target) {
      this.#fail(res, 502, target.error);
      return;
    }
    const client = '10.244.0.1';
    const answer = target.worker.serveHttp(target.port, `${url.pathname}${url.search}`, client, String(req.headers['user-agent'] ?? 'curl'));
    if (!answer) {
      this.#fail(res, 502, `Failed to connect to ${url.hostname} port ${url.port || 80}: Connection refused`);
      return;
    }
    res.writeHead(answer.status, { 'Content-Type': 'text/html; charset=utf-8', Server: 'formicary-simulated' });
    res.end(req.method === 'HEAD' ? undefined : answer.body);
  }

  #fail(res: ServerResponse, status: number, message: string): void {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Formicary-Network': 'simulated' });
    res.end(`${message}\n`);
  }

  /** A host as curl wrote it, resolved the way cluster DNS and kube-proxy would. */
  #resolve(namespace: string, host: string, port: number): Target {
    if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) {
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
