// A pod's DNS as its spec says, driven by real kubectl 1.27 and 1.33: the kubelet's resolv.conf
// for each dnsPolicy (ClusterFirst, ClusterFirstWithHostNet, Default, None, hostNetwork's
// ClusterFirst falling back to the node's), dnsConfig merged in as the kubelet merges it, its
// limits applied with the kubelet's DNSConfigForming warning, and the API server's validation with
// upstream's messages. "The node" is the cluster's own simulated node, a kind node: nothing of the
// host machine's resolv.conf reaches a pod.
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { condition, type KubeletCluster, startKubeletCluster, versionedKubectl } from '../kubelet/harness.ts';

let lab: KubeletCluster;

beforeAll(async () => {
  lab = await startKubeletCluster();
}, 60_000);
afterAll(async () => {
  await lab?.stop();
});

const NODE_RESOLV_CONF = 'nameserver 172.18.0.1\noptions ndots:0\n';
const SEARCHES = Array.from({ length: 30 }, (_, i) => `s${i + 1}.example`);

const pod = (name: string, spec: string) => `
apiVersion: v1
kind: Pod
metadata: { name: ${name} }
spec:
  containers: [{ name: shell, image: busybox, command: [sleep, '3600'] }]
${spec}---`;

const manifests = [
  pod('cluster-first', ''),
  // The docs' "Pod's DNS Config" example, on top of ClusterFirst.
  pod(
    'merged',
    `  dnsConfig:
    nameservers: [192.0.2.1]
    searches: [ns1.svc.cluster-domain.example, my.dns.search.suffix]
    options: [{ name: ndots, value: '2' }, { name: edns0 }]
`,
  ),
  pod('node-dns', '  dnsPolicy: Default\n'),
  pod(
    'none',
    `  dnsPolicy: None
  dnsConfig:
    nameservers: [10.96.0.10]
    searches: [default.svc.cluster.local]
    options: [{ name: ndots, value: '1' }]
`,
  ),
  pod('host-first', '  hostNetwork: true\n'),
  pod('host-cluster', '  hostNetwork: true\n  dnsPolicy: ClusterFirstWithHostNet\n'),
  pod('too-many', '  dnsConfig:\n    nameservers: [192.0.2.1, 192.0.2.2, 192.0.2.3]\n'),
  // 30 of its own after the cluster's 3: past the 32 a C library reads.
  pod('long-search', `  dnsConfig:\n    searches: [${SEARCHES.join(', ')}]\n`),
].join('\n');

describe.each(['1.27', '1.33'])('with kubectl %s', (version) => {
  const ns = `dns-${version.replace('.', '-')}`;
  const binary = versionedKubectl(version);
  const kubectl = (args: string[], stdin?: string) => lab.kubectl(args, { binary, ...(stdin === undefined ? {} : { stdin }) });
  const resolvConf = async (name: string) => (await kubectl(['exec', '-n', ns, name, '--', 'cat', '/etc/resolv.conf'])).stdout;

  beforeAll(async () => {
    expect((await kubectl(['create', 'namespace', ns])).code).toBe(0);
    await lab.serviceAccountReady(ns);
    const applied = await kubectl(['apply', '-n', ns, '-f', '-'], manifests);
    expect(applied.code, applied.stderr).toBe(0);
    for (const name of ['cluster-first', 'merged', 'node-dns', 'none', 'host-first', 'host-cluster', 'too-many', 'long-search'])
      await lab.until(`${name} Ready`, () => condition(lab.pod(ns, name), 'Ready') === 'True', 60_000);
  }, 120_000);

  it('gives ClusterFirst the cluster DNS with the namespace’s search domains and ndots:5', async () => {
    expect(await resolvConf('cluster-first')).toBe(`search ${ns}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n`);
    const lookup = await kubectl(['exec', '-n', ns, 'cluster-first', '--', 'nslookup', 'kubernetes.default.svc.cluster.local']);
    expect(lookup.stdout).toContain('Address: 10.96.0.1\n');
  });

  it('merges dnsConfig after the policy’s own: nameservers and searches appended, options overriding by name', async () => {
    expect(await resolvConf('merged')).toBe(
      `search ${ns}.svc.cluster.local svc.cluster.local cluster.local ns1.svc.cluster-domain.example my.dns.search.suffix\nnameserver 10.96.0.10\nnameserver 192.0.2.1\noptions ndots:2 edns0\n`,
    );
  });

  it('gives Default the node’s resolv.conf, never the host machine’s, and no cluster names', async () => {
    expect(await resolvConf('node-dns')).toBe(NODE_RESOLV_CONF);
    expect(await resolvConf('node-dns')).not.toBe(readFileSync('/etc/resolv.conf', 'utf8'));
    const lookup = await lab.kubectl(['exec', '-n', ns, 'node-dns', '--', 'nslookup', 'kubernetes.default.svc.cluster.local'], { binary, timeoutMs: 60_000 });
    expect(lookup.code).not.toBe(0);
    expect(lookup.stdout).not.toContain('10.96.0.1');
  }, 90_000);

  it('gives None exactly its dnsConfig, through which the cluster DNS still answers', async () => {
    expect(await resolvConf('none')).toBe('search default.svc.cluster.local\nnameserver 10.96.0.10\noptions ndots:1\n');
    const lookup = await kubectl(['exec', '-n', ns, 'none', '--', 'nslookup', 'kubernetes']);
    expect(lookup.stdout).toContain('Name:\tkubernetes.default.svc.cluster.local\nAddress: 10.96.0.1');
  });

  it('falls back to the node’s for a hostNetwork pod’s ClusterFirst, and keeps the cluster’s with ClusterFirstWithHostNet', async () => {
    expect(await resolvConf('host-first')).toBe(NODE_RESOLV_CONF);
    expect(await resolvConf('host-cluster')).toBe(`search ${ns}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n`);
  });

  it('keeps three nameservers and warns with the kubelet’s DNSConfigForming event', async () => {
    expect(await resolvConf('too-many')).toBe(`search ${ns}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\nnameserver 192.0.2.1\nnameserver 192.0.2.2\noptions ndots:5\n`);
    const events = await kubectl(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=too-many,reason=DNSConfigForming', '-o', 'jsonpath={.items[*].message}']);
    expect(events.stdout).toBe('Nameserver limits were exceeded, some nameservers have been omitted, the applied nameserver line is: 10.96.0.10 192.0.2.1 192.0.2.2');
  });

  it('keeps 32 search domains and says which search line applies', async () => {
    const applied = [`${ns}.svc.cluster.local`, 'svc.cluster.local', 'cluster.local', ...SEARCHES.slice(0, 29)].join(' ');
    expect((await resolvConf('long-search')).split('\n')[0]).toBe(`search ${applied}`);
    const events = await kubectl(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=long-search,reason=DNSConfigForming', '-o', 'jsonpath={.items[*].message}']);
    expect(events.stdout).toBe(`Search Line limits were exceeded, some search paths have been omitted, the applied search line is: ${applied}`);
  });

  it('refuses dnsConfig as the API server does, word for word', async () => {
    const refused = async (name: string, spec: string) => {
      const result = await kubectl(['apply', '-n', ns, '-f', '-'], pod(name, spec));
      expect(result.code).not.toBe(0);
      return result.stderr.trim();
    };
    expect(await refused('n1', '  dnsPolicy: None\n')).toBe(`The Pod "n1" is invalid: spec.dnsConfig: Required value: must provide \`dnsConfig\` when \`dnsPolicy\` is None`);
    expect(await refused('n2', '  dnsPolicy: None\n  dnsConfig: { searches: [example.com] }\n')).toBe(
      `The Pod "n2" is invalid: spec.dnsConfig.nameservers: Required value: must provide at least one DNS nameserver when \`dnsPolicy\` is None`,
    );
    expect(await refused('n3', '  dnsConfig: { nameservers: [1.1.1.1, 1.0.0.1, 8.8.8.8, 8.8.4.4] }\n')).toBe(
      `The Pod "n3" is invalid: spec.dnsConfig.nameservers: Invalid value: []string{"1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4"}: must not have more than 3 nameservers`,
    );
    expect(await refused('n4', '  dnsConfig: { nameservers: [dns.example.com], searches: [Bad.Example, good_one.example, .] }\n')).toBe(
      `The Pod "n4" is invalid: \n* spec.dnsConfig.nameservers[0]: Invalid value: "dns.example.com": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)\n* spec.dnsConfig.searches[0]: Invalid value: "Bad.Example": a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '_', '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '_?[a-z0-9]([-_a-z0-9]*[a-z0-9])?(\\._?[a-z0-9]([-_a-z0-9]*[a-z0-9])?)*')`,
    );
    expect(await refused('n5', '  dnsConfig: { options: [{ value: "2" }] }\n')).toBe(`The Pod "n5" is invalid: spec.dnsConfig.options[0]: Required value: must not be empty`);
  });
});
