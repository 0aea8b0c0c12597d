// NetworkPolicy (networking.k8s.io/v1) as a pure decision: given the policies, the namespaces,
// a source and a destination pod and the destination port, may the connection be made? Whatever
// carries packets (today the HTTP service network, later a pod network) asks this and drops what
// it refuses. The semantics are upstream's:
// - a pod is isolated for ingress (egress) once any policy of its namespace selects it with that
//   policy type; an isolated pod accepts (sends) only what some such policy's rules allow, the
//   union of them all; a pod no policy selects accepts and sends everything;
// - a connection needs both: egress allowed from the source and ingress allowed to the destination;
// - a rule with no peers matches every peer, with no ports every port; a peer is a podSelector
//   (pods of the policy's namespace), a namespaceSelector (every pod of the matching namespaces),
//   both (those pods in those namespaces), or an ipBlock (cidr minus except);
// - ports are matched on the pod (after a Service's translation), by number, by a range with
//   endPort, or by a named container port of the destination pod; protocol TCP unless said.
import { labelSelectorFromObject } from '../registry/index.ts';
import type { KubeObject } from '../types.ts';

export type Protocol = 'TCP' | 'UDP' | 'SCTP';

/** One end of a connection: a pod, or (no pod) something outside the pod network that has only an IP. */
export interface Endpoint {
  pod?: KubeObject;
  ip: string;
}

export interface Connection {
  source: Endpoint;
  destination: Endpoint;
  port: number;
  protocol?: Protocol;
}

export interface PolicyState {
  /** Every NetworkPolicy of the cluster (those of other namespaces are ignored). */
  policies: readonly KubeObject[];
  /** Every Namespace, for namespaceSelector. */
  namespaces: readonly KubeObject[];
}

export type PolicyDecision =
  | { allowed: true }
  | { allowed: false; direction: 'ingress' | 'egress'; /** the policies that isolate the refusing pod */ policies: string[] };

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function objects(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function specOf(object: KubeObject): Json {
  return isObject(object.spec) ? object.spec : {};
}

/** policyTypes as stored, or as the API server defaults them when absent. */
function policyTypes(policy: KubeObject): Set<string> {
  const spec = specOf(policy);
  if (Array.isArray(spec.policyTypes) && spec.policyTypes.length > 0) return new Set(spec.policyTypes.map(String));
  const types = new Set(['Ingress']);
  if (objects(spec.egress).length > 0) types.add('Egress');
  return types;
}

function selects(selector: unknown, labels: Record<string, string> | undefined): boolean {
  // An empty selector ({}) selects everything; an absent one, in a peer, is handled by the caller.
  return labelSelectorFromObject(isObject(selector) ? selector : {}).matches(labels ?? {});
}

/** The policies of the pod's namespace that select it for one direction. */
function isolating(state: PolicyState, pod: KubeObject, type: 'Ingress' | 'Egress'): KubeObject[] {
  const namespace = pod.metadata.namespace ?? '';
  return state.policies.filter(
    (policy) => policy.metadata.namespace === namespace && policyTypes(policy).has(type) && selects(specOf(policy).podSelector, pod.metadata.labels),
  );
}

function ipv4(address: string): number | undefined {
  const parts = address.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

function inCidr(address: string, cidr: unknown): boolean {
  if (typeof cidr !== 'string') return false;
  const [base = '', bits = ''] = cidr.split('/');
  const ip = ipv4(address);
  const network = ipv4(base);
  const prefix = Number(bits);
  if (ip === undefined || network === undefined || !/^\d{1,2}$/.test(bits) || prefix > 32) return false;
  const size = 2 ** (32 - prefix);
  return Math.floor(ip / size) === Math.floor(network / size);
}

/** Does one peer of a rule of `policy` describe this endpoint? */
function peerMatches(peer: Json, policy: KubeObject, endpoint: Endpoint, state: PolicyState): boolean {
  if (isObject(peer.ipBlock)) {
    const block = peer.ipBlock;
    return inCidr(endpoint.ip, block.cidr) && !(Array.isArray(block.except) ? block.except : []).some((except) => inCidr(endpoint.ip, except));
  }
  const pod = endpoint.pod;
  if (!pod) return false;
  const hasPods = peer.podSelector !== undefined && peer.podSelector !== null;
  const hasNamespaces = peer.namespaceSelector !== undefined && peer.namespaceSelector !== null;
  if (!hasPods && !hasNamespaces) return false;
  if (hasNamespaces) {
    const namespace = state.namespaces.find((candidate) => candidate.metadata.name === pod.metadata.namespace);
    if (!namespace || !selects(peer.namespaceSelector, namespace.metadata.labels)) return false;
  } else if (pod.metadata.namespace !== policy.metadata.namespace) {
    return false;
  }
  return !hasPods || selects(peer.podSelector, pod.metadata.labels);
}

/** A containerPort of the pod by name and protocol (a named port in a policy). */
function namedPort(pod: KubeObject | undefined, name: string, protocol: Protocol): number | undefined {
  if (!pod) return undefined;
  for (const container of objects(specOf(pod).containers)) {
    for (const port of objects(container.ports)) {
      if (port.name === name && (port.protocol ?? 'TCP') === protocol && typeof port.containerPort === 'number') return port.containerPort;
    }
  }
  return undefined;
}

function portMatches(rulePort: Json, connection: Connection): boolean {
  const protocol = connection.protocol ?? 'TCP';
  if ((rulePort.protocol ?? 'TCP') !== protocol) return false;
  const port = rulePort.port;
  if (port === undefined || port === null) return true;
  if (typeof port === 'string') return namedPort(connection.destination.pod, port, protocol) === connection.port;
  if (typeof port !== 'number') return false;
  const end = typeof rulePort.endPort === 'number' ? rulePort.endPort : port;
  return connection.port >= port && connection.port <= end;
}

function ruleAllows(rule: Json, peersField: 'from' | 'to', peer: Endpoint, policy: KubeObject, connection: Connection, state: PolicyState): boolean {
  const ports = objects(rule.ports);
  if (ports.length > 0 && !ports.some((port) => portMatches(port, connection))) return false;
  const peers = objects(rule[peersField]);
  return peers.length === 0 || peers.some((candidate) => peerMatches(candidate, policy, peer, state));
}

function allowedBy(policies: KubeObject[], direction: 'ingress' | 'egress', connection: Connection, state: PolicyState): boolean {
  const peersField = direction === 'ingress' ? 'from' : 'to';
  const peer = direction === 'ingress' ? connection.source : connection.destination;
  return policies.some((policy) => objects(specOf(policy)[direction]).some((rule) => ruleAllows(rule, peersField, peer, policy, connection, state)));
}

function hostNetwork(pod: KubeObject | undefined): boolean {
  return pod !== undefined && specOf(pod).hostNetwork === true;
}

/** May `connection` be made under the cluster's NetworkPolicies? */
export function admits(state: PolicyState, connection: Connection): PolicyDecision {
  const { source, destination } = connection;
  // Pods on the node's network are outside what NetworkPolicy governs.
  if (source.pod && !hostNetwork(source.pod)) {
    const policies = isolating(state, source.pod, 'Egress');
    if (policies.length > 0 && !allowedBy(policies, 'egress', connection, state)) return { allowed: false, direction: 'egress', policies: policies.map((p) => p.metadata.name ?? '') };
  }
  if (destination.pod && !hostNetwork(destination.pod)) {
    const policies = isolating(state, destination.pod, 'Ingress');
    if (policies.length > 0 && !allowedBy(policies, 'ingress', connection, state)) return { allowed: false, direction: 'ingress', policies: policies.map((p) => p.metadata.name ?? '') };
  }
  return { allowed: true };
}

/** One port a rule names, resolved (a named port is looked up on the destination pod). */
export interface RulePort {
  protocol: Protocol;
  /** undefined: every port of the protocol. */
  port?: number;
  endPort?: number;
}

/** One allowed (peers, ports) pair of an isolated pod, in the form a packet filter enforces it. */
export interface CompiledRule {
  peers: { ips: string[] } | { cidr: string; except: string[] } | 'any';
  /** 'any': every protocol and port. */
  ports: RulePort[] | 'any';
}

function rulePorts(rule: Json, destination: KubeObject | undefined): RulePort[] | 'any' | undefined {
  const ports = objects(rule.ports);
  if (ports.length === 0) return 'any';
  const resolved: RulePort[] = [];
  for (const port of ports) {
    const protocol = (typeof port.protocol === 'string' ? port.protocol : 'TCP') as Protocol;
    if (port.port === undefined || port.port === null) resolved.push({ protocol });
    else if (typeof port.port === 'number') resolved.push({ protocol, port: port.port, ...(typeof port.endPort === 'number' ? { endPort: port.endPort } : {}) });
    else if (typeof port.port === 'string') {
      const number = namedPort(destination, port.port, protocol);
      if (number !== undefined) resolved.push({ protocol, port: number });
    }
  }
  return resolved.length > 0 ? resolved : undefined;
}

function hasNamedPort(rule: Json): boolean {
  return objects(rule.ports).some((port) => typeof port.port === 'string');
}

/**
 * The same decision as `admits`, made once for a packet filter: undefined when no policy isolates
 * `pod` in `direction`, otherwise the union of what its policies allow, with peers resolved
 * against `endpoints` (every pod with an address). Named ports are resolved on the destination pod:
 * the pod itself for ingress, each peer for egress.
 */
export function compileIsolation(state: PolicyState, pod: KubeObject, direction: 'ingress' | 'egress', endpoints: readonly Endpoint[]): CompiledRule[] | undefined {
  if (hostNetwork(pod)) return undefined;
  const policies = isolating(state, pod, direction === 'ingress' ? 'Ingress' : 'Egress');
  if (policies.length === 0) return undefined;
  const peersField = direction === 'ingress' ? 'from' : 'to';
  const compiled: CompiledRule[] = [];
  for (const policy of policies) {
    for (const rule of objects(specOf(policy)[direction])) {
      const peers = objects(rule[peersField]);
      const blocks = peers.filter((peer) => isObject(peer.ipBlock)).map((peer) => peer.ipBlock as Json);
      const matched = peers.length === 0 ? [] : endpoints.filter((endpoint) => peers.some((peer) => !isObject(peer.ipBlock) && peerMatches(peer, policy, endpoint, state)));
      if (direction === 'egress' && hasNamedPort(rule)) {
        // Each destination pod may number the name differently.
        for (const endpoint of peers.length === 0 ? endpoints : matched) {
          const ports = rulePorts(rule, endpoint.pod);
          if (ports) compiled.push({ peers: { ips: [endpoint.ip] }, ports });
        }
        continue;
      }
      const ports = rulePorts(rule, direction === 'ingress' ? pod : undefined);
      if (!ports) continue;
      if (peers.length === 0) {
        compiled.push({ peers: 'any', ports });
        continue;
      }
      if (matched.length > 0) compiled.push({ peers: { ips: matched.map((endpoint) => endpoint.ip) }, ports });
      for (const block of blocks) {
        if (typeof block.cidr === 'string') compiled.push({ peers: { cidr: block.cidr, except: (Array.isArray(block.except) ? block.except : []).filter((e): e is string => typeof e === 'string') }, ports });
      }
    }
  }
  return compiled;
}
