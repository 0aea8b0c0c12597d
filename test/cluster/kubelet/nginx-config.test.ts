// Where the simulated nginx listens, as its configuration says, driven by real kubectl 1.27 and
// 1.33: a ConfigMap over conf.d with `listen 8080` moves it off 80 (its readiness probe on 8080
// passes), an nginx.conf mounted with subPath decides alone, and `listen 8443 ssl` with a TLS
// Secret's certificate serves TLS with that very certificate; an image whose own configuration
// names a certificate no volume provides stops at start with nginx's [emerg] line, as
// bprashanth/nginxhttps does without its Secret.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { condition, containerStatus, type KubeletCluster, startKubeletCluster, versionedKubectl } from './harness.ts';

let lab: KubeletCluster;
const keys = mkdtempSync(join(tmpdir(), 'formicary-nginx-tls-'));

beforeAll(async () => {
  lab = await startKubeletCluster();
  execFileSync('openssl', ['req', '-x509', '-nodes', '-days', '1', '-newkey', 'rsa:2048', '-keyout', join(keys, 'tls.key'), '-out', join(keys, 'tls.crt'), '-subj', '/CN=web'], { stdio: 'ignore' });
}, 60_000);
afterAll(async () => {
  await lab?.stop();
});

const CONF = 'server {\n  listen 80;\n  listen 8443 ssl;  # TLS here\n  ssl_certificate /etc/nginx/certs/tls.crt;\n  ssl_certificate_key "/etc/nginx/certs/tls.key";\n}\n';

const manifests = `
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports: [{containerPort: 8443}]
    volumeMounts:
    - {name: conf, mountPath: /etc/nginx/conf.d}
    - {name: certs, mountPath: /etc/nginx/certs}
  volumes:
  - {name: conf, configMap: {name: web-conf}}
  - {name: certs, secret: {secretName: web-tls}}
---
apiVersion: v1
kind: Pod
metadata: {name: moved}
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    ports: [{containerPort: 8080}]
    readinessProbe: {httpGet: {path: /, port: 8080}, periodSeconds: 1}
    volumeMounts: [{name: conf, mountPath: /etc/nginx/conf.d}]
  volumes: [{name: conf, configMap: {name: moved-conf}}]
---
apiVersion: v1
kind: Pod
metadata: {name: main-conf}
spec:
  containers:
  - name: nginx
    image: nginx:1.27
    volumeMounts: [{name: conf, mountPath: /etc/nginx/nginx.conf, subPath: nginx.conf}]
  volumes: [{name: conf, configMap: {name: main-conf}}]
---
apiVersion: v1
kind: Pod
metadata: {name: bare}
spec:
  containers: [{name: nginxhttps, image: bprashanth/nginxhttps:1.0}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers: [{name: curl, image: curlimages/curl, command: [sleep, '3600']}]
`;

describe.each(['1.27', '1.33'])('with kubectl %s', (version) => {
  const ns = `tls-${version.replace('.', '-')}`;
  const binary = versionedKubectl(version);
  const kubectl = (args: string[], stdin?: string) => lab.kubectl(args, { binary, ...(stdin === undefined ? {} : { stdin }) });

  beforeAll(async () => {
    expect((await kubectl(['create', 'namespace', ns])).code).toBe(0);
    await lab.serviceAccountReady(ns);
    expect((await kubectl(['create', 'configmap', 'web-conf', '-n', ns, '--from-literal', `default.conf=${CONF}`])).code).toBe(0);
    expect((await kubectl(['create', 'configmap', 'moved-conf', '-n', ns, '--from-literal', 'default.conf=server { listen 8080; }'])).code).toBe(0);
    const main = 'events {}\nhttp {\n  server {\n    listen 9090;\n  }\n}\nstream {\n  server { listen 7000; }\n}\n';
    expect((await kubectl(['create', 'configmap', 'main-conf', '-n', ns, '--from-literal', `nginx.conf=${main}`])).code).toBe(0);
    expect((await kubectl(['create', 'secret', 'tls', 'web-tls', '-n', ns, '--cert', join(keys, 'tls.crt'), '--key', join(keys, 'tls.key')])).code).toBe(0);
    const applied = await kubectl(['apply', '-n', ns, '-f', '-'], manifests);
    expect(applied.code, applied.stderr).toBe(0);
    for (const name of ['web', 'client', 'moved', 'main-conf']) await lab.until(`${name} Ready`, () => condition(lab.pod(ns, name), 'Ready') === 'True', 60_000);
  }, 120_000);

  const ipOf = (name: string) => String((lab.pod(ns, name)?.status as Record<string, unknown>)['podIP']);
  const curl = (url: string) => kubectl(['exec', '-n', ns, 'client', '--', 'curl', '-s', '--max-time', '5', url]);

  it('listens where conf.d says instead of 80, and its readiness probe there passes', async () => {
    expect((await curl(`http://${ipOf('moved')}:8080/`)).stdout).toContain('<title>Welcome to nginx!</title>');
    // Nothing listens on 80 any more: refused at once (curl exit 7).
    expect((await curl(`http://${ipOf('moved')}/`)).code).toBe(7);
    expect(condition(lab.pod(ns, 'moved'), 'Ready')).toBe('True');
  });

  it('listens where a mounted nginx.conf says, its http servers only', async () => {
    expect((await curl(`http://${ipOf('main-conf')}:9090/`)).stdout).toContain('<title>Welcome to nginx!</title>');
    expect((await curl(`http://${ipOf('main-conf')}/`)).code).toBe(7);
    expect((await curl(`http://${ipOf('main-conf')}:7000/`)).code).toBe(7);
  });

  it('serves HTTPS on the port its conf.d says, with the Secret’s certificate', async () => {
    const ip = String((lab.pod(ns, 'web')?.status as Record<string, unknown>)['podIP']);
    const page = await kubectl(['exec', '-n', ns, 'client', '--', 'curl', '-sk', `https://${ip}:8443/`]);
    expect(page.stdout).toContain('<title>Welcome to nginx!</title>');
    // The certificate served is the Secret's: curl trusts it as its own CA (its name is web, not the IP).
    const served = await lab.kubectl(['exec', '-i', '-n', ns, 'client', '--', 'sh', '-c', `cat > /tmp/ca.crt && curl -s --connect-to web:8443:${ip}:8443 --cacert /tmp/ca.crt https://web:8443/`], {
      binary,
      stdin: readFileSync(join(keys, 'tls.crt'), 'utf8'),
    });
    expect(served.code, served.stderr).toBe(0);
    expect(served.stdout).toContain('<title>Welcome to nginx!</title>');
  });

  it('stops nginx at start when the certificate its configuration names is not there', async () => {
    await lab.until('bare has exited', () => containerStatus(lab.pod(ns, 'bare'))?.['lastState']?.terminated ?? containerStatus(lab.pod(ns, 'bare'))?.['state']?.terminated, 60_000);
    const logs = await kubectl(['logs', '-n', ns, 'bare', ...(containerStatus(lab.pod(ns, 'bare'))?.['lastState']?.terminated ? ['--previous'] : [])]);
    expect(logs.stdout).toBe(
      'nginx: [emerg] cannot load certificate "/etc/nginx/ssl/nginx.crt": BIO_new_file() failed (SSL: error:80000002:system library::No such file or directory:calling fopen(/etc/nginx/ssl/nginx.crt, r) error:10000080:BIO routines::no such file)\n',
    );
  });
});
