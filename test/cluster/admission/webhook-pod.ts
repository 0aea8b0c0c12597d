// What the admission webhook tests share: a CA and a serving certificate made with openssl as a
// learner would, and the webhook itself, a Python HTTPS server running as the pod `wh` (its script
// in the ConfigMap wh-server, its certificate in the TLS Secret wh-tls) until it is Ready.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import { condition, type KubeletCluster } from '../kubelet/harness.ts';

const run = promisify(execFile);

/** Makes ca.crt, tls.crt and tls.key in `dir` for `subjectAltName` (e.g. `DNS:wh.hooks.svc,IP:10.96.0.9`); the CA as a caBundle (base64). */
export async function servingCertificate(dir: string, commonName: string, subjectAltName: string): Promise<string> {
  const at = (name: string) => join(dir, name);
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('ca.key'), '-out', at('ca.crt'), '-days', '1', '-subj', '/CN=webhook-ca']);
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('tls.key'), '-out', at('tls.csr'), '-subj', `/CN=${commonName}`]);
  await run('bash', ['-c', `printf 'subjectAltName=${subjectAltName}\\n' > ${at('ext')} && openssl x509 -req -in ${at('tls.csr')} -CA ${at('ca.crt')} -CAkey ${at('ca.key')} -CAcreateserial -out ${at('tls.crt')} -days 1 -extfile ${at('ext')}`]);
  return Buffer.from(await readFile(at('ca.crt'), 'utf8')).toString('base64');
}

/** Runs `server` (Python, serving HTTPS on 8443 with /tls/tls.crt and /tls/tls.key) as the pod wh in `namespace`, with the certificate in `certDir`; resolves once it is Ready. */
export async function startWebhookPod(lab: KubeletCluster, namespace: string, certDir: string, server: string): Promise<void> {
  expect((await lab.kubectl(['-n', namespace, 'create', 'secret', 'tls', 'wh-tls', `--cert=${join(certDir, 'tls.crt')}`, `--key=${join(certDir, 'tls.key')}`])).code).toBe(0);
  await lab.apply(
    `apiVersion: v1
kind: ConfigMap
metadata: {name: wh-server}
data:
  server.py: ${JSON.stringify(server)}
---
apiVersion: v1
kind: Pod
metadata: {name: wh, labels: {app: wh}}
spec:
  containers:
  - name: server
    image: python:3.12
    command: [python3, /app/server.py]
    ports: [{containerPort: 8443}]
    readinessProbe: {tcpSocket: {port: 8443}, periodSeconds: 1}
    volumeMounts: [{name: tls, mountPath: /tls}, {name: app, mountPath: /app}]
  volumes:
  - {name: tls, secret: {secretName: wh-tls}}
  - {name: app, configMap: {name: wh-server}}
`,
    namespace,
  );
  await lab.until('the webhook pod ready', () => condition(lab.pod(namespace, 'wh'), 'Ready') === 'True', 60_000);
}
