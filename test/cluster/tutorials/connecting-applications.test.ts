// kubernetes.io "Connecting Applications with Services", the DNS part (its first part, the
// my-nginx Deployment, its pods' addresses, the Service, its EndpointSlice and the environment
// variables, is test/cluster/conformance/tutorials.test.ts): the cluster DNS Service, then the
// page's busybox:1.37 pod looking my-nginx up, and the Service reached by name. busybox 1.37's
// nslookup answers in its own format (one block per search domain, exit 1 when any of them is
// NXDOMAIN), as it does on any cluster; the page still shows the 1.28 format.
// Not here: "Securing the Service" (the report lists it): bprashanth/nginxhttps is not in the
// image catalog, so its pods serve nothing on 80 or 443.
import { describe, expect, it } from 'vitest';
import { useConformanceCluster } from '../conformance/harness.ts';
import { expectResult } from '../conformance/output.ts';
import { KUBECTL, MY_NGINX, clientPod, inPod, settled } from './support.ts';

const c = useConformanceCluster();

describe('Connecting Applications with Services', () => {
  it('finds my-nginx by DNS from a busybox pod and reaches it by name', { timeout: 120_000 }, async () => {
    const s = await c.sandbox('connecting');
    const k = (...args: string[]) => s.kubectl(KUBECTL, args, { timeoutMs: 60_000 });
    expectResult(await k('apply', '-f', await s.writeFile('run-my-nginx.yaml', MY_NGINX)), { code: 0, stdout: 'deployment.apps/my-nginx created\n' });
    expectResult(await k('expose', 'deployment/my-nginx'), { code: 0, stdout: 'service/my-nginx exposed\n' });
    await settled(c, s, 'my-nginx', 2);
    expect((await k('get', 'services', 'kube-dns', '--namespace=kube-system')).stdout).toMatch(/\nkube-dns +ClusterIP +10\.96\.0\.10 +<none> +53\/UDP,53\/TCP,9153\/TCP +/);

    const clusterIP = (c.get('', 'v1', 'services', s.namespace, 'my-nginx')?.spec as { clusterIP: string }).clusterIP;
    await clientPod(c, s, 'dns-test', 'busybox:1.37');
    const lookup = await inPod(s, 'dns-test', 'nslookup my-nginx');
    expect(lookup.stdout).toBe(
      [
        'Server:\t\t10.96.0.10',
        'Address:\t10.96.0.10:53',
        '',
        `Name:\tmy-nginx.${s.namespace}.svc.cluster.local`,
        `Address: ${clusterIP}`,
        '',
        '** server can\'t find my-nginx.svc.cluster.local: NXDOMAIN',
        '',
        '** server can\'t find my-nginx.cluster.local: NXDOMAIN',
        '',
        '',
        '** server can\'t find my-nginx.svc.cluster.local: NXDOMAIN',
        '',
        '** server can\'t find my-nginx.cluster.local: NXDOMAIN',
        '',
        '',
      ].join('\n'),
    );
    expect(lookup.code).toBe(1);

    const page = await inPod(s, 'dns-test', 'wget -qO- my-nginx');
    expect(page.code).toBe(0);
    expect(page.stdout).toContain('<title>Welcome to nginx!</title>');
  });
});
