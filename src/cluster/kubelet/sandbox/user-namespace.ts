// Rootless mode: a normal user runs the cluster inside a user namespace of its own, where the
// user is root and the user's subordinate uid and gid ranges (/etc/subuid, /etc/subgid, mapped by
// the setuid helpers newuidmap and newgidmap) are the other users. Inside it the kubelet works as
// it does as real root: every learner's sandbox gets a host identity of its own (from the
// subordinate range), pods get their own user, PID, network, IPC and UTS namespaces, and the node
// network is built in a network namespace the user namespace owns. What real root alone can do
// stays undone: cgroups the user was not delegated (no CPU, memory or PID limits) and
// loop-mounted file systems (ephemeral storage is measured, not capped).
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';

export interface IdMapping {
  inside: number;
  outside: number;
  count: number;
}

/** The uid (or gid) map of this process's user namespace; null where /proc does not tell. */
export function readIdMap(kind: 'uid' | 'gid'): IdMapping[] | null {
  let text: string;
  try {
    text = readFileSync(`/proc/self/${kind}_map`, 'utf8');
  } catch {
    return null;
  }
  return text
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter((fields) => fields.length === 3 && fields.every((field) => Number.isInteger(field)))
    .map(([inside, outside, count]) => ({ inside: inside as number, outside: outside as number, count: count as number }));
}

/** Whether this process runs in a user namespace other than the machine's own (its root is a normal user outside). */
export function inUserNamespace(map: IdMapping[] | null = readIdMap('uid')): boolean {
  if (!map) return false;
  return !(map.length === 1 && map[0]?.inside === 0 && map[0].outside === 0 && map[0].count === 4294967295);
}

/** The user's first subordinate range in /etc/subuid or /etc/subgid (by name or by id). */
export function subordinateRange(file: string, user: { name: string; id: number }): { start: number; count: number } | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    const [owner, start, count] = line.trim().split(':');
    if (owner !== user.name && owner !== String(user.id)) continue;
    const range = { start: Number(start), count: Number(count) };
    if (Number.isInteger(range.start) && Number.isInteger(range.count) && range.count > 0) return range;
  }
  return null;
}

/** The command that runs argv inside a rootless user namespace, or why this machine cannot make one. */
export type RootlessLaunch = { command: string; args: string[]; uids: { start: number; count: number } } | { reason: string };

/** Subordinate ids a rootless cluster needs at least: nobody (65534, the shared sandbox user) and room for sandboxes above 1000. */
const MIN_SUBORDINATE_IDS = 65535;

/** unshare's options for the rootless user namespace: the user is root, its subordinate ids are 1 and up. */
export function userNamespaceArgs(uids: { start: number; count: number }, gids: { start: number; count: number }): string[] {
  return ['--user', '--map-root-user', `--map-users=${uids.start},1,${uids.count}`, `--map-groups=${gids.start},1,${gids.count}`, '--setgroups=allow', '--'];
}

export function rootlessLaunch(argv: string[]): RootlessLaunch {
  const uid = process.getuid?.() ?? 0;
  const gid = process.getgid?.() ?? 0;
  const name = userInfo().username;
  const uids = subordinateRange('/etc/subuid', { name, id: uid });
  const gids = subordinateRange('/etc/subgid', { name, id: gid });
  const fix = `as root: usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${name}`;
  if (!uids || !gids) return { reason: `user ${name} has no subordinate uid and gid range (/etc/subuid, /etc/subgid) for sandbox users; ${fix}` };
  if (uids.count < MIN_SUBORDINATE_IDS || gids.count < MIN_SUBORDINATE_IDS) return { reason: `user ${name}'s subordinate range in /etc/subuid or /etc/subgid holds fewer than ${MIN_SUBORDINATE_IDS} ids; ${fix}` };
  for (const tool of ['unshare', 'newuidmap', 'newgidmap']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) return { reason: `${tool} is not installed (apt-get install ${tool === 'unshare' ? 'util-linux' : 'uidmap'})` };
  }
  const args = [...userNamespaceArgs(uids, gids), ...argv];
  const probe = spawnSync('unshare', [...userNamespaceArgs(uids, gids), 'true'], { encoding: 'utf8', timeout: 5000 });
  if (probe.status !== 0) return { reason: `the kernel does not let ${name} make a user namespace (${probe.stderr.trim() || `exit ${probe.status}`}); check sysctl user.max_user_namespaces (and kernel.unprivileged_userns_clone where it exists)` };
  return { command: 'unshare', args, uids };
}

/**
 * The command again, inside the rootless user namespace: the same process, the same arguments.
 * Signals pass to it, it ends with this process (the parent-death signal), and its exit is this
 * one's.
 */
export function runRootless(launch: Extract<RootlessLaunch, { command: string }>, name: string): Promise<number> {
  const child = spawn('setpriv', ['--pdeathsig', 'SIGTERM', launch.command, ...launch.args], { stdio: 'inherit' });
  const forward = (signal: NodeJS.Signals) => child.kill(signal);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => {
    child.on('error', (error) => {
      process.stderr.write(`${name}: could not start rootless: ${error.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}
