// The runtime-default seccomp filter, tried as a hostile learner would from a workbench terminal:
// namespaces, mounts, kernel modules, BPF, the keyring, the clock and the 32-bit ABIs are refused
// with EPERM (the container runtime's answer), while the everyday work of a terminal still runs.
// A sandbox without the filter answers the same probes differently, so the filter is what refuses.
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { detectSandboxSupport, spawnSandboxed, type SandboxSupport } from '../../src/cluster/kubelet/sandbox/index.ts';
import { REFUSED_SYSCALLS, runtimeDefaultFilter } from '../../src/cluster/kubelet/sandbox/seccomp.ts';
import { type KubeletCluster, phase, startKubeletCluster } from '../cluster/kubelet/harness.ts';

/** Each probe makes one raw syscall (perl's syscall, so no libc wrapper second-guesses it) and prints name=errno (0 on success). */
const probes: Record<string, string> = {
  mount: 'syscall(165, S("none"), S("/tmp"), S("tmpfs"), 0, 0)',
  umount2: 'syscall(166, S("/tmp"), 0)',
  pivot_root: 'syscall(155, S("/tmp"), S("/tmp"))',
  unshare_user: 'syscall(272, 0x10000000)',
  setns: 'syscall(308, -1, 0)',
  init_module: 'syscall(175, S(""), 0, S(""))',
  finit_module: 'syscall(313, -1, S(""), 0)',
  delete_module: 'syscall(176, S("formicary"), 0)',
  kexec_load: 'syscall(246, 0, 0, 0, 0)',
  bpf: 'my $a = pack("LLLL", 2, 4, 4, 1); syscall(321, 0, $a, 16)',
  perf_event_open: 'my $a = pack("LLQQQQQ", 1, 112, 0, 0, 0, 0, 0x60) . ("\\0" x 64); syscall(298, $a, 0, -1, -1, 0)',
  userfaultfd: 'syscall(323, 1)',
  io_uring_setup: 'my $p = "\\0" x 120; syscall(425, 1, $p)',
  keyctl: 'syscall(250, 0, -3, 1)',
  add_key: 'syscall(248, S("user"), S("formicary"), S("x"), 1, -2)',
  request_key: 'syscall(249, S("user"), S("formicary-none"), 0, 0)',
  name_to_handle_at: 'my $h = pack("Li", 128, 0) . ("\\0" x 128); my $m = pack("i", 0); syscall(303, -100, S("/"), $h, $m, 0)',
  open_by_handle_at: 'my $h = pack("Li", 8, 1) . ("\\0" x 8); syscall(304, -100, $h, 0)',
  reboot: 'syscall(169, 0, 0, 0, 0)',
  swapon: 'syscall(167, S("/nonexistent"), 0)',
  acct: 'syscall(163, 0)',
  adjtimex: 'my $t = "\\0" x 208; syscall(159, $t)',
  clock_settime: 'my $t = pack("qq", 0, 0); syscall(227, 0, $t)',
  iopl: 'syscall(172, 0)',
  ioperm: 'syscall(173, 0, 0, 0)',
  chroot: 'syscall(161, S("/"))',
  open_tree: 'syscall(428, -100, S("/"), 0)',
  socket_vsock: 'syscall(41, 40, 1, 0)',
};

// Perl passes string arguments as writable buffers: S() makes a copy of each literal.
const probeScript = [
  'sub S { my $v = shift; return $v }',
  ...Object.entries(probes).map(([name, call]) => `{ my $r = do { ${call} }; print "${name}=", ($r < 0 ? $! + 0 : 0), "\\n"; }`),
].join(' ');

function parseProbes(output: string): Record<string, number> {
  return Object.fromEntries(
    output
      .split('\n')
      .filter((line) => /^\w+=\d+$/.test(line))
      .map((line) => {
        const [name, errno] = line.split('=') as [string, string];
        return [name, Number(errno)];
      }),
  );
}

let lab: KubeletCluster;
const ns = 'seccomp';

beforeAll(async () => {
  lab = await startKubeletCluster({ nodes: 1 });
  await lab.apply(`apiVersion: v1
kind: Namespace
metadata: {name: ${ns}}
`);
  await lab.serviceAccountReady(ns);
  await lab.apply(
    `apiVersion: v1
kind: ServiceAccount
metadata: {name: learner}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: learner-edit}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: ServiceAccount, name: learner, namespace: ${ns}}]
---
apiVersion: v1
kind: Pod
metadata: {name: workbench}
spec:
  serviceAccountName: learner
  containers:
  - name: workbench
    image: formicary/workbench:1.0
`,
    ns,
  );
  await lab.until('the workbench Running', () => phase(lab.pod(ns, 'workbench')) === 'Running', 60_000);
}, 120_000);
afterAll(async () => {
  await lab?.stop();
});

function exec(...command: string[]) {
  return lab.kubectl(['exec', '-n', ns, 'workbench', '--', ...command], { timeoutMs: 60_000 });
}

describe('from a workbench terminal', () => {
  it('every process runs under a seccomp filter', async () => {
    const result = await exec('bash', '-c', 'grep ^Seccomp: /proc/self/status; sh -c "grep ^Seccomp: /proc/self/status"');
    expect(result.stdout).toBe('Seccomp:\t2\nSeccomp:\t2\n');
  });

  it('unshare -U, mount, bpf, keyctl and the other privileged calls are refused with EPERM', async () => {
    const result = await exec('perl', '-e', probeScript);
    expect(result.code, result.stderr).toBe(0);
    const errnos = parseProbes(result.stdout);
    expect(Object.keys(errnos).sort()).toEqual(Object.keys(probes).sort());
    expect(Object.entries(errnos).filter(([, errno]) => errno !== 1)).toEqual([]);

    const unshare = await exec('unshare', '-U', 'true');
    expect(unshare.code).toBe(1);
    expect(unshare.stderr).toContain('unshare: unshare failed: Operation not permitted');
    const mount = await exec('bash', '-c', 'unshare -r mount -t tmpfs none /tmp');
    expect(mount.code).not.toBe(0);
    expect(mount.stderr).toContain('Operation not permitted');
  });

  it('ordinary work still runs: bash, pipes, jobs, ps, tar, perl and node forking, kubectl against the API server', async () => {
    const script = [
      'set -e',
      'ps -eo comm | grep -c bash',
      'echo hello | gzip | gunzip',
      'mkdir -p /tmp/work && echo x > /tmp/work/a && tar -C /tmp -cf - work | tar -tf - | head -1',
      'sleep 0.05 & wait $!',
      'perl -e \'my $p = fork(); if ($p == 0) { exit 3 } waitpid($p, 0); print "child ", $? >> 8, "\\n"\'',
      'command -v node >/dev/null && node -e \'console.log(require("child_process").execFileSync("echo", ["node child"]).toString().trim())\' || echo "node child"',
      'kubectl get pods -o name',
    ].join('\n');
    const result = await exec('bash', '-c', script);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.trim().split('\n');
    expect(Number(lines[0])).toBeGreaterThanOrEqual(1);
    expect(lines.slice(1)).toEqual(['hello', 'work/', 'child 3', 'node child', 'pod/workbench']);
  });
});

describe('without the filter', () => {
  let work: string;
  let support: SandboxSupport;
  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'formicary-seccomp-test-'));
    chmodSync(work, 0o755);
    support = detectSandboxSupport({ unsafeLocalShell: false, runtimeDir: join(work, 'runtime') });
  });
  afterAll(() => rmSync(work, { recursive: true, force: true }));

  it('the same sandbox answers some probes differently, so the EPERMs above are the filter', async () => {
    if (support.mode !== 'bubblewrap') throw new Error(`these tests need bubblewrap as root: ${JSON.stringify(support)}`);
    expect(support.seccompFilter).not.toBeNull();
    const process = await spawnSandboxed(
      { argv: ['perl', '-e', probeScript], env: { PATH: '/usr/bin:/bin' }, hostname: 'control', mounts: [] },
      { ...support, seccompFilter: null },
    );
    let stdout = '';
    process.onOutput((stream, data) => {
      if (stream === 'stdout') stdout += data.toString();
    });
    process.endInput();
    await process.exited;
    const errnos = parseProbes(stdout);
    // Without it an unprivileged process may make a user namespace, use the keyring, io_uring and
    // userfaultfd, read the clock state and file handles: the kernel's own checks let these through.
    expect({ unshare: errnos['unshare_user'], keyctl: errnos['keyctl'], add_key: errnos['add_key'], io_uring: errnos['io_uring_setup'], userfaultfd: errnos['userfaultfd'], adjtimex: errnos['adjtimex'] }).toEqual({
      unshare: 0,
      keyctl: 0,
      add_key: 0,
      io_uring: 0,
      userfaultfd: 0,
      adjtimex: 0,
    });
    expect(errnos['name_to_handle_at']).not.toBe(1);
    expect(errnos['setns']).toBe(9);
  });
});

/** Runs the classic BPF program as the kernel would for one syscall (the subset of opcodes it uses). */
function evaluate(program: Buffer, data: { arch: number; nr: number; arg0?: number }): number {
  const word = (offset: number) => (offset === 0 ? data.nr : offset === 4 ? data.arch : offset === 16 ? (data.arg0 ?? 0) : 0);
  let accumulator = 0;
  for (let pc = 0; pc < program.length / 8; ) {
    const code = program.readUInt16LE(pc * 8);
    const jt = program.readUInt8(pc * 8 + 2);
    const jf = program.readUInt8(pc * 8 + 3);
    const k = program.readUInt32LE(pc * 8 + 4);
    if (code === 0x20) accumulator = word(k) >>> 0;
    else if (code === 0x06) return k;
    else if (code === 0x15) pc += accumulator === k ? jt : jf;
    else if (code === 0x35) pc += accumulator >= k ? jt : jf;
    else if (code === 0x45) pc += (accumulator & k) !== 0 ? jt : jf;
    else throw new Error(`unexpected opcode ${code}`);
    pc++;
  }
  throw new Error('the program fell off its end');
}

describe('the filter program', () => {
  const program = runtimeDefaultFilter('x64');
  const X86_64 = 0xc000003e;
  const EPERM = 0x00050001;
  const ALLOW = 0x7fff0000;

  it('refuses the 32-bit ABIs on x86_64 (i386 through int 0x80, x32) whatever the call', () => {
    expect(program).toBeDefined();
    expect(evaluate(program!, { arch: 0x40000003, nr: 1 })).toBe(EPERM);
    expect(evaluate(program!, { arch: X86_64, nr: 0x40000000 + 1 })).toBe(EPERM);
  });

  it('refuses clone with a namespace flag, allows a plain fork and thread; clone3 answers ENOSYS so libc falls back to clone', () => {
    expect(evaluate(program!, { arch: X86_64, nr: 56, arg0: 0x10000000 | 17 })).toBe(EPERM);
    expect(evaluate(program!, { arch: X86_64, nr: 56, arg0: 0x01200011 })).toBe(ALLOW);
    expect(evaluate(program!, { arch: X86_64, nr: 56, arg0: 0x003d0f00 })).toBe(ALLOW);
    expect(evaluate(program!, { arch: X86_64, nr: 435 })).toBe(0x00050000 | 38);
  });

  it('allows what containers do every day (read, write, ptrace of its own processes) and refuses each listed call', () => {
    for (const nr of [0, 1, 2, 57, 59, 101, 310, 312]) expect(evaluate(program!, { arch: X86_64, nr })).toBe(ALLOW);
    expect(REFUSED_SYSCALLS).toEqual(expect.arrayContaining(['mount', 'bpf', 'keyctl', 'kexec_load', 'init_module', 'unshare', 'setns', 'open_by_handle_at', 'perf_event_open', 'userfaultfd']));
  });

  it('is not offered where no syscall table is known', () => {
    expect(runtimeDefaultFilter('riscv64')).toBeUndefined();
  });
});
