// How the API server reaches a Service for an admission webhook: as kube-apiserver dials the
// Service's cluster IP and kube-proxy forwards to a ready endpoint, through the pod's own sandbox
// (dialPodPort), never to an address on the host. Only endpoints that are pods running here are
// reached; an ExternalName Service, a hostNetwork pod or an Endpoints address without a pod behind it leads nowhere,
// so a Service a learner controls can never point the API server at the host's network.
import type { Duplex } from 'node:stream';
import { num, objects, specOf, str } from '../json.ts';
import type { KubeObject } from '../types.ts';
import type { ClusterView } from './cluster-view.ts';
import type { PodWorker } from './pod-worker.ts';
import { dialPodPort } from './port-forward.ts';

export type ServiceDialer = (namespace: string, name: string, port: number) => Promise<Duplex>;

interface Backend {
  pod: KubeObject;
  worker: PodWorker;
  port: number;
}

function backends(view: ClusterView, namespace: string, service: KubeObject, port: number, workerOf: (namespace: string, name: string) => PodWorker | undefined): Backend[] {
  const servicePort = objects(specOf(service)['ports']).find((candidate) => num(candidate['port']) === port);
  const portName = str(servicePort?.['name']) ?? '';
  const endpoints = view.get('endpoints', namespace, service.metadata.name ?? '');
  const found: Backend[] = [];
  for (const subset of objects(endpoints?.['subsets'])) {
    const target = objects(subset['ports']).find((candidate) => (str(candidate['name']) ?? '') === portName);
    const targetPort = num(target?.['port']);
    if (targetPort === undefined) continue;
    for (const address of objects(subset['addresses'])) {
      const ref = objects([address['targetRef']])[0];
      if (str(ref?.['kind']) !== 'Pod') continue;
      const podName = str(ref?.['name']) ?? '';
      const worker = workerOf(str(ref?.['namespace']) ?? namespace, podName);
      // A hostNetwork pod's ports are the host's: not a place a Service may lead the API server.
      if (worker && worker.namespace === namespace && specOf(worker.pod)['hostNetwork'] !== true) found.push({ pod: worker.pod, worker, port: targetPort });
    }
  }
  return found;
}

export function serviceDialer(view: ClusterView, workerOf: (namespace: string, name: string) => PodWorker | undefined): ServiceDialer {
  return async (namespace, name, port) => {
    const service = view.get('services', namespace, name);
    if (!service) throw new Error(`service "${name}" not found`);
    const spec = specOf(service);
    if (spec['type'] === 'ExternalName') throw new Error(`service "${name}" is of type ExternalName, which the embedded cluster does not follow outside the cluster`);
    const clusterIP = str(spec['clusterIP']);
    if (!clusterIP || clusterIP === 'None') throw new Error(`unsupported service: "${name}" has no cluster IP`);
    if (!objects(spec['ports']).some((candidate) => num(candidate['port']) === port)) throw new Error(`no service port ${port} found for service "${name}"`);
    const refused = new Error(`dial tcp ${clusterIP}:${port}: connect: connection refused`);
    const ready = backends(view, namespace, service, port, workerOf);
    if (ready.length === 0) throw refused;
    const chosen = ready[Math.floor(Math.random() * ready.length)] as Backend;
    try {
      return await dialPodPort(chosen.pod, chosen.worker, chosen.port);
    } catch {
      throw refused;
    }
  };
}
