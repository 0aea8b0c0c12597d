// A cluster killed with SIGKILL and started again on the same data dir is a node after a crash:
// the processes are gone and come back as restarts, but every pod that still exists keeps its
// directories — the workbench's home, its emptyDir volumes — while a pod that is gone loses them.
// A stop and a start keep them too.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kubectlBinary } from './harness.ts';

const root = resolve(import.meta.dirname, '../../..');
let dir: string;
let dataDir: string;
let kubeconfig: string;
/** The kubelet's folder for this data dir, where `formicary cluster` puts it. */
let kubeletDir: string;
let cluster: ChildProcess | undefined;

function startClusterProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(root, 'src/cli/main.ts'), 'cluster', '--kubeconfig', kubeconfig, '--data', dataDir, '--port', '0', '--nodes', '1'], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Promise((resolvePromise, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`the cluster did not get ready: ${output}`)), 60_000);
    const seen = (data: Buffer) => {
      output += data.toString();
      if (/\bready\b/.test(output)) {
        clearTimeout(timer);
        child.stdout?.off('data', seen);
        resolvePromise(child);
      }
    };
    child.stdout?.on('data', seen);
    child.stderr?.on('data', (data: Buffer) => (output += data.toString()));
    child.once('exit', (code) => reject(new Error(`the cluster exited (${code}): ${output}`)));
  });
}

function kubectlWithInput(stdin: string | undefined, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(kubectlBinary, ['--kubeconfig', kubeconfig, ...args], { timeout: 60_000, env: { ...process.env, HOME: dir, KUBECONFIG: '' } }, (error, stdout, stderr) =>
      done({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

const kubectl = (...args: string[]) => kubectlWithInput(undefined, ...args);

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function running(name: string, restarts: number): Promise<boolean> {
  const result = await kubectl('get', 'pod', '-n', 'lab', name, '-o', 'jsonpath={.status.phase} {.status.containerStatuses[0].ready} {.status.containerStatuses[0].restartCount}');
  const [phase, ready, count] = result.stdout.split(' ');
  return phase === 'Running' && ready === 'true' && Number(count) >= restarts;
}

async function stopCluster(signal: 'SIGKILL' | 'SIGTERM'): Promise<void> {
  const child = cluster;
  cluster = undefined;
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'formicary-restart-test-'));
  dataDir = join(dir, 'data');
  kubeconfig = join(dir, 'kubeconfig');
  kubeletDir = join(tmpdir(), `formicary-kubelet-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
  cluster = await startClusterProcess();
}, 90_000);

afterAll(async () => {
  // A stop (unlike a kill) unmounts the pods' file systems, so their folders can go.
  await stopCluster('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
  rmSync(kubeletDir, { recursive: true, force: true });
});

describe('a cluster killed with SIGKILL and started again on the same data dir', () => {
  it("keeps the workbench's home and every surviving pod's emptyDir; a pod that is gone loses its directory", async () => {
    const manifest = `apiVersion: v1
kind: Namespace
metadata: {name: lab}
---
apiVersion: v1
kind: Pod
metadata: {name: workbench, namespace: lab}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: workbench
    image: formicary/workbench:1.0
    volumeMounts: [{name: home, mountPath: /home/learner}]
  volumes: [{name: home, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata: {name: notes, namespace: lab}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: notes
    image: formicary/workbench:1.0
---
apiVersion: v1
kind: Pod
metadata: {name: cache, namespace: lab}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: cache
    image: busybox
    command: [sh, -c, 'exec sleep 3600']
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  volumes: [{name: scratch, emptyDir: {}}]
`;
    const applied = await kubectlWithInput(manifest, 'apply', '-f', '-');
    expect(applied.code, applied.stderr).toBe(0);
    for (const name of ['workbench', 'notes', 'cache']) await eventually(`${name} running`, () => running(name, 0));

    const wrote = await Promise.all([
      kubectl('exec', '-n', 'lab', 'workbench', '--', 'bash', '-c', 'echo "kubectl get pods -A" > ~/notes.txt && mkdir -p ~/lab && echo step-2 > ~/lab/progress'),
      kubectl('exec', '-n', 'lab', 'notes', '--', 'bash', '-c', 'echo remembered > ~/todo.txt'),
      kubectl('exec', '-n', 'lab', 'cache', '--', 'sh', '-c', 'echo cached > /scratch/data.txt'),
    ]);
    for (const result of wrote) expect(result.code, result.stderr).toBe(0);
    const podsDir = join(kubeletDir, 'pods');
    expect(existsSync(podsDir)).toBe(true);
    // A pod deleted while its node was down leaves a directory no pod claims.
    const orphan = join(podsDir, '0b7c1f8e-5a3d-4c2b-9e1f-6d7a8b9c0d1e');
    mkdirSync(join(orphan, 'volumes', 'scratch'), { recursive: true });
    writeFileSync(join(orphan, 'volumes', 'scratch', 'left-behind'), 'x');

    await stopCluster('SIGKILL');
    cluster = await startClusterProcess();
    for (const name of ['workbench', 'notes', 'cache']) await eventually(`${name} running again`, () => running(name, 1));

    const read = await Promise.all([
      kubectl('exec', '-n', 'lab', 'workbench', '--', 'bash', '-c', 'cat ~/notes.txt ~/lab/progress'),
      kubectl('exec', '-n', 'lab', 'notes', '--', 'bash', '-c', 'cat ~/todo.txt'),
      kubectl('exec', '-n', 'lab', 'cache', '--', 'cat', '/scratch/data.txt'),
    ]);
    expect(read.map((result) => result.stdout)).toEqual(['kubectl get pods -A\nstep-2\n', 'remembered\n', 'cached\n']);
    expect(existsSync(orphan)).toBe(false);

    const deleted = await kubectl('delete', 'pod', '-n', 'lab', 'cache', '--wait=true');
    expect(deleted.code, deleted.stderr).toBe(0);
    const uid = (await kubectl('get', 'pod', '-n', 'lab', 'workbench', '-o', 'jsonpath={.metadata.uid}')).stdout;
    await eventually('the deleted pod to lose its directory', async () => readdirSync(podsDir).length === 2);
    expect(existsSync(join(podsDir, uid))).toBe(true);

    // A stop unmounts each pod's file system and the next start mounts it again: the same files.
    await stopCluster('SIGTERM');
    expect(readdirSync(join(podsDir, uid))).toEqual([]);
    cluster = await startClusterProcess();
    for (const name of ['workbench', 'notes']) await eventually(`${name} running after a stop and a start`, () => running(name, 2));
    const again = await Promise.all([kubectl('exec', '-n', 'lab', 'workbench', '--', 'bash', '-c', 'cat ~/notes.txt'), kubectl('exec', '-n', 'lab', 'notes', '--', 'bash', '-c', 'cat ~/todo.txt')]);
    expect(again.map((result) => result.stdout)).toEqual(['kubectl get pods -A\n', 'remembered\n']);
  }, 240_000);

  it('leaves its kubelet folder to the next start, which removes it once the data dir is gone', async () => {
    await stopCluster('SIGTERM');
    expect(existsSync(join(kubeletDir, 'pods'))).toBe(true);
    rmSync(dataDir, { recursive: true, force: true });
    dataDir = join(dir, 'another');
    cluster = await startClusterProcess();
    expect(existsSync(kubeletDir)).toBe(false);
    rmSync(kubeletDir, { recursive: true, force: true });
    kubeletDir = join(tmpdir(), `formicary-kubelet-${createHash('sha256').update(dataDir).digest('hex').slice(0, 12)}`);
  }, 120_000);
});
