// kubernetes.io "Debug Services", its walk-through in order: the hostnames Deployment (serve_hostname
// on 9376), its pods reached by IP from within a pod, the Service that does not exist yet, then
// exposed and checked by DNS name (short, namespaced, fully qualified), resolv.conf, the
// kubernetes Service by name, by cluster IP, its definition, its endpoints, and kube-proxy.
// "From within a pod" is a busybox:1.28 pod (the page's gcr.io/google-containers/busybox is taken to be
// gone with the retired registry, as the catalog has it); the page's `kubectl run -it ... sh`
// session is each command exec'd into it, the DNS lookups typed into its sh. Steps on a Node's own shell (nslookup against
// 10.0.0.10 from the node, `ps auxw | grep kube-proxy`, its log file) have no node shell here:
// kube-proxy is checked as kubectl shows it instead.
import { describe, expect, it } from 'vitest';
import { useConformanceCluster } from '../conformance/harness.ts';
import { addresses, expectResult, names, table } from '../conformance/output.ts';
import { KUBECTL, clientPod, eventually, inPod, settled } from './support.ts';

const c = useConformanceCluster();

type Json = Record<string, any>;

describe('Debug Services', () => {
  it('walks from the pods to the Service by IP, by DNS name and through its endpoints', { timeout: 240_000 }, async () => {
    const s = await c.sandbox('debug-svc');
    const ns = s.namespace;
    const k = (...args: string[]) => s.kubectl(KUBECTL, args, { timeoutMs: 60_000 });

    expectResult(await k('create', 'deployment', 'hostnames', '--image=registry.k8s.io/serve_hostname'), { code: 0, stdout: 'deployment.apps/hostnames created\n' });
    expectResult(await k('scale', 'deployment', 'hostnames', '--replicas=3'), { code: 0, stdout: 'deployment.apps/hostnames scaled\n' });
    await settled(c, s, 'hostnames', 3);
    expectResult(
      await k('get', 'pods', '-l', 'app=hostnames'),
      {
        code: 0,
        stdout: 'NAME                        READY   STATUS    RESTARTS   AGE\nhostnames-<hash>-<id>   1/1     Running   0          <age>\nhostnames-<hash>-<id>   1/1     Running   0          <age>\nhostnames-<hash>-<id>   1/1     Running   0          <age>\n',
      },
      (out) => table(names(out, 'hostnames')),
    );
    const ips = (await k('get', 'pods', '-l', 'app=hostnames', '-o', 'go-template={{range .items}}{{.status.podIP}}{{"\\n"}}{{end}}')).stdout.trim().split('\n');
    expect(ips).toHaveLength(3);
    for (const ip of ips) expect(ip).toMatch(/^10\.244\.\d+\.\d+$/);
    const podNames = (await k('get', 'pods', '-l', 'app=hostnames', '-o', 'go-template={{range .items}}{{.metadata.name}}{{"\\n"}}{{end}}')).stdout.trim().split('\n');

    await clientPod(c, s, 'busybox', 'busybox:1.28');
    // serve_hostname answers its pod's name without a newline, so the three answers run together.
    expectResult(await inPod(s, 'busybox', `for ep in ${ips.map((ip) => `${ip}:9376`).join(' ')}; do wget -qO- $ep; done`), { code: 0, stdout: podNames.join('') });

    // Does the Service exist?
    const missing = await inPod(s, 'busybox', 'wget -O- hostnames');
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("wget: bad address 'hostnames'");
    expectResult(await k('get', 'svc', 'hostnames'), { code: 1, stdout: '', stderr: 'Error from server (NotFound): services "hostnames" not found\n' });
    expectResult(await k('expose', 'deployment', 'hostnames', '--port=80', '--target-port=9376'), { code: 0, stdout: 'service/hostnames exposed\n' });
    expectResult(await k('get', 'svc', 'hostnames'), { code: 0, stdout: 'NAME        TYPE        CLUSTER-IP     EXTERNAL-IP   PORT(S)   AGE\nhostnames   ClusterIP   <cluster-ip>   <none>        80/TCP    <age>\n' }, (out) => table(addresses(out)));
    const clusterIP = ((c.get('', 'v1', 'services', ns, 'hostnames') as Json)['spec'].clusterIP) as string;

    // Does the Service work by DNS name? Each lookup is typed in the pod's sh, as in the page's
    // `kubectl run -it ... sh` session, and answers as busybox 1.28's nslookup did.
    const server = 'Server:    10.96.0.10\nAddress 1: 10.96.0.10 kube-dns.kube-system.svc.cluster.local\n\n';
    // A busy machine's DNS can answer a first query late: ask again, as a learner would.
    const nslookup = (name: string) => eventually(`nslookup ${name}`, async () => {
      const answer = await s.kubectl(KUBECTL, ['exec', '-i', 'busybox', '--', 'sh'], { stdin: `nslookup ${name}\nexit $?\n`, timeoutMs: 60_000 });
      return answer.code === 0 && answer.stdout.startsWith(server) ? answer : undefined;
    });
    for (const name of ['hostnames', `hostnames.${ns}`, `hostnames.${ns}.svc.cluster.local`]) {
      expectResult(await nslookup(name), { code: 0, stdout: `${server}Name:      ${name}\nAddress 1: ${clusterIP} hostnames.${ns}.svc.cluster.local\n` });
    }
    expectResult(await inPod(s, 'busybox', 'cat /etc/resolv.conf'), { code: 0, stdout: `search ${ns}.svc.cluster.local svc.cluster.local cluster.local\nnameserver 10.96.0.10\noptions ndots:5\n` });
    expectResult(await nslookup('kubernetes.default'), { code: 0, stdout: `${server}Name:      kubernetes.default\nAddress 1: 10.96.0.1 kubernetes.default.svc.cluster.local\n` });

    // Does the Service work by IP? Each answer is one of the pods' names.
    await eventually('the Service has three endpoints', async () => (await k('get', 'endpoints', 'hostnames', '-o', 'jsonpath={.subsets[0].addresses[*].ip}')).stdout.split(' ').length === 3 || undefined);
    const byIP = await inPod(s, 'busybox', `for i in $(seq 1 3); do wget -qO- ${clusterIP}:80; echo; done`);
    expect(byIP.code).toBe(0);
    for (const line of byIP.stdout.trim().split('\n')) expect(podNames).toContain(line);

    // Is the Service defined correctly?
    const service = JSON.parse((await k('get', 'service', 'hostnames', '-o', 'json')).stdout) as Json;
    expect(service).toMatchObject({
      kind: 'Service',
      apiVersion: 'v1',
      metadata: { name: 'hostnames', namespace: ns, labels: { app: 'hostnames' } },
      spec: { ports: [{ protocol: 'TCP', port: 80, targetPort: 9376 }], selector: { app: 'hostnames' }, clusterIP, type: 'ClusterIP', sessionAffinity: 'None' },
      status: { loadBalancer: {} },
    });

    // Does the Service have any Endpoints?
    const endpoints = await k('get', 'endpoints', 'hostnames');
    expect(endpoints.code).toBe(0);
    expect(endpoints.stderr).toBe('Warning: v1 Endpoints is deprecated in v1.33+; use discovery.k8s.io/v1 EndpointSlice\n');
    const row = /^NAME +ENDPOINTS +AGE\nhostnames +(\S+) +\d+s\n$/.exec(endpoints.stdout);
    expect(row?.[1]?.split(',').sort()).toEqual(ips.map((ip) => `${ip}:9376`).sort());

    // Are the Pods working? The endpoints, by their pod port.
    expectResult(await inPod(s, 'busybox', `for ep in ${row?.[1]?.split(',').join(' ')}; do wget -qO- $ep; echo; done`), { code: 0, stdout: `${(row?.[1] ?? '').split(',').map((ep) => podNames[ips.indexOf(ep.split(':')[0] ?? '')]).join('\n')}\n` });

    // Is kube-proxy running? One per node, as kubectl sees it.
    const proxies = await c.kubectl(KUBECTL, ['get', 'pods', '-n', 'kube-system', '-l', 'k8s-app=kube-proxy', '-o', 'wide', '--no-headers']);
    const rows = proxies.stdout.trim().split('\n');
    expect(rows).toHaveLength(c.list('', 'v1', 'nodes').length);
    for (const line of rows) expect(line).toMatch(/^kube-proxy-\w{5} +1\/1 +Running +0 +/);
  });
});
