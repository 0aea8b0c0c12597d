// The pod network as a learner meets it on a cluster, driven by real kubectl 1.27 and 1.33: pods
// reach each other by pod IP, Services by name and FQDN through their cluster IP, NodePorts on the
// nodes' InternalIPs, headless Services and StatefulSet pods by DNS name, a UDP Service; names of
// the cluster zone that do not exist are NXDOMAIN; NetworkPolicy drops what it does not allow.
// Clients are what a busybox image has: nc (HTTP by hand), wget with its timeout, and nslookup.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { type KubeletCluster, startKubeletCluster, versionedKubectl } from '../kubelet/harness.ts';

let lab: KubeletCluster;

beforeAll(async () => {
  lab = await startKubeletCluster();
}, 60_000);
afterAll(async () => {
  await lab?.stop();
});

function isReady(pod: KubeObject): boolean {
  const conditions = ((pod.status as Record<string, unknown> | undefined)?.['conditions'] ?? []) as Array<Record<string, string>>;
  return conditions.some((c) => c['type'] === 'Ready' && c['status'] === 'True');
}

const manifests = (ns: string) => `
apiVersion: apps/v1
kind: Deployment
metadata: { name: web, namespace: ${ns} }
spec:
  replicas: 2
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec: { containers: [{ name: nginx, image: nginx:1.27, ports: [{ containerPort: 80 }] }] }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: ${ns} }
spec: { selector: { app: web }, ports: [{ name: http, port: 8080, targetPort: 80 }] }
---
apiVersion: v1
kind: Service
metadata: { name: web-np, namespace: ${ns} }
spec: { type: NodePort, selector: { app: web }, ports: [{ port: 80 }] }
---
apiVersion: v1
kind: Service
metadata: { name: db, namespace: ${ns} }
spec: { clusterIP: None, selector: { app: db }, ports: [{ port: 80 }] }
---
apiVersion: apps/v1
kind: StatefulSet
metadata: { name: db, namespace: ${ns} }
spec:
  serviceName: db
  replicas: 2
  selector: { matchLabels: { app: db } }
  template:
    metadata: { labels: { app: db } }
    spec: { containers: [{ name: nginx, image: nginx:1.27, ports: [{ containerPort: 80 }] }] }
---
apiVersion: v1
kind: Pod
metadata: { name: echo, namespace: ${ns}, labels: { app: echo } }
spec:
  containers:
  - name: echo
    image: python:3.12
    command: [python3, -c, "import socket\\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\\ns.bind(('0.0.0.0', 5300))\\nwhile True:\\n    data, peer = s.recvfrom(512)\\n    s.sendto(b'echo:' + data, peer)\\n"]
---
apiVersion: v1
kind: Pod
metadata: { name: py, namespace: ${ns} }
spec: { containers: [{ name: python, image: python:3.12, command: [sleep, '3600'] }] }
---
apiVersion: v1
kind: Service
metadata: { name: echo, namespace: ${ns} }
spec: { selector: { app: echo }, ports: [{ name: udp, protocol: UDP, port: 53000, targetPort: 5300 }] }
---
apiVersion: v1
kind: Pod
metadata: { name: client, namespace: ${ns}, labels: { role: client } }
spec: { containers: [{ name: shell, image: busybox, command: [sh, -c, exec sleep 3600] }] }
`;

describe.each(['1.27', '1.33'])('with kubectl %s', (version) => {
  const ns = `net-${version.replace('.', '-')}`;
  const binary = versionedKubectl(version);
  const kubectl = (args: string[]) => lab.kubectl(args, { binary });
  const inClient = (script: string) => kubectl(['exec', '-n', ns, 'client', '--', 'sh', '-c', script]);
  /** HTTP by hand with busybox nc: the answer, or nothing once nc gives up connecting (2 s). */
  const get = (host: string, port: number) => `printf 'GET / HTTP/1.0\\r\\nHost: ${host}\\r\\n\\r\\n' | nc -w 2 ${host} ${port}`;
  const podIP = (name: string) => String((lab.pod(ns, name)?.status as Record<string, unknown>)['podIP']);

  beforeAll(async () => {
    expect((await kubectl(['create', 'namespace', ns])).code).toBe(0);
    await lab.serviceAccountReady(ns);
    const applied = await lab.kubectl(['apply', '-f', '-'], { stdin: manifests(ns), binary });
    expect(applied.code, applied.stderr).toBe(0);
    const pods = lab.cluster.registry.lookup('', 'v1', 'pods')!;
    await lab.until('every pod ready', () => lab.cluster.registry.list(pods, { namespace: ns }).items.filter(isReady).length === 7, 30_000);
    // Endpoints follow readiness: wait until the Service answers, as a learner would retry.
    await lab.eventually('web answers', async () => (await inClient(get('web', 8080))).stdout.includes('Welcome to nginx!'));
  }, 60_000);

  it('reaches a pod by its IP, from a pod on another node too', async () => {
    const web = lab.cluster.registry.list(lab.cluster.registry.lookup('', 'v1', 'pods')!, { namespace: ns, labelSelector: 'app=web' }).items;
    for (const pod of web) {
      const result = await inClient(get(String((pod.status as Record<string, unknown>)['podIP']), 80));
      expect(result.stdout).toContain('<title>Welcome to nginx!</title>');
    }
    // The pod's own address is on its eth0, with its default route through the node.
    const address = await inClient('cat /proc/net/fib_trie | grep -c ' + podIP('client'));
    expect(Number(address.stdout.trim())).toBeGreaterThan(0);
    // As on a kubenet node, eth0 is on the node's own pod range (its /24, the node's bridge), and
    // every other address goes through the node's gateway, other nodes' pods too.
    const [a, b, c] = podIP('client').split('.');
    const hex = (ip: string) => ip.split('.').reverse().map((octet) => Number(octet).toString(16).toUpperCase().padStart(2, '0')).join('');
    const routes = (await inClient('cat /proc/net/route')).stdout.split('\n').slice(1).map((line) => line.trim().split(/\s+/)).filter((fields) => fields.length > 7);
    expect(routes.map(([iface, destination, gateway, , , , , mask]) => `${iface} ${destination} ${gateway} ${mask}`).sort()).toEqual(
      [`eth0 00000000 ${hex(`${a}.${b}.${c}.1`)} 00000000`, `eth0 ${hex(`${a}.${b}.${c}.0`)} 00000000 00FFFFFF`].sort(),
    );
  });

  it('reaches a Service by name and by FQDN through its cluster IP, with the port translated to the target port', async () => {
    expect((await inClient(get('web', 8080))).stdout).toContain('Welcome to nginx!');
    expect((await inClient(get(`web.${ns}.svc.cluster.local`, 8080))).stdout).toContain('Welcome to nginx!');
    const lookup = await inClient(`busybox nslookup web.${ns}.svc.cluster.local`);
    const clusterIP = (await kubectl(['get', 'service', 'web', '-n', ns, '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
    expect(lookup.stdout).toContain(`Address: ${clusterIP}`);
    // wget as CKAD exercises type it, with upstream busybox's timeout option, in the pod's sh.
    const fetched = await inClient('wget -T 2 -qO- http://web:8080; echo "exit=$?"');
    expect(fetched.stdout, fetched.stderr).toContain('Welcome to nginx!');
    expect(fetched.stdout).toMatch(/\nexit=0\n$/);
    // Nothing listens on the Service's own port at the pods: only the cluster IP translates it.
    expect((await inClient(`${get(podIP('client'), 8080)} || echo failed`)).stdout).toContain('failed');
  });

  it('reaches a NodePort on every node’s InternalIP', async () => {
    const nodePort = (await kubectl(['get', 'service', 'web-np', '-n', ns, '-o', 'jsonpath={.spec.ports[0].nodePort}'])).stdout;
    const nodeIPs = (await kubectl(['get', 'nodes', '-o', 'jsonpath={.items[*].status.addresses[?(@.type=="InternalIP")].address}'])).stdout.split(' ');
    expect(nodeIPs.length).toBeGreaterThan(1);
    for (const ip of nodeIPs) expect((await inClient(get(ip, Number(nodePort)))).stdout).toContain('Welcome to nginx!');
  });

  it('answers a headless Service with its pods, and each StatefulSet pod by its name', async () => {
    const headless = await inClient('busybox nslookup db');
    expect(headless.stdout).toContain(`Address: ${podIP('db-0')}`);
    expect(headless.stdout).toContain(`Address: ${podIP('db-1')}`);
    const member = await inClient(`busybox nslookup db-1.db.${ns}.svc.cluster.local`);
    expect(member.stdout).toContain(`Address: ${podIP('db-1')}`);
    expect((await inClient(get('db-0.db', 80))).stdout).toContain('Welcome to nginx!');
  });

  it('answers NXDOMAIN for a name of the cluster zone that does not exist', async () => {
    const result = await inClient(`busybox nslookup nothing-here.${ns}.svc.cluster.local`);
    expect(result.code).not.toBe(0);
    expect(result.stdout + result.stderr).toContain(`can't find nothing-here.${ns}.svc.cluster.local: NXDOMAIN`);
    expect((await inClient('cat /etc/resolv.conf')).stdout).toBe(`search ${ns}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n`);
    expect((await inClient('env')).stdout).not.toMatch(/proxy=/i);
  });

  it('carries UDP through a Service to the pod that answers', async () => {
    const result = await kubectl(['exec', '-n', ns, 'py', '--', 'python3', '-c', "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\ns.settimeout(2)\ns.sendto(b'ping', ('echo', 53000))\nprint(s.recvfrom(512)[0].decode())"]);
    expect(result.stdout.trim(), result.stderr).toBe('echo:ping');
  });

  it('reaches the API server at kubernetes.default.svc and at KUBERNETES_SERVICE_HOST, verified with the pod’s CA', async () => {
    const script = [
      'import os, ssl, urllib.request',
      "sa = '/var/run/secrets/kubernetes.io/serviceaccount'",
      "context = ssl.create_default_context(cafile=sa + '/ca.crt')",
      "token = open(sa + '/token').read()",
      "for url in ['https://kubernetes.default.svc/version', 'https://' + os.environ['KUBERNETES_SERVICE_HOST'] + ':' + os.environ['KUBERNETES_SERVICE_PORT'] + '/version']:",
      "    print(urllib.request.urlopen(urllib.request.Request(url, headers={'Authorization': 'Bearer ' + token}), context=context, timeout=5).status)",
    ].join('\n');
    const result = await kubectl(['exec', '-n', ns, 'py', '--', 'python3', '-c', script]);
    expect(result.stdout.trim().split('\n'), result.stderr).toEqual(['200', '200']);
  });

  it('drops what a NetworkPolicy does not allow, and carries what it does', async () => {
    const deny = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web-from-clients, namespace: ${ns} }
spec:
  podSelector: { matchLabels: { app: web } }
  policyTypes: [Ingress]
  ingress: [{ from: [{ podSelector: { matchLabels: { role: allowed } } }], ports: [{ port: 80 }] }]
`;
    expect((await lab.kubectl(['apply', '-f', '-'], { stdin: deny, binary })).code).toBe(0);
    // A dropped SYN: nothing answers, and nc gives up at its timeout.
    await lab.eventually('web dropped', async () => (await inClient(`${get('web', 8080)}; echo " exit=$?"`)).stdout.match(/^ exit=[1-9]/));
    // wget's timeout gives up on the dropped connection as upstream busybox's does, leaving no wget behind.
    const web = lab.cluster.registry.list(lab.cluster.registry.lookup('', 'v1', 'pods')!, { namespace: ns, labelSelector: 'app=web' }).items[0]!;
    const byIP = await inClient(`wget -T 1 -qO- http://${String((web.status as Record<string, unknown>)['podIP'])}; echo "exit=$?"; ps -o args | grep -c '^busybox wge[u]' || true`);
    expect([byIP.stdout, byIP.stderr]).toEqual(['exit=1\n0\n', 'wget: download timed out\n']);
    const spider = await inClient('wget --timeout=1 --spider http://web:8080; echo "exit=$?"');
    expect(spider.stdout).toBe('exit=1\n');
    expect(spider.stderr).toMatch(/^Connecting to web:8080 \([0-9.]+:8080\)\nwget: download timed out\n$/);
    expect((await kubectl(['label', 'pod', 'client', '-n', ns, 'role=allowed', '--overwrite'])).code).toBe(0);
    await lab.eventually('web allowed', async () => (await inClient(get('web', 8080))).stdout.includes('Welcome to nginx!'));
    // Other pods stay unaffected: the StatefulSet's pods are not selected.
    expect((await inClient(get('db-0.db', 80))).stdout).toContain('Welcome to nginx!');
  });
});
