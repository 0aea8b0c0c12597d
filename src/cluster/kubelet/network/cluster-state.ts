// What the node network carries, computed from the API each time it changes (level-triggered, as
// kube-proxy and CoreDNS resync): the nftables ruleset (kube-proxy's Services, NodePorts and
// NetworkPolicy) and the cluster DNS zone.
//
// kube-proxy, as its nftables mode: a cluster IP or NodePort with ready endpoints is DNATed to one
// of them at random; traffic a pod sends to itself through a Service is masqueraded (hairpin).
// A Service without ready endpoints has no rule: its cluster IP, local to the node namespace,
// refuses at once. NetworkPolicy: packets of new connections from an egress-isolated pod pass a
// chain of what its policies allow, then packets to an ingress-isolated pod; what no rule allows
// is dropped, so the client times out, as on a cluster whose CNI enforces policy.
import type { KubeObject } from '../../types.ts';
import { num, obj, objects, specOf, statusOf, str } from '../../json.ts';
import { type CompiledPolicy, type CompiledRule, compilePolicies, type Endpoint, type PodEndpoint, type PolicyState, type Protocol } from '../network-policy.ts';
import type { DnsEntry } from './node-network.ts';

export const CLUSTER_DNS_IP = '10.96.0.10';
const DOMAIN = 'svc.cluster.local';
const HAIRPIN_MARK = '0x4000';
/** Set on a packet an egress rule allowed, for the isolated pod's chain to let it on to the ingress check. */
const EGRESS_MARK = '0x8000';
/** The cluster DNS as egress rules select it (the CoreDNS pods of kube-system). */
const CLUSTER_DNS: Endpoint = {
  ip: CLUSTER_DNS_IP,
  pod: {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'coredns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } },
    spec: { containers: [{ name: 'coredns', ports: [{ name: 'dns', containerPort: 53, protocol: 'UDP' }, { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' }] }] },
  },
};

export interface ClusterObjects {
  services: KubeObject[];
  endpoints: KubeObject[];
  pods: KubeObject[];
  nodes: KubeObject[];
  policies: PolicyState;
}

interface Backend {
  ip: string;
  port: number;
}

function podIPOf(pod: KubeObject): string | undefined {
  const phase = str(statusOf(pod)['phase']);
  if (phase === 'Succeeded' || phase === 'Failed' || specOf(pod)['hostNetwork'] === true) return undefined;
  return str(statusOf(pod)['podIP']);
}

export function nodeIPs(nodes: KubeObject[]): string[] {
  return nodes.map((node) => str(objects(obj(node['status'])['addresses']).find((a) => a['type'] === 'InternalIP')?.['address'])).filter((ip): ip is string => ip !== undefined);
}

/** Each node's pod range (spec.podCIDR) by its network address: 10.244.3.0/24 → 10.244.3.0. */
export function nodePodRanges(nodes: KubeObject[]): string[] {
  return nodes.map((node) => str(specOf(node)['podCIDR'])?.split('/')[0]).filter((range): range is string => range !== undefined && /^\d+\.\d+\.\d+\.\d+$/.test(range));
}

/** Ready addresses of the Service's Endpoints for one port (matched by name, as kube-proxy does). */
function backends(endpoints: KubeObject | undefined, portName: string | undefined, protocol: string): Backend[] {
  const out: Backend[] = [];
  for (const subset of objects(endpoints?.['subsets'])) {
    const port = objects(subset['ports']).find((p) => (str(p['name']) ?? '') === (portName ?? '') && (str(p['protocol']) ?? 'TCP') === protocol);
    const number = num(port?.['port']);
    if (number === undefined) continue;
    for (const address of objects(subset['addresses'])) {
      const ip = str(address['ip']);
      if (ip) out.push({ ip, port: number });
    }
  }
  return out;
}

function isApiServer(service: KubeObject): boolean {
  return service.metadata.namespace === 'default' && service.metadata.name === 'kubernetes';
}

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
}

function ipv4(value: string | undefined): value is string {
  return value !== undefined && /^\d{1,3}(\.\d{1,3}){3}$/.test(value);
}

/** nftables match for a rule's ports ('' for every protocol and port). */
function portMatches(ports: CompiledRule['ports']): string[] {
  if (ports === 'any') return [''];
  return ports.map((port) => {
    const protocol = port.protocol.toLowerCase();
    if (port.port === undefined) return `meta l4proto ${protocol}`;
    return `${protocol} dport ${port.endPort !== undefined && port.endPort > port.port ? `${port.port}-${port.endPort}` : port.port}`;
  });
}

function peerMatches(peers: CompiledRule['peers'], field: 'saddr' | 'daddr'): string | undefined {
  if (peers === 'any') return '';
  if ('ips' in peers) return peers.ips.length > 0 ? `ip ${field} { ${[...new Set(peers.ips)].join(', ')} }` : undefined;
  return `ip ${field} ${peers.cidr}${peers.except.length > 0 ? ` ip ${field} != { ${peers.except.join(', ')} }` : ''}`;
}

/** One policy's rules for one direction: a match allows (ingress: accept; egress: marked, then on to the ingress check). */
function policyChain(name: string, rules: CompiledRule[], direction: 'ingress' | 'egress'): string[] {
  const lines = [`  chain ${name} {`];
  for (const rule of rules) {
    const peer = peerMatches(rule.peers, direction === 'ingress' ? 'saddr' : 'daddr');
    if (peer === undefined) continue;
    const destination = rule.destination ? `ip daddr ${rule.destination}` : '';
    const verdict = direction === 'ingress' ? 'accept' : `meta mark set mark or ${EGRESS_MARK} return`;
    for (const port of portMatches(rule.ports)) lines.push(`    ${[destination, peer, port, verdict].filter(Boolean).join(' ')}`);
  }
  lines.push('  }');
  return lines;
}

/** The pods isolated in one direction, grouped by the set of policies that isolate them (one chain a set). */
function isolationSets(policies: CompiledPolicy[], direction: 'ingress' | 'egress'): Map<string, { policies: number[]; pods: string[] }> {
  const byPod = new Map<string, number[]>();
  policies.forEach((policy, i) => {
    for (const ip of direction === 'ingress' ? policy.ingressPods : policy.egressPods) {
      const list = byPod.get(ip) ?? [];
      list.push(i);
      byPod.set(ip, list);
    }
  });
  const sets = new Map<string, { policies: number[]; pods: string[] }>();
  for (const [ip, indexes] of byPod) {
    const key = indexes.join('-');
    const set = sets.get(key) ?? { policies: indexes, pods: [] };
    set.pods.push(ip);
    sets.set(key, set);
  }
  return sets;
}

/** The node namespace's whole nftables ruleset (one transaction: the old table goes, the new one comes). */
export function ruleset(objects_: ClusterObjects): string {
  const { services, pods, policies } = objects_;
  const endpointsByKey = new Map(objects_.endpoints.map((e) => [keyOf(e), e]));
  const nodes = nodeIPs(objects_.nodes);
  const nat: string[] = [];
  const chains: string[] = [];
  let serviceIndex = 0;
  for (const service of services) {
    const spec = specOf(service);
    const clusterIP = str(spec['clusterIP']);
    // The node agent itself answers the cluster DNS and the API server's cluster IPs.
    if (isApiServer(service) || clusterIP === CLUSTER_DNS_IP || spec['type'] === 'ExternalName') continue;
    for (const servicePort of objects(spec['ports'])) {
      const protocol = str(servicePort['protocol']) ?? 'TCP';
      const port = num(servicePort['port']);
      if (port === undefined || protocol === 'SCTP') continue;
      const found = backends(endpointsByKey.get(keyOf(service)), str(servicePort['name']), protocol);
      if (found.length === 0) continue;
      const chain = `svc-${serviceIndex++}`;
      const l4 = protocol.toLowerCase();
      if (ipv4(clusterIP)) nat.push(`    ip daddr ${clusterIP} ${l4} dport ${port} jump ${chain}`);
      const nodePort = num(servicePort['nodePort']);
      if (nodePort !== undefined && nodes.length > 0 && (spec['type'] === 'NodePort' || spec['type'] === 'LoadBalancer')) {
        nat.push(`    ip daddr { ${nodes.join(', ')} } ${l4} dport ${nodePort} jump ${chain}`);
      }
      const endpointChains = found.map((_, i) => `${chain}-${i}`);
      chains.push(`  chain ${chain} {`, `    numgen random mod ${found.length} vmap { ${endpointChains.map((name, i) => `${i} : jump ${name}`).join(', ')} }`, '  }');
      found.forEach((backend, i) => {
        chains.push(`  chain ${endpointChains[i]} {`, `    ip saddr ${backend.ip} meta mark set mark or ${HAIRPIN_MARK}`, `    meta l4proto ${l4} dnat to ${backend.ip}:${backend.port}`, '  }');
      });
    }
  }

  const endpoints: PodEndpoint[] = [];
  for (const pod of pods) {
    const ip = podIPOf(pod);
    if (ip) endpoints.push({ pod, ip });
  }
  const compiled = compilePolicies(policies, endpoints);
  const used = { ingress: new Set<number>(), egress: new Set<number>() };
  const apiServer = apiServerEndpoint(objects_.endpoints, nodes[0]);
  const egress: string[] = [];
  const ingress: string[] = [];
  const local: string[] = [];
  let setIndex = 0;
  for (const set of isolationSets(compiled, 'egress').values()) {
    const name = `egress-${setIndex++}`;
    for (const i of set.policies) used.egress.add(i);
    chains.push(`  chain ${name} {`, ...set.policies.map((i) => `    jump policy-${i}-egress`), `    meta mark & ${EGRESS_MARK} == ${EGRESS_MARK} return`, '    drop', '  }');
    // What the isolated pods may still reach in the node namespace: the cluster DNS and the API server, as their policies say.
    const allowed: string[] = [];
    const allows = (destination: Endpoint, port: number, protocol: Protocol) => set.policies.some((i) => compiled[i]?.allowsEgress(destination, port, protocol));
    for (const protocol of ['UDP', 'TCP'] as const) if (allows(CLUSTER_DNS, 53, protocol)) allowed.push(`    ip daddr ${CLUSTER_DNS_IP} ${protocol.toLowerCase()} dport 53 return`);
    if (apiServer && allows({ ip: apiServer.ip }, apiServer.port, 'TCP')) allowed.push(`    ip daddr ${apiServer.clusterIP} tcp dport 443 return`);
    chains.push(`  chain ${name}-local {`, ...allowed, '    drop', '  }');
    for (const ip of set.pods) {
      egress.push(`${ip} : jump ${name}`);
      local.push(`${ip} : jump ${name}-local`);
    }
  }
  for (const set of isolationSets(compiled, 'ingress').values()) {
    const name = `ingress-${setIndex++}`;
    for (const i of set.policies) used.ingress.add(i);
    chains.push(`  chain ${name} {`, ...set.policies.map((i) => `    jump policy-${i}-ingress`), '    drop', '  }');
    for (const ip of set.pods) ingress.push(`${ip} : jump ${name}`);
  }
  compiled.forEach((policy, i) => {
    if (used.ingress.has(i)) chains.push(...policyChain(`policy-${i}-ingress`, policy.ingress, 'ingress'));
    if (used.egress.has(i)) chains.push(...policyChain(`policy-${i}-egress`, policy.egress, 'egress'));
  });

  return [
    'table ip kube',
    'delete table ip kube',
    'table ip kube {',
    '  chain prerouting {',
    '    type nat hook prerouting priority dstnat; policy accept;',
    ...nat,
    '  }',
    // The node's own connections (the kubelet's, hostNetwork pods') reach Services as kube-proxy's OUTPUT rules carry them.
    '  chain output {',
    '    type nat hook output priority -100; policy accept;',
    ...nat,
    '  }',
    '  chain postrouting {',
    '    type nat hook postrouting priority srcnat; policy accept;',
    `    meta mark & ${HAIRPIN_MARK} == ${HAIRPIN_MARK} masquerade`,
    '  }',
    '  chain forward {',
    '    type filter hook forward priority filter; policy accept;',
    '    ct state established,related accept',
    ...(egress.length > 0 ? [`    ip saddr vmap { ${egress.join(', ')} }`] : []),
    ...(ingress.length > 0 ? [`    ip daddr vmap { ${ingress.join(', ')} }`] : []),
    '  }',
    '  chain input {',
    '    type filter hook input priority filter; policy accept;',
    '    ct state established,related accept',
    ...(local.length > 0 ? [`    ip saddr vmap { ${local.join(', ')} }`] : []),
    '  }',
    ...chains,
    '}',
    '',
  ].join('\n');
}

/**
 * The API server as egress rules see it: the `kubernetes` Endpoints' address, or else the control
 * plane node's InternalIP on 6443 (kubeadm's advertise address), with the Service's cluster IP.
 */
function apiServerEndpoint(endpoints: KubeObject[], controlPlane: string | undefined): { ip: string; port: number; clusterIP: string } | undefined {
  const found = endpoints.find(isApiServer);
  const subset = objects(found?.['subsets'])[0];
  const ip = str(objects(subset?.['addresses'])[0]?.['ip']) ?? controlPlane;
  const port = num(objects(subset?.['ports'])[0]?.['port']) ?? 6443;
  return ip ? { ip, port, clusterIP: KUBERNETES_SERVICE_IP } : undefined;
}

export const KUBERNETES_SERVICE_IP = '10.96.0.1';

function reverse(ip: string): string {
  return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
}

function add(records: Record<string, DnsEntry>, name: string, entry: DnsEntry): void {
  const existing = records[name];
  if (!existing) {
    records[name] = entry;
    return;
  }
  if (entry.a) existing.a = [...new Set([...(existing.a ?? []), ...entry.a])];
  if (entry.srv) existing.srv = [...(existing.srv ?? []), ...entry.srv];
}

/** The cluster zone as CoreDNS's kubernetes plugin serves it. */
export function dnsRecords(objects_: Pick<ClusterObjects, 'services' | 'endpoints'>): Record<string, DnsEntry> {
  const records: Record<string, DnsEntry> = {};
  const endpointsByKey = new Map(objects_.endpoints.map((e) => [keyOf(e), e]));
  for (const service of objects_.services) {
    const spec = specOf(service);
    const name = `${service.metadata.name ?? ''}.${service.metadata.namespace ?? ''}.${DOMAIN}`;
    if (spec['type'] === 'ExternalName') {
      const external = str(spec['externalName']);
      if (external) records[name] = { cname: external.replace(/\.$/, '').toLowerCase() };
      continue;
    }
    const clusterIP = str(spec['clusterIP']);
    const headless = clusterIP === 'None';
    const addresses: { ip: string; hostname?: string }[] = [];
    for (const subset of objects(endpointsByKey.get(keyOf(service))?.['subsets'])) {
      for (const address of objects(subset['addresses'])) {
        const ip = str(address['ip']);
        if (ip) addresses.push({ ip, ...(str(address['hostname']) ? { hostname: str(address['hostname']) } : {}) });
      }
    }
    if (headless) {
      // A headless Service answers with its ready pods, and each pod with a hostname by name.
      add(records, name, { a: addresses.map((a) => a.ip) });
      for (const address of addresses) {
        const host = address.hostname ?? address.ip.replaceAll('.', '-');
        add(records, `${host}.${name}`, { a: [address.ip] });
        if (address.hostname) records[reverse(address.ip)] ??= { ptr: `${host}.${name}` };
      }
    } else if (ipv4(clusterIP)) {
      add(records, name, { a: [clusterIP] });
      records[reverse(clusterIP)] = { ptr: name };
    } else {
      continue;
    }
    for (const port of objects(spec['ports'])) {
      const portName = str(port['name']);
      const number = num(port['port']);
      if (!portName || number === undefined) continue;
      const srvName = `_${portName}._${(str(port['protocol']) ?? 'TCP').toLowerCase()}.${name}`;
      if (headless) for (const address of addresses) add(records, srvName, { srv: [{ port: number, target: `${address.hostname ?? address.ip.replaceAll('.', '-')}.${name}` }] });
      else add(records, srvName, { srv: [{ port: number, target: name }] });
    }
  }
  return records;
}
