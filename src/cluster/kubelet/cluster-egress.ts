// How the API server reaches into the cluster for admission webhooks, as kube-apiserver's egress to
// the cluster network (its egress selector's "cluster" traffic): a Service as its cluster IP would
// be reached, kube-proxy forwarding to a ready endpoint; a pod at its own IP; a name as the cluster
// DNS answers a pod. Every connection goes into a pod's own sandbox (dialPodPort), never to an
// address on the host. Only endpoints that are pods running here are reached: an ExternalName
// Service, a hostNetwork pod or an Endpoints address without a pod behind it leads nowhere, so
// nothing a cluster's user writes (a webhook URL, a Service, Endpoints, a pod's status) can point
// the API server at the host's network, the portal or another cluster.
import { isIP } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ClusterEgress } from '../apiserver/index.ts';
import { num, objects, specOf, str, strings } from '../json.ts';
import type { KubeObject } from '../types.ts';
import type { ClusterView } from './cluster-view.ts';
import { CLUSTER_DOMAIN } from './pod-dns.ts';
import type { PodWorker } from './pod-worker.ts';
import { dialPodPort } from './port-forward.ts';

interface Backend {
  pod: KubeObject;
  worker: PodWorker;
  port: number;
}

type WorkerOf = (namespace: string, name: string) => PodWorker | undefined;

/** A pod whose ports a connection may reach: one running here, on the pod network (a hostNetwork pod's ports are the node's, not a pod's). */
function reachable(worker: PodWorker | undefined, namespace: string): worker is PodWorker {
  return worker !== undefined && worker.namespace === namespace && specOf(worker.pod)['hostNetwork'] !== true;
}

/** The Endpoints addresses of a Service that are pods running here, each with the target port of `portName` ('' for headless lookups: any). */
function backends(view: ClusterView, service: KubeObject, portName: string | undefined, workerOf: WorkerOf): Array<Backend & { hostname: string | undefined; ip: string | undefined }> {
  const namespace = service.metadata.namespace ?? '';
  const endpoints = view.get('endpoints', namespace, service.metadata.name ?? '');
  const found: Array<Backend & { hostname: string | undefined; ip: string | undefined }> = [];
  for (const subset of objects(endpoints?.['subsets'])) {
    const target = portName === undefined ? undefined : objects(subset['ports']).find((candidate) => (str(candidate['name']) ?? '') === portName);
    const targetPort = num(target?.['port']) ?? 0;
    if (portName !== undefined && targetPort === 0) continue;
    for (const address of objects(subset['addresses'])) {
      const ref = objects([address['targetRef']])[0];
      if (str(ref?.['kind']) !== 'Pod') continue;
      const worker = workerOf(str(ref?.['namespace']) ?? namespace, str(ref?.['name']) ?? '');
      if (reachable(worker, namespace)) found.push({ pod: worker.pod, worker, port: targetPort, hostname: str(address['hostname']), ip: str(address['ip']) });
    }
  }
  return found;
}

function pick<T>(candidates: T[]): T | undefined {
  return candidates[Math.floor(Math.random() * candidates.length)];
}

/** host:port as Go's dialer prints it. */
function address(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

async function dialPod(backend: Backend, refused: string): Promise<Duplex> {
  try {
    return await dialPodPort(backend.pod, backend.worker, backend.port);
  } catch (error) {
    // Only a port nobody listens on is told as a refusal; a limit reached says so.
    throw /connection refused/.test(String(error)) ? new Error(refused) : error;
  }
}

export function clusterEgress(view: ClusterView, workerOf: WorkerOf, running: () => Iterable<PodWorker>): ClusterEgress {
  /** kube-proxy's forward for a cluster IP's port: the Service port's name picks each ready endpoint's target port. */
  const dialClusterIP = (service: KubeObject, ip: string, port: number): Promise<Duplex> => {
    const refused = `dial tcp ${address(ip, port)}: connect: connection refused`;
    const servicePort = objects(specOf(service)['ports']).find((candidate) => num(candidate['port']) === port);
    if (!servicePort) return Promise.reject(new Error(refused));
    const chosen = pick(backends(view, service, str(servicePort['name']) ?? '', workerOf));
    return chosen ? dialPod(chosen, refused) : Promise.reject(new Error(refused));
  };

  const clusterIPs = (service: KubeObject): string[] => {
    const spec = specOf(service);
    if (spec['type'] === 'ExternalName') return [];
    return [...new Set([str(spec['clusterIP']), ...strings(spec['clusterIPs'])])].filter((ip): ip is string => ip !== undefined && ip !== '' && ip !== 'None');
  };

  /** What answers at an IP inside the cluster: a Service's cluster IP, else a pod's own address; undefined when nothing does. */
  const dialIP = (ip: string, port: number): Promise<Duplex> | undefined => {
    const service = view.list('services').find((candidate) => clusterIPs(candidate).includes(ip));
    if (service) return dialClusterIP(service, ip, port);
    for (const worker of running()) {
      if (worker.podIP === ip && reachable(worker, worker.namespace)) return dialPod({ pod: worker.pod, worker, port }, `dial tcp ${address(ip, port)}: connect: connection refused`);
    }
    return undefined;
  };

  /**
   * A name as the cluster DNS answers a pod (CoreDNS's kubernetes plugin): <service>.<namespace>.svc
   * is the Service's cluster IP, or a headless Service's ready pods; <hostname>.<service>.<namespace>.svc
   * one of those pods. `.cluster.local` may follow, as the pods' search list adds it.
   */
  const dialName = (name: string, port: number): Promise<Duplex> | undefined => {
    const labels = name.replace(/\.$/, '').toLowerCase().replace(new RegExp(`\\.${CLUSTER_DOMAIN.replaceAll('.', '\\.')}$`), '').split('.');
    if (labels.pop() !== 'svc' || labels.length < 2 || labels.length > 3) return undefined;
    const [namespace, serviceName, hostname] = [labels.at(-1) ?? '', labels.at(-2) ?? '', labels.length === 3 ? labels[0] : undefined];
    const service = view.get('services', namespace, serviceName);
    if (!service) return undefined;
    const headless = str(specOf(service)['clusterIP']) === 'None';
    if (!headless) {
      const ip = clusterIPs(service)[0];
      return hostname === undefined && ip ? dialClusterIP(service, ip, port) : undefined;
    }
    const pods = backends(view, service, undefined, workerOf).filter((pod) => hostname === undefined || (pod.hostname ?? pod.ip?.replaceAll('.', '-')) === hostname);
    const chosen = pick(pods);
    return chosen ? dialPod({ ...chosen, port }, `dial tcp ${address(chosen.ip ?? '', port)}: connect: connection refused`) : undefined;
  };

  return {
    async dialService(namespace, name, port) {
      const service = view.get('services', namespace, name);
      if (!service) throw new Error(`service "${name}" not found`);
      const spec = specOf(service);
      if (spec['type'] === 'ExternalName') throw new Error(`service "${name}" is of type ExternalName, which the embedded cluster does not follow outside the cluster`);
      const clusterIP = str(spec['clusterIP']);
      if (!clusterIP || clusterIP === 'None') throw new Error(`unsupported service: "${name}" has no cluster IP`);
      if (!objects(spec['ports']).some((candidate) => num(candidate['port']) === port)) throw new Error(`no service port ${port} found for service "${name}"`);
      return dialClusterIP(service, clusterIP, port);
    },
    dial(host, port) {
      return isIP(host) ? dialIP(host, port) : dialName(host, port);
    },
  };
}
