// The container images, built here as an operator builds them (`npm run images`: mmdebstrap and
// umoci, no container engine), then proven by running each image's own entrypoint in its own root
// file system under bubblewrap, as the image's user, against a real (embedded) cluster.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImage, findKubectl, IMAGES, type BuiltImage } from '../../deploy/images/build.ts';
import { startTestCluster, type TestCluster } from '../labs/cluster.ts';
import { PortalLearner } from '../security/portal-learner.ts';

const run = promisify(execFile);
const work = mkdtempSync(path.join(tmpdir(), 'formicary-images-test-'));
const built: Partial<Record<'portal' | 'workbench', BuiltImage>> = {};
let cluster: TestCluster;
let kubeconfig: string;

interface Bundle {
  rootfs: string;
  user: { uid: number; gid: number };
  args: string[];
  env: string[];
  cwd: string;
}

const unpacked = new Map<string, Promise<Bundle>>();

function unpack(image: BuiltImage): Promise<Bundle> {
  if (!unpacked.has(image.name)) unpacked.set(image.name, unpackOnce(image));
  return unpacked.get(image.name)!;
}

async function unpackOnce(image: BuiltImage): Promise<Bundle> {
  const bundle = path.join(work, `${image.name}-bundle`);
  await run('umoci', ['unpack', '--image', `${image.layout}:${image.tag}`, bundle]);
  const config = JSON.parse(readFileSync(path.join(bundle, 'config.json'), 'utf8')) as { process: { user: { uid: number; gid: number }; args: string[]; env: string[]; cwd: string } };
  return { rootfs: path.join(bundle, 'rootfs'), user: config.process.user, args: config.process.args, env: config.process.env, cwd: config.process.cwd };
}

/** bubblewrap over the image's root file system: its user, environment and working directory; the host's loopback. */
function bwrapArgs(bundle: Bundle, extra: { env?: Record<string, string>; binds?: Array<[string, string]> } = {}): string[] {
  const env = Object.fromEntries(bundle.env.map((entry) => entry.split(/=(.*)/s).slice(0, 2) as [string, string]));
  Object.assign(env, extra.env ?? {});
  return [
    '--bind', bundle.rootfs, '/',
    '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp',
    '--unshare-user', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent',
    '--uid', String(bundle.user.uid), '--gid', String(bundle.user.gid),
    ...(extra.binds ?? []).flatMap(([source, target]) => ['--ro-bind', source, target]),
    '--clearenv', ...Object.entries(env).flatMap(([name, value]) => ['--setenv', name, value]),
    '--chdir', bundle.cwd,
  ];
}

beforeAll(async () => {
  const kubectl = findKubectl();
  for (const name of ['workbench', 'portal'] as const) built[name] = buildImage(IMAGES[name], { out: path.join(work, 'out'), tag: 'test', kubectl, log: () => {} });
  cluster = await startTestCluster();
  kubeconfig = path.join(work, 'kubeconfig');
  writeFileSync(kubeconfig, cluster.cluster.kubeconfig());
}, 1_200_000);

afterAll(async () => {
  await cluster?.stop();
  // Two unpacked root file systems and their layouts: a few hundred MB to remove.
  await rm(work, { recursive: true, force: true });
}, 300_000);

describe('the workbench image', () => {
  it('is an OCI image archive with the learner as its user and workbench-init as its entrypoint', async () => {
    const image = built.workbench!;
    expect(existsSync(image.archive)).toBe(true);
    const bundle = await unpack(image);
    expect(bundle.user).toEqual({ uid: 1000, gid: 1000 });
    expect(bundle.args).toEqual(['/usr/local/bin/workbench-init']);
    expect(bundle.cwd).toBe('/home/learner');
  }, 600_000);

  it('gives the learner bash, kubectl that reaches the cluster, tmux and the everyday tools', async () => {
    const bundle = await unpack(built.workbench!);
    const { stdout } = await run(
      'bwrap',
      [
        ...bwrapArgs(bundle, { binds: [[kubeconfig, '/tmp/kubeconfig']], env: { KUBECONFIG: '/tmp/kubeconfig' } }),
        '--', 'bash', '-lc',
        'id -un; kubectl get namespace kube-system -o name; for t in tmux curl jq vim less git wget ps nslookup nc; do command -v $t >/dev/null && echo has-$t; done; . /etc/os-release; echo $ID',
      ],
      { timeout: 30_000 },
    );
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toBe('learner');
    expect(lines[1]).toBe('namespace/kube-system');
    for (const tool of ['tmux', 'curl', 'jq', 'vim', 'less', 'git', 'wget', 'ps', 'nslookup', 'nc']) expect(lines).toContain(`has-${tool}`);
    expect(lines.at(-1)).toBe('debian');
  }, 600_000);

  it('keeps its entrypoint running until it is told to stop', async () => {
    const bundle = await unpack(built.workbench!);
    const child = spawn('bwrap', [...bwrapArgs(bundle), '--', ...bundle.args], { stdio: 'ignore' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const early = await Promise.race([exited, new Promise<'running'>((resolve) => setTimeout(() => resolve('running'), 1500))]);
    expect(early).toBe('running');
    child.kill('SIGTERM');
    expect(await exited).not.toBeUndefined();
  }, 600_000);
});

/**
 * The image run as `docker run --privileged --user 0` runs it: root with every capability, the
 * host's devices and /sys, in a PID namespace of its own with a fresh, unmasked /proc (a privileged
 * container's /proc hides nothing, which is what lets the sandboxes inside mount their own).
 */
function privilegedArgs(bundle: Bundle, env: Record<string, string>): string[] {
  const imageEnv = Object.fromEntries(bundle.env.map((entry) => entry.split(/=(.*)/s).slice(0, 2) as [string, string]));
  return [
    '--bind', bundle.rootfs, '/',
    '--proc', '/proc', '--dev-bind', '/dev', '/dev', '--bind', '/sys', '/sys', '--tmpfs', '/tmp', '--tmpfs', '/run',
    '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent',
    '--cap-add', 'ALL', '--uid', '0', '--gid', '0',
    '--clearenv', ...Object.entries({ ...imageEnv, HOME: '/root', TINI_SUBREAPER: '1', ...env }).flatMap(([name, value]) => ['--setenv', name, value]),
    '--chdir', bundle.cwd,
    // bubblewrap's own /proc masks a few of its files; a container runtime's privileged /proc does not.
    '--', '/bin/sh', '-c', 'mount -t proc proc /proc && exec "$@"', 'sh',
  ];
}

async function untilReady(port: number, output: () => string): Promise<void> {
  let ready: { ready?: boolean } = {};
  for (let attempt = 0; attempt < 240 && !ready.ready; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    ready = await fetch(`http://127.0.0.1:${port}/api/ready`).then((response) => response.json() as Promise<{ ready?: boolean }>, () => ({}));
  }
  expect(ready.ready, output()).toBe(true);
}

describe('the portal image', () => {
  let portal: ChildProcess | undefined;
  let alone: ChildProcess | undefined;
  afterAll(async () => {
    portal?.kill('SIGKILL');
    if (alone && alone.exitCode === null) {
      const exited = new Promise((resolve) => alone!.once('exit', resolve));
      alone.kill('SIGTERM');
      await exited;
    }
  }, 60_000);

  it('serves the catalog and a lesson against a lab-host cluster, as its own non-root user', async () => {
    const bundle = await unpack(built.portal!);
    expect(bundle.user).toEqual({ uid: 10001, gid: 10001 });
    const port = 20000 + Math.floor(Math.random() * 20000);
    portal = spawn(
      'bwrap',
      [
        ...bwrapArgs(bundle, {
          binds: [[kubeconfig, '/etc/formicary/kubeconfig']],
          env: { PORT: String(port), HOST: '127.0.0.1', LAB_CLUSTER: 'kubernetes', KUBECONFIG: '/etc/formicary/kubeconfig', AUTH: 'dev', DATA_DIR: '/tmp/data' },
        }),
        '--', ...bundle.args,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let output = '';
    portal.stdout!.on('data', (data: Buffer) => (output += data.toString()));
    portal.stderr!.on('data', (data: Buffer) => (output += data.toString()));
    let ready: { ready?: boolean } = {};
    for (let attempt = 0; attempt < 120 && !ready.ready; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      ready = await fetch(`http://127.0.0.1:${port}/api/ready`).then((response) => response.json() as Promise<{ ready?: boolean }>, () => ({}));
    }
    expect(ready.ready, output).toBe(true);
    expect(output).not.toContain('Building the site');
    const catalog = await fetch(`http://127.0.0.1:${port}/`);
    expect(catalog.status).toBe(200);
    expect(await catalog.text()).toContain('Kubernetes foundations');
    const lesson = await fetch(`http://127.0.0.1:${port}/paths/kubernetes-foundations/pods`);
    expect(lesson.status).toBe(200);
  }, 600_000);

  it('runs everything alone as a privileged container (the embedded cluster inside): a lab starts and its terminal drives the learner\'s sandbox', async () => {
    const bundle = await unpack(built.portal!);
    const port = 20000 + Math.floor(Math.random() * 20000);
    alone = spawn('bwrap', [...privilegedArgs(bundle, { PORT: String(port), HOST: '127.0.0.1', AUTH: 'dev', DATA_DIR: '/tmp/data' }), ...bundle.args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    alone.stdout!.on('data', (data: Buffer) => (output += data.toString()));
    alone.stderr!.on('data', (data: Buffer) => (output += data.toString()));
    await untilReady(port, () => output);
    expect(output).toContain('"labCluster":"embedded"');
    expect(output).not.toContain('shells are disabled');

    const url = `http://127.0.0.1:${port}`;
    const learner = await PortalLearner.signIn(url, 'Ada Alone');
    const session = await learner.startLab('configmaps-and-secrets', 240_000);
    const terminal = await learner.openTerminal('configmaps-and-secrets', { session: session.id });
    try {
      terminal.attach();
      const answer = await terminal.run('id -un; kubectl get pods -o name; kubectl create configmap web-config --from-literal=GREETING=hello -o name', 60_000);
      expect(answer).toContain('learner');
      expect(answer).toContain('pod/workbench');
      expect(answer).toContain('configmap/web-config');
    } finally {
      terminal.close();
    }
    const check = await learner.post('/api/labs/configmaps-and-secrets/check');
    expect(check.status).toBe(200);
    // The step's first check reads web-config's GREETING, which the terminal just wrote.
    const result = (await check.json()) as { step: string; results: Array<{ passed: boolean }> };
    expect(result.step).toBe('create-config');
    expect(result.results[0]?.passed, JSON.stringify(result)).toBe(true);
  }, 600_000);
});
