// A pod's groups as the kubelet and containerd give them: runAsGroup is the primary group, and the
// supplementary groups are it, the image's /etc/group memberships of the user (supplementalGroupsPolicy
// Merge, the default; none with Strict), fsGroup and supplementalGroups. The pod's volumes
// (emptyDir, configMap, secret, projected, the ServiceAccount token) belong to the fsGroup, with
// setgid directories, as SetVolumeOwnership leaves them; a file of a supplementary group is readable
// by it and by no other. Each group is a host gid reserved for the learner's sandbox alone.
import { chmodSync, chownSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeletCluster, phase, startKubeletCluster } from './harness.ts';

let lab: KubeletCluster;
const ns = 'groups';

function pod(name: string, securityContext: string, options: { image?: string; volumes?: string; mounts?: string } = {}): string {
  return `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  restartPolicy: Never
  securityContext: ${securityContext}
  containers:
  - name: main
    image: ${options.image ?? 'busybox:1.36'}
    command: [sleep, '3600']
${options.mounts ? `    volumeMounts:\n${options.mounts}` : ''}
${options.volumes ? `  volumes:\n${options.volumes}` : ''}
`;
}

async function running(name: string): Promise<void> {
  await lab.until(`${name} Running`, () => phase(lab.pod(ns, name)) === 'Running', 30_000);
}

async function exec(name: string, script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return lab.kubectl(['exec', '-n', ns, name, '--', 'sh', '-c', script]);
}

beforeAll(async () => {
  lab = await startKubeletCluster();
  await lab.kubectl(['create', 'namespace', ns]);
  await lab.serviceAccountReady(ns);
  await lab.kubectl(['create', 'configmap', '-n', ns, 'settings', '--from-literal=mode=strict']);
  await lab.kubectl(['create', 'secret', 'generic', '-n', ns, 'keys', '--from-literal=api=s3cr3t']);
}, 60_000);
afterAll(async () => {
  await lab?.stop();
});

describe('the groups of a pod', () => {
  it('shows runAsGroup as gid and fsGroup and supplementalGroups as supplementary groups, in the container and its execs', async () => {
    await lab.apply(pod('demo', '{runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000, supplementalGroups: [4000, 5000]}'), ns);
    await running('demo');
    const id = await lab.kubectl(['exec', '-n', ns, 'demo', '--', 'id']);
    expect(id.stdout).toBe('uid=1000 gid=3000 groups=3000,2000,4000,5000\n');
    const status = await exec('demo', 'grep Groups /proc/1/status');
    expect(status.stdout.trim().split(/\s+/).slice(1)).toEqual(['3000', '2000', '4000', '5000']);
  });

  it("adds the image's /etc/group memberships of the user (root is in wheel in busybox), none with supplementalGroupsPolicy Strict", async () => {
    await lab.apply(pod('root', '{}'), ns);
    await lab.apply(pod('strict', '{supplementalGroups: [4000], supplementalGroupsPolicy: Strict}'), ns);
    await running('root');
    await running('strict');
    expect((await lab.kubectl(['exec', '-n', ns, 'root', '--', 'id'])).stdout).toBe('uid=0(root) gid=0(root) groups=0(root),10(wheel)\n');
    expect((await lab.kubectl(['exec', '-n', ns, 'strict', '--', 'id'])).stdout).toBe('uid=0(root) gid=0(root) groups=0(root),4000\n');
  });

  it('lets a supplementary group read a file only its group may read, and refuses a pod without that group', async () => {
    const shared = (name: string, context: string, nodeName?: string) =>
      pod(name, context, { volumes: '  - name: shared\n    hostPath: {path: /var/shared, type: DirectoryOrCreate}\n', mounts: '    - {name: shared, mountPath: /shared}\n' }).replace('spec:\n', `spec:\n${nodeName ? `  nodeName: ${nodeName}\n` : ''}`);
    await lab.apply(shared('member', '{runAsUser: 1000, runAsGroup: 1000, supplementalGroups: [4000]}'), ns);
    await running('member');
    const nodeName = String((lab.pod(ns, 'member') as { spec?: { nodeName?: string } } | undefined)?.spec?.nodeName);
    await lab.apply(shared('outsider', '{runAsUser: 1000, runAsGroup: 1000}', nodeName), ns);
    await running('outsider');
    // The node's administrator leaves a file of root's that only group 4000 (as this namespace holds it) may read.
    const state = JSON.parse(readFileSync(join(lab.dir, 'data', 'sandbox-identities.json'), 'utf8')) as { first: number; namespaces: Record<string, number> };
    const offset = state.namespaces[`${ns}/gid/4000`];
    expect(offset).toBeTypeOf('number');
    const file = join(lab.kubeletDir, 'nodes', nodeName, 'hostpath', 'var', 'shared', 'for-4000');
    writeFileSync(file, 'group secret\n');
    chownSync(file, 0, state.first + (offset ?? 0));
    chmodSync(file, 0o040);
    expect((await exec('member', 'ls -ln /shared/for-4000; cat /shared/for-4000')).stdout).toMatch(/^-{4}r-{5} +1 65534 +4000 .*\ngroup secret\n$/);
    const refused = await exec('outsider', 'cat /shared/for-4000');
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('Permission denied');
  });
});

describe('volumes owned by the fsGroup', () => {
  it('gives an emptyDir the fsGroup with a setgid directory, and files made in it the group', async () => {
    const volumes = '  - name: data\n    emptyDir: {}\n';
    await lab.apply(pod('vol', '{runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000}', { volumes, mounts: '    - {name: data, mountPath: /data/demo}\n' }), ns);
    await running('vol');
    const dir = await exec('vol', 'ls -lnd /data/demo');
    expect(dir.stdout).toMatch(/^drwxrws--- +\d+ 1000 +2000 /);
    const file = await exec('vol', 'cd /data/demo && echo hello > testfile && ls -ln testfile');
    expect(file.stdout).toMatch(/^-rw-r--r-- +1 1000 +2000 +6 /);
  });

  it('gives configMap, secret and projected files (and the ServiceAccount token) the fsGroup, group-readable', async () => {
    const volumes = [
      '  - name: config',
      '    configMap: {name: settings}',
      '  - name: keys',
      '    secret: {secretName: keys, defaultMode: 0400}',
      '  - name: both',
      '    projected: {sources: [{configMap: {name: settings, items: [{key: mode, path: nested/mode}]}}, {secret: {name: keys}}]}',
      '',
    ].join('\n');
    const mounts = ['    - {name: config, mountPath: /etc/config}', '    - {name: keys, mountPath: /etc/keys}', '    - {name: both, mountPath: /etc/both}', ''].join('\n');
    await lab.apply(pod('keyed', '{runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000}', { volumes, mounts }), ns);
    await running('keyed');
    const listing = await exec('keyed', 'ls -lnL /etc/config/mode /etc/keys/api /etc/both/nested/mode /etc/both/api /var/run/secrets/kubernetes.io/serviceaccount/token; ls -lndL /etc/both/nested; ls -lnd /etc/config/..data/');
    const lines = listing.stdout.trim().split('\n');
    // defaultMode 0400 becomes 0440: SetVolumeOwnership ORs in group read.
    expect(lines.filter((line) => line.includes('/etc/keys/api'))[0]).toMatch(/^-r--r----- +1 1000 +2000 /);
    for (const path of ['/etc/config/mode', '/etc/both/nested/mode', '/etc/both/api', 'serviceaccount/token']) {
      expect(lines.find((line) => line.endsWith(path)), path).toMatch(/^-rw-r--r-- +1 1000 +2000 /);
    }
    // The kubelet's own directories of the volume take the group and setgid too (and stay the kubelet's to write).
    expect(lines.at(-1)).toMatch(/^drwxr-sr-x +\d+ \d+ +2000 /);
    expect(lines.find((line) => line.endsWith('/etc/both/nested'))).toMatch(/^drwxr-sr-x +\d+ \d+ +2000 /);
    // The secret is the group's to read: a process in the pod reads it.
    expect((await exec('keyed', 'cat /etc/keys/api')).stdout).toBe('s3cr3t');
  });

  it("maps each of the pod's groups to a host gid reserved for the namespace, never a group of the host", async () => {
    const volumes = '  - name: data\n    emptyDir: {}\n';
    await lab.apply(pod('host', '{runAsUser: 1000, runAsGroup: 3000, fsGroup: 2000}', { volumes, mounts: '    - {name: data, mountPath: /data}\n' }), ns);
    await running('host');
    const onHost = statSync(join(lab.kubeletDir, 'pods', lab.pod(ns, 'host')?.metadata.uid ?? '', 'volumes', 'data'));
    // The group is the host gid the kubelet reserved for (this namespace, 2000), from the sandbox
    // identity range (far above the host's users, or the subordinate range rootless), not 2000 itself.
    const state = JSON.parse(readFileSync(join(lab.dir, 'data', 'sandbox-identities.json'), 'utf8')) as { first: number; size: number; namespaces: Record<string, number> };
    const offset = state.namespaces[`${ns}/gid/2000`];
    expect(offset).toBeTypeOf('number');
    expect(onHost.gid).toBe(state.first + (offset ?? 0));
    expect(onHost.gid).not.toBe(onHost.uid);
    expect(Object.values(state.namespaces).filter((taken) => taken === offset)).toHaveLength(1);
    expect(onHost.mode & 0o7777).toBe(0o2770);
  });
});
