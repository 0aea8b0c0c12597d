// What a sandboxed shell cannot do: read the host's files, the cluster's data dir or another
// pod's volumes, see or signal processes outside it, reach the host's network — and it ends with
// its pod. The curious pod is debian's, whose tools are the host's: the host's trees are in sight,
// the hardest case (busybox and alpine see only their own root).
import { execFileSync, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pidsRunning } from '../../support/processes.ts';
import { type KubeletCluster, kubectlBinary, phase, startKubeletCluster } from './harness.ts';

let lab: KubeletCluster;
const ns = 'iso';

beforeAll(async () => {
  lab = await startKubeletCluster();
  await lab.kubectl(['create', 'namespace', ns]);
  await lab.serviceAccountReady(ns);
  await lab.apply(
    `apiVersion: v1
kind: Pod
metadata: {name: curious}
spec:
  containers:
  - {name: shell, image: debian:12, command: [sh, -c, 'exec sleep 3600']}
---
apiVersion: v1
kind: Pod
metadata: {name: neighbour}
spec:
  containers:
  - name: app
    image: busybox
    command: [sh, -c, 'echo private > /data/neighbour-secret; exec sleep 3623']
    volumeMounts: [{name: data, mountPath: /data}]
  volumes: [{name: data, emptyDir: {}}]
`,
    ns,
  );
  await lab.until('both Running', () => phase(lab.pod(ns, 'curious')) === 'Running' && phase(lab.pod(ns, 'neighbour')) === 'Running');
});
afterAll(async () => {
  await lab?.stop();
});

function inside(script: string) {
  return lab.kubectl(['exec', '-n', ns, 'curious', '--', 'sh', '-c', script]);
}

describe('a sandboxed shell', () => {
  it("cannot read the host's files or the cluster's data dir", async () => {
    const dataDir = lab.cluster.dataDir;
    const result = await inside(
      `for f in ${dataDir}/admin.token ${dataDir}/sa.key /etc/shadow ${lab.dir}/kubeconfig; do cat "$f" >/dev/null 2>&1 && echo "READ $f"; done; ` +
        `for d in ${dataDir} ${lab.dir} ${lab.kubeletDir} /home /work /var/lib; do ls "$d" >/dev/null 2>&1 && echo "LISTED $d"; done; echo checked`,
    );
    expect(result.stdout).toBe('checked\n');
  });

  it("cannot find or read another pod's volumes", async () => {
    const neighbour = lab.pod(ns, 'neighbour');
    const hostPath = `${lab.kubeletDir}/pods/${neighbour?.metadata.uid}/volumes/data/neighbour-secret`;
    expect(execFileSync('cat', [hostPath], { encoding: 'utf8' })).toBe('private\n');
    const result = await inside(`cat ${hostPath} 2>/dev/null && echo READ; find / -name 'neighbour-secret' 2>/dev/null; echo checked`);
    expect(result.stdout).toBe('checked\n');
  });

  it('cannot see or signal processes outside it, nor reach the host network', async () => {
    const neighbourSleep = execFileSync('pgrep', ['-f', 'sleep 3623'], { encoding: 'utf8' }).trim().split('\n')[0];
    const result = await inside(
      `ls /proc | grep -c '^[0-9]'; for pid in ${process.pid} ${neighbourSleep}; do kill -0 $pid 2>/dev/null && echo "SIGNALLED $pid"; done; ` +
        `wget -q -T 2 -O- https://127.0.0.1:${lab.cluster.port}/version >/dev/null 2>&1 && echo REACHED; echo checked`,
    );
    const [count, ...rest] = result.stdout.trim().split('\n');
    expect(Number(count)).toBeLessThanOrEqual(6);
    expect(rest).toEqual(['checked']);
  });

  it('ends with its pod: deleting the pod ends the exec sessions in it', async () => {
    const session = spawn(kubectlBinary, ['--kubeconfig', lab.kubeconfig, 'exec', '-n', ns, 'curious', '--', 'sh', '-c', 'exec sleep 3629'], { env: { ...process.env, HOME: lab.dir } });
    const ended = new Promise<number | null>((resolve) => session.on('exit', resolve));
    await lab.until('the session process', () => pidsRunning(['sleep', '3629']).length > 0);
    const deleted = await lab.kubectl(['delete', 'pod', 'curious', '-n', ns]);
    expect(deleted.code, deleted.stderr).toBe(0);
    expect(await ended).not.toBe(0);
    await lab.until('no session process left', () => pidsRunning(['sleep', '3629']).length === 0, 5_000);
  });
});
