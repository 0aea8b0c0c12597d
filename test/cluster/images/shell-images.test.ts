// busybox and alpine behave as their images do: busybox's own applets (not the host's GNU tools),
// the images' users, os-release and working directory, root by default and the securityContext's
// user when it names one, with kubectl 1.27 and 1.33 as the learner's client.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerStatus, type KubeletCluster, phase, startKubeletCluster, versionedKubectl, waitingReason } from '../kubelet/harness.ts';

let lab: KubeletCluster;
const ns = 'images';

beforeAll(async () => {
  lab = await startKubeletCluster();
  await lab.kubectl(['create', 'namespace', ns]);
  await lab.serviceAccountReady(ns);
  await lab.apply(
    `apiVersion: v1
kind: Pod
metadata: {name: box}
spec:
  containers:
  - {name: shell, image: busybox:1.36, command: [sh, -c, 'exec sleep 3600']}
---
apiVersion: v1
kind: Pod
metadata: {name: peak}
spec:
  containers:
  - {name: shell, image: alpine:3.20, command: [sleep, '3600']}
---
apiVersion: v1
kind: Pod
metadata: {name: nobody-box}
spec:
  securityContext: {runAsUser: 101, runAsGroup: 101}
  containers:
  - {name: shell, image: busybox, command: [sleep, '3600'], workingDir: /work}
---
apiVersion: v1
kind: Pod
metadata: {name: locked}
spec:
  containers:
  - name: shell
    image: busybox
    command: [sleep, '3600']
    securityContext: {readOnlyRootFilesystem: true}
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  volumes: [{name: scratch, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata: {name: locked-tools}
spec:
  containers:
  - {name: shell, image: debian:12, command: [sleep, '3600'], securityContext: {readOnlyRootFilesystem: true}}
---
apiVersion: v1
kind: Pod
metadata: {name: refused}
spec:
  securityContext: {runAsNonRoot: true}
  containers:
  - {name: shell, image: busybox, command: [sleep, '3600']}
`,
    ns,
  );
  await lab.until('the pods Running', () => ['box', 'peak', 'nobody-box', 'locked', 'locked-tools'].every((name) => phase(lab.pod(ns, name)) === 'Running'), 30_000);
});
afterAll(async () => {
  await lab?.stop();
});

// kubectl 1.27 execs over SPDY only, which this cluster does not serve yet; 1.29 speaks WebSocket when asked.
describe.each(['1.29', '1.33'])('shell images with kubectl %s', (version) => {
  const exec = (pod: string, command: string[]) => lab.kubectl(['exec', '-n', ns, pod, '--', ...command], { binary: versionedKubectl(version), env: { KUBECTL_REMOTE_COMMAND_WEBSOCKETS: 'true' } });

  it("busybox's wget is BusyBox's, and /bin holds its applets", async () => {
    const help = await exec('box', ['wget', '--help']);
    expect(help.stdout + help.stderr).toContain('BusyBox v1.');
    const bin = await exec('box', ['ls', '/bin']);
    expect(bin.stdout.split(/\s+/)).toEqual(expect.arrayContaining(['sh', 'ls', 'wget', 'nslookup', 'ps', 'busybox']));
  });

  it("shows busybox's users, root by default, / as the working directory and no host tool", async () => {
    const result = await exec('box', ['sh', '-c', 'id; pwd; cut -d: -f1 /etc/passwd | tr "\\n" " "; echo; ls /usr/bin | wc -l; test -e /usr/bin/perl || echo no-perl; echo $HOME $PATH']);
    // The image's /etc/group puts root in wheel; the runtime adds the image's groups, as containerd does.
    expect(result.stdout).toBe(
      'uid=0(root) gid=0(root) groups=0(root),10(wheel)\n/\nroot daemon bin sys sync mail www-data operator nobody \n0\nno-perl\n/root /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n',
    );
  });

  it('has printenv, as the images do (a stand-in where Debian built busybox without it)', async () => {
    const result = await lab.kubectl(['exec', '-n', ns, 'box', '--', 'sh', '-c', 'printenv HOME PATH; printenv NOPE; echo $?']);
    expect(result.stdout).toBe('/root\n/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n1\n');
  });

  it("alpine reads as Alpine Linux, with its applets where alpine puts them", async () => {
    const release = await exec('peak', ['cat', '/etc/os-release']);
    expect(release.stdout).toContain('NAME="Alpine Linux"\nID=alpine\n');
    const links = await exec('peak', ['sh', '-c', 'readlink /usr/bin/nslookup; readlink /bin/ls']);
    expect(links.stdout).toBe('/bin/busybox\n/bin/busybox\n');
  });

  it("takes upstream wget's timeout option, typed in sh, in busybox and alpine alike", async () => {
    for (const pod of ['box', 'peak']) {
      // Nothing listens on port 1: the timeout does not fire and wget's own message stands.
      const refused = await exec(pod, ['sh', '-c', 'wget -qT 1 -O- http://127.0.0.1:1/; echo "exit=$?"; wget --timeout=x http://127.0.0.1:1/; echo "exit=$?"']);
      expect([refused.stdout, refused.stderr]).toEqual(['exit=1\nexit=1\n', "wget: can't connect to remote host (127.0.0.1): Connection refused\nwget: invalid number 'x'\n"]);
    }
  });

  it("shows the container's command as PID 1 to every exec, and the execs beside it", async () => {
    const result = await exec('box', ['ps']);
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^PID\s+USER\s+COMMAND$/);
    expect(lines[1]).toMatch(/^\s*1 root\s+sleep 3600$/);
    expect(lines.at(-1)).toMatch(/^\s*\d+ root\s+ps$/);
    expect(lines).toHaveLength(3);
  });

  it("writes into the container's root as root, as a writable layer", async () => {
    const result = await exec('box', ['sh', '-c', 'echo kept > /note && cat /note']);
    expect(result.stdout).toBe('kept\n');
  });

  it('runs as the securityContext says, in the working directory it names', async () => {
    const result = await exec('nobody-box', ['sh', '-c', 'id; pwd; touch /etc/x 2>&1 || true']);
    expect(result.stdout).toMatch(/^uid=101 gid=101 groups=101\n\/work\n.*(Permission denied|Read-only)/s);
  });
});

describe('readOnlyRootFilesystem', () => {
  it('keeps the root, /tmp and HOME from being written; a volume stays writable', async () => {
    const result = await lab.kubectl(['exec', '-n', ns, 'locked', '--', 'sh', '-c', 'for f in /x /tmp/x /root/x /scratch/x; do touch $f 2>&1 && echo "wrote $f"; done']);
    expect(result.stdout).toBe(
      "touch: /x: Read-only file system\ntouch: /tmp/x: Read-only file system\ntouch: /root/x: Read-only file system\nwrote /scratch/x\n",
    );
  });

  it("holds for an image on the host's tools too", async () => {
    const result = await lab.kubectl(['exec', '-n', ns, 'locked-tools', '--', 'sh', '-c', 'for f in /x /tmp/x /root/x; do touch $f 2>/dev/null && echo "wrote $f"; done; echo checked']);
    expect(result.stdout).toBe('checked\n');
  });
});

describe('runAsNonRoot', () => {
  it("refuses to start busybox, whose user is root, as the kubelet does", async () => {
    await lab.until('CreateContainerConfigError', () => waitingReason(lab.pod(ns, 'refused')) === 'CreateContainerConfigError');
    const uid = lab.pod(ns, 'refused')?.metadata.uid;
    expect(containerStatus(lab.pod(ns, 'refused'))?.['state'].waiting.message).toBe(`container has runAsNonRoot and image will run as root (pod: "refused_${ns}(${uid})", container: shell)`);
  });
});
