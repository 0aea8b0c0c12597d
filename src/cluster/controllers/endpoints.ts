// Endpoints and EndpointSlices from Services and their pods (pkg/controller/endpoint and
// endpointslice): every pod with an IP that the Service's selector picks, its targetPort resolved
// (a name looks up the container port of that name), ready pods as addresses and the others as
// notReadyAddresses (all ready with publishNotReadyAddresses). Slices also carry terminating pods
// with their conditions. Services without a selector are left to whoever manages their endpoints.
import type { KubeObject } from '../types.ts';
import type { ControllerClient } from './client.ts';
import type { ControllerContext } from './context.ts';
import { type Json, num, obj, objects, specOf, statusOf, str } from '../json.ts';
import { isPodReady, isPodTerminal, mapSelectorMatches, newControllerRef, nodeNameOf, timestamp } from './objects.ts';
import { objectKey, type RunningController, splitKey, startController } from './runtime.ts';

export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';
export const MANAGED_BY_LABEL = 'endpointslice.kubernetes.io/managed-by';
export const SLICE_CONTROLLER = 'endpointslice-controller.k8s.io';
const TRIGGER_TIME_ANNOTATION = 'endpoints.kubernetes.io/last-change-trigger-time';
const MAX_ENDPOINTS_PER_SLICE = 100;

interface ResolvedPort {
  name?: string;
  port: number;
  protocol: string;
  appProtocol?: string;
}

/** podutil.FindPort: a number as is, a name through the pod's container ports. */
export function findPort(pod: KubeObject, servicePort: Json): number | undefined {
  const target = servicePort.targetPort ?? servicePort.port;
  const protocol = str(servicePort.protocol) ?? 'TCP';
  if (typeof target === 'number') return target;
  if (typeof target === 'string') {
    if (/^\d+$/.test(target)) return Number(target);
    for (const container of objects(specOf(pod).containers)) {
      for (const port of objects(container.ports)) {
        if (port.name === target && (str(port.protocol) ?? 'TCP') === protocol) return num(port.containerPort);
      }
    }
  }
  return undefined;
}

function selectsPods(service: KubeObject): boolean {
  const selector = specOf(service).selector;
  return typeof selector === 'object' && selector !== null && Object.keys(selector).length > 0 && specOf(service).type !== 'ExternalName';
}

interface Member {
  pod: KubeObject;
  ip: string;
  ports: ResolvedPort[];
  ready: boolean;
  serving: boolean;
  terminating: boolean;
}

/** The pods a Service selects, with their resolved ports; `includeTerminating` for slices. */
function membersOf(service: KubeObject, pods: KubeObject[], includeTerminating: boolean): Member[] {
  const spec = specOf(service);
  const publishNotReady = spec.publishNotReadyAddresses === true;
  const out: Member[] = [];
  for (const pod of pods) {
    if (!mapSelectorMatches(spec.selector, pod.metadata.labels)) continue;
    const ip = str(statusOf(pod).podIP);
    if (!ip || isPodTerminal(pod)) continue;
    const terminating = pod.metadata.deletionTimestamp !== undefined;
    if (terminating && !includeTerminating) continue;
    const ports: ResolvedPort[] = [];
    for (const servicePort of objects(spec.ports)) {
      const port = findPort(pod, servicePort);
      if (port === undefined) continue;
      const resolved: ResolvedPort = { port, protocol: str(servicePort.protocol) ?? 'TCP' };
      if (str(servicePort.name)) resolved.name = str(servicePort.name);
      if (str(servicePort.appProtocol)) resolved.appProtocol = str(servicePort.appProtocol);
      ports.push(resolved);
    }
    if (ports.length === 0 && objects(spec.ports).length > 0) continue;
    const serving = isPodReady(pod);
    out.push({ pod, ip, ports, ready: publishNotReady || (serving && !terminating), serving: publishNotReady || serving, terminating });
  }
  return out.sort((a, b) => compareIPs(a.ip, b.ip));
}

function compareIPs(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  for (let i = 0; i < 4; i++) if ((pa[i] ?? 0) !== (pb[i] ?? 0)) return (pa[i] ?? 0) - (pb[i] ?? 0);
  return a.localeCompare(b);
}

function portsKey(ports: ResolvedPort[]): string {
  return JSON.stringify([...ports].sort((a, b) => (a.name ?? '').localeCompare(b.name ?? '') || a.port - b.port));
}

function hostnameFor(pod: KubeObject, service: KubeObject): string | undefined {
  const spec = specOf(pod);
  return str(spec.hostname) && str(spec.subdomain) === service.metadata.name ? str(spec.hostname) : undefined;
}

function targetRef(pod: KubeObject): Json {
  return { kind: 'Pod', namespace: pod.metadata.namespace, name: pod.metadata.name, uid: pod.metadata.uid };
}

function serviceLabels(service: KubeObject): Record<string, string> {
  const labels = { ...(service.metadata.labels ?? {}) };
  if (specOf(service).clusterIP === 'None') labels['service.kubernetes.io/headless'] = '';
  return labels;
}

/** Which pods each Service covered last time, so a pod leaving a selector is noticed. */
class Membership {
  readonly #servicesOfPod = new Map<string, Set<string>>();
  readonly #podsOfService = new Map<string, Set<string>>();

  record(serviceKey: string, podKeys: Iterable<string>): void {
    for (const pod of this.#podsOfService.get(serviceKey) ?? []) this.#servicesOfPod.get(pod)?.delete(serviceKey);
    const pods = new Set(podKeys);
    if (pods.size) this.#podsOfService.set(serviceKey, pods);
    else this.#podsOfService.delete(serviceKey);
    for (const pod of pods) {
      let services = this.#servicesOfPod.get(pod);
      if (!services) this.#servicesOfPod.set(pod, (services = new Set()));
      services.add(serviceKey);
    }
  }

  servicesOf(podKey: string): Iterable<string> {
    return this.#servicesOfPod.get(podKey) ?? [];
  }
}

function podKeys(client: ControllerClient, membership: Membership) {
  return (pod: KubeObject): string[] => {
    const key = objectKey(pod);
    const keys = new Set(membership.servicesOf(key));
    for (const service of client.services.list(pod.metadata.namespace)) {
      if (mapSelectorMatches(specOf(service).selector, pod.metadata.labels)) keys.add(objectKey(service));
    }
    return [...keys];
  };
}

export function startEndpointsController(ctx: ControllerContext): RunningController {
  const client = ctx.clientFor('endpoint-controller');
  const membership = new Membership();
  const reconcile = (key: string) => {
    const { namespace, name } = splitKey(key);
    const service = client.services.get(namespace, name);
    if (!service) {
      membership.record(key, []);
      client.endpoints.delete(namespace, name);
      return;
    }
    if (!selectsPods(service)) return;
    const members = membersOf(service, client.pods.list(namespace), false);
    membership.record(key, members.map((m) => objectKey(m.pod)));
    const groups = new Map<string, { ports: ResolvedPort[]; addresses: Json[]; notReadyAddresses: Json[] }>();
    for (const member of members) {
      const groupKey = portsKey(member.ports);
      let group = groups.get(groupKey);
      if (!group) groups.set(groupKey, (group = { ports: member.ports, addresses: [], notReadyAddresses: [] }));
      const address: Json = { ip: member.ip };
      const hostname = hostnameFor(member.pod, service);
      if (hostname) address.hostname = hostname;
      if (nodeNameOf(member.pod)) address.nodeName = nodeNameOf(member.pod);
      address.targetRef = targetRef(member.pod);
      (member.ready ? group.addresses : group.notReadyAddresses).push(address);
    }
    const subsets = [...groups.values()].map((group) => ({
      ...(group.addresses.length ? { addresses: group.addresses } : {}),
      ...(group.notReadyAddresses.length ? { notReadyAddresses: group.notReadyAddresses } : {}),
      ports: group.ports,
    }));
    const labels = serviceLabels(service);
    const existing = client.endpoints.get(namespace, name);
    if (!existing) {
      client.endpoints.create(namespace, {
        apiVersion: 'v1',
        kind: 'Endpoints',
        metadata: { name, namespace, labels, annotations: { [TRIGGER_TIME_ANNOTATION]: timestamp(ctx.clock.now()) } },
        ...(subsets.length ? { subsets } : {}),
      });
      return;
    }
    const currentSubsets = existing['subsets'] ?? [];
    if (JSON.stringify(currentSubsets) === JSON.stringify(subsets) && JSON.stringify(existing.metadata.labels ?? {}) === JSON.stringify(labels)) return;
    client.endpoints.mutate(namespace, name, (draft) => {
      draft.metadata.labels = labels;
      draft.metadata.annotations = { ...(draft.metadata.annotations ?? {}), [TRIGGER_TIME_ANNOTATION]: timestamp(ctx.clock.now()) };
      if (subsets.length) draft['subsets'] = subsets;
      else delete draft['subsets'];
    });
  };
  return startController(ctx.registry, {
    name: 'endpoint-controller',
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError('endpoint-controller', key, error),
    sources: [
      { group: '', version: 'v1', resource: 'services' },
      { group: '', version: 'v1', resource: 'pods', keys: podKeys(client, membership) },
    ],
    reconcile,
  });
}

export function startEndpointSliceController(ctx: ControllerContext): RunningController {
  const client = ctx.clientFor('endpointslice-controller');
  const membership = new Membership();
  const reconcile = (key: string) => {
    const { namespace, name } = splitKey(key);
    const service = client.services.get(namespace, name);
    const owned = client.endpointSlices
      .list(namespace)
      .filter((slice) => slice.metadata.labels?.[SERVICE_NAME_LABEL] === name && slice.metadata.labels?.[MANAGED_BY_LABEL] === SLICE_CONTROLLER);
    if (!service || !selectsPods(service)) {
      membership.record(key, []);
      // Slices of a deleted Service go with it (owner references); a Service that lost its selector keeps none.
      if (service) for (const slice of owned) client.endpointSlices.delete(namespace, slice.metadata.name ?? '');
      return;
    }
    const members = membersOf(service, client.pods.list(namespace), true);
    membership.record(key, members.map((m) => objectKey(m.pod)));
    const groups = new Map<string, { ports: ResolvedPort[]; endpoints: Json[] }>();
    for (const member of members) {
      const groupKey = portsKey(member.ports);
      let group = groups.get(groupKey);
      if (!group) groups.set(groupKey, (group = { ports: member.ports, endpoints: [] }));
      const endpoint: Json = { addresses: [member.ip], conditions: { ready: member.ready, serving: member.serving, terminating: member.terminating } };
      const hostname = hostnameFor(member.pod, service);
      if (hostname) endpoint.hostname = hostname;
      if (nodeNameOf(member.pod)) endpoint.nodeName = nodeNameOf(member.pod);
      endpoint.targetRef = targetRef(member.pod);
      group.endpoints.push(endpoint);
    }
    const wanted: Array<{ ports: Json[]; endpoints: Json[] }> = [];
    for (const group of groups.values()) {
      const ports = group.ports.map((p) => ({ name: p.name ?? '', port: p.port, protocol: p.protocol, ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}) }));
      for (let i = 0; i < group.endpoints.length; i += MAX_ENDPOINTS_PER_SLICE) wanted.push({ ports, endpoints: group.endpoints.slice(i, i + MAX_ENDPOINTS_PER_SLICE) });
    }
    // A Service with a selector always has at least one slice, even with no endpoints.
    if (wanted.length === 0) wanted.push({ ports: [], endpoints: [] });
    const labels = { ...serviceLabels(service), [SERVICE_NAME_LABEL]: name, [MANAGED_BY_LABEL]: SLICE_CONTROLLER };
    const remaining = [...owned];
    for (const slice of wanted) {
      const reuse = remaining.findIndex((s) => JSON.stringify(s['ports'] ?? []) === JSON.stringify(slice.ports));
      const existing = reuse >= 0 ? remaining.splice(reuse, 1)[0] : remaining.shift();
      if (existing) {
        if (
          JSON.stringify(existing['endpoints'] ?? []) === JSON.stringify(slice.endpoints) &&
          JSON.stringify(existing['ports'] ?? []) === JSON.stringify(slice.ports) &&
          JSON.stringify(existing.metadata.labels ?? {}) === JSON.stringify(labels)
        )
          continue;
        client.endpointSlices.mutate(namespace, existing.metadata.name ?? '', (draft) => {
          draft.metadata.labels = labels;
          draft.metadata.annotations = { ...(draft.metadata.annotations ?? {}), [TRIGGER_TIME_ANNOTATION]: timestamp(ctx.clock.now()) };
          draft['endpoints'] = slice.endpoints;
          draft['ports'] = slice.ports;
        });
        continue;
      }
      client.endpointSlices.create(namespace, {
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          generateName: `${name}-`,
          namespace,
          labels,
          annotations: { [TRIGGER_TIME_ANNOTATION]: timestamp(ctx.clock.now()) },
          ownerReferences: [newControllerRef(service)],
        },
        addressType: 'IPv4',
        endpoints: slice.endpoints,
        ports: slice.ports,
      });
    }
    for (const extra of remaining) client.endpointSlices.delete(namespace, extra.metadata.name ?? '');
  };
  return startController(ctx.registry, {
    name: 'endpointslice-controller',
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError('endpointslice-controller', key, error),
    sources: [
      { group: '', version: 'v1', resource: 'services' },
      { group: '', version: 'v1', resource: 'pods', keys: podKeys(client, membership) },
      {
        group: 'discovery.k8s.io',
        version: 'v1',
        resource: 'endpointslices',
        keys: (slice, type) =>
          type === 'DELETED' && slice.metadata.labels?.[MANAGED_BY_LABEL] === SLICE_CONTROLLER ? [`${slice.metadata.namespace}/${slice.metadata.labels?.[SERVICE_NAME_LABEL] ?? ''}`] : [],
      },
    ],
    reconcile,
  });
}

