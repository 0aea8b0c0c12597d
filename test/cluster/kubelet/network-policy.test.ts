// The NetworkPolicy decision on its own (networking.k8s.io/v1 semantics): isolation, the union
// of rules, peers, ports by number, range and name, ipBlock with except, policyTypes defaulting,
// and what the network does not govern (hostNetwork pods).
import { describe, expect, it } from 'vitest';
import { admits, type Connection, type PolicyState } from '../../../src/cluster/kubelet/network-policy.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';

const namespace = (name: string, labels: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } });
const pod = (ns: string, name: string, labels: Record<string, string>, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, labels },
  spec: { containers: [{ name: 'app', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] }], ...spec },
});
const policy = (ns: string, name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec });

const web = pod('shop', 'web', { app: 'web' });
const frontend = pod('shop', 'frontend', { role: 'frontend' });
const outsider = pod('elsewhere', 'frontend', { role: 'frontend' });
const namespaces = [namespace('shop', { team: 'shop' }), namespace('elsewhere', { team: 'other' })];

function state(...policies: KubeObject[]): PolicyState {
  return { policies, namespaces };
}

function connect(source: KubeObject | string, destination: KubeObject, port = 8080, protocol?: Connection['protocol']): Connection {
  return {
    source: typeof source === 'string' ? { ip: source } : { pod: source, ip: source === outsider ? '10.244.2.7' : '10.244.1.5' },
    destination: { pod: destination, ip: '10.244.1.9' },
    port,
    ...(protocol ? { protocol } : {}),
  };
}

describe('NetworkPolicy decisions', () => {
  it('admits everything while no policy selects the pods', () => {
    expect(admits(state(), connect(outsider, web))).toEqual({ allowed: true });
    expect(admits(state(policy('shop', 'db-only', { podSelector: { matchLabels: { app: 'db' } }, policyTypes: ['Ingress'] })), connect(outsider, web)).allowed).toBe(true);
  });

  it('denies by default once a policy selects the destination, and names the policies that isolate it', () => {
    const decision = admits(state(policy('shop', 'default-deny', { podSelector: {}, policyTypes: ['Ingress'] })), connect(frontend, web));
    expect(decision).toEqual({ allowed: false, direction: 'ingress', policies: ['default-deny'] });
  });

  it('adds rules up across policies; a podSelector peer means pods of the policy’s own namespace', () => {
    const allow = policy('shop', 'from-frontend', { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }] }] });
    const deny = policy('shop', 'default-deny', { podSelector: {}, policyTypes: ['Ingress'] });
    expect(admits(state(deny, allow), connect(frontend, web)).allowed).toBe(true);
    expect(admits(state(deny, allow), connect(outsider, web)).allowed).toBe(false);
  });

  it('reads namespaceSelector alone as every pod there, and with a podSelector as those pods there', () => {
    const byNamespace = policy('shop', 'team', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'other' } } }] }] });
    expect(admits(state(byNamespace), connect(outsider, web)).allowed).toBe(true);
    expect(admits(state(byNamespace), connect(frontend, web)).allowed).toBe(false);
    const both = policy('shop', 'team', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {}, podSelector: { matchLabels: { role: 'backend' } } }] }] });
    expect(admits(state(both), connect(outsider, web)).allowed).toBe(false);
    const byName = policy('shop', 'team', { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['elsewhere'] }] } }] }] });
    expect(admits(state(byName), connect(outsider, web)).allowed).toBe(true);
  });

  it('matches ports by number, by endPort range, by a named container port and its protocol', () => {
    const rule = (ports: unknown[]) => state(policy('shop', 'ports', { podSelector: {}, ingress: [{ ports }] }));
    expect(admits(rule([{ port: 8080 }]), connect(outsider, web)).allowed).toBe(true);
    expect(admits(rule([{ port: 80 }]), connect(outsider, web)).allowed).toBe(false);
    expect(admits(rule([{ port: 8000, endPort: 8100 }]), connect(outsider, web)).allowed).toBe(true);
    expect(admits(rule([{ port: 8000, endPort: 8079 }]), connect(outsider, web)).allowed).toBe(false);
    expect(admits(rule([{ port: 'http' }]), connect(outsider, web)).allowed).toBe(true);
    expect(admits(rule([{ port: 'http' }]), connect(outsider, web, 9090)).allowed).toBe(false);
    expect(admits(rule([{ port: 'dns', protocol: 'UDP' }]), connect(outsider, web, 53, 'UDP')).allowed).toBe(true);
    expect(admits(rule([{ port: 'dns' }]), connect(outsider, web, 53, 'UDP')).allowed).toBe(false);
    expect(admits(rule([{ protocol: 'UDP' }]), connect(outsider, web)).allowed).toBe(false);
    expect(admits(rule([{ protocol: 'TCP' }]), connect(outsider, web, 1234)).allowed).toBe(true);
  });

  it('matches ipBlock on addresses, without its exceptions, for sources outside the pod network too', () => {
    const block = state(policy('shop', 'office', { podSelector: {}, ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/8', except: ['10.244.2.0/24'] } }] }] }));
    expect(admits(block, connect(frontend, web)).allowed).toBe(true);
    expect(admits(block, connect(outsider, web)).allowed).toBe(false);
    expect(admits(block, connect('10.1.2.3', web)).allowed).toBe(true);
    expect(admits(block, connect('192.168.1.1', web)).allowed).toBe(false);
  });

  it('isolates egress when policyTypes says so, or when a policy without policyTypes has egress rules', () => {
    const explicit = policy('shop', 'no-egress', { podSelector: { matchLabels: { role: 'frontend' } }, policyTypes: ['Egress'] });
    expect(admits(state(explicit), connect(frontend, web))).toEqual({ allowed: false, direction: 'egress', policies: ['no-egress'] });
    const implicit = policy('shop', 'egress-to-80', { podSelector: { matchLabels: { role: 'frontend' } }, egress: [{ ports: [{ port: 80 }] }] });
    expect(admits(state(implicit), connect(frontend, web)).allowed).toBe(false);
    expect(admits(state(implicit), connect(frontend, web, 80)).allowed).toBe(true);
    // Without policyTypes a policy is about ingress as well: the frontend now admits nobody.
    expect(admits(state(implicit), connect(web, frontend)).allowed).toBe(false);
    const egressOnly = policy('shop', 'egress-only', { podSelector: { matchLabels: { role: 'frontend' } }, policyTypes: ['Egress'], egress: [{}] });
    expect(admits(state(egressOnly), connect(web, frontend)).allowed).toBe(true);
    expect(admits(state(egressOnly), connect(frontend, web)).allowed).toBe(true);
  });

  it('leaves hostNetwork pods alone, and a policy to its own namespace', () => {
    const deny = policy('shop', 'default-deny', { podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
    expect(admits(state(deny), connect(outsider, pod('shop', 'node-agent', {}, { hostNetwork: true }))).allowed).toBe(true);
    expect(admits(state(policy('elsewhere', 'default-deny', { podSelector: {} })), connect(frontend, web)).allowed).toBe(true);
  });
});
