// What the node network is told, from the API objects alone: the nftables ruleset (which the
// kernel's nft accepts, checked in a network namespace of the test's own) and the cluster DNS's
// answers on the wire.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { dnsRecords, ruleset } from '../../../src/cluster/kubelet/network/cluster-state.ts';
import { answer, parseQuery, zoneOf } from '../../../src/cluster/kubelet/network/dns-message.ts';

const namespace = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } });
const pod = (ns: string, name: string, ip: string, labels: Record<string, string>, ports: { name: string; containerPort: number }[] = []): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { namespace: ns, name, labels },
  spec: { containers: [{ name: 'c', ports }] },
  status: { phase: 'Running', podIP: ip },
});
const policy = (ns: string, name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { namespace: ns, name }, spec });

/** nft's own check of a ruleset (-c: parsed and validated by the kernel, not applied), in a throwaway network namespace. */
function nftAccepts(rules: string): { ok: boolean; stderr: string } {
  const result = spawnSync('unshare', ['--net', 'nft', '-c', '-f', '-'], { input: rules, encoding: 'utf8' });
  return { ok: result.status === 0, stderr: result.stderr };
}

describe('the ruleset', () => {
  const namespaces = [namespace('shop'), namespace('ops', { team: 'ops' })];
  const pods = [
    pod('shop', 'web', '10.244.1.2', { app: 'web' }, [{ name: 'http', containerPort: 8080 }]),
    pod('shop', 'front', '10.244.1.3', { app: 'front' }),
    pod('ops', 'probe', '10.244.2.2', { app: 'probe' }),
  ];
  const service: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'shop', name: 'web' }, spec: { clusterIP: '10.96.7.7', type: 'NodePort', ports: [{ name: 'http', port: 80, nodePort: 30080, protocol: 'TCP' }] } };
  const endpoints: KubeObject = { apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace: 'shop', name: 'web' }, subsets: [{ addresses: [{ ip: '10.244.1.2' }], ports: [{ name: 'http', port: 8080, protocol: 'TCP' }] }] };
  const node: KubeObject = { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1' }, status: { addresses: [{ type: 'InternalIP', address: '172.18.0.2' }] } };
  const policies = [
    policy('shop', 'web-in', {
      podSelector: { matchLabels: { app: 'web' } },
      ingress: [
        { from: [{ podSelector: { matchLabels: { app: 'front' } } }, { namespaceSelector: { matchLabels: { team: 'ops' } } }], ports: [{ port: 'http' }] },
        { from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.244.9.0/24'] } }], ports: [{ protocol: 'TCP', port: 9000, endPort: 9100 }] },
      ],
    }),
    policy('shop', 'front-out', { podSelector: { matchLabels: { app: 'front' } }, policyTypes: ['Egress'], egress: [{ to: [{ podSelector: { matchLabels: { app: 'web' } } }] }] }),
  ];
  const rules = ruleset({ services: [service], endpoints: [endpoints], pods, nodes: [node], policies: { policies, namespaces } });

  it('is a ruleset nft accepts', () => {
    const checked = nftAccepts(rules);
    expect(checked.stderr).toBe('');
    expect(checked.ok).toBe(true);
  });

  it('sends the cluster IP and the NodePort on every node IP to the ready endpoints, with the target port', () => {
    expect(rules).toContain('ip daddr 10.96.7.7 tcp dport 80 jump svc-0');
    expect(rules).toContain('ip daddr { 172.18.0.2 } tcp dport 30080 jump svc-0');
    expect(rules).toContain('meta l4proto tcp dnat to 10.244.1.2:8080');
  });

  it('isolates the selected pods only, with peers by selector and namespace, a named port resolved on the pod and an ipBlock with its exception', () => {
    expect(rules).toMatch(/ip daddr vmap \{ 10\.244\.1\.2 : jump ingress-\d+ \}/);
    expect(rules).toMatch(/ip saddr vmap \{ 10\.244\.1\.3 : jump egress-\d+ \}/);
    expect(rules).toContain('ip daddr 10.244.1.2 ip saddr { 10.244.1.3, 10.244.2.2 } tcp dport 8080 accept');
    expect(rules).toContain('ip saddr 10.0.0.0/8 ip saddr != { 10.244.9.0/24 } tcp dport 9000-9100 accept');
    // An egress-isolated pod whose policies name no DNS peer cannot ask the cluster DNS.
    expect(rules).not.toContain('ip daddr 10.96.0.10 udp dport 53 return');
  });
});

describe('the cluster DNS', () => {
  const services: KubeObject[] = [
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'shop', name: 'web' }, spec: { clusterIP: '10.96.7.7', ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } },
    { apiVersion: 'v1', kind: 'Service', metadata: { namespace: 'shop', name: 'db' }, spec: { clusterIP: 'None', ports: [{ port: 5432 }] } },
  ];
  const endpoints: KubeObject[] = [{ apiVersion: 'v1', kind: 'Endpoints', metadata: { namespace: 'shop', name: 'db' }, subsets: [{ addresses: [{ ip: '10.244.1.5', hostname: 'db-0' }], ports: [{ port: 5432 }] }] }];
  const zone = zoneOf(dnsRecords({ services, endpoints }));

  function ask(name: string, type: number): Buffer {
    const labels = name.split('.').map((label) => Buffer.concat([Buffer.from([label.length]), Buffer.from(label)]));
    const head = Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    const tail = Buffer.alloc(4);
    tail.writeUInt16BE(type, 0);
    tail.writeUInt16BE(1, 2);
    const question = parseQuery(Buffer.concat([head, ...labels, Buffer.from([0]), tail]));
    if (!question) throw new Error('unparsable query');
    return answer(question, zone);
  }
  const rcode = (reply: Buffer) => reply.readUInt16BE(2) & 0xf;
  const answers = (reply: Buffer) => reply.readUInt16BE(6);

  it('answers a Service, a headless Service and its pod by hostname with their addresses', () => {
    const web = ask('web.shop.svc.cluster.local', 1);
    expect([rcode(web), answers(web)]).toEqual([0, 1]);
    expect([...web.subarray(-4)]).toEqual([10, 96, 7, 7]);
    expect([...ask('db.shop.svc.cluster.local', 1).subarray(-4)]).toEqual([10, 244, 1, 5]);
    expect([...ask('db-0.db.shop.svc.cluster.local', 1).subarray(-4)]).toEqual([10, 244, 1, 5]);
    expect(answers(ask('_http._tcp.web.shop.svc.cluster.local', 33))).toBe(1);
    // Reverse lookups name the Service and the headless Service's pod.
    expect(answers(ask('7.7.96.10.in-addr.arpa', 12))).toBe(1);
    expect(ask('7.7.96.10.in-addr.arpa', 12).includes(Buffer.from('\x03web\x04shop\x03svc', 'latin1'))).toBe(true);
    expect(answers(ask('5.1.244.10.in-addr.arpa', 12))).toBe(1);
    expect(rcode(ask('9.9.9.10.in-addr.arpa', 12))).toBe(3);
  });

  it('answers NXDOMAIN for a missing name of the zone, NOERROR without answers for a missing type, SERVFAIL outside it', () => {
    const missing = ask('nothing.shop.svc.cluster.local', 1);
    expect([rcode(missing), answers(missing), missing.readUInt16BE(8)]).toEqual([3, 0, 1]);
    const aaaa = ask('web.shop.svc.cluster.local', 28);
    expect([rcode(aaaa), answers(aaaa)]).toEqual([0, 0]);
    // A namespace with Services exists as a name, as CoreDNS answers it.
    expect(rcode(ask('shop.svc.cluster.local', 1))).toBe(0);
    expect(rcode(ask('example.com', 1))).toBe(2);
  });
});
