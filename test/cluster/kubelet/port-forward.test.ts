// kubectl port-forward as a learner uses it: curl through the forwarded local port reaches the
// nginx pod, with kubectl 1.27 (SPDY/3.1) and 1.33 (SPDY tunnelled in WebSocket), a Service as the
// target, upstream's error when nothing listens on the pod's port, and the WebSocket channel form
// the Python and JavaScript clients use.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type KubeletCluster, phase, startKubeletCluster, versionedKubectl } from './harness.ts';

let lab: KubeletCluster;
const ns = 'forward';
const running: ChildProcess[] = [];

beforeAll(async () => {
  lab = await startKubeletCluster();
  await lab.kubectl(['create', 'namespace', ns]);
  await lab.apply(
    `apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers:
  - {name: nginx, image: nginx, ports: [{containerPort: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 8080, targetPort: 80}]
`,
    ns,
  );
  await lab.until('web Running', () => phase(lab.pod(ns, 'web')) === 'Running');
});
afterEach(() => {
  for (const child of running.splice(0)) child.kill();
});
afterAll(async () => {
  await lab?.stop();
});

/** Starts kubectl port-forward with a local port chosen by kubectl; resolves with that port once it forwards. */
async function portForward(version: string, target: string, remote: number): Promise<{ port: number; stderr: () => string }> {
  const child = spawn(versionedKubectl(version), ['--kubeconfig', lab.kubeconfig, '--cache-dir', join(lab.dir, 'kube-cache'), 'port-forward', '-n', ns, target, `:${remote}`], {
    env: { ...process.env, HOME: lab.dir, KUBECONFIG: '' },
  });
  running.push(child);
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const match = /Forwarding from 127\.0\.0\.1:(\d+) ->/.exec(stdout);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) => reject(new Error(`kubectl port-forward exited (${code}): ${stderr}`)));
  });
  return { port, stderr: () => stderr };
}

function curl(port: number): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile('curl', ['-sS', '--max-time', '10', `http://127.0.0.1:${port}/`], (error, stdout) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout }));
  });
}

describe('kubectl port-forward', () => {
  it.each(['1.27', '1.33'])('kubectl %s: curl through the local port reaches nginx in the pod, connection after connection', async (version) => {
    const forward = await portForward(version, 'pod/web', 80);
    for (let i = 0; i < 3; i++) {
      const page = await curl(forward.port);
      expect(page.code, forward.stderr()).toBe(0);
      expect(page.stdout).toContain('<title>Welcome to nginx!</title>');
    }
  });

  // Processes' ports are reachable only on the pod network, which needs root (network/index.ts).
  it.runIf(process.getuid?.() === 0)('reaches a process listening in the pod (busybox nc), not only simulated servers', async () => {
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: listener}
spec:
  containers:
  - {name: nc, image: busybox, command: [sh, -c, 'while true; do echo hello-from-nc | busybox nc -l -p 7000; done']}
`,
      ns,
    );
    await lab.until('listener Running', () => phase(lab.pod(ns, 'listener')) === 'Running');
    // kubectl ends port-forward at the first failed connection (client-go closes the connection on
    // an error), so the test waits for nc to listen (port 7000 is 1B58, LISTEN is 0A; IPv4 or IPv6).
    await lab.eventually('nc listening', async () => /:1B58 0+:0000 0A /.test((await lab.kubectl(['exec', '-n', ns, 'listener', '--', 'cat', '/proc/net/tcp', '/proc/net/tcp6'])).stdout));
    const forward = await portForward('1.27', 'pod/listener', 7000);
    const said = await new Promise<string>((resolve) => {
      const socket = connect(forward.port, '127.0.0.1');
      let received = '';
      socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
      socket.on('close', () => resolve(received));
      socket.on('error', () => resolve(received));
      setTimeout(() => socket.destroy(), 10_000).unref();
    });
    expect(said).toBe('hello-from-nc\n');
  });

  it('forwards to a Service port through the pod behind it', async () => {
    const forward = await portForward('1.33', 'service/web', 8080);
    expect((await curl(forward.port)).stdout).toContain('Welcome to nginx!');
  });

  it.each(['1.27', '1.33'])('kubectl %s: a port nothing listens on is refused with the runtime’s words', async (version) => {
    const forward = await portForward(version, 'pod/web', 81);
    const page = await curl(forward.port);
    expect(page.code).not.toBe(0);
    await lab.until('the error on kubectl’s stderr', () => forward.stderr().includes('connection refused'));
    // kubectl ≥ 1.31 logs it as a structured error, its quotes escaped.
    expect(forward.stderr().replaceAll('\\"', '"')).toMatch(
      /an error occurred forwarding \d+ -> 81: error forwarding port 81 to pod [0-9a-f]{64}, uid : failed to execute portforward in network namespace "\/var\/run\/netns\/cni-[0-9a-f-]{36}": failed to connect to localhost:81 inside namespace "[0-9a-f]{64}", IPv4: dial tcp4 127\.0\.0\.1:81: connect: connection refused/,
    );
  });
});

describe('port-forward over WebSocket channels', () => {
  it('@kubernetes/client-node forwards a connection (v4.channel.k8s.io, the port on each channel first)', async () => {
    const output = new PassThrough();
    const errors = new PassThrough();
    const input = new PassThrough();
    let received = '';
    output.on('data', (chunk: Buffer) => (received += chunk.toString()));
    await new k8s.PortForward(lab.kubeConfig()).portForward(ns, 'web', [80], output, errors, input);
    input.write('GET / HTTP/1.1\r\nHost: web\r\nConnection: close\r\n\r\n');
    await lab.until('the answer', () => received.includes('</html>'));
    expect(received).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });

  const pythonClient = spawnSync('/usr/bin/python3', ['-c', 'import kubernetes.stream'], { stdio: 'ignore' }).status === 0;
  it.runIf(pythonClient)('the official Python client forwards a connection and reports a refused port on its error channel', async () => {
    const script = `
import sys
from kubernetes import client, config
from kubernetes.stream import portforward
config.load_kube_config(config_file=sys.argv[1])
api = client.CoreV1Api()
pf = portforward(api.connect_get_namespaced_pod_portforward, 'web', sys.argv[2], ports='80')
sock = pf.socket(80)
sock.setblocking(True)
sock.sendall(b'GET / HTTP/1.1\\r\\nHost: web\\r\\nConnection: close\\r\\n\\r\\n')
data = b''
while b'</html>' not in data:
    chunk = sock.recv(4096)
    if not chunk:
        break
    data += chunk
sock.close()
print(data.decode().splitlines()[0])
print('nginx' if b'Welcome to nginx!' in data else 'no page')
pf = portforward(api.connect_get_namespaced_pod_portforward, 'web', sys.argv[2], ports='81')
sock = pf.socket(81)
sock.setblocking(True)
sock.recv(1)
print(pf.error(81))
`;
    const result = await new Promise<{ stdout: string; stderr: string }>((resolve) => {
      execFile('/usr/bin/python3', ['-c', script, lab.kubeconfig, ns], { timeout: 20_000 }, (_error, stdout, stderr) => resolve({ stdout, stderr }));
    });
    const lines = result.stdout.split('\n');
    expect(lines[0], result.stderr).toBe('HTTP/1.1 200 OK');
    expect(lines[1]).toBe('nginx');
    expect(lines[2]).toMatch(/^error forwarding port 81 to pod [0-9a-f]{64}, uid : .*connect: connection refused/);
  });

  // The Python client's own end-to-end case (test_portforward_raw), with busybox nc as the echo
  // server: three ports on one WebSocket, one refused while the others carry on, no error on the
  // ports that worked, and the session over once the client has closed its sockets.
  it.runIf(pythonClient && process.getuid?.() === 0)('the official Python client forwards several ports at once, one of them refused', async () => {
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: echo}
spec:
  containers:
  - {name: echo, image: busybox, command: [sh, -c, 'busybox nc -ll -p 1234 -e cat & busybox nc -ll -p 1235 -e cat & wait']}
`,
      ns,
    );
    await lab.until('echo Running', () => phase(lab.pod(ns, 'echo')) === 'Running');
    await lab.eventually('both ports listening', async () => {
      const tables = (await lab.kubectl(['exec', '-n', ns, 'echo', '--', 'cat', '/proc/net/tcp', '/proc/net/tcp6'])).stdout;
      return /:04D2 0+:0000 0A /.test(tables) && /:04D3 0+:0000 0A /.test(tables);
    });
    const script = `
import sys, select, time
from kubernetes import client, config
from kubernetes.stream import portforward
config.load_kube_config(config_file=sys.argv[1])
api = client.CoreV1Api()
for ix in range(3):
    ix = str(ix + 1).encode()
    pf = portforward(api.connect_get_namespaced_pod_portforward, 'echo', sys.argv[2], ports='1234,1235,1236')
    assert pf.connected
    s1 = pf.socket(1234); s2 = pf.socket(1235)
    s1.setblocking(True); s2.setblocking(True)
    a = b'Test ' + ix + b' port 1234'; b = b'Test ' + ix + b' port 1235'
    s1.sendall(a); s2.sendall(b)
    r1 = b''; r2 = b''
    t = time.time() + 20
    while r1 != a or r2 != b:
        assert time.time() < t, (r1, r2)
        r, _, _ = select.select([s1, s2], [], [], 1)
        if s1 in r:
            d = s1.recv(1024); assert d != b'', 'close 1234'; r1 += d
        if s2 in r:
            d = s2.recv(1024); assert d != b'', ('close 1235', pf.error(1235), r1); r2 += d
    assert pf.connected
    s = pf.socket(1236); s.setblocking(True)
    assert s.recv(1024) == b''
    assert pf.error(1236) is not None
    print('1236 error:', pf.error(1236)[:60])
    s.close()
    for s in (s1, s2):
        assert pf.connected, 'connected before second round'
        sent = b'Another ' + ix
        s.sendall(sent)
        rep = b''
        t = time.time() + 20
        while rep != sent:
            assert time.time() < t
            r, _, _ = select.select([s], [], [], 1)
            if r:
                d = s.recv(1024); assert d != b'', 'unexpected close'; rep += d
        s.close()
    time.sleep(1)
    assert not pf.connected, 'still connected'
    assert pf.error(1234) is None and pf.error(1235) is None
    print('round', ix, 'ok')
`;
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile('/usr/bin/python3', ['-c', script, lab.kubeconfig, ns], { timeout: 60_000 }, (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }));
    });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.match(/^round b'\d' ok$/gm)).toHaveLength(3);
    expect(result.stdout).toContain('1236 error: error forwarding port 1236 to pod');
  }, 90_000);
});
