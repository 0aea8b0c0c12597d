// A PersistentVolumeClaim mounted by a pod with securityContext.fsGroup, driven by real kubectl
// 1.27 and 1.33: the kubelet hands the claim's files to the fsGroup as SetVolumeOwnership does
// (group read and write added, directories setgid, what the pod makes there takes the group),
// every time a pod mounts it (fsGroupChangePolicy Always, the default), or only when the root's
// group or mode differ (OnRootMismatch); a read-only claim gets group read only.
import { statSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeletCluster, phase, startKubeletCluster, versionedKubectl } from './harness.ts';

let lab: KubeletCluster;
const hostPasswd = statSync('/etc/passwd');

beforeAll(async () => {
  lab = await startKubeletCluster();
}, 60_000);
afterAll(async () => {
  await lab?.stop();
});

function pod(name: string, securityContext: string, options: { readOnly?: boolean } = {}): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  restartPolicy: Never
  securityContext: ${securityContext}
  containers:
  - name: main
    image: busybox:1.36
    command: [sleep, '3600']
    volumeMounts: [{name: data, mountPath: /data}]
  volumes:
  - name: data
    persistentVolumeClaim: {claimName: data${options.readOnly ? ', readOnly: true' : ''}}
`;
}

describe.each(['1.27', '1.33'])('with kubectl %s', (version) => {
  const ns = `claims-${version.replace('.', '-')}`;
  const binary = versionedKubectl(version);
  const kubectl = (args: string[], stdin?: string) => lab.kubectl(args, { binary, ...(stdin === undefined ? {} : { stdin }) });
  const exec = (name: string, script: string) => kubectl(['exec', '-n', ns, name, '--', 'sh', '-c', script]);
  /** Runs a pod until it is Running, then the script in it, then deletes it (as learners take turns on a claim). */
  const withPod = async (name: string, manifest: string, script: string) => {
    const applied = await kubectl(['apply', '-n', ns, '-f', '-'], manifest);
    expect(applied.code, applied.stderr).toBe(0);
    await lab.until(`${name} Running`, () => phase(lab.pod(ns, name)) === 'Running', 60_000);
    const result = await exec(name, script);
    expect((await kubectl(['delete', 'pod', '-n', ns, name, '--grace-period=0', '--force'])).code).toBe(0);
    await lab.until(`${name} gone`, () => lab.pod(ns, name) === undefined, 30_000);
    return result;
  };

  beforeAll(async () => {
    expect((await kubectl(['create', 'namespace', ns])).code).toBe(0);
    await lab.serviceAccountReady(ns);
    const claim = await kubectl(['apply', '-n', ns, '-f', '-'], 'apiVersion: v1\nkind: PersistentVolumeClaim\nmetadata: {name: data}\nspec: {accessModes: [ReadWriteOnce], resources: {requests: {storage: 64Mi}}}\n');
    expect(claim.code, claim.stderr).toBe(0);
    // A first pod, without an fsGroup, leaves files with its own modes.
    const seeded = await withPod('seed', pod('seed', '{runAsUser: 1000}'), 'umask 022 && echo hi > /data/notes.txt && mkdir /data/sub && echo x > /data/sub/deep.txt && chmod 600 /data/sub/deep.txt && ln -s /etc/passwd /data/link');
    expect(seeded.code, seeded.stderr).toBe(0);
  }, 120_000);

  it('hands the claim to the fsGroup: group read and write on files, setgid directories, new files in the group', async () => {
    const result = await withPod(
      'always',
      pod('always', '{runAsUser: 1000, fsGroup: 2000}'),
      "stat -c '%A %g %n' /data /data/notes.txt /data/sub /data/sub/deep.txt && echo new > /data/new.txt && stat -c '%g %n' /data/new.txt",
    );
    expect(result.stdout).toBe(
      ['drwxrws--- 2000 /data', '-rw-rw-r-- 2000 /data/notes.txt', 'drwxrwsr-x 2000 /data/sub', '-rw-rw---- 2000 /data/sub/deep.txt', '2000 /data/new.txt', ''].join('\n'),
    );
    // The link the first pod planted names the host's /etc/passwd too: the walk never followed it.
    const passwd = statSync('/etc/passwd');
    expect([passwd.mode & 0o7777, passwd.gid]).toEqual([hostPasswd.mode & 0o7777, hostPasswd.gid]);
  });

  it('walks again with Always but not with OnRootMismatch once the root is already the group’s', async () => {
    const locked = await withPod('lock', pod('lock', '{runAsUser: 1000}'), 'chmod 600 /data/notes.txt && stat -c %A /data/notes.txt');
    expect(locked.stdout).toBe('-rw-------\n');
    const skipped = await withPod('skip', pod('skip', '{runAsUser: 1000, fsGroup: 2000, fsGroupChangePolicy: OnRootMismatch}'), 'stat -c %A /data/notes.txt');
    expect(skipped.stdout).toBe('-rw-------\n');
    const walked = await withPod('again', pod('again', '{runAsUser: 1000, fsGroup: 2000}'), 'stat -c %A /data/notes.txt');
    expect(walked.stdout).toBe('-rw-rw----\n');
    // Another fsGroup does not match the root: OnRootMismatch walks too.
    const other = await withPod('other', pod('other', '{runAsUser: 1000, fsGroup: 3000, fsGroupChangePolicy: OnRootMismatch}'), "stat -c '%g' /data /data/notes.txt");
    expect(other.stdout).toBe('3000\n3000\n');
  });

  it('adds group read only on a read-only claim', async () => {
    const unlocked = await withPod('prep', pod('prep', '{runAsUser: 1000}'), 'echo r > /data/ro.txt && chmod 600 /data/ro.txt');
    expect(unlocked.code, unlocked.stderr).toBe(0);
    const result = await withPod('reader', pod('reader', '{runAsUser: 1000, fsGroup: 4000}', { readOnly: true }), "stat -c '%A %g' /data/ro.txt");
    expect(result.stdout).toBe('-rw-r----- 4000\n');
  });
});
