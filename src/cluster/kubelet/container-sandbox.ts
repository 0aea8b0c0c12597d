// The sandbox a container's real processes run in (its main process, exec sessions, exec
// probes): the container's environment, its volumes at their mount paths, its own /tmp and HOME,
// the pod's /etc/hosts and /etc/resolv.conf, and its CPU and memory limits.
import { existsSync, lstatSync, readlinkSync, statSync, writeFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { tryParseQuantity } from '../registry/index.ts';
import type { KubeObject } from '../types.ts';
import { type Json, obj, objects, specOf, str } from '../json.ts';
import { ALPINE_OF_SERVICE_IMAGES, behaviourOf, containerRoot, imageFiles, type ImageRoot, imageRoot, type ResolvedImage, rootFilesystemOf, versionOf } from './images/index.ts';
import { containerCapabilities, createSandboxDirectory, type InsideUser, type SandboxIdentity, type SandboxLimits, type SandboxMount, type SandboxRoot, type SandboxSpec } from './sandbox/index.ts';
import { podDnsConfig, resolvConfText } from './pod-dns.ts';
import { ensurePassage } from './volumes.ts';

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export function limitsOf(container: Json): SandboxLimits {
  const limits = obj(obj(container['resources'])['limits']);
  const memory = tryParseQuantity(limits['memory']);
  const cpu = tryParseQuantity(limits['cpu']);
  return {
    ...(memory && !memory.isZero() ? { memoryBytes: memory.value() } : {}),
    ...(cpu && !cpu.isZero() ? { cpuMillis: cpu.milliValue() } : {}),
    pids: 1024,
  };
}

/**
 * The pod's own cgroup limits, as the kubelet sizes a pod cgroup: the sum of its containers'
 * limits (or the largest init container's, if more) when every container sets one; otherwise the
 * kubelet's ceiling for pods without limits, so no pod is unbounded. The process limit is the pod's.
 */
export function podLimits(pod: KubeObject, defaults: SandboxLimits): SandboxLimits {
  const spec = specOf(pod);
  const containers = objects(spec['containers']).map(limitsOf);
  const inits = objects(spec['initContainers']).map(limitsOf);
  const total = (key: 'memoryBytes' | 'cpuMillis'): number | undefined => {
    if (containers.length === 0 || containers.some((limits) => limits[key] === undefined)) return undefined;
    const sum = containers.reduce((all, limits) => all + (limits[key] ?? 0), 0);
    return Math.max(sum, ...inits.map((limits) => limits[key] ?? 0));
  };
  const memoryBytes = total('memoryBytes') ?? defaults.memoryBytes;
  const cpuMillis = total('cpuMillis') ?? defaults.cpuMillis;
  return { ...(memoryBytes ? { memoryBytes } : {}), ...(cpuMillis ? { cpuMillis } : {}), ...(defaults.pids ? { pids: defaults.pids } : {}) };
}

/** The per-instance writable directories: /tmp and /root. */
export function instanceDirectories(instanceDir: string, owner: SandboxIdentity): { tmp: string; root: string } {
  ensurePassage(instanceDir);
  const tmp = join(instanceDir, 'tmp');
  const root = join(instanceDir, 'root');
  if (!existsSync(tmp)) createSandboxDirectory(tmp, owner);
  if (!existsSync(root)) createSandboxDirectory(root, owner);
  return { tmp, root };
}

/**
 * The image's own root file system for this container instance (busybox, alpine), or undefined
 * where the image runs on the host's tools. Root inside owns its writable copy; another user finds
 * it as an image's files are, root's.
 */
export function containerRootFor(
  imagesDir: string,
  image: ResolvedImage | undefined,
  instanceDir: string,
  owner: SandboxIdentity,
  user: InsideUser,
  workingDir: string,
  mounts: SandboxMount[],
): SandboxRoot | undefined {
  const lower = imageRootFor(imagesDir, image);
  if (!lower) return undefined;
  // Where the pod's files and volumes will be bound: /etc/hosts and friends are files, a volume's source says.
  const points = [...POD_ETC_FILES.map((target) => ({ target, directory: false })), ...mounts.map((mount) => ({ target: mount.target, directory: isDirectory(mount.pinned ?? mount.source) }))];
  const writable = containerRoot(lower, instanceDir, user.uid === 0 ? owner : undefined, workingDir, points);
  return { writable, readOnly: lower.shared.map((path) => ({ source: join(lower.dir, path), target: `/${path}` })) };
}

/**
 * The image's own names for host programs, bound read-only where the image has them (python's
 * /usr/local/bin/python), and the files it carries (the bootcamp's /server.js); an image with a
 * root of its own carries its programs in it.
 */
export function imageProgramMounts(image: ResolvedImage | undefined, imagesDir: string): SandboxMount[] {
  if (!image || rootFilesystemOf(image)) return [];
  const programs = Object.entries(image.catalog?.hostPrograms ?? {})
    .filter(([, host]) => existsSync(host))
    .map(([target, source]) => ({ source, target, readOnly: true }));
  return [...programs, ...imageFiles(imagesDir, behaviourOf(image, [])?.files).map((file) => ({ ...file, readOnly: true }))];
}

/** The image's unpacked root, for the images built on busybox (busybox, alpine, a service image's alpine variant). */
export function imageRootFor(imagesDir: string, image: ResolvedImage | undefined): ImageRoot | undefined {
  const kind = image ? rootFilesystemOf(image) : undefined;
  return image && kind ? imageRoot(imagesDir, kind, kind === 'alpine' && image.catalog?.rootFilesystem !== 'alpine' ? ALPINE_OF_SERVICE_IMAGES : versionOf(image)) : undefined;
}

const POD_ETC_FILES = ['/etc/hosts', '/etc/hostname', '/etc/resolv.conf'];

/** What a mount binds (a pinned descriptor's object, a path the kubelet resolved): a directory or a file. */
function isDirectory(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
}

/**
 * /etc/hosts, /etc/hostname and /etc/resolv.conf as the kubelet writes them for a pod; `warn`
 * hears the DNSConfigForming warnings once, when the pod's resolv.conf is first written.
 */
export function podEtcFiles(pod: KubeObject, podDir: string, podIP: string | undefined, warn?: (message: string) => void): SandboxMount[] {
  const dir = join(podDir, 'etc');
  ensurePassage(podDir);
  ensurePassage(dir);
  const name = pod.metadata.name ?? '';
  const namespace = pod.metadata.namespace ?? 'default';
  const spec = specOf(pod);
  // A hostNetwork pod is the node: its hostname and hosts file are the node's (kubelet's "host network" hosts file).
  const hostNetwork = spec['hostNetwork'] === true;
  const hostname = (hostNetwork ? str(spec['nodeName']) : str(spec['hostname'])) ?? name;
  const subdomain = str(spec['subdomain']);
  const fqdn = subdomain && !hostNetwork ? `${hostname}.${subdomain}.${namespace}.svc.cluster.local\t${hostname}` : hostname;
  const hosts = [
    hostNetwork ? '# Kubernetes-managed hosts file (host network).' : '# Kubernetes-managed hosts file.',
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    ...(podIP ? [`${podIP}\t${fqdn}`] : []),
    ...objects(spec['hostAliases']).flatMap((alias) => [`\n# Entries added by HostAliases.\n${str(alias['ip']) ?? ''}\t${(alias['hostnames'] as string[] | undefined)?.join('\t') ?? ''}`]),
    '',
  ].join('\n');
  const dns = podDnsConfig(pod);
  if (warn && !existsSync(join(dir, 'resolv.conf'))) for (const warning of dns.warnings) warn(warning);
  const resolv = resolvConfText(dns.config);
  const files: Array<[string, string, string]> = [
    ['hosts', hosts, '/etc/hosts'],
    ['hostname', `${hostname}\n`, '/etc/hostname'],
    ['resolv.conf', resolv, '/etc/resolv.conf'],
  ];
  return files.map(([file, content, target]) => {
    const path = join(dir, file);
    writeFileSync(path, content, { mode: 0o644 });
    return { source: path, target, readOnly: true };
  });
}

export interface ContainerSandboxInput {
  pod: KubeObject;
  container: Json;
  argv: string[];
  env: Array<[string, string]>;
  volumeMounts: SandboxMount[];
  etcMounts: SandboxMount[];
  instance: { tmp: string; root: string };
  /** The image's root file system, when it has one of its own. */
  root?: SandboxRoot;
  tty?: { cols: number; rows: number };
  extra?: { env: Record<string, string>; mounts: SandboxMount[]; forwards: SandboxSpec['forwards'] };
}

export function containerSandboxSpec(input: ContainerSandboxInput): SandboxSpec {
  const { pod, container } = input;
  const spec = specOf(pod);
  const env: Record<string, string> = { PATH: DEFAULT_PATH, HOSTNAME: str(spec['hostname']) ?? pod.metadata.name ?? '', HOME: '/root' };
  // Docker and containerd give a terminal TERM=xterm; the workbench is a richer terminal.
  if (input.tty || container['tty'] === true) env['TERM'] = input.extra ? 'xterm-256color' : 'xterm';
  Object.assign(env, input.extra?.env ?? {});
  for (const [name, value] of input.env) env[name] = value;
  const taken = new Set(input.volumeMounts.map((mount) => mount.target));
  const mounts: SandboxMount[] = [...input.etcMounts.filter((mount) => !taken.has(mount.target))];
  // /tmp and HOME are the container's own layer: read-only with the rest of its root when the securityContext says so.
  const readOnlyRoot = obj(container['securityContext'])['readOnlyRootFilesystem'] === true;
  if (!taken.has('/tmp')) mounts.push({ source: input.instance.tmp, target: '/tmp', readOnly: readOnlyRoot });
  if (!taken.has('/root')) mounts.push({ source: input.instance.root, target: '/root', readOnly: readOnlyRoot });
  mounts.push(...(input.extra?.mounts ?? []).filter((mount) => !taken.has(mount.target)), ...input.volumeMounts);
  // The image's working directory, / for every image here, unless the spec names one.
  const workingDir = str(container['workingDir']) ?? '/';
  return {
    argv: input.argv,
    env,
    hostname: str(spec['hostname']) ?? (pod.metadata.name ?? 'pod').slice(0, 63),
    mounts,
    workingDir: posix.normalize(workingDir),
    ...(input.root ? { root: input.root } : {}),
    ...(readOnlyRoot ? { readOnlyRoot } : {}),
    ...(input.tty ? { tty: input.tty } : {}),
    ...(input.extra?.forwards?.length ? { forwards: input.extra.forwards } : {}),
    limits: limitsOf(container),
    capabilities: containerCapabilities(obj(obj(container['securityContext'])['capabilities'])),
  };
}

/** Whether argv[0] exists where the sandbox will look (the image's root or the host's system trees, or a volume). */
export function findExecutable(command: string, path: string, mounts: SandboxMount[], root?: SandboxRoot): boolean {
  const exists = (file: string) => (root ? existsInRoot(root.writable, file) : existsSync(file));
  if (command.includes('/')) {
    if (mounts.some((mount) => command.startsWith(`${mount.target}/`))) return true;
    return exists(posix.resolve('/', command));
  }
  return path.split(':').some((dir) => {
    if (dir === '') return false;
    const candidate = posix.join(dir, command);
    return exists(candidate) || mounts.some((mount) => mount.target === candidate);
  });
}

/** Looks a path up inside an image's root, following its links there (they are the image's, absolute to its /). */
function existsInRoot(root: string, path: string, depth = 0): boolean {
  if (depth > 8) return false;
  let resolved = '/';
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] ?? '';
    const next = part === '..' ? posix.dirname(resolved) : posix.join(resolved, part);
    const stat = lstatSync(join(root, next), { throwIfNoEntry: false });
    if (!stat) return false;
    if (stat.isSymbolicLink()) {
      const target = readlinkSync(join(root, next));
      const rest = parts.slice(i + 1).join('/');
      return existsInRoot(root, posix.join(target.startsWith('/') ? target : posix.join(resolved, target), rest), depth + 1);
    }
    resolved = next;
  }
  return true;
}
