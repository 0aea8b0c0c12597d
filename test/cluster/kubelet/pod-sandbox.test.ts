// The pod sandbox itself (CRI RunPodSandbox): when it is reported made, its PID 1 has finished
// setting it up, so what the kubelet does next in its namespaces (the pod network bringing the
// loopback up) cannot break it.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectSandboxSupport, spawnSandboxed, type SandboxSupport } from '../../../src/cluster/kubelet/sandbox/index.ts';
import { PodSandbox } from '../../../src/cluster/kubelet/sandbox/pod-sandbox.ts';

let work: string;
let support: Extract<SandboxSupport, { mode: 'bubblewrap' }>;
const identity = { uid: 3_999_001, gid: 3_999_001 };

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'formicary-pod-sandbox-test-'));
  chmodSync(work, 0o755);
  const detected = detectSandboxSupport({ unsafeLocalShell: false, runtimeDir: join(work, 'runtime') });
  if (detected.mode !== 'bubblewrap' || !detected.nsenter) throw new Error(`these tests need bubblewrap and nsenter as root: ${JSON.stringify(detected)}`);
  support = detected;
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The processes PID 1 of the sandbox has started (the pause command, once its setup is done). */
function childrenOf(pid: number): string {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
}

/** Runs `true` inside the pod sandbox (its user, PID, network, IPC and UTS namespaces), as an exec does. */
async function joins(sandbox: PodSandbox): Promise<{ exitCode: number; output: string }> {
  const process = await spawnSandboxed({ argv: ['/bin/true'], env: { PATH: '/usr/bin:/bin' }, hostname: 'web-1', mounts: [], pod: sandbox.namespaces, identity }, support);
  let output = '';
  process.onOutput((_stream, data) => (output += data.toString('utf8')));
  process.endInput();
  const exit = await process.exited;
  return { exitCode: exit.exitCode, output };
}

describe('a pod sandbox', () => {
  it('is reported made only once its PID 1 has started the pause process, and survives the network bringing its loopback up at once', async () => {
    for (let round = 0; round < 5; round++) {
      const sandbox = await PodSandbox.start(support, { hostname: 'web-1', identity, cgroup: null });
      try {
        // Setup (the loopback among it) is over when bubblewrap's init has forked the command.
        expect(childrenOf(sandbox.pid)).not.toBe('');
        // What the pod network's attach does first in the pod's namespace.
        execFileSync(support.nsenter as string, [`--net=${sandbox.namespaces.net}`, '--', 'ip', 'link', 'set', 'lo', 'up']);
        await new Promise((resolve) => setTimeout(resolve, 100));
        expect(sandbox.running).toBe(true);
        const exec = await joins(sandbox);
        expect(exec.output).not.toContain("Can't fork");
        expect(exec.exitCode).toBe(0);
      } finally {
        sandbox.stop();
      }
    }
  });
});
