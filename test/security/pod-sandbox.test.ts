// A hostile learner inside a pod, with kubectl exec and client-node as the only doors. The pod is
// one sandbox as a container runtime makes it: one PID, network, IPC and UTS namespace, one cgroup
// whose limits bind every container process and exec together, one host identity per learner's
// namespace. So parallel execs share the pod's memory, a pod without limits is still capped, a fork
// bomb stops at the pod, `ps` shows the pod and nothing else, another sandbox's files stay closed
// even through their host path, and the cluster's and the portal's data are nowhere to be seen.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { accessSync, chmodSync, constants, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCluster, type RunningCluster } from '../../src/cluster/index.ts';
import { identityRange, SandboxIdentities } from '../../src/cluster/kubelet/sandbox/identities.ts';
import { SandboxCgroup } from '../../src/cluster/kubelet/sandbox/index.ts';
import { type KubeletCluster, type KubectlResult, kubectlBinary, phase, startKubeletCluster } from '../cluster/kubelet/harness.ts';

let lab: KubeletCluster;
const alice = 'sandbox-alice';
const bob = 'sandbox-bob';
/** Whether this machine lets the kubelet make cgroups (limits hold only where it does). */
const probe = await SandboxCgroup.parent(`formicary-probe-${process.pid}`, {});
await probe?.remove(1);
const cgroupsWritable = probe !== null;

beforeAll(async () => {
  lab = await startKubeletCluster({ nodes: 1 });
  for (const namespace of [alice, bob]) expect((await lab.kubectl(['create', 'namespace', namespace])).code).toBe(0);
}, 60_000);
afterAll(async () => {
  await lab?.stop();
});

function exec(namespace: string, pod: string, command: string[], timeoutMs = 30_000): Promise<KubectlResult> {
  return lab.kubectl(['exec', '-n', namespace, pod, '--', ...command], { timeoutMs });
}

async function runningPod(namespace: string, name: string, spec: string): Promise<void> {
  await lab.apply(
    `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
${spec}`,
    namespace,
  );
  await lab.until(`${namespace}/${name} running`, () => phase(lab.pod(namespace, name)) === 'Running');
}

/** A shell container that waits; `resources` is indented YAML or empty. debian: the host's tools (perl, python3, bash) stand in for its own. */
function shellPod(command: string, resources = '', volumes = ''): string {
  return `  terminationGracePeriodSeconds: 1
  containers:
  - name: app
    image: debian:12
    command: ["sh", "-c", "${command}"]
${resources}${volumes}`;
}

describe('one pod, one set of namespaces', () => {
  it("shows the pod's main process and its other execs in ps, and nothing outside the pod", async () => {
    await runningPod(alice, 'ps-target', shellPod('sleep 3601'));
    await runningPod(alice, 'neighbour', shellPod('sleep 3602'));
    // A second exec holds on while the first looks around.
    const holder = spawn(kubectlBinary, ['--kubeconfig', lab.kubeconfig, 'exec', '-n', alice, 'ps-target', '--', 'sleep', '3603'], { stdio: 'ignore' });
    try {
      const seen = await lab.eventually('the other exec in ps', async () => {
        const result = await exec(alice, 'ps-target', ['ps', '-eo', 'pid,args']);
        // The exec's own process, not bubblewrap's child still on its way to it.
        return /^\s*\d+ sleep 3603$/m.test(result.stdout) ? result : undefined;
      });
      expect(seen.stdout).toContain('sleep 3601');
      expect(seen.stdout).not.toContain('sleep 3602');
      // Every process listed is the pod's: its sandbox, its container, the two execs.
      const pod = /^\s*\d+ (\/usr\/bin\/bwrap .*\/usr\/bin\/sleep infinity|\/usr\/bin\/sleep infinity|sh -c sleep 3601|sleep 3601|sleep 3603|ps -eo pid,args)$/;
      const others = seen.stdout.split('\n').slice(1).filter((line) => line.trim() !== '' && !pod.test(line));
      expect(others, seen.stdout).toEqual([]);
      // The pod's processes have the pod's own numbers: the pod sandbox's first process is PID 1.
      expect(seen.stdout).toMatch(/^\s*1\s/m);

      // client-node's exec joins the same pod: the same processes, the same hostname, the same localhost.
      const stdout = new PassThrough();
      let text = '';
      stdout.on('data', (data: Buffer) => (text += data.toString()));
      await new Promise<void>((resolve, reject) => {
        void new k8s.Exec(lab.kubeConfig())
          .exec(alice, 'ps-target', 'app', ['sh', '-c', 'hostname; ps -eo args'], stdout, null, null, false, () => resolve())
          .catch(reject);
      });
      expect(text.split('\n')[0]).toBe('ps-target');
      expect(text).toContain('sleep 3601');
      expect(text).toContain('sleep 3603');
    } finally {
      holder.kill('SIGKILL');
    }
  });

  it('shares localhost between the execs of a pod, not with another pod', async () => {
    await runningPod(alice, 'net-a', shellPod('sleep 3600'));
    await runningPod(alice, 'net-b', shellPod('sleep 3600'));
    const server = spawn(kubectlBinary, ['--kubeconfig', lab.kubeconfig, 'exec', '-n', alice, 'net-a', '--', 'perl', '-MIO::Socket::INET', '-e', 'my $s = IO::Socket::INET->new(LocalAddr => "127.0.0.1:7070", Listen => 5, ReuseAddr => 1) or die; while (my $c = $s->accept) { print $c "hello from the pod\\n"; close $c }'], { stdio: 'ignore' });
    try {
      const answer = await lab.eventually('the pod-local server answers', async () => {
        const result = await exec(alice, 'net-a', ['perl', '-MIO::Socket::INET', '-e', 'my $c = IO::Socket::INET->new("127.0.0.1:7070") or exit 7; print <$c>']);
        return result.code === 0 ? result.stdout : undefined;
      });
      expect(answer).toBe('hello from the pod\n');
      const other = await exec(alice, 'net-b', ['perl', '-MIO::Socket::INET', '-e', 'my $c = IO::Socket::INET->new("127.0.0.1:7070") or exit 7; print <$c>']);
      expect(other.code).toBe(7);
    } finally {
      server.kill('SIGKILL');
    }
  });
});

describe.skipIf(!cgroupsWritable)('resources per pod, not per process', () => {
  const allocate = (mebibytes: number) => ['python3', '-c', `import time; x = b"a" * (${mebibytes} << 20); time.sleep(5); print("survived")`];

  it("makes three parallel execs share the pod's memory limit: one of them is OOM-killed", async () => {
    await runningPod(alice, 'memory', shellPod('sleep 3600', '    resources: {limits: {memory: 256Mi, cpu: "1"}}\n'));
    const results = await Promise.all([0, 1, 2].map(() => exec(alice, 'memory', allocate(100))));
    const survived = results.filter((result) => result.code === 0 && result.stdout === 'survived\n');
    const killed = results.filter((result) => result.code === 137);
    expect(survived.length, JSON.stringify(results)).toBeLessThan(3);
    expect(killed.length, JSON.stringify(results)).toBeGreaterThanOrEqual(1);
    expect(killed[0]?.stderr).toContain('command terminated with exit code 137');
    // The pod itself lives on.
    expect((await exec(alice, 'memory', ['echo', 'still here'])).stdout).toBe('still here\n');
  });

  it('caps a pod without limits (no LimitRange) at the kubelet ceiling', async () => {
    await runningPod(bob, 'unlimited', shellPod('sleep 3600'));
    const big = await exec(bob, 'unlimited', allocate(1536));
    expect(big.code, big.stderr).toBe(137);
    const small = await exec(bob, 'unlimited', allocate(64));
    expect(small.stdout).toBe('survived\n');
  });

  it('marks a container the OOM killer ended as OOMKilled, as upstream', async () => {
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: hog}
spec:
  restartPolicy: Never
  containers:
  - name: app
    image: debian:12
    command: ["python3", "-c", "x = b'a' * (300 << 20)"]
    resources: {limits: {memory: 128Mi}}
`,
      alice,
    );
    const terminated = await lab.until('the hog terminated', () => (lab.pod(alice, 'hog')?.status as { containerStatuses?: Array<{ state?: { terminated?: { reason: string; exitCode: number } } }> } | undefined)?.containerStatuses?.[0]?.state?.terminated);
    expect(terminated).toMatchObject({ reason: 'OOMKilled', exitCode: 137 });
  });

  it('stops a fork bomb at the pod: the pod and the host survive', async () => {
    await runningPod(bob, 'bomb', shellPod('sleep 3600', '    resources: {limits: {memory: 512Mi, cpu: 500m}}\n'));
    const bomb = await exec(bob, 'bomb', ['timeout', '5', 'bash', '-c', 'f() { f | f & }; f; sleep 3; echo bombed'], 60_000);
    expect(bomb.stderr).toMatch(/fork|Resource temporarily unavailable/);
    // The host still forks, the pod still answers once the bomb's processes are gone with its exec.
    expect(execFileSync('/bin/echo', ['host alive']).toString()).toBe('host alive\n');
    const alive = await lab.eventually('the pod answers again', async () => {
      const result = await exec(bob, 'bomb', ['sh', '-c', 'echo alive; ps -e | wc -l']);
      return result.code === 0 ? result.stdout : undefined;
    });
    expect(alive.split('\n')[0]).toBe('alive');
    expect(Number(alive.split('\n')[1])).toBeLessThan(20);
    expect(phase(lab.pod(bob, 'bomb'))).toBe('Running');
  }, 90_000);
});

describe('sandbox identities', () => {
  it("gives each sandbox its own host uid; one cannot read the other's emptyDir even by its host path", async () => {
    const withScratch = `    volumeMounts: [{name: scratch, mountPath: /scratch}]
  volumes: [{name: scratch, emptyDir: {}}]
`;
    await runningPod(alice, 'writer', shellPod('echo alice-secret > /scratch/note; sleep 3600', '', withScratch));
    await runningPod(bob, 'writer', shellPod('echo bob-secret > /scratch/note; sleep 3600', '', withScratch));
    const hostDir = (namespace: string) => join(lab.kubeletDir, 'pods', lab.pod(namespace, 'writer')?.metadata.uid ?? '', 'volumes', 'scratch');
    await lab.until('both notes written', () => {
      try {
        return statSync(join(hostDir(alice), 'note')).size > 0 && statSync(join(hostDir(bob), 'note')).size > 0;
      } catch {
        return false;
      }
    });
    const aliceDir = statSync(hostDir(alice));
    const bobDir = statSync(hostDir(bob));
    expect(aliceDir.uid).not.toBe(bobDir.uid);
    for (const uid of [aliceDir.uid, bobDir.uid]) expect([0, 65534, 1000]).not.toContain(uid);
    expect(aliceDir.mode & 0o777).toBe(0o700);
    expect(statSync(join(hostDir(alice), 'note')).uid).toBe(aliceDir.uid);
    // Inside, each pod still is uid 1000 and owns its files.
    expect((await exec(alice, 'writer', ['sh', '-c', 'id -u; stat -c %u /scratch/note'])).stdout).toBe('1000\n1000\n');
    // A process of alice's sandbox that learnt bob's host path (a leaked mount) is refused.
    const asAlice = (path: string) =>
      new Promise<{ code: number; stderr: string }>((resolve) => {
        execFile('setpriv', [`--reuid=${aliceDir.uid}`, `--regid=${aliceDir.gid}`, '--clear-groups', 'cat', path], (error, _stdout, stderr) => resolve({ code: error ? 1 : 0, stderr }));
      });
    const stolen = await asAlice(join(hostDir(bob), 'note'));
    expect(stolen.code).toBe(1);
    expect(stolen.stderr).toContain('Permission denied');
    expect((await asAlice(join(hostDir(alice), 'note'))).code).toBe(0);
  });

  it('keeps the same host uid for a sandbox across a cluster restart (the kubelet state in the data dir)', () => {
    const file = join(lab.dir, 'data', 'sandbox-identities.json');
    const before = JSON.parse(readFileSync(file, 'utf8')) as { namespaces: Record<string, number> };
    expect(Object.keys(before.namespaces)).toEqual(expect.arrayContaining([alice, bob]));
    // What a restarted kubelet reads back: the same uids, and a new sandbox gets a fresh one.
    const restarted = new SandboxIdentities(file);
    const uid = (namespace: string) => restarted.of(namespace).uid;
    // The range is this machine's: far above real users as root, the user's subordinate ids rootless.
    const { first } = identityRange();
    expect(uid(alice)).toBe(first + (before.namespaces[alice] ?? -1));
    expect(uid(bob)).toBe(first + (before.namespaces[bob] ?? -1));
    expect([uid(alice), uid(bob)]).not.toContain(uid('sandbox-carol'));
  });
});

/**
 * Only root can put a data dir inside a tree pods see (/usr, /etc, /opt); rootless, the user's
 * data lies in trees no pod is given, and this attack has nothing to aim at.
 */
function systemTreeWritable(): boolean {
  try {
    mkdirSync('/opt', { recursive: true });
    accessSync('/opt', constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

describe("the cluster's and the portal's data", () => {
  const writable = systemTreeWritable();
  let root: string;
  let kubeletDir: string;
  let cluster: RunningCluster | undefined;
  let kubeconfig: string;

  beforeAll(async () => {
    if (!writable) return;
    // Data directories where a sandbox sees the host's tree: under /opt.
    root = mkdtempSync('/opt/formicary-pod-sandbox-test-');
    // Open to everyone, as a DATA_DIR under /opt may well be: only the mask keeps pods out.
    chmodSync(root, 0o755);
    writeFileSync(join(root, 'formicary.db'), 'the portal database');
    writeFileSync(join(root, 'session.secret'), 'the portal session secret');
    kubeletDir = mkdtempSync(join(tmpdir(), 'formicary-pod-sandbox-kubelet-'));
    // Sandbox users pass through the kubelet's folder to their volumes.
    chmodSync(kubeletDir, 0o711);
    cluster = await startCluster({
      dataDir: join(root, 'cluster'),
      port: 0,
      nodes: 1,
      kubelet: { kubeletDir, hiddenPaths: [root], timing: { startDelayScale: 0, timeScale: 0.02 } },
    });
    kubeconfig = join(kubeletDir, 'kubeconfig');
    await cluster.writeKubeconfig(kubeconfig);
  }, 60_000);
  afterAll(async () => {
    await cluster?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
    if (kubeletDir) rmSync(kubeletDir, { recursive: true, force: true });
  });

  function kubectl(args: string[]): Promise<KubectlResult> {
    return new Promise((resolve) => {
      execFile(kubectlBinary, ['--kubeconfig', kubeconfig, ...args], { timeout: 30_000 }, (error, stdout, stderr) => resolve({ code: error ? 1 : 0, stdout, stderr }));
    });
  }

  it('are not visible inside a pod, even where they lie in a tree the pod sees', async (context) => {
    if (!writable) context.skip('this user cannot write in /opt (rootless): no data dir can lie in a tree pods see');
    expect((await kubectl(['run', 'peek', '--image=debian:12', '--restart=Never', '--', 'sleep', '3600'])).code).toBe(0);
    await new Promise<void>((resolve, reject) => {
      const deadline = Date.now() + 20_000;
      const poll = async () => {
        const result = await kubectl(['get', 'pod', 'peek', '-o', 'jsonpath={.status.phase}']);
        if (result.stdout === 'Running') resolve();
        else if (Date.now() > deadline) reject(new Error(`peek never ran: ${result.stdout}`));
        else setTimeout(() => void poll(), 100);
      };
      void poll();
    });
    // /opt itself is there (the host's tree), the data is not.
    const look = await kubectl(['exec', 'peek', '--', 'sh', '-c', `ls /opt >/dev/null && echo opt-visible; ls -A ${root}; cat ${root}/formicary.db ${root}/cluster/admin.token; ls ${root}/cluster`]);
    expect(look.stdout, look.stderr).toBe('opt-visible\n');
    expect(look.stderr).toContain('Permission denied');
    // Nothing of them comes through: no listing, no content.
    const adminToken = readFileSync(join(root, 'cluster', 'admin.token'), 'utf8').trim();
    expect(look.stdout + look.stderr).not.toContain('portal database');
    expect(look.stdout + look.stderr).not.toContain(adminToken);
    expect(look.stderr).not.toMatch(/session\.secret|store|sandbox-identities/);
  });
});
