// The root file systems of the shell images that are busybox underneath (busybox, alpine): built
// once a cluster from the host's static busybox (Debian's busybox-static) into the kubelet's image
// directory, as the image's layers would be unpacked; each container then gets a writable copy of
// it (its writable layer, on the pod's own file system) with the busybox binary itself bound
// read-only from the shared layer. The users, groups and os-release are the images' own.
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, lchownSync, lstatSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, copyFileSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';

export type RootFilesystemKind = 'busybox' | 'alpine';

/** Where the host's static busybox is (Debian's busybox-static puts it here). */
export const HOST_BUSYBOX = '/bin/busybox';

/** An image's unpacked layers on the node, shared by every container of that image. */
export interface ImageRoot {
  dir: string;
  /** Paths inside the root that each container binds read-only from `dir` instead of copying (the busybox binary). */
  shared: string[];
}

const BUSYBOX_PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/bin/false',
  'bin:x:2:2:bin:/bin:/bin/false',
  'sys:x:3:3:sys:/dev:/bin/false',
  'sync:x:4:100:sync:/bin:/bin/sync',
  'mail:x:8:8:mail:/var/spool/mail:/bin/false',
  'www-data:x:33:33:www-data:/var/www:/bin/false',
  'operator:x:37:37:Operator:/var:/bin/false',
  'nobody:x:65534:65534:nobody:/home:/bin/false',
];

const BUSYBOX_GROUP = [
  'root:x:0:',
  'daemon:x:1:',
  'bin:x:2:',
  'sys:x:3:',
  'adm:x:4:',
  'tty:x:5:',
  'disk:x:6:',
  'lp:x:7:',
  'mail:x:8:',
  'kmem:x:9:',
  'wheel:x:10:root',
  'cdrom:x:11:',
  'dialout:x:18:',
  'floppy:x:19:',
  'video:x:28:',
  'audio:x:29:',
  'tape:x:32:',
  'www-data:x:33:',
  'operator:x:37:',
  'utmp:x:43:',
  'plugdev:x:46:',
  'staff:x:50:',
  'lock:x:54:',
  'netdev:x:82:',
  'users:x:100:',
  'nogroup:x:65534:',
];

const ALPINE_PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'bin:x:1:1:bin:/bin:/sbin/nologin',
  'daemon:x:2:2:daemon:/sbin:/sbin/nologin',
  'lp:x:4:7:lp:/var/spool/lpd:/sbin/nologin',
  'sync:x:5:0:sync:/sbin:/bin/sync',
  'shutdown:x:6:0:shutdown:/sbin:/sbin/shutdown',
  'halt:x:7:0:halt:/sbin:/sbin/halt',
  'mail:x:8:12:mail:/var/mail:/sbin/nologin',
  'news:x:9:13:news:/usr/lib/news:/sbin/nologin',
  'uucp:x:10:14:uucp:/var/spool/uucppublic:/sbin/nologin',
  'cron:x:16:16:cron:/var/spool/cron:/sbin/nologin',
  'ftp:x:21:21::/var/lib/ftp:/sbin/nologin',
  'sshd:x:22:22:sshd:/dev/null:/sbin/nologin',
  'games:x:35:35:games:/usr/games:/sbin/nologin',
  'ntp:x:123:123:NTP:/var/empty:/sbin/nologin',
  'guest:x:405:100:guest:/dev/null:/sbin/nologin',
  'nobody:x:65534:65534:nobody:/:/sbin/nologin',
];

const ALPINE_GROUP = [
  'root:x:0:root',
  'bin:x:1:root,bin,daemon',
  'daemon:x:2:root,bin,daemon',
  'sys:x:3:root,bin',
  'adm:x:4:root,daemon',
  'tty:x:5:',
  'disk:x:6:root',
  'lp:x:7:lp',
  'kmem:x:9:',
  'wheel:x:10:root',
  'floppy:x:11:root',
  'mail:x:12:mail',
  'news:x:13:news',
  'uucp:x:14:uucp',
  'cron:x:16:cron',
  'audio:x:18:',
  'cdrom:x:19:',
  'dialout:x:20:root',
  'ftp:x:21:',
  'sshd:x:22:',
  'input:x:23:',
  'tape:x:26:root',
  'video:x:27:root',
  'netdev:x:28:',
  'kvm:x:34:kvm',
  'games:x:35:',
  'shadow:x:42:',
  'www-data:x:82:',
  'users:x:100:games',
  'ntp:x:123:',
  'abuild:x:300:',
  'utmp:x:406:',
  'ping:x:999:',
  'nogroup:x:65533:',
  'nobody:x:65534:',
];

const lines = (entries: string[]) => `${entries.join('\n')}\n`;

/**
 * The groups the image's /etc/group lists the user as a member of (the user found by uid in its
 * /etc/passwd), as containerd's WithAdditionalGIDs adds them; none for a uid the image lacks.
 */
export function imageGroupsOf(kind: RootFilesystemKind, uid: number): number[] {
  const [passwd, group] = kind === 'busybox' ? [BUSYBOX_PASSWD, BUSYBOX_GROUP] : [ALPINE_PASSWD, ALPINE_GROUP];
  const name = passwd.map((entry) => entry.split(':')).find((fields) => Number(fields[2]) === uid)?.[0];
  if (name === undefined) return [];
  return group.map((entry) => entry.split(':')).filter((fields) => (fields[3] ?? '').split(',').includes(name)).map((fields) => Number(fields[2]));
}

function alpineRelease(version: string): { osRelease: string; release: string } {
  const minor = /^(\d+\.\d+)/.exec(version)?.[1] ?? version;
  const osRelease = [
    'NAME="Alpine Linux"',
    'ID=alpine',
    `VERSION_ID=${version}`,
    `PRETTY_NAME="Alpine Linux v${minor}"`,
    'HOME_URL="https://alpinelinux.org/"',
    'BUG_REPORT_URL="https://gitlab.alpinelinux.org/alpine/aports/-/issues"',
  ];
  return { osRelease: lines(osRelease), release: `${version}\n` };
}

/**
 * Applets the images' busybox has and Debian's busybox-static was built without, as small scripts
 * over the applets it has (printenv: the kubernetes.io downward-API tutorials print with it).
 */
const STAND_INS: Record<string, string> = {
  printenv: `#!/bin/sh
[ $# -eq 0 ] && exec env
exec awk 'BEGIN { status = 0; for (i = 1; i < ARGC; i++) { if (ARGV[i] in ENVIRON) print ENVIRON[ARGV[i]]; else status = 1 } exit status }' "$@"
`,
};

/**
 * busybox before 1.29 resolved through the C library (the resolv.conf search list and ndots, as
 * every program in a pod does) and printed "Address 1: IP NAME"; later versions send the name as
 * typed when it has a dot, so `nslookup web-0.nginx` in a pod fails. The kubernetes.io tutorials
 * pin busybox:1.28 for this: its nslookup is this script over the newer applet (`applet`).
 */
const nslookup128 = (applet: string) => `#!/bin/sh
name=$1
server=$2
if [ -z "$name" ]; then
  printf 'BusyBox v1.28.4 (2018-05-22 17:00:17 UTC) multi-call binary.\\n\\nUsage: nslookup [HOST] [SERVER]\\n\\nQuery the nameserver for the IP address of the given HOST\\noptionally using a specified DNS server\\n' >&2
  exit 1
fi
conf=/etc/resolv.conf
[ -n "$server" ] || server=$(awk '$1 == "nameserver" { print $2; exit }' $conf 2>/dev/null)
search=$(awk '$1 == "search" { $1 = ""; print }' $conf 2>/dev/null)
ndots=$(awk '$1 == "options" { for (i = 2; i <= NF; i++) if ($i ~ /^ndots:/) { sub(/^ndots:/, "", $i); print $i } }' $conf 2>/dev/null)
reverse() { busybox ${applet} "$1" "$server" 2>/dev/null | awk '/name = / { sub(/[.]$/, "", $NF); print $NF; exit }'; }
addresses() { busybox ${applet} -type=a "$1" "$server" 2>/dev/null | awk '/^Name:/ { found = 1 } found && /^Address: / { print $2 }'; }
printf 'Server:    %s\\n' "$server"
printf 'Address 1: %s%s\\n\\n' "$server" "$(r=$(reverse "$server"); [ -n "$r" ] && printf ' %s' "$r")"
case $name in
  *[!0-9.]*|*..*) ;;
  *.*.*.*) printf 'Name:      %s\\nAddress 1: %s%s\\n' "$name" "$name" "$(r=$(reverse "$name"); [ -n "$r" ] && printf ' %s' "$r")"; exit 0 ;;
esac
dots=$(printf %s "$name" | tr -cd . | wc -c)
searched=
for domain in $search; do searched="$searched $name.$domain."; done
case $name in
  *.) candidates=$name ;;
  *) if [ "$dots" -ge "\${ndots:-1}" ]; then candidates="$name. $searched"; else candidates="$searched $name."; fi ;;
esac
for candidate in $candidates; do
  found=$(addresses "$candidate")
  [ -n "$found" ] && break
done
if [ -z "$found" ]; then
  echo "nslookup: can't resolve '$name'" >&2
  exit 1
fi
printf 'Name:      %s\\n' "$name"
n=0
for address in $found; do
  n=$((n + 1))
  printf 'Address %d: %s%s\\n' "$n" "$address" "$(r=$(reverse "$address"); [ -n "$r" ] && printf ' %s' "$r")"
done
`;

/**
 * wget with upstream's `-T SEC` / `--timeout=SEC` ("Network read timeout is SEC seconds"), which
 * Debian built its busybox without (`-T` crashes it, `--timeout` is unknown): the option is taken
 * out of the arguments wherever it is (`-T 2`, `-T2`, `-qT2`, `--timeout 2`, `--timeout=2`, after the
 * URL too, as getopt permutes) and the rest go to the applet (`applet`) unchanged; when the time is
 * up it is stopped, with upstream's message and exit code 1. Nothing is left running or unreaped
 * (a pod's PID 1, often `sleep`, reaps nothing). The time bounds the whole download (upstream's
 * bounds each read); 0 turns it off, as upstream's. Without the option the applet runs as it
 * always did.
 */
const wgetWithTimeout = (applet: string) => `#!/bin/sh
timed=
seconds=
takes_value=
count=$#
while [ "$count" -gt 0 ]; do
  arg=$1
  shift
  count=$((count - 1))
  case $arg in
    --)
      set -- "$@" "$arg"
      while [ "$count" -gt 0 ]; do set -- "$@" "$1"; shift; count=$((count - 1)); done ;;
    --ti=*|--tim=*|--time=*|--timeo=*|--timeou=*|--timeout=*)
      timed=1
      seconds=\${arg#*=} ;;
    --ti|--tim|--time|--timeo|--timeou|--timeout)
      if [ "$count" -eq 0 ]; then echo "wget: option '--timeout' requires an argument" >&2; exit 1; fi
      timed=1
      seconds=$1
      shift
      count=$((count - 1)) ;;
    --*=*|--help)
      set -- "$@" "$arg" ;;
    --output-*|--d*|--pr*|--u*|--tr*|--he*|--post-*)
      # A long option whose value is the next argument: the value is not an option.
      set -- "$@" "$arg"
      if [ "$count" -gt 0 ]; then set -- "$@" "$1"; shift; count=$((count - 1)); fi ;;
    -?*)
      rest=\${arg#-}
      kept=-
      takes_value=
      while [ -n "$rest" ]; do
        letter=\${rest%"\${rest#?}"}
        rest=\${rest#?}
        case $letter in
          T)
            timed=1
            if [ -n "$rest" ]; then seconds=$rest
            elif [ "$count" -gt 0 ]; then seconds=$1; shift; count=$((count - 1))
            else echo "wget: option requires an argument -- 'T'" >&2; exit 1
            fi
            rest= ;;
          [OoPYUt])
            kept=$kept$letter$rest
            [ -n "$rest" ] || takes_value=1
            rest= ;;
          n)
            kept=$kept$letter$rest
            rest= ;;
          *) kept=$kept$letter ;;
        esac
      done
      [ "$kept" = - ] || set -- "$@" "$kept"
      if [ -n "$takes_value" ] && [ "$count" -gt 0 ]; then set -- "$@" "$1"; shift; count=$((count - 1)); fi ;;
    *)
      set -- "$@" "$arg" ;;
  esac
done
if [ -n "$timed" ]; then
  case $seconds in
    ''|*[!0-9]*) echo "wget: invalid number '$seconds'" >&2; exit 1 ;;
  esac
  [ "$seconds" -ne 0 ] || timed=
fi
# Runs the applet with its messages on fd 5. With a timeout it runs beside a watcher that waits
# for its status as long as the timeout allows (read -t, a builtin: no process is left behind),
# else stops it; this shell waits for both, so neither is ever orphaned.
fetch() {
  [ -n "$timed" ] || exec busybox ${applet} "$@" 2>&5 5>&-
  {
    {
      busybox ${applet} "$@" >&3 2>&5 3>&- 5>&- &
      echo $!
      wait $!
      echo $?
    } | {
      read -r pid
      if read -t "$seconds" -r status; then exit "$status"; fi
      kill "$pid" 2>/dev/null
      read -r status
      [ "$status" -eq 143 ] || exit "$status"
      echo 'wget: download timed out' >&5
      exit 1
    }
  } 3>&1
}
# The applet names itself as it was called (${applet}) in its messages and usage: they are wget's.
# Its output goes straight through and its status comes back on fd 4; the shell's word on a
# killed child ("Terminated") goes nowhere.
{ status=$( { { exec 2>/dev/null; (fetch "$@" 5>&1 >&3 3>&- 4>&-); echo $? >&4; } | busybox sed 's/^${applet}: /wget: /; s/^Usage: ${applet} /Usage: wget /' >&2 3>&- 4>&-; } 4>&1 ); } 3>&1
exit "$status"
`;

/**
 * busybox's sh runs its own applets before looking in PATH (FEATURE_SH_STANDALONE), so an applet
 * an image replaces with a script (nslookup in busybox:1.28, wget everywhere) would still be the
 * binary's when typed in the pod's shell. In the image's copy of the binary such an applet's entry
 * in the name table is renamed (same length, same place in the sorted table, so every other lookup
 * is unchanged): the shell then finds the script in PATH, and the script calls the applet by its
 * new name.
 */
const RENAMED_APPLETS = { nslookup: 'nslookuq', wget: 'wgeu' } as const;

/** The host busybox's wget lacks `-T` (Debian's), asked once a process. */
let wgetWithoutTimeout: boolean | undefined;
function hostWgetLacksTimeout(): boolean {
  if (wgetWithoutTimeout === undefined) {
    const help = spawnSync(HOST_BUSYBOX, ['wget', '--help'], { encoding: 'utf8' });
    wgetWithoutTimeout = !`${help.stdout}${help.stderr}`.includes('-T SEC');
  }
  return wgetWithoutTimeout;
}

/**
 * Where `name` is in the binary's name table (NUL-separated, sorted), if it is there exactly once
 * and `to` (of the same length) would keep its place in the order.
 */
function appletEntry(binary: Buffer, names: string[], name: string, to: string): { at: number } | undefined {
  const index = names.indexOf(name);
  const [previous, next] = [names[index - 1], names[index + 1]];
  if (index < 0 || previous === undefined || next === undefined || to.length !== name.length || !(previous < to && to < next)) return undefined;
  const entry = Buffer.from(`\0${previous}\0${name}\0${next}\0`);
  const at = binary.indexOf(entry);
  if (at < 0 || binary.indexOf(entry, at + 1) >= 0) return undefined;
  return { at: at + previous.length + 2 };
}

/**
 * The applets an image replaces with scripts (path of the script → the script), and the renames
 * that let its sh find them; where a rename cannot be made, the script calls the applet by its own
 * name (it is then itself only when run as a command, not typed in sh).
 */
function wrappedApplets(wrapped: Array<{ applet: keyof typeof RENAMED_APPLETS; path: string; script: (applet: string) => string }>, names: string[]): Pick<Layout, 'renamedApplets' | 'scripts'> {
  if (wrapped.length === 0) return { scripts: {} };
  const binary = readFileSync(HOST_BUSYBOX);
  const renamedApplets: Record<string, string> = {};
  const scripts: Record<string, string> = {};
  for (const { applet, path, script } of wrapped) {
    const to = RENAMED_APPLETS[applet];
    const renamed = appletEntry(binary, names, applet, to) !== undefined;
    if (renamed) renamedApplets[applet] = to;
    scripts[path] = script(renamed ? to : applet);
  }
  return { ...(Object.keys(renamedApplets).length > 0 ? { renamedApplets } : {}), scripts };
}

function resolvesThroughLibc(version: string): boolean {
  const [major, minor] = version.split('.').map(Number);
  return major === 1 && minor !== undefined && minor < 29;
}

interface Layout {
  dirs: string[];
  files: Record<string, string>;
  /** Applets renamed in this image's copy of the binary (old → new name). */
  renamedApplets?: Record<string, string>;
  /** Executable scripts, path → content. */
  scripts: Record<string, string>;
  /** Applet link → its target. */
  links: Array<[string, string]>;
}

/** The applets this busybox has, with the directory each belongs in (`busybox --list-full`). */
function applets(): string[] {
  const listed = spawnSync(HOST_BUSYBOX, ['--list-full'], { encoding: 'utf8' });
  if (listed.status !== 0) throw new Error(`${HOST_BUSYBOX} --list-full failed: ${listed.stderr.trim() || `exit ${listed.status}`}`);
  return listed.stdout.split('\n').filter((line) => /^[a-z0-9/._[\]-]+$/i.test(line) && !line.endsWith('/busybox'));
}

function layoutOf(kind: RootFilesystemKind, version: string): Layout {
  const found = applets();
  if (kind === 'busybox') {
    // The busybox image keeps every applet in /bin, beside the binary.
    const names = [...new Set(found.map((path) => posix.basename(path)))];
    const wrapped = wrappedApplets(
      [
        ...(resolvesThroughLibc(version) ? [{ applet: 'nslookup' as const, path: 'bin/nslookup', script: nslookup128 }] : []),
        ...(hostWgetLacksTimeout() ? [{ applet: 'wget' as const, path: 'bin/wget', script: wgetWithTimeout }] : []),
      ],
      names,
    );
    return {
      ...(wrapped.renamedApplets ? { renamedApplets: wrapped.renamedApplets } : {}),
      dirs: ['bin', 'dev', 'etc', 'home', 'proc', 'root', 'sys', 'tmp', 'usr', 'usr/sbin', 'var', 'var/spool', 'var/spool/mail', 'var/www'],
      files: { 'etc/passwd': lines(BUSYBOX_PASSWD), 'etc/group': lines(BUSYBOX_GROUP), 'etc/shadow': '' },
      scripts: {
        ...Object.fromEntries(Object.entries(STAND_INS).filter(([name]) => !names.includes(name)).map(([name, script]) => [`bin/${name}`, script])),
        ...wrapped.scripts,
      },
      links: names.map((name) => [`bin/${name}`, 'busybox']),
    };
  }
  const release = alpineRelease(version);
  const wget = found.find((path) => posix.basename(path) === 'wget');
  const wrapped = wrappedApplets(wget && hostWgetLacksTimeout() ? [{ applet: 'wget', path: wget.replace(/^\//, ''), script: wgetWithTimeout }] : [], [...new Set(found.map((path) => posix.basename(path)))]);
  return {
    ...(wrapped.renamedApplets ? { renamedApplets: wrapped.renamedApplets } : {}),
    dirs: ['bin', 'dev', 'etc', 'etc/apk', 'home', 'lib', 'media', 'mnt', 'opt', 'proc', 'root', 'run', 'sbin', 'srv', 'sys', 'tmp', 'usr', 'usr/bin', 'usr/sbin', 'usr/lib', 'usr/local', 'usr/local/bin', 'usr/share', 'var', 'var/cache', 'var/empty', 'var/lib', 'var/log', 'var/mail', 'var/spool', 'var/tmp'],
    files: {
      'etc/passwd': lines(ALPINE_PASSWD),
      'etc/group': lines(ALPINE_GROUP),
      'etc/shadow': '',
      'etc/os-release': release.osRelease,
      'etc/alpine-release': release.release,
      'etc/shells': '# valid login shells\n/bin/sh\n/bin/ash\n',
      'etc/apk/world': 'alpine-baselayout\nalpine-keys\napk-tools\nbusybox\nca-certificates-bundle\nlibc-utils\n',
    },
    scripts: {
      ...Object.fromEntries(Object.entries(STAND_INS).filter(([name]) => !found.some((path) => posix.basename(path) === name)).map(([name, script]) => [`usr/bin/${name}`, script])),
      ...wrapped.scripts,
    },
    // Alpine links each applet where it belongs, to /bin/busybox.
    links: found.map((path) => [path.replace(/^\//, ''), '/bin/busybox']),
  };
}

/** Each image's layout and its digest, worked out once a process (busybox --list-full runs busybox). */
const layouts = new Map<string, { layout: Layout; digest: string }>();

/**
 * The image's root, built on first use under `imagesDir` and kept (the node's unpacked image):
 * made in a temporary directory, then renamed into place, so a half-built root is never used.
 */
export function imageRoot(imagesDir: string, kind: RootFilesystemKind, version: string): ImageRoot {
  if (!existsSync(HOST_BUSYBOX)) throw new Error(`the ${kind} image needs a static busybox at ${HOST_BUSYBOX}: install it (apt-get install busybox-static)`);
  const key = `${kind}-${version}`;
  let known = layouts.get(key);
  if (!known) {
    const layout = layoutOf(kind, version);
    // A root built from another layout (another busybox, an older kubelet) is another image.
    const digest = createHash('sha256').update(JSON.stringify(layout)).update(String(statSync(HOST_BUSYBOX).size)).digest('hex').slice(0, 12);
    known = { layout, digest };
    layouts.set(key, known);
  }
  const { layout } = known;
  const dir = join(imagesDir, `${kind}-${version.replace(/[^a-z0-9.]/gi, '_')}-${known.digest}`);
  const shared = ['bin/busybox'];
  if (existsSync(dir)) return { dir, shared };
  mkdirSync(imagesDir, { recursive: true });
  chmodSync(imagesDir, 0o711);
  const building = join(imagesDir, `.building-${randomBytes(6).toString('hex')}`);
  try {
    mkdirSync(building, { mode: 0o755 });
    chmodSync(building, 0o755);
    for (const sub of layout.dirs) mkdirSync(join(building, sub), { recursive: true, mode: 0o755 });
    chmodSync(join(building, 'tmp'), 0o1777);
    chmodSync(join(building, 'root'), 0o700);
    copyFileSync(HOST_BUSYBOX, join(building, 'bin', 'busybox'));
    if (layout.renamedApplets) renameApplets(join(building, 'bin', 'busybox'), layout.renamedApplets);
    chmodSync(join(building, 'bin', 'busybox'), 0o755);
    for (const [path, content] of Object.entries(layout.files)) writeFileSync(join(building, path), content, { mode: path === 'etc/shadow' ? 0o640 : 0o644 });
    for (const [path, content] of Object.entries(layout.scripts)) writeFileSync(join(building, path), content, { mode: 0o755 });
    for (const [link, target] of layout.links) {
      mkdirSync(join(building, posix.dirname(link)), { recursive: true, mode: 0o755 });
      if (!existsSync(join(building, link))) symlinkSync(target, join(building, link));
    }
    renameSync(building, dir);
  } catch (error) {
    rmSync(building, { recursive: true, force: true });
    // Another start built it meanwhile.
    if (existsSync(dir)) return { dir, shared };
    throw error;
  }
  return { dir, shared };
}

/** Renames applets in a copy of the binary, in place (layoutOf checked each entry is there once). */
function renameApplets(path: string, renames: Record<string, string>): void {
  const binary = readFileSync(path);
  const names = [...new Set(applets().map((applet) => posix.basename(applet)))];
  for (const [from, to] of Object.entries(renames)) {
    const entry = appletEntry(binary, names, from, to);
    if (!entry) throw new Error(`cannot rename the ${from} applet in ${path}`);
    binary.write(to, entry.at, 'latin1');
  }
  writeFileSync(path, binary);
}

/**
 * A container's writable root: a copy of the image's root without its shared files, in the
 * container's own directory. Made once per container instance (a restart gets a fresh one, as a
 * new writable layer); owned by the pod's host identity when the container runs as root inside,
 * so root may write it, else left to the kubelet, as an image's files belong to root.
 */
export function containerRoot(image: ImageRoot, instanceDir: string, owner: { uid: number; gid: number } | undefined, workingDir: string, mountPoints: Array<{ target: string; directory: boolean }>): string {
  const root = join(instanceDir, 'rootfs');
  if (existsSync(root)) return root;
  const building = join(instanceDir, `.rootfs-${randomBytes(4).toString('hex')}`);
  const skipped = new Set(image.shared.map((path) => join(image.dir, path)));
  cpSync(image.dir, building, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true, filter: (source) => !skipped.has(source) });
  // The shared files' mount points.
  for (const path of image.shared) writeFileSync(join(building, path), '', { mode: 0o755 });
  // As runc, the working directory and the mount points are made as root when the image lacks
  // them, before any process could touch the root (a user other than root could not make them).
  makeDirectories(building, workingDir);
  for (const point of mountPoints) {
    if (point.directory) makeDirectories(building, point.target);
    else if (makeDirectories(building, posix.dirname(posix.normalize(`/${point.target}`)))) {
      const file = join(building, posix.normalize(`/${point.target}`));
      if (!lstatSync(file, { throwIfNoEntry: false })) writeFileSync(file, '', { mode: 0o644 });
    }
  }
  if (owner && process.getuid?.() === 0) chownTree(building, owner);
  renameSync(building, root);
  return root;
}

/** mkdir -p of an absolute path inside a fresh root, stopping at anything that is not a directory (a link, a file); whether it got there. */
function makeDirectories(root: string, path: string): boolean {
  let current = root;
  for (const part of posix.normalize(`/${path}`).split('/').filter((part) => part !== '')) {
    current = join(current, part);
    const stat = lstatSync(current, { throwIfNoEntry: false });
    if (!stat) mkdirSync(current, { mode: 0o755 });
    else if (!stat.isDirectory()) return false;
  }
  return true;
}

/** The kubelet's own fresh copy, not yet seen by any container: no link in it is a learner's. */
function chownTree(path: string, owner: { uid: number; gid: number }): void {
  lchownSync(path, owner.uid, owner.gid);
  for (const entry of readdirSync(path, { withFileTypes: true })) {
    const child = join(path, entry.name);
    if (entry.isDirectory()) chownTree(child, owner);
    else lchownSync(child, owner.uid, owner.gid);
  }
}
