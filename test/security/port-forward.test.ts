// pods/portforward and pods/exec tried across sandboxes with a learner's own token: kubectl, a raw
// SPDY upgrade and both WebSocket forms (channels and SPDY tunnelled) into another learner's pod are
// refused with upstream's Forbidden Status, before anything reaches the pod; the same learner
// forwards to its own pod, so the refusal means something.
import { once } from 'node:events';
import * as https from 'node:https';
import { connect, type Socket } from 'node:net';
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { kubectlBinary } from '../cluster/apiserver/harness.ts';
import { startSecurityFixture, type Learner, type SecurityFixture } from './learner.ts';

const webLab = {
  'lab.yaml': `title: A web pod
summary: The learner forwards a port to nginx.
duration: 5
timeLimit: 30
setup:
  manifests: [setup/web.yaml]
steps:
  - id: look
    title: Look
    instructions: Forward a port.
    checks:
      - kind: exists
        resource: pod
        name: web
        passesBefore: true
    solution:
      - kubectl get pods
`,
  // Sandboxes enforce the restricted Pod Security level.
  'setup/web.yaml': `apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  securityContext: {runAsNonRoot: true, runAsUser: 101, seccompProfile: {type: RuntimeDefault}}
  containers:
    - name: nginx
      image: nginx
      ports: [{containerPort: 80}]
      securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}
`,
};

let fixture: SecurityFixture;
let intruder: Learner;
let victim: Learner;

beforeAll(async () => {
  fixture = await startSecurityFixture({ web: webLab });
  [intruder, victim] = await Promise.all([fixture.learner('web'), fixture.learner('web')]);
  for (const learner of [intruder, victim]) {
    const ready = await fixture.admin(['wait', '--for=condition=Ready', 'pod/web', '-n', learner.namespace, '--timeout=60s']);
    expect(ready.code, ready.stderr).toBe(0);
  }
}, 120_000);
afterAll(async () => {
  await fixture?.stop();
});

function forbidden(subresource: string): string {
  return `pods "web" is forbidden: User "${intruder.username}" cannot create resource "pods/${subresource}" in API group "" in the namespace "${victim.namespace}"`;
}

/** An upgrade request with the learner's token, answered with a status and body (never upgraded here). */
async function upgrade(learner: Learner, path: string, method: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const config = new KubeConfig();
  config.loadFromFile(learner.kubeconfig);
  const options: https.RequestOptions = {};
  await config.applyToHTTPSOptions(options);
  const server = new URL(config.getCurrentCluster()?.server ?? '');
  return new Promise((resolve, reject) => {
    const request = https.request({ ...options, host: server.hostname, port: server.port, path, method, headers: { ...options.headers, Connection: 'Upgrade', ...headers } });
    request.on('response', (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    });
    request.on('upgrade', (response, socket) => {
      socket.destroy();
      resolve({ status: response.statusCode ?? 0, body: '' });
    });
    request.on('error', reject);
    request.end();
  });
}

describe('port-forward and exec into another sandbox’s pod', () => {
  it('refuses a SPDY port-forward with upstream’s Forbidden Status', async () => {
    const answer = await upgrade(intruder, `/api/v1/namespaces/${victim.namespace}/pods/web/portforward`, 'POST', { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'portforward.k8s.io' });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Forbidden', code: 403, message: forbidden('portforward') });
  });

  it.each([['channels', 'v4.channel.k8s.io'], ['SPDY tunnelled', 'SPDY/3.1+portforward.k8s.io']])('refuses a WebSocket port-forward (%s)', async (_form, protocol) => {
    const answer = await upgrade(intruder, `/api/v1/namespaces/${victim.namespace}/pods/web/portforward?ports=80`, 'GET', {
      Upgrade: 'websocket',
      'Sec-WebSocket-Version': '13',
      'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
      'Sec-WebSocket-Protocol': protocol,
    });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({ reason: 'Forbidden', message: forbidden('portforward') });
  });

  it('refuses a SPDY exec (kubectl 1.27’s transport) the same way', async () => {
    const answer = await upgrade(intruder, `/api/v1/namespaces/${victim.namespace}/pods/web/exec?command=id&stdout=true`, 'POST', { Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': 'v4.channel.k8s.io' });
    expect(answer.status).toBe(403);
    expect(JSON.parse(answer.body)).toMatchObject({ reason: 'Forbidden', message: forbidden('exec') });
  });

  it('holds one pod to 64 forwarded connections at once (each is a process on the node)', async () => {
    const child = spawn(kubectlBinary('1.27'), ['--kubeconfig', intruder.kubeconfig, 'port-forward', 'pod/web', ':80'], { env: { ...process.env, HOME: join(fixture.cluster.dir, 'home-many'), KUBECONFIG: '' } });
    const sockets: Socket[] = [];
    try {
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
          if (match) resolve(Number(match[1]));
        });
        child.once('exit', (code) => reject(new Error(`kubectl port-forward exited ${code}`)));
      });
      // Idle keep-alive connections: each holds its forwarded connection open.
      for (let i = 0; i < 65; i++) {
        const socket = connect(port, '127.0.0.1');
        socket.on('error', () => {});
        sockets.push(socket);
        await once(socket, 'connect');
      }
      for (let i = 0; i < 200 && !stderr.includes('too many'); i++) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(stderr).toContain('too many forwarded connections to this pod at once (at most 64)');
    } finally {
      for (const socket of sockets) socket.destroy();
      child.kill();
    }
  });

  it('refuses kubectl port-forward, and forwards to the learner’s own pod', async () => {
    const refused = await intruder.kubectl(['port-forward', '-n', victim.namespace, 'pod/web', ':80'], { version: '1.27' });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('is forbidden');
    expect(refused.stderr).toContain(`User "${intruder.username}"`);

    const child = spawn(kubectlBinary('1.33'), ['--kubeconfig', intruder.kubeconfig, 'port-forward', 'pod/web', ':80'], { env: { ...process.env, HOME: join(fixture.cluster.dir, 'home-forward'), KUBECONFIG: '' } });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        let out = '';
        child.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          const match = /Forwarding from 127\.0\.0\.1:(\d+)/.exec(out);
          if (match) resolve(Number(match[1]));
        });
        child.once('exit', (code) => reject(new Error(`kubectl port-forward exited ${code}`)));
      });
      const page = await new Promise<string>((resolve) => execFile('curl', ['-sS', '--max-time', '10', `http://127.0.0.1:${port}/`], (_error, stdout) => resolve(stdout)));
      expect(page).toContain('Welcome to nginx!');
    } finally {
      child.kill();
    }
  });
});
