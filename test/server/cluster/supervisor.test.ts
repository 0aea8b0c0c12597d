import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CoreV1Api } from '@kubernetes/client-node';
import { KubeconfigError, startLabCluster, type LabCluster } from '../../../src/server/cluster/index.ts';
import { PROJECT_ROOT } from '../../../src/server/main.ts';
import { captureLogs } from '../../support/logs.ts';

const FAKE_CLUSTER = fileURLToPath(new URL('./fake-cluster.ts', import.meta.url));
const FAST_BACKOFF = { initialMs: 100, maxMs: 400 };

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function eventually<T>(check: () => T | Promise<T>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function starts(file: string): Promise<Array<{ pid: number; port: number }>> {
  if (!existsSync(file)) return [];
  return (await readFile(file, 'utf8'))
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [pid, port] = line.split(' ');
      return { pid: Number(pid), port: Number(port) };
    });
}

describe('the embedded cluster supervisor', () => {
  let dir: string;
  let startsFile: string;
  let cluster: LabCluster | null;

  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'formicary-supervisor-'));
    startsFile = path.join(dir, 'starts');
    cluster = null;
  });

  afterEach(async () => {
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  function start(flags: string[], readyTimeoutMs = 10_000) {
    const logs = captureLogs();
    cluster = startLabCluster(
      { mode: 'embedded', dataDir: path.join(dir, 'cluster') },
      {
        root: dir,
        log: logs.log,
        embedded: {
          readyTimeoutMs,
          backoff: FAST_BACKOFF,
          stopTimeoutMs: 1_000,
          command: (port, kubeconfigPath, dataDir) => ({
            file: process.execPath,
            args: [FAKE_CLUSTER, '--kubeconfig', kubeconfigPath, '--data', dataDir, '--port', String(port), '--starts-file', startsFile, ...flags],
          }),
        },
      },
    );
    return { cluster, logs };
  }

  it('is not ready until the child prints its ready line, then offers its kubeconfig', async () => {
    const { cluster } = start(['--ready-after', '300']);
    expect(cluster.ready).toBe(false);
    expect(cluster.detail).toBe('the embedded cluster is starting');
    await cluster.whenReady();
    expect(cluster.ready).toBe(true);
    expect(cluster.kubeconfigPath).toBe(path.join(dir, 'cluster', 'kubeconfig'));
    const [first] = await starts(startsFile);
    expect(cluster.loadKubeConfig().getCurrentCluster()?.server).toBe(`https://127.0.0.1:${first?.port}`);
  });

  it('starts a child that dies again, on the same port, and is ready again', async () => {
    const { cluster, logs } = start(['--die-after', '400']);
    await cluster.whenReady();
    await eventually(() => cluster.restarts >= 1 && cluster.ready, 'a restarted, ready cluster');
    const [first, second] = await starts(startsFile);
    expect(second?.pid).not.toBe(first?.pid);
    expect(second?.port).toBe(first?.port);
    expect(alive(first?.pid)).toBe(false);
    expect(logs.text()).toContain('the embedded cluster exited with code 3; starting it again in 0.1 s');
  });

  it('waits longer between restarts of a child that keeps dying', async () => {
    const { cluster, logs } = start(['--never-ready', '--die-after', '10']);
    await eventually(() => cluster.restarts >= 3 && cluster.state === 'waiting', 'a fourth death');
    const pauses = logs
      .lines()
      .map((line) => /starting it again in ([\d.]+) s/.exec(String(line.msg))?.[1])
      .filter((pause) => pause !== undefined);
    expect(pauses.slice(0, 3)).toEqual(['0.1', '0.2', '0.4']);
    expect(cluster.ready).toBe(false);
    // With its last words, which say why it would not start (a data dir in use, a bad flag).
    expect(cluster.detail).toMatch(/^the embedded cluster exited with code 3 before it was ready \(it said: a warning on stderr\); starting it again in 0\.4 s$/);
  });

  it('stops a child that never says ready within the timeout and says so', async () => {
    const { cluster, logs } = start(['--never-ready'], 500);
    await eventually(() => cluster.restarts >= 1, 'a restart after the ready timeout');
    const [first] = await starts(startsFile);
    expect(alive(first?.pid)).toBe(false);
    expect(logs.text()).toContain('the embedded cluster did not print a line matching /\\\\bready\\\\b/i within 1 s; stopping it to start it again');
  });

  it('forwards the child’s output into the portal log, keeping the level of JSON lines', async () => {
    const { cluster, logs } = start(['--json-logs']);
    await cluster.whenReady();
    const lines = logs.lines().filter((line) => line.component === 'cluster');
    expect(lines).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'etcd is slow today', shard: 3, stream: 'stdout' }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 'warn', msg: 'a warning on stderr', stream: 'stderr' }));
    expect(lines).toContainEqual(expect.objectContaining({ level: 'info', msg: expect.stringMatching(/^cluster ready at https:/) }));
  });

  it('stops the child on stop() and starts nothing more', async () => {
    const { cluster } = start([]);
    await cluster.whenReady();
    const [first] = await starts(startsFile);
    expect(alive(first?.pid)).toBe(true);
    await cluster.stop();
    expect(alive(first?.pid)).toBe(false);
    expect(cluster.ready).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await starts(startsFile)).toHaveLength(1);
  });

  it('kills a child that ignores SIGTERM', async () => {
    const { cluster } = start(['--ignore-sigterm']);
    await cluster.whenReady();
    const [first] = await starts(startsFile);
    await cluster.stop();
    expect(alive(first?.pid)).toBe(false);
  });

  it('says what is missing when the formicary CLI is not there', async () => {
    const logs = captureLogs();
    cluster = startLabCluster(
      { mode: 'embedded', dataDir: path.join(dir, 'cluster') },
      { root: dir, log: logs.log, embedded: { backoff: FAST_BACKOFF } },
    );
    const missing = path.join(dir, 'src', 'cli', 'main.ts');
    await eventually(() => cluster?.detail.includes('is missing'), 'the missing CLI to be reported');
    expect(cluster.detail).toMatch(`the embedded cluster cannot start: ${missing} is missing; the portal needs the formicary CLI`);
    expect(cluster.ready).toBe(false);
  });
});

describe('LAB_CLUSTER=kubernetes', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'formicary-kubeconfig-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const kubeconfig = (name: string, server: string) =>
    [
      'apiVersion: v1',
      'kind: Config',
      `clusters: [{name: ${name}, cluster: {server: "${server}"}}]`,
      `users: [{name: ${name}-admin, user: {token: t}}]`,
      `contexts: [{name: ${name}, context: {cluster: ${name}, user: ${name}-admin}}]`,
      `current-context: ${name}`,
      '',
    ].join('\n');

  it('is ready as soon as the kubeconfig loads', async () => {
    const file = path.join(dir, 'config');
    await writeFile(file, kubeconfig('lab-host', 'https://lab-host.example.com:6443'));
    const cluster = startLabCluster({ mode: 'kubernetes', kubeconfig: file }, { root: dir, log: captureLogs().log });
    expect(cluster.ready).toBe(true);
    expect(cluster.detail).toBe('using https://lab-host.example.com:6443 (context lab-host)');
    expect(cluster.loadKubeConfig().getCurrentContext()).toBe('lab-host');
  });

  it('merges a KUBECONFIG list, the first file choosing the context', async () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    await writeFile(a, kubeconfig('first', 'https://first:6443'));
    await writeFile(b, kubeconfig('second', 'https://second:6443'));
    const cluster = startLabCluster({ mode: 'kubernetes', kubeconfig: `${a}:${b}` }, { root: dir, log: captureLogs().log });
    expect(cluster.detail).toBe('using https://first:6443 (context first)');
    expect(cluster.loadKubeConfig().getContexts().map((c) => c.name)).toEqual(['first', 'second']);
  });

  it('names the file when the kubeconfig does not load', async () => {
    const file = path.join(dir, 'missing');
    expect(() => startLabCluster({ mode: 'kubernetes', kubeconfig: file }, { root: dir, log: captureLogs().log })).toThrow(KubeconfigError);
    expect(() => startLabCluster({ mode: 'kubernetes', kubeconfig: file }, { root: dir, log: captureLogs().log })).toThrow(
      new RegExp(`^KUBECONFIG: ${file}: `),
    );
  });

  it('asks for KUBECONFIG outside a pod', () => {
    expect(() => startLabCluster({ mode: 'kubernetes', kubeconfig: null }, { root: dir, log: captureLogs().log })).toThrow(
      /^KUBECONFIG: not set, and \/var\/run\/secrets\/kubernetes.io\/serviceaccount\/token does not exist/,
    );
  });
});

describe('the embedded cluster supervisor with the real `formicary cluster`', () => {
  let dir: string;
  let cluster: LabCluster | null;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'formicary-embedded-'));
    cluster = null;
  });
  afterEach(async () => {
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the Kubernetes API, comes back after being killed with its objects, and stops', { timeout: 60_000 }, async () => {
    const logs = captureLogs();
    cluster = startLabCluster({ mode: 'embedded', dataDir: path.join(dir, 'cluster') }, { root: PROJECT_ROOT, log: logs.log, embedded: { backoff: FAST_BACKOFF } });
    await cluster.whenReady();
    const core = () => cluster!.loadKubeConfig().makeApiClient(CoreV1Api);
    await core().createNamespace({ body: { metadata: { name: 'kept-across-restarts' } } });
    const server = cluster.loadKubeConfig().getCurrentCluster()?.server;

    const pid = logs.lines().find((line) => line.msg === 'the embedded cluster started')?.pid;
    process.kill(Number(pid), 'SIGKILL');
    await eventually(() => cluster!.restarts === 1 && cluster!.ready, 'the cluster to be back', 30_000);
    expect(logs.text()).toContain('the embedded cluster was killed by SIGKILL; starting it again in 0.1 s');
    expect(cluster.loadKubeConfig().getCurrentCluster()?.server).toBe(server);
    const namespaces = await core().listNamespace();
    expect(namespaces.items.map((ns) => ns.metadata?.name)).toContain('kept-across-restarts');

    const restartedPid = logs.lines().filter((line) => line.msg === 'the embedded cluster started').at(-1)?.pid;
    await cluster.stop();
    expect(alive(Number(restartedPid))).toBe(false);
  });
});
