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
import { isJson, type Json, objects, specOf } from '../json.ts';
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
  return labelSelectorFromObject(isJson(selector) ? selector : {}).matches(labels ?? {});
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
  if (isJson(peer.ipBlock)) {
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

/** One rule of a policy in the form a packet filter enforces it: peers, ports, and maybe one destination pod. */
export interface CompiledRule {
  peers: { ips: string[] } | { cidr: string; except: string[] } | 'any';
  /** 'any': every protocol and port. */
  ports: RulePort[] | 'any';
  /** The rule holds for packets to this pod only (its named ports resolved on it). */
  destination?: string;
}

/** A NetworkPolicy resolved against the pods there are: whom it isolates, and what it lets through. */
export interface CompiledPolicy {
  /** namespace/name */
  key: string;
  /** The pods it isolates for ingress and for egress (their IPs). */
  ingressPods: string[];
  egressPods: string[];
  ingress: CompiledRule[];
  egress: CompiledRule[];
  /** Whether its egress rules let the pods reach `destination` on `port` (the cluster DNS, the API server). */
  allowsEgress(destination: Endpoint, port: number, protocol: Protocol): boolean;
}

export interface PodEndpoint {
  pod: KubeObject;
  ip: string;
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
 * The same semantics as `admits`, resolved once a policy for a packet filter: the pods each policy
 * isolates and, for each rule, its peers as addresses (pods by their selectors, ipBlocks as CIDRs).
 * A rule with named ports is resolved on each destination pod: the isolated pod for ingress, each
 * peer for egress. Selectors are parsed once a peer and pods indexed by namespace, so the work grows
 * with policies times the pods they select, not with every pair of pods.
 */
export function compilePolicies(state: PolicyState, endpoints: readonly PodEndpoint[]): CompiledPolicy[] {
  const byNamespace = new Map<string, PodEndpoint[]>();
  for (const endpoint of endpoints) {
    const namespace = endpoint.pod.metadata.namespace ?? '';
    let list = byNamespace.get(namespace);
    if (!list) byNamespace.set(namespace, (list = []));
    list.push(endpoint);
  }
  const inNamespace = (namespace: string | undefined) => byNamespace.get(namespace ?? '') ?? [];

  const peersOf = (peer: Json, policy: KubeObject): PodEndpoint[] => {
    const hasPods = peer.podSelector !== undefined && peer.podSelector !== null;
    const hasNamespaces = peer.namespaceSelector !== undefined && peer.namespaceSelector !== null;
    if (!hasPods && !hasNamespaces) return [];
    const pods = hasPods ? labelSelectorFromObject(isJson(peer.podSelector) ? peer.podSelector : {}) : undefined;
    let candidates: PodEndpoint[];
    if (hasNamespaces) {
      const namespaces = labelSelectorFromObject(isJson(peer.namespaceSelector) ? peer.namespaceSelector : {});
      candidates = state.namespaces.filter((namespace) => namespaces.matches(namespace.metadata.labels ?? {})).flatMap((namespace) => inNamespace(namespace.metadata.name));
    } else {
      candidates = inNamespace(policy.metadata.namespace);
    }
    return pods ? candidates.filter((endpoint) => pods.matches(endpoint.pod.metadata.labels ?? {})) : candidates;
  };

  const compiled: CompiledPolicy[] = [];
  for (const policy of state.policies) {
    const types = policyTypes(policy);
    const podSelector = labelSelectorFromObject(isJson(specOf(policy).podSelector) ? specOf(policy).podSelector : {});
    const selected = inNamespace(policy.metadata.namespace).filter((endpoint) => !hostNetwork(endpoint.pod) && podSelector.matches(endpoint.pod.metadata.labels ?? {}));
    const rulesOf = (direction: 'ingress' | 'egress'): CompiledRule[] => {
      const out: CompiledRule[] = [];
      const peersField = direction === 'ingress' ? 'from' : 'to';
      for (const rule of objects(specOf(policy)[direction])) {
        const peers = objects(rule[peersField]);
        const matched = [...new Map(peers.filter((peer) => !isJson(peer.ipBlock)).flatMap((peer) => peersOf(peer, policy)).map((e) => [e.ip, e] as const)).values()];
        const blocks = peers.filter((peer) => isJson(peer.ipBlock)).map((peer) => peer.ipBlock as Json);
        const add = (ports: RulePort[] | 'any' | undefined, destination?: string) => {
          if (!ports) return;
          const only = destination ? { destination } : {};
          if (peers.length === 0) {
            out.push({ peers: 'any', ports, ...only });
            return;
          }
          if (matched.length > 0) out.push({ peers: { ips: matched.map((endpoint) => endpoint.ip) }, ports, ...only });
          for (const block of blocks) {
            if (typeof block.cidr !== 'string') continue;
            out.push({ peers: { cidr: block.cidr, except: (Array.isArray(block.except) ? block.except : []).filter((e): e is string => typeof e === 'string') }, ports, ...only });
          }
        };
        if (!hasNamedPort(rule)) add(rulePorts(rule, undefined));
        else if (direction === 'ingress') for (const endpoint of selected) add(rulePorts(rule, endpoint.pod), endpoint.ip);
        else {
          // Each destination pod may number the name differently.
          for (const endpoint of peers.length === 0 ? endpoints : matched) {
            const ports = rulePorts(rule, endpoint.pod);
            if (ports) out.push({ peers: { ips: [endpoint.ip] }, ports });
          }
        }
      }
      return out;
    };
    compiled.push({
      key: `${policy.metadata.namespace ?? ''}/${policy.metadata.name ?? ''}`,
      ingressPods: types.has('Ingress') ? selected.map((endpoint) => endpoint.ip) : [],
      egressPods: types.has('Egress') ? selected.map((endpoint) => endpoint.ip) : [],
      ingress: types.has('Ingress') ? rulesOf('ingress') : [],
      egress: types.has('Egress') ? rulesOf('egress') : [],
      allowsEgress: (destination, port, protocol) =>
        types.has('Egress') && selected.length > 0 && allowedBy([policy], 'egress', { source: selected[0] as PodEndpoint, destination, port, protocol }, state),
    });
  }
  return compiled;
}
