// The seccomp filter every sandboxed process runs under, in the spirit of the container runtime's
// default profile (moby/profiles default.json, containerd's RuntimeDefault): a container without
// capabilities may not mount, load kernel modules or BPF programs, create user namespaces, use the
// kernel keyring, set the clock, reboot, or reach the host through the 32-bit ABIs. Those calls
// fail with EPERM as under the runtime; everything else is allowed. The runtime's profile is an
// allow list; this one refuses the same dangerous calls by name, so a tool that needs a newer
// harmless call keeps working.
//
// It is a classic BPF program (what seccomp(2) and bubblewrap's --seccomp take): check the
// architecture, then the syscall number, then for clone and socket the flag argument.

/** struct seccomp_data: nr at 0, arch at 4, args[0] (low 32 bits on little-endian) at 16. */
const DATA_NR = 0;
const DATA_ARCH = 4;
const DATA_ARG0_LOW = 16;

const AUDIT_ARCH_X86_64 = 0xc000003e;
/** x32 syscalls are x86_64 numbers with this bit set. */
const X32_SYSCALL_BIT = 0x40000000;

const RET_ALLOW = 0x7fff0000;
const RET_ERRNO = 0x00050000;
const EPERM = 1;
const ENOSYS = 38;

/** CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET, as the runtime masks them. */
const CLONE_NAMESPACE_FLAGS = 0x7e020000;
const AF_VSOCK = 40;

/**
 * Syscalls the runtime default profile refuses to a container without capabilities, x86_64 numbers.
 * ptrace, process_vm_readv/writev and kcmp stay allowed, as the runtime allows them on kernels from
 * 4.8 on (a sandbox sees only its own processes).
 */
const REFUSED_X86_64: Record<string, number> = {
  syslog: 103,
  uselib: 134,
  vhangup: 153,
  pivot_root: 155,
  _sysctl: 156,
  adjtimex: 159,
  chroot: 161,
  acct: 163,
  settimeofday: 164,
  mount: 165,
  umount2: 166,
  swapon: 167,
  swapoff: 168,
  reboot: 169,
  sethostname: 170,
  setdomainname: 171,
  iopl: 172,
  ioperm: 173,
  create_module: 174,
  init_module: 175,
  delete_module: 176,
  get_kernel_syms: 177,
  query_module: 178,
  quotactl: 179,
  nfsservctl: 180,
  lookup_dcookie: 212,
  clock_settime: 227,
  kexec_load: 246,
  add_key: 248,
  request_key: 249,
  keyctl: 250,
  unshare: 272,
  perf_event_open: 298,
  fanotify_init: 300,
  name_to_handle_at: 303,
  open_by_handle_at: 304,
  clock_adjtime: 305,
  setns: 308,
  finit_module: 313,
  kexec_file_load: 320,
  bpf: 321,
  userfaultfd: 323,
  io_uring_setup: 425,
  io_uring_enter: 426,
  io_uring_register: 427,
  open_tree: 428,
  move_mount: 429,
  fsopen: 430,
  fsconfig: 431,
  fsmount: 432,
  fspick: 433,
  mount_setattr: 442,
  quotactl_fd: 443,
};

const SYSCALL_X86_64 = { clone: 56, socket: 41, clone3: 435 } as const;

/** The names the filter refuses with EPERM (for tests and the README). */
export const REFUSED_SYSCALLS: readonly string[] = Object.keys(REFUSED_X86_64);

type Instruction = { code: number; jt: number | string; jf: number | string; k: number } | { label: string };

const load = (offset: number): Instruction => ({ code: 0x20, jt: 0, jf: 0, k: offset });
const ret = (value: number): Instruction => ({ code: 0x06, jt: 0, jf: 0, k: value });
/** Jumps are to labels or 0 (the next instruction). */
const jumpIfEqual = (k: number, jt: number | string, jf: number | string): Instruction => ({ code: 0x15, jt, jf, k });
const jumpIfAtLeast = (k: number, jt: number | string, jf: number | string): Instruction => ({ code: 0x35, jt, jf, k });
const jumpIfAnyBit = (k: number, jt: number | string, jf: number | string): Instruction => ({ code: 0x45, jt, jf, k });

/** Resolves labels into the forward offsets classic BPF jumps take (at most 255 instructions ahead). */
function assemble(program: Instruction[]): Buffer {
  const positions = new Map<string, number>();
  const code: Array<Exclude<Instruction, { label: string }>> = [];
  for (const instruction of program) {
    if ('label' in instruction) positions.set(instruction.label, code.length);
    else code.push(instruction);
  }
  const out = Buffer.alloc(code.length * 8);
  code.forEach((instruction, index) => {
    const offset = (target: number | string): number => {
      if (typeof target === 'number') return target;
      const at = positions.get(target);
      if (at === undefined) throw new Error(`seccomp program: no label ${target}`);
      const distance = at - index - 1;
      if (distance < 0 || distance > 255) throw new Error(`seccomp program: jump to ${target} out of range (${distance})`);
      return distance;
    };
    out.writeUInt16LE(instruction.code, index * 8);
    out.writeUInt8(offset(instruction.jt), index * 8 + 2);
    out.writeUInt8(offset(instruction.jf), index * 8 + 3);
    out.writeUInt32LE(instruction.k >>> 0, index * 8 + 4);
  });
  return out;
}

/**
 * The filter for this machine's architecture as bubblewrap's --seccomp reads it (struct sock_filter
 * entries, native byte order), or undefined where no syscall table is known (only x86_64 is).
 */
export function runtimeDefaultFilter(arch: string = process.arch, options: { allowChroot?: boolean } = {}): Buffer | undefined {
  if (arch !== 'x64') return undefined;
  // The runtime's profile allows chroot to a container that holds SYS_CHROOT.
  const refused = Object.entries(REFUSED_X86_64)
    .filter(([name]) => !(options.allowChroot && name === 'chroot'))
    .map(([, nr]) => nr);
  return assemble([
    load(DATA_ARCH),
    // i386 (int 0x80) and any other ABI: the kernel would read the numbers from another table.
    jumpIfEqual(AUDIT_ARCH_X86_64, 0, 'refuse'),
    load(DATA_NR),
    jumpIfAtLeast(X32_SYSCALL_BIT, 'refuse', 0),
    ...refused.map((nr) => jumpIfEqual(nr, 'refuse', 0)),
    // clone3 keeps its flags in memory the filter cannot read: ENOSYS makes libc fall back to clone.
    jumpIfEqual(SYSCALL_X86_64.clone3, 'nosys', 0),
    jumpIfEqual(SYSCALL_X86_64.clone, 'clone', 0),
    jumpIfEqual(SYSCALL_X86_64.socket, 'socket', 0),
    ret(RET_ALLOW),
    { label: 'clone' },
    load(DATA_ARG0_LOW),
    jumpIfAnyBit(CLONE_NAMESPACE_FLAGS, 'refuse', 'allow'),
    { label: 'socket' },
    load(DATA_ARG0_LOW),
    jumpIfEqual(AF_VSOCK, 'refuse', 'allow'),
    { label: 'allow' },
    ret(RET_ALLOW),
    { label: 'nosys' },
    ret(RET_ERRNO | ENOSYS),
    { label: 'refuse' },
    ret(RET_ERRNO | EPERM),
  ]);
}
