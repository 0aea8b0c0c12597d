// kubernetes.io "Connecting Applications with Services", the DNS part (its first part, the
// my-nginx Deployment, its pods' addresses, the Service, its EndpointSlice and the environment
// variables, is test/cluster/conformance/tutorials.test.ts): the cluster DNS Service, then the
// page's busybox:1.37 pod looking my-nginx up, and the Service reached by name. busybox 1.37's
// nslookup answers in its own format (one block per search domain, exit 1 when any of them is
// NXDOMAIN), as it does on any cluster; the page still shows the 1.28 format.
// Then "Securing the Service" and "Exposing the Service": a self-signed certificate made with
// openssl on the learner's machine, the TLS Secret and the default.conf ConfigMap, the
// nginx-secure-app Deployment (bprashanth/nginxhttps) answering HTTPS on 443 with that
// certificate, reached by pod IP with -k, by the Service's name from the curl pod with the
// certificate as CA, and on the https NodePort; the tutorial's "node $" is the curl pod.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useConformanceCluster } from '../conformance/harness.ts';
import { expectResult, text } from '../conformance/output.ts';
import { KUBECTL, MY_NGINX, clientPod, eventually, inPod, isReady, nodeIPs, podsOf, settled } from './support.ts';

const c = useConformanceCluster();

/** The page's default.conf (from the examples repository it links), as the learner saves it. */
const DEFAULT_CONF = text`
  server {
          listen 80 default_server;
          listen [::]:80 default_server ipv6only=on;

          listen 443 ssl;

          root /usr/share/nginx/html;
          index index.html;

          server_name localhost;
          ssl_certificate /etc/nginx/ssl/tls.crt;
          ssl_certificate_key /etc/nginx/ssl/tls.key;

          location / {
                  try_files $uri $uri/ =404;
          }
  }
`;

/** The page's nginx-secure-app.yaml. */
const SECURE_APP = text`
  apiVersion: v1
  kind: Service
  metadata:
    name: my-nginx
    labels:
      run: my-nginx
  spec:
    type: NodePort
    ports:
    - port: 8080
      targetPort: 80
      protocol: TCP
      name: http
    - port: 443
      protocol: TCP
      name: https
    selector:
      run: my-nginx
  ---
  apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: my-nginx
  spec:
    selector:
      matchLabels:
        run: my-nginx
    replicas: 1
    template:
      metadata:
        labels:
          run: my-nginx
      spec:
        volumes:
        - name: secret-volume
          secret:
            secretName: nginxsecret
        - name: configmap-volume
          configMap:
            name: nginxconfigmap
        containers:
        - name: nginxhttps
          image: bprashanth/nginxhttps:1.0
          ports:
          - containerPort: 443
          - containerPort: 80
          volumeMounts:
          - mountPath: /etc/nginx/ssl
            name: secret-volume
          - mountPath: /etc/nginx/conf.d
            name: configmap-volume
`;

/** The page's curlpod.yaml. */
const CURL_POD = text`
  apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: curl-deployment
  spec:
    selector:
      matchLabels:
        app: curlpod
    replicas: 1
    template:
      metadata:
        labels:
          app: curlpod
      spec:
        volumes:
        - name: secret-volume
          secret:
            secretName: nginxsecret
        containers:
        - name: curlpod
          command:
          - sh
          - -c
          - while true; do sleep 1; done
          image: radial/busyboxplus:curl
          volumeMounts:
          - mountPath: /etc/nginx/ssl
            name: secret-volume
`;

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

  it('secures the Service with a TLS Secret and an nginx.conf ConfigMap, and serves HTTPS by pod IP, by name and on the NodePort', { timeout: 180_000 }, async () => {
    const s = await c.sandbox('securing');
    const k = (...args: string[]) => s.kubectl(KUBECTL, args, { timeoutMs: 60_000 });
    expectResult(await k('apply', '-f', await s.writeFile('run-my-nginx.yaml', MY_NGINX)), { code: 0, stdout: 'deployment.apps/my-nginx created\n' });
    expectResult(await k('expose', 'deployment/my-nginx'), { code: 0, stdout: 'service/my-nginx exposed\n' });

    // The manual steps: a key pair for CN=my-nginx on the learner's machine.
    const key = join(s.dir, 'nginx.key');
    const cert = join(s.dir, 'nginx.crt');
    execFileSync('openssl', ['req', '-x509', '-nodes', '-days', '365', '-newkey', 'rsa:2048', '-keyout', key, '-out', cert, '-subj', '/CN=my-nginx/O=my-nginx'], { stdio: 'ignore' });
    expectResult(await k('create', 'secret', 'tls', 'nginxsecret', '--key', key, '--cert', cert), { code: 0, stdout: 'secret/nginxsecret created\n' });
    expect((await k('get', 'secrets')).stdout).toMatch(/\nnginxsecret +kubernetes\.io\/tls +2 +\d+s\n/);
    await s.writeFile('default.conf', DEFAULT_CONF);
    const configMap = await k('create', 'configmap', 'nginxconfigmap', '--from-file=default.conf');
    expectResult(configMap, { code: 0, stdout: 'configmap/nginxconfigmap created\n' });
    expect((await k('get', 'configmaps', 'nginxconfigmap')).stdout).toMatch(/^NAME +DATA +AGE\nnginxconfigmap +1 +\d+s\n$/);
    expect((await k('describe', 'configmap', 'nginxconfigmap')).stdout).toContain(`default.conf:\n----\n${DEFAULT_CONF}`);

    expectResult(await k('delete', 'deployments,svc', 'my-nginx'), { code: 0, stdout: 'deployment.apps "my-nginx" deleted\nservice "my-nginx" deleted\n' });
    await c.until('the old pods gone', () => podsOf(c, s, 'run=my-nginx').length === 0);
    expectResult(await k('create', '-f', await s.writeFile('nginx-secure-app.yaml', SECURE_APP)), { code: 0, stdout: 'service/my-nginx created\ndeployment.apps/my-nginx created\n' });
    await settled(c, s, 'my-nginx', 1);
    const ips = await k('get', 'pods', '-l', 'run=my-nginx', '-o', 'custom-columns=POD_IP:.status.podIPs');
    const podIP = /^POD_IP\n\[map\[ip:(10\.244\.\d+\.\d+)\]\]\n$/.exec(ips.stdout)?.[1];
    expect(podIP, ips.stdout).toBeDefined();

    expectResult(await k('apply', '-f', await s.writeFile('curlpod.yaml', CURL_POD)), { code: 0, stdout: 'deployment.apps/curl-deployment created\n' });
    await settled(c, s, 'curl-deployment', 1);
    const curlPod = await c.until('the curl pod ready', () => podsOf(c, s, 'app=curlpod').find(isReady)?.['metadata'].name as string | undefined);
    expect((await k('get', 'pods', '-l', 'app=curlpod')).stdout).toMatch(new RegExp(`\\n${curlPod} +1/1 +Running +0 +`));

    // "node $ curl -k https://10.244.3.5": the certificate names my-nginx, not the pod, hence -k.
    expect((await inPod(s, curlPod, `curl -sk https://${podIP}`)).stdout).toContain('<h1>Welcome to nginx!</h1>');
    // By the Service's name, the certificate checked against itself as CA.
    const byName = await eventually('https://my-nginx answers', async () => {
      const result = await k('exec', curlPod, '--', 'curl', '-s', 'https://my-nginx', '--cacert', '/etc/nginx/ssl/tls.crt');
      return result.code === 0 ? result : undefined;
    });
    expect(byName.stdout).toContain('<title>Welcome to nginx!</title>');
    // Without the CA it is a self-signed certificate curl refuses (exit 60): TLS, really.
    expect((await inPod(s, curlPod, 'curl -s https://my-nginx')).code).toBe(60);
    // Plain HTTP still answers on the Service's 8080.
    expect((await inPod(s, curlPod, 'curl -s http://my-nginx:8080')).stdout).toContain('<h1>Welcome to nginx!</h1>');

    // Exposing the Service: the https NodePort on a node's address, with -k.
    const httpsNodePort = (await k('get', 'svc', 'my-nginx', '-o', 'jsonpath={.spec.ports[?(@.name=="https")].nodePort}')).stdout;
    expect(httpsNodePort).toMatch(/^3\d{4}$/);
    const [node] = nodeIPs(c);
    expect((await inPod(s, curlPod, `curl -sk https://${node}:${httpsNodePort}`)).stdout).toContain('<h1>Welcome to nginx!</h1>');
  });
});
