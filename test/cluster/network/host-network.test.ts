// hostNetwork pods are on the node's network, as on a cluster: the node's network namespace (the
// cluster's, never the host machine's), the node's InternalIP as their pod IP and address, the
// node's name as hostname, Services reached through kube-proxy's rules, their own servers on the
// node's address for pods and for the kubelet's probes.
import { readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { condition, type KubeletCluster, startKubeletCluster } from '../kubelet/harness.ts';

let lab: KubeletCluster;
const ns = 'hostnet';

beforeAll(async () => {
  lab = await startKubeletCluster();
  expect((await lab.kubectl(['create', 'namespace', ns])).code).toBe(0);
  await lab.serviceAccountReady(ns);
  await lab.apply(
    `apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: nginx, image: nginx:1.27, ports: [{containerPort: 80}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {selector: {app: web}, ports: [{port: 8080, targetPort: 80}]}
---
apiVersion: v1
kind: Pod
metadata: {name: node-shell}
spec:
  hostNetwork: true
  # A hostNetwork pod's ClusterFirst is the node's resolver: cluster names need this policy.
  dnsPolicy: ClusterFirstWithHostNet
  containers: [{name: shell, image: busybox, command: [sleep, '3600']}]
---
apiVersion: v1
kind: Pod
metadata: {name: node-server}
spec:
  hostNetwork: true
  containers:
  - name: web
    image: python:3.12
    command: [python3, -m, http.server, '18080']
    readinessProbe: {httpGet: {path: /, port: 18080}, periodSeconds: 10}
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec: {containers: [{name: shell, image: busybox, command: [sleep, '3600']}]}
`,
    ns,
  );
  for (const name of ['node-shell', 'node-server', 'client']) await lab.until(`${name} Ready`, () => condition(lab.pod(ns, name), 'Ready') === 'True', 60_000);
}, 120_000);
afterAll(async () => {
  await lab?.stop();
});

const status = (name: string) => ({ hostIP: '', podIP: '', ...(lab.pod(ns, name)?.status as Record<string, string> | undefined) });
const exec = (pod: string, script: string) => lab.kubectl(['exec', '-n', ns, pod, '--', 'sh', '-c', script]);

describe('hostNetwork pods', () => {
  it("have the node's address, name and network namespace, which is never the host machine's", async () => {
    const { hostIP, podIP } = status('node-shell');
    expect(podIP).toBe(hostIP);
    const nodeName = String((lab.pod(ns, 'node-shell')?.spec as Record<string, unknown>)['nodeName']);
    const addresses = await exec('node-shell', 'ip -o addr');
    expect(addresses.stdout).toMatch(new RegExp(`\\binet ${hostIP.replaceAll('.', '\\.')}/32\\b`));
    expect((await exec('node-shell', 'hostname; hostname -i')).stdout).toBe(`${nodeName}\n${hostIP}\n`);
    // The node's namespace holds the pod network's bridges (one a node) and nothing of the host machine's.
    const links = (await exec('node-shell', "ip -o link | awk -F': ' '{print $2}'")).stdout.trim().split('\n').map((link) => link.replace(/@.*/, ''));
    const ranges = lab.cluster.registry.list(lab.cluster.registry.lookup('', 'v1', 'nodes')!, {}).items.map((node) => String((node.spec as Record<string, unknown>)['podCIDR']));
    expect(ranges.length).toBeGreaterThan(1);
    for (const range of ranges) expect(links).toContain(`cbr${range.split('.')[2]}`);
    expect(links.filter((link) => link !== 'lo' && !/^cbr\d+$/.test(link) && !link.startsWith('veth'))).toEqual([]);
    const netns = (await exec('node-shell', 'readlink /proc/self/ns/net')).stdout.trim();
    expect(netns).toMatch(/^net:\[\d+\]$/);
    expect(netns).not.toBe(readlinkSync('/proc/self/ns/net'));
    // A pod on the pod network has a namespace of its own.
    expect((await exec('client', 'readlink /proc/self/ns/net')).stdout.trim()).not.toBe(netns);
  });

  it('reach a Service by name through its cluster IP (with dnsPolicy ClusterFirstWithHostNet)', async () => {
    await lab.eventually('web answers the node', async () => (await exec('node-shell', `wget -q -O - http://web.${ns}.svc.cluster.local:8080/ 2>&1`)).stdout.includes('Welcome to nginx!'));
  });

  it("are probed at the node's loopback, where the kubelet reaches them: the control plane's static pods are Ready, a pod on the pod network is not", async () => {
    // kubeadm's static pods are probed at 127.0.0.1 (etcd's /readyz on 2381, the API server's on 6443).
    for (const name of ['etcd-node-1', 'kube-apiserver-node-1', 'kube-controller-manager-node-1', 'kube-scheduler-node-1']) {
      await lab.until(`${name} Ready`, () => condition(lab.pod('kube-system', name), 'Ready') === 'True', 30_000);
    }
    const probed = (name: string, hostNetwork: boolean) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  hostNetwork: ${hostNetwork}
  containers: [{name: web, image: nginx:1.27, readinessProbe: {httpGet: {host: 127.0.0.1, path: /, port: 80}, periodSeconds: 1}}]
`;
    await lab.apply(probed('loopback-on-node', true), ns);
    await lab.apply(probed('loopback-in-pod', false), ns);
    await lab.until('loopback-on-node Ready', () => condition(lab.pod(ns, 'loopback-on-node'), 'Ready') === 'True', 30_000);
    // The kubelet's 127.0.0.1 is the node's, not the pod's: the probe is refused, as upstream's is.
    await lab.eventually('loopback-in-pod refused', async () => (await lab.kubectl(['get', 'events', '-n', ns, '--field-selector', 'involvedObject.name=loopback-in-pod,reason=Unhealthy', '-o', 'jsonpath={.items[*].message}'])).stdout.includes('Readiness probe failed: Get "http://127.0.0.1:80/": dial tcp 127.0.0.1:80: connect: connection refused'));
    expect(condition(lab.pod(ns, 'loopback-in-pod'), 'Ready')).toBe('False');
  }, 90_000);

  it("serve on the node's address: pods reach them there, and the kubelet's httpGet probe made them Ready", async () => {
    const { hostIP } = status('node-server');
    expect(status('node-server').podIP).toBe(hostIP);
    const answer = await exec('client', `wget -q -O - http://${hostIP}:18080/ | head -c 200`);
    expect(answer.stdout).toContain('Directory listing');
  });
});
