// `formicary cluster` as a learner runs it: ready line, admin kubeconfig, state and CA kept
// across a restart, clean stop on SIGINT and SIGTERM.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir, totalmem } from 'node:os';
import { connect as tlsConnect } from 'node:tls';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const bin = fileURLToPath(new URL('../../bin/formicary.js', import.meta.url));
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'formicary-cli-cluster-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Started {
  child: ChildProcess;
  readyLine: string;
  output: () => string;
}

function startCli(args: string[], stdin: 'ignore' | 'pipe' = 'ignore'): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'cluster', ...args], { stdio: [stdin, 'pipe', 'pipe'] });
    let output = '';
    const timer = setTimeout(() => reject(new Error(`no ready line within 60 s: ${output}`)), 60_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const line = output.split('\n').find((l) => /\bready\b/.test(l));
      if (line) {
        clearTimeout(timer);
        resolve({ child, readyLine: line, output: () => output });
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code} before ready: ${output}`));
    });
  });
}

function stop(started: Started, signal: NodeJS.Signals): Promise<number | null> {
  return new Promise((resolve) => {
    started.child.once('exit', (code) => resolve(code));
    started.child.kill(signal);
  });
}

function kubectl(kubeconfig: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('kubectl', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'kube-cache'), ...args], { timeout: 30_000, env: { ...process.env, HOME: dir } }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
  });
}

describe('formicary cluster', () => {
  it('serves, writes an admin kubeconfig, keeps state and CA across restarts, and stops cleanly', async () => {
    const data = join(dir, 'data');
    const kubeconfig = join(dir, 'admin.kubeconfig');
    const first = await startCli(['--kubeconfig', kubeconfig, '--data', data, '--port', '0']);
    expect(first.readyLine).toMatch(/^formicary cluster ready at https:\/\/127\.0\.0\.1:\d+ in \d+ ms; kubeconfig: /);

    const config = parse(await readFile(kubeconfig, 'utf8'));
    expect(config['current-context']).toBe('formicary');
    expect(config.clusters[0]).toMatchObject({ name: 'formicary', cluster: { server: expect.stringMatching(/^https:\/\/127\.0\.0\.1:\d+$/) } });
    expect(Buffer.from(config.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toContain('BEGIN CERTIFICATE');
    expect(config.users[0]).toMatchObject({ name: 'formicary', user: { token: expect.any(String) } });
    expect((await stat(kubeconfig)).mode & 0o777).toBe(0o600);

    expect((await kubectl(kubeconfig, ['create', 'configmap', 'survivor', '--from-literal=a=b'])).code).toBe(0);
    expect(await stop(first, 'SIGINT')).toBe(0);
    expect(first.output()).toContain('formicary cluster: stopped');

    const ca = await readFile(join(data, 'ca.crt'), 'utf8');
    const second = await startCli(['--kubeconfig', kubeconfig, '--data', data]);
    expect(await readFile(join(data, 'ca.crt'), 'utf8')).toBe(ca);
    const survivor = await kubectl(kubeconfig, ['get', 'configmap', 'survivor', '-o', 'jsonpath={.data.a}']);
    expect([survivor.code, survivor.stdout]).toEqual([0, 'b']);
    expect(await stop(second, 'SIGTERM')).toBe(0);
  }, 120_000);

  it('with --stop-on-stdin-close, exits on SIGTERM while its supervisor still holds the pipe open, and when the pipe closes', async () => {
    const supervised = await startCli(['--data', join(dir, 'supervised'), '--stop-on-stdin-close'], 'pipe');
    expect(await stop(supervised, 'SIGTERM')).toBe(0);
    expect(supervised.output()).toContain('formicary cluster: stopped');
    const orphaned = await startCli(['--data', join(dir, 'supervised'), '--stop-on-stdin-close'], 'pipe');
    const exited = new Promise<number | null>((resolve) => orphaned.child.once('exit', (code) => resolve(code)));
    orphaned.child.stdin!.end();
    expect(await exited).toBe(0);
    expect(orphaned.output()).toContain('standard input closed (the parent exited)');
  }, 120_000);

  it('gives its nodes room for the pods this machine can hold with --sandbox-share, and leaves a pod that asks for more Pending', async () => {
    const kubeconfig = join(dir, 'capacity.kubeconfig');
    const started = await startCli(['--kubeconfig', kubeconfig, '--data', join(dir, 'capacity'), '--nodes', '2', '--sandbox-share', '0.05']);
    try {
      // Each node's half of 5% of the machine's memory, in pod sandboxes of 8 MiB; at most its /24's 253 pod IPs.
      const pods = Math.max(1, Math.min(253, Math.floor((totalmem() * 0.05) / (8 * 1024 ** 2) / 2)));
      const nodes = JSON.parse((await kubectl(kubeconfig, ['get', 'nodes', '-o', 'json'])).stdout) as { items: Array<{ status: { capacity: Record<string, string>; allocatable: Record<string, string> } }> };
      expect(nodes.items).toHaveLength(2);
      for (const node of nodes.items) {
        expect(node.status.capacity).toMatchObject({ pods: String(pods), cpu: `${pods * 100}m`, memory: `${pods * 256}Mi` });
        // allocatable = capacity − the kubelet's default eviction threshold (memory.available<100Mi).
        expect(node.status.allocatable).toMatchObject({ pods: String(pods), cpu: `${pods * 100}m`, memory: `${pods * 256 - 100}Mi` });
      }

      const tooBig = `${pods * 256}Mi`;
      expect((await kubectl(kubeconfig, ['run', 'too-big', '--image=nginx', '--restart=Never', `--overrides={"apiVersion":"v1","spec":{"containers":[{"name":"too-big","image":"nginx","resources":{"requests":{"memory":"${tooBig}"}}}]}}`])).code).toBe(0);
      let message = '';
      for (let attempt = 0; attempt < 100 && !message; attempt++) {
        message = (await kubectl(kubeconfig, ['get', 'pod', 'too-big', '-o', 'jsonpath={.status.conditions[?(@.type=="PodScheduled")].message}'])).stdout;
        if (!message) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(message).toBe('0/2 nodes are available: 2 Insufficient memory. preemption: 0/2 nodes are available: 2 No preemption victims found for incoming pod.');
      expect((await kubectl(kubeconfig, ['get', 'pod', 'too-big', '-o', 'jsonpath={.status.phase}'])).stdout).toBe('Pending');
    } finally {
      expect(await stop(started, 'SIGTERM')).toBe(0);
    }
  }, 120_000);

  it('says in one line why it cannot start when the port is taken', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', () => resolve()));
    const port = (blocker.address() as AddressInfo).port;
    const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [bin, 'cluster', '--data', join(dir, 'blocked'), '--port', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('exit', (code) => resolve({ code, stderr }));
    });
    blocker.close();
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(`formicary cluster: could not start: port ${port} on 127.0.0.1 is already in use; choose another with --port N (0 picks a free one)`);
  }, 60_000);

  it('with --tls-san, serves a certificate that names the Service it is reached by too; refuses a bind address or name that is none', async () => {
    const named = await startCli(['--data', join(dir, 'named'), '--bind-address', '127.0.0.1', '--tls-san', 'learner-cluster.lab-ada-x1.svc', '--tls-san', '10.96.7.7']);
    const server = new URL(/ready at (\S+)/.exec(named.readyLine)?.[1] ?? '');
    const certificate = await new Promise<string>((resolve, reject) => {
      const socket = tlsConnect({ host: server.hostname, port: Number(server.port), rejectUnauthorized: false }, () => {
        resolve(socket.getPeerCertificate().subjectaltname ?? '');
        socket.end();
      });
      socket.once('error', reject);
    });
    expect(certificate).toContain('DNS:learner-cluster.lab-ada-x1.svc');
    expect(certificate).toContain('IP Address:10.96.7.7');
    expect(certificate).toContain('IP Address:127.0.0.1');
    expect(await stop(named, 'SIGTERM')).toBe(0);
    for (const [flag, value, why] of [
      ['--bind-address', 'everywhere', 'must be an IP address, such as 127.0.0.1 or 0.0.0.0'],
      ['--tls-san', 'not a name', 'must be a DNS name or an IP address'],
    ] as const) {
      const refused = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, [bin, 'cluster', '--data', join(dir, 'refused'), flag, value], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
        child.once('exit', (code) => resolve({ code, stderr }));
      });
      expect(refused.code).toBe(2);
      expect(refused.stderr.split('\n')[0]).toBe(`formicary cluster: ${flag}: ${why}`);
    }
  }, 90_000);
});
