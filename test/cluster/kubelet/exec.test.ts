// exec and attach over WebSocket: exit codes on the status channel, stdin with its end (v5
// CLOSE), a terminal that resizes, the container's environment and volumes inside the sandbox,
// ConfigMap updates reaching mounted files, kubectl cp, and the errors kubectl users know.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import * as https from 'node:https';
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type KubeletCluster, phase, startKubeletCluster, versionedKubectl, waitingReason } from './harness.ts';

let lab: KubeletCluster;
const ns = 'exec';

const fixture = `apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data: {color: blue, app.properties: "mode=dark\\n"}
---
apiVersion: v1
kind: Secret
metadata: {name: app-secret}
stringData: {password: s3cret}
---
apiVersion: v1
kind: Pod
metadata: {name: app, labels: {app: shop, tier: web}}
spec:
  containers:
  - name: app
    image: busybox
    command: [sh, -c, 'exec sleep 3600']
    env:
    - {name: GREETING, value: hello}
    - {name: MESSAGE, value: "$(GREETING) world"}
    - {name: COLOR, valueFrom: {configMapKeyRef: {name: app-config, key: color}}}
    - {name: PASSWORD, valueFrom: {secretKeyRef: {name: app-secret, key: password}}}
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: POD_IP, valueFrom: {fieldRef: {fieldPath: status.podIP}}}
    - {name: MEMORY_MI, valueFrom: {resourceFieldRef: {resource: limits.memory, divisor: 1Mi}}}
    envFrom:
    - {configMapRef: {name: app-config}, prefix: CFG_}
    resources: {limits: {memory: 64Mi, cpu: 500m}}
    volumeMounts:
    - {name: config, mountPath: /etc/config}
    - {name: config, mountPath: /etc/single/app.properties, subPath: app.properties}
    - {name: secret, mountPath: /etc/secret}
    - {name: podinfo, mountPath: /etc/podinfo}
    - {name: scratch, mountPath: /scratch}
  - name: sidecar
    image: busybox
    command: [sh, -c, 'exec sleep 3600']
    volumeMounts: [{name: scratch, mountPath: /data}]
  volumes:
  - {name: config, configMap: {name: app-config}}
  - {name: secret, secret: {secretName: app-secret, defaultMode: 0400}}
  - {name: podinfo, downwardAPI: {items: [{path: labels, fieldRef: {fieldPath: metadata.labels}}]}}
  - {name: scratch, emptyDir: {}}
`;

beforeAll(async () => {
  lab = await startKubeletCluster();
  await lab.kubectl(['create', 'namespace', ns]);
  await lab.serviceAccountReady(ns);
  await lab.apply(fixture, ns);
  await lab.until('app Running', () => phase(lab.pod(ns, 'app')) === 'Running');
});
afterAll(async () => {
  await lab?.stop();
});

function exec(args: string[], options: { stdin?: string; binary?: string; env?: Record<string, string> } = {}) {
  return lab.kubectl(['exec', '-n', ns, ...args], options);
}

describe('kubectl exec', () => {
  it('returns the command exit code through the status channel', async () => {
    const result = await exec(['app', '-c', 'app', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    expect(result.code).toBe(3);
    expect(result.stdout).toBe('out\n');
    expect(result.stderr).toContain('err\n');
    expect(result.stderr).toContain('command terminated with exit code 3');
    expect((await exec(['app', '-c', 'app', '--', 'true'])).code).toBe(0);
  });

  it('passes stdin and its end (v5 CLOSE)', async () => {
    const result = await exec(['-i', 'app', '-c', 'app', '--', 'sh', '-c', 'cat; echo done'], { stdin: 'hello\n' });
    expect(result.stdout).toBe('hello\ndone\n');
  });

  it('runs in the container environment: env, envFrom, $(VAR), downward API, resource fields', async () => {
    const result = await exec(['app', '-c', 'app', '--', 'sh', '-c', 'echo "$GREETING|$MESSAGE|$COLOR|$PASSWORD|$POD_NAME|$POD_IP|$MEMORY_MI|$CFG_color|$HOSTNAME|$KUBERNETES_SERVICE_HOST"']);
    const pod = lab.pod(ns, 'app');
    const podIP = (pod?.status as Record<string, string>)['podIP'];
    expect(result.stdout).toBe(`hello|hello world|blue|s3cret|app|${podIP}|64|blue|app|10.96.0.1\n`);
  });

  it('sees the pod volumes at their mount paths, read-only where Kubernetes makes them so', async () => {
    const script = [
      'cat /etc/config/color; echo',
      'ls -a /etc/config | tr "\\n" " "; echo',
      'cat /etc/single/app.properties',
      'stat -L -c %a /etc/secret/password',
      'cat /etc/secret/password; echo',
      'cat /etc/podinfo/labels; echo',
      'touch /etc/config/new 2>/dev/null || echo read-only',
      'echo shared > /scratch/note',
    ].join('; ');
    const result = await exec(['app', '-c', 'app', '--', 'sh', '-c', script]);
    expect(result.stdout.split('\n')).toEqual([
      'blue',
      expect.stringMatching(/^\. \.\. \.\.\d{4}_\d\d_\d\d_\d\d_\d\d_\d\d\.\d+ \.\.data app\.properties color $/),
      'mode=dark',
      '400',
      's3cret',
      'app="shop"',
      'tier="web"',
      'read-only',
      '',
    ]);
    expect((await exec(['app', '-c', 'sidecar', '--', 'cat', '/data/note'])).stdout).toBe('shared\n');
  });

  it('updates mounted ConfigMap files after a change, except subPath mounts', async () => {
    expect((await lab.kubectl(['patch', 'configmap', 'app-config', '-n', ns, '-p', '{"data":{"color":"green","app.properties":"mode=light\\n"}}'])).code).toBe(0);
    await lab.eventually('the new color in the mounted file', async () => (await exec(['app', '-c', 'app', '--', 'cat', '/etc/config/color'])).stdout === 'green');
    expect((await exec(['app', '-c', 'app', '--', 'cat', '/etc/config/app.properties'])).stdout).toBe('mode=light\n');
    expect((await exec(['app', '-c', 'app', '--', 'cat', '/etc/single/app.properties'])).stdout).toBe('mode=dark\n');
  });

  it('copies files in and out with kubectl cp (tar over exec)', async () => {
    const local = mkdtempSync(join(tmpdir(), 'formicary-cp-'));
    writeFileSync(join(local, 'notes.txt'), 'copied in\n');
    const copyIn = await lab.kubectl(['cp', join(local, 'notes.txt'), `${ns}/app:/tmp/notes.txt`, '-c', 'app']);
    expect(copyIn.code, copyIn.stderr).toBe(0);
    expect((await exec(['app', '-c', 'app', '--', 'cat', '/tmp/notes.txt'])).stdout).toBe('copied in\n');
    const copyOut = await lab.kubectl(['cp', `${ns}/app:/tmp/notes.txt`, join(local, 'back.txt'), '-c', 'app']);
    expect(copyOut.code, copyOut.stderr).toBe(0);
    expect(readFileSync(join(local, 'back.txt'), 'utf8')).toBe('copied in\n');
  });

  it('says there is no container to exec into while none runs', async () => {
    await lab.kubectl(['run', 'typo', '-n', ns, '--image=busybx']);
    await lab.until('the pull to fail', () => ['ErrImagePull', 'ImagePullBackOff'].includes(waitingReason(lab.pod(ns, 'typo')) ?? ''));
    const result = await exec(['typo', '--', 'ls']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('unable to upgrade connection: container not found ("typo")');
  });

  it('reports a command that does not exist as the runtime does', async () => {
    const result = await exec(['app', '-c', 'app', '--', 'no-such-tool']);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain('exec: "no-such-tool": executable file not found in $PATH');
  });

  it('gives an interactive terminal through client-node that honours resize and reports the exit code', async () => {
    const stdout = new PassThrough();
    const stdin = new PassThrough();
    let screen = '';
    stdout.on('data', (chunk: Buffer) => (screen += chunk.toString()));
    let status: k8s.V1Status | undefined;
    const socket = await new k8s.Exec(lab.kubeConfig()).exec(ns, 'app', 'app', ['sh'], stdout, null, stdin, true, (s) => (status = s));
    const resize = (size: Record<string, number>) => socket.send(Buffer.concat([Buffer.from([4]), Buffer.from(JSON.stringify(size))]));
    resize({ Width: 80, Height: 24 });
    stdin.write('stty size\r');
    await lab.until('the first size', () => screen.includes('24 80'));
    // client-node's TerminalSizeQueue spells the keys in lower case; Go's JSON decoding accepts both.
    resize({ width: 132, height: 40 });
    stdin.write('stty size\r');
    await lab.until('the new size', () => screen.includes('40 132'));
    stdin.write('exit 5\r');
    await lab.until('the exit status', () => status);
    expect(status).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '5' }] } });
  });
});

describe('kubectl 1.27 and 1.29 over SPDY/3.1', () => {
  it.each(['1.27', '1.29'])('kubectl %s: output, stderr and the exit code', async (version) => {
    const result = await exec(['app', '-c', 'app', '--', 'sh', '-c', 'echo out; echo err >&2; exit 3'], { binary: versionedKubectl(version) });
    expect(result.stdout).toBe('out\n');
    expect(result.stderr).toContain('err\n');
    expect(result.stderr).toContain('command terminated with exit code 3');
    expect(result.code).toBe(3);
  });

  it('passes stdin to its end (the stream FIN)', async () => {
    const result = await exec(['-i', 'app', '-c', 'app', '--', 'sh', '-c', 'wc -c; echo done'], { binary: versionedKubectl('1.29'), stdin: 'x'.repeat(200_000) });
    expect(result.stdout).toBe('200000\ndone\n');
  });

  it('copies files in and out with kubectl cp, larger than a flow-control window', async () => {
    const local = mkdtempSync(join(tmpdir(), 'formicary-cp-spdy-'));
    const content = 'line of text\n'.repeat(20_000);
    writeFileSync(join(local, 'big.txt'), content);
    const binary = versionedKubectl('1.27');
    const copyIn = await lab.kubectl(['cp', join(local, 'big.txt'), `${ns}/app:/tmp/big.txt`, '-c', 'app'], { binary });
    expect(copyIn.code, copyIn.stderr).toBe(0);
    const copyOut = await lab.kubectl(['cp', `${ns}/app:/tmp/big.txt`, join(local, 'back.txt'), '-c', 'app'], { binary });
    expect(copyOut.code, copyOut.stderr).toBe(0);
    expect(readFileSync(join(local, 'back.txt'), 'utf8')).toBe(content);
  });

  it('gives kubectl exec -it a terminal that knows its size', async () => {
    // The terminal script gives kubectl is 30 rows by 100 columns; kubectl sends that size on the resize stream.
    const command = `stty rows 30 cols 100; ${versionedKubectl('1.27')} --kubeconfig ${lab.kubeconfig} exec -it -n ${ns} app -c app -- sh -c 'sleep 0.5; stty size; tty >/dev/null && echo is-a-tty; exit 4'`;
    const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile('script', ['-qec', command, '/dev/null'], { timeout: 30_000, env: { ...process.env, HOME: lab.dir, COLUMNS: '100', LINES: '30' } }, (error, stdout) =>
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout }),
      );
    });
    expect(result.stdout).toContain('is-a-tty');
    expect(result.stdout).toContain('30 100');
    expect(result.code).toBe(4);
  });

  it('runs kubectl 1.29 run -it --rm: attached to the new pod’s terminal, what is typed reaches it, then the pod is deleted', async () => {
    const command = `${versionedKubectl('1.29')} --kubeconfig ${lab.kubeconfig} run -n ${ns} once --image=busybox --restart=Never -it --rm -- sh -c 'read line; echo got-$line'`;
    const child = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, HOME: lab.dir } });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = once(child, 'exit');
    try {
      // kubectl prints this once it is attached.
      await lab.until('kubectl attached', () => output.includes("If you don't see a command prompt, try pressing enter."), 30_000);
      child.stdin.write('typed-in\r');
      await exited;
    } finally {
      child.kill();
    }
    expect(output).toContain('got-typed-in\r\n');
    expect(output).toContain('pod "once" deleted');
  });

  it('refuses a client that speaks none of the exec protocols, naming both sides', async () => {
    const result = await spdyUpgrade('/api/v1/namespaces/exec/pods/app/exec?container=app&command=true&stdout=true', 'v9.channel.k8s.io');
    expect(result.status).toBe(403);
    expect(result.body).toBe('unable to upgrade: unable to negotiate protocol: client supports [v9.channel.k8s.io], server accepts [v4.channel.k8s.io v3.channel.k8s.io v2.channel.k8s.io channel.k8s.io]\n');
  });

  it('attaches kubectl 1.29 to a running container', async () => {
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: ticker}
spec:
  containers:
  - {name: ticker, image: busybox, command: [sh, -c, 'i=0; while true; do i=$((i+1)); echo tick-$i; sleep 0.2; done']}
`,
      ns,
    );
    await lab.until('ticker Running', () => phase(lab.pod(ns, 'ticker')) === 'Running');
    // kubectl attach runs until it is stopped: whatever it printed in 3 s is the container's output.
    const output = await lab.eventually('ticks through kubectl attach', async () => {
      const result = await lab.kubectl(['attach', '-n', ns, 'ticker', '--pod-running-timeout=5s'], { binary: versionedKubectl('1.29'), timeoutMs: 3000 });
      return /tick-\d+\n/.test(result.stdout) && result.stdout;
    });
    expect(output).toMatch(/^(tick-\d+\n)+/);
  });
});

/** A raw SPDY upgrade request, as kubectl makes it, with the answer's status and body. */
async function spdyUpgrade(path: string, protocol: string): Promise<{ status: number; body: string }> {
  const config = lab.kubeConfig();
  const options: https.RequestOptions = {};
  await config.applyToHTTPSOptions(options);
  const server = new URL(config.getCurrentCluster()?.server ?? '');
  return new Promise((resolve, reject) => {
    const request = https.request({ ...options, host: server.hostname, port: server.port, path, method: 'POST', headers: { ...options.headers, Connection: 'Upgrade', Upgrade: 'SPDY/3.1', 'X-Stream-Protocol-Version': protocol } });
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

describe('kubectl attach', () => {
  it('attaches to a container started with stdin and a terminal (kubectl run -it)', async () => {
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: interactive}
spec:
  restartPolicy: Never
  containers:
  - {name: shell, image: busybox, stdin: true, stdinOnce: true, tty: true}
`,
      ns,
    );
    await lab.until('interactive Running', () => phase(lab.pod(ns, 'interactive')) === 'Running');
    const stdout = new PassThrough();
    const stdin = new PassThrough();
    let screen = '';
    stdout.on('data', (chunk: Buffer) => (screen += chunk.toString()));
    await new k8s.Attach(lab.kubeConfig()).attach(ns, 'interactive', 'shell', stdout, null, stdin, true);
    stdin.write('echo attached-$((40+2))\r');
    await lab.until('the shell answering', () => screen.includes('attached-42'));
    stdin.write('exit 0\r');
    await lab.until('interactive Succeeded', () => phase(lab.pod(ns, 'interactive')) === 'Succeeded');
  });
});

/** A WebSocket exec as the official Python client makes it: v4.channel.k8s.io, `True`/`False` query booleans, frames written as TEXT. */
async function pythonStyleExec(query: string, frames: string[], protocol = 'v4.channel.k8s.io'): Promise<{ httpStatus?: number; body?: string; channels: Record<number, string> }> {
  const config = lab.kubeConfig();
  const options: WebSocket.ClientOptions = {};
  await config.applyToHTTPSOptions(options);
  const server = config.getCurrentCluster()?.server ?? '';
  const socket = new WebSocket(`${server.replace(/^http/, 'ws')}/api/v1/namespaces/${ns}/pods/app/exec?container=app&${query}`, [protocol], options);
  const channels: Record<number, string> = {};
  return new Promise((resolve, reject) => {
    socket.on('unexpected-response', (_request, response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ httpStatus: response.statusCode, body, channels }));
    });
    socket.on('open', () => {
      for (const frame of frames) socket.send(frame, { binary: false });
    });
    socket.on('message', (data: Buffer) => {
      const base64 = protocol.includes('base64');
      const channel = (data[0] ?? 0) - (base64 ? 0x30 : 0);
      const payload = base64 ? Buffer.from(data.subarray(1).toString(), 'base64') : data.subarray(1);
      channels[channel] = (channels[channel] ?? '') + payload.toString();
    });
    socket.on('close', () => resolve({ channels }));
    socket.on('error', reject);
  });
}

const pythonClient = spawnSync('/usr/bin/python3', ['-c', 'import kubernetes.stream'], { stdio: 'ignore' }).status === 0;

const pythonExecScript = `
import sys
from kubernetes import client, config
from kubernetes.stream import stream
config.load_kube_config(config_file=sys.argv[1])
api = client.CoreV1Api()
print(stream(api.connect_get_namespaced_pod_exec, 'app', sys.argv[2], container='app', command=['sh', '-c', 'echo from-python'], stdin=False, stdout=True, stderr=True, tty=False), end='')
resp = stream(api.connect_get_namespaced_pod_exec, 'app', sys.argv[2], container='app', command=['sh', '-c', 'read line; echo "got $line"; exit 4'], stdin=True, stdout=True, stderr=True, tty=False, _preload_content=False)
resp.write_stdin('hello\\n')
resp.run_forever(timeout=10)
print(resp.read_stdout(), end='')
print('exit', resp.returncode)
`;

describe('exec from the official Python client', () => {
  it('reads True and False in the query and stdin from TEXT frames, and reports the exit code', async () => {
    const result = await pythonStyleExec('command=sh&command=-c&command=read%20line%3B%20echo%20%22got%20%24line%22%3B%20echo%20err%20%3E%262%3B%20exit%207&stdin=True&stdout=True&stderr=True&tty=False', ['\u0000hello\n']);
    expect(result.httpStatus).toBeUndefined();
    expect(result.channels[1]).toBe('got hello\n');
    expect(result.channels[2]).toBe('err\n');
    expect(JSON.parse(result.channels[3] ?? '{}')).toMatchObject({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '7' }] } });
  });

  it('reads query booleans as the API server converts them: only absent, 0 and false in any case are false', async () => {
    const result = await pythonStyleExec('command=sh&command=-c&command=echo%20out%3B%20echo%20err%20%3E%262&stdin=FALSE&stdout=False&stderr=T&tty=false', []);
    expect(result.channels[1]).toBeUndefined();
    expect(result.channels[2]).toBe('err\n');
    expect(JSON.parse(result.channels[3] ?? '{}')).toMatchObject({ status: 'Success' });
    const none = await pythonStyleExec('command=true&stdin=False&stdout=0&stderr=false', []);
    expect(none.httpStatus).toBe(400);
    expect(JSON.parse(none.body ?? '{}')).toMatchObject({ reason: 'BadRequest', message: 'you must specify at least 1 of stdin, stdout, stderr' });
  });

  it('resizes a terminal from a TEXT frame on channel 4', async () => {
    const result = await pythonStyleExec('command=sh&stdin=True&stdout=True&tty=True', ['\u0004{"Width":100,"Height":30}', '\u0000stty size; exit\r']);
    expect(result.channels[1]).toContain('30 100');
  });

  it('speaks v4.base64.channel.k8s.io: an ASCII channel digit, then base64', async () => {
    const stdin = `0${Buffer.from('hello\n').toString('base64')}`;
    const result = await pythonStyleExec('command=head&command=-n1&stdin=true&stdout=true', [stdin], 'v4.base64.channel.k8s.io');
    expect(result.channels[1]).toBe('hello\n');
    expect(JSON.parse(result.channels[3] ?? '{}')).toMatchObject({ status: 'Success' });
  });

  it.skipIf(!pythonClient)('runs exec through the kubernetes Python package (Debian python3-kubernetes)', async () => {
    const output = await new Promise<string>((resolve, reject) =>
      execFile('/usr/bin/python3', ['-c', pythonExecScript, lab.kubeconfig, ns], { timeout: 30_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout))),
    );
    expect(output).toBe('from-python\ngot hello\nexit 4\n');
  });
});
