// A pod's volumes on the host, laid out as the kubelet lays them out: ConfigMap, Secret,
// downwardAPI and projected volumes are written by an atomic writer (timestamped directory, a
// `..data` link swapped in one rename, one link per key), so a changed ConfigMap appears in every
// mount at once; subPath mounts bind the file itself and so keep the old content, as upstream.
// emptyDir is a plain directory; hostPath is a per-node directory of the simulated node (never
// the real host); a claim is a directory that outlives its pods, handed to each pod's fsGroup as
// the pod sets it up (volume-ownership.ts).
//
// Learners name paths (subPath, subPathExpr, hostPath, items); the API server refuses `..` and
// absolute ones, and the kubelet still resolves each inside its root (volume-root.ts), so a link
// a container plants cannot lead it out. Payload directories are root's and written only by the
// kubelet; what it makes inside a learner's volume it hands over through a descriptor, never a path.
//
// Files are written lazily, the first time a real process needs them (a shell container, exec, an
// exec probe): simulated servers never read them, and thousands of pods stay cheap.
import { chmodSync, chownSync, closeSync, constants, copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, type Stats, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { KubeObject } from '../types.ts';
import type { ClusterView } from './cluster-view.ts';
import { ContainerConfigError, expand, formatMap, type NodeAllocatable, podField, resourceField } from './environment.ts';
import { type Json, num, obj, objects, specOf, str } from '../json.ts';
import { createSandboxDirectory, SHARED_IDENTITY, type SandboxIdentity, type SandboxMount } from './sandbox/index.ts';
import { setVolumeOwnership } from './volume-ownership.ts';
import { PathEscape, PathMissing, pin, resolveInRoot, subPathProblem, walkInRoot } from './volume-root.ts';

export const SERVICE_ACCOUNT_MOUNT = '/var/run/secrets/kubernetes.io/serviceaccount';
const TOKEN_SECONDS = 3607;

export interface TokenIssuer {
  /** A token bound to the pod, for its ServiceAccount; undefined when the ServiceAccount is gone. */
  issue(pod: KubeObject, audiences: string[] | undefined, expirationSeconds: number): { token: string; expiresAt: number } | undefined;
  caPem: string;
}

export interface VolumeContext {
  view: ClusterView;
  podDir: string;
  /** Per-node directory that stands for the node's filesystem (hostPath volumes). */
  nodeDir: string;
  /** Where claims keep their data. */
  claimsDir: string;
  tokens: TokenIssuer | undefined;
  allocatable: NodeAllocatable;
  now: () => Date;
  /** The sandbox's host identity: files written for the pod and directories made for it belong to it (default the shared sandbox user). */
  owner?: SandboxIdentity;
  /** The host gid of the pod's fsGroup: the volumes' files belong to that group (SetVolumeOwnership). */
  fsGroup?: number | undefined;
}

interface FileContent {
  data: Buffer;
  mode: number;
}

const isRoot = process.getuid?.() === 0;
/** Directories the kubelet makes inside a volume on a learner's behalf belong to the sandbox user. */
function createdFor(owner: SandboxIdentity): { uid: number; gid: number; mode: number } {
  return { uid: owner.uid, gid: owner.gid, mode: 0o700 };
}

/** Long enough for the sandbox's shell to open a pinned descriptor, which it does as it starts. */
const PIN_MS = 60_000;

/** A learner's path, resolved and held open: the bind takes the object the walk found, by descriptor. */
function pinned(resolved: string, handle: string): { source: string; pinned: string } {
  const fd = pin(handle);
  setTimeout(() => closeSync(fd), PIN_MS).unref();
  return { source: resolved, pinned: `/proc/${process.pid}/fd/${fd}` };
}

function own(path: string, owner: SandboxIdentity): void {
  if (isRoot) chownSync(path, owner.uid, owner.gid);
}

/**
 * A directory only the kubelet writes (a keyed volume, its timestamped payloads): root's, readable
 * by the sandbox user. Nothing a container does can plant a link in it, so the kubelet may write
 * through it by name.
 */
function ensureKubeletDirectory(path: string, mode: number, fsGroup: number | undefined): void {
  const stat = lstatSync(path, { throwIfNoEntry: false });
  if (stat && !stat.isDirectory()) rmSync(path, { force: true });
  if (!stat?.isDirectory()) mkdirSync(path, { mode });
  if (isRoot) chownSync(path, 0, fsGroup ?? 0);
  chmodSync(path, fsGroup === undefined ? mode : mode | FS_GROUP_DIRECTORY_READ);
}

/**
 * What SetVolumeOwnership adds for the fsGroup (pkg/volume/volume_linux.go): group read (and write
 * on a writable volume) on files, the same plus search and setgid on directories, so what is made
 * in them takes the group too.
 */
const FS_GROUP_FILE_READ = 0o440;
const FS_GROUP_DIRECTORY_READ = 0o2550;
const FS_GROUP_DIRECTORY_WRITE = 0o2770;

/** A directory volume (emptyDir) for the sandbox: 0700 its own, or with an fsGroup the group's too (setgid). */
function createVolumeDirectory(path: string, owner: SandboxIdentity, fsGroup: number | undefined): void {
  createSandboxDirectory(path, owner);
  if (fsGroup === undefined) return;
  if (isRoot) chownSync(path, owner.uid, fsGroup);
  chmodSync(path, FS_GROUP_DIRECTORY_WRITE);
}

/** Directories on the way to a volume: traversable by the sandbox user, not listable. */
export function ensurePassage(path: string): void {
  mkdirSync(path, { recursive: true });
  chmodSync(path, 0o711);
}

function stampName(date: Date): string {
  const iso = date.toISOString();
  return `..${iso.slice(0, 10).replace(/-/g, '_')}_${iso.slice(11, 19).replace(/:/g, '_')}.${String(process.hrtime.bigint() % 1_000_000_000n).padStart(9, '0')}`;
}

/** AtomicWriter.Write: nothing happens when the content is unchanged. */
function writeAtomically(dir: string, files: Map<string, FileContent>, now: Date, owner: SandboxIdentity, fsGroup: number | undefined): void {
  ensureKubeletDirectory(dir, 0o755, fsGroup);
  const dataLink = join(dir, '..data');
  let current: string | undefined;
  try {
    current = readlinkSync(dataLink);
  } catch {
    current = undefined;
  }
  if (current && unchanged(join(dir, current), files)) return;
  const stamp = stampName(now);
  const stampDir = join(dir, stamp);
  ensureKubeletDirectory(stampDir, 0o755, fsGroup);
  for (const [path, content] of files) {
    const target = join(stampDir, path);
    // An item's own directories (path: a/b) are the kubelet's too, with the fsGroup as the rest.
    for (let parent = stampDir, rest = path.split('/').slice(0, -1); rest.length > 0; rest = rest.slice(1)) {
      parent = join(parent, rest[0] as string);
      ensureKubeletDirectory(parent, 0o755, fsGroup);
    }
    // A fresh directory of the kubelet's: the file cannot exist yet, nor be a link (wx is O_EXCL).
    writeFileSync(target, content.data, { flag: 'wx', mode: 0o600 });
    own(target, fsGroup === undefined ? owner : { uid: owner.uid, gid: fsGroup });
    chmodSync(target, fsGroup === undefined ? content.mode : content.mode | FS_GROUP_FILE_READ);
  }
  const temporary = join(dir, '..data_tmp');
  rmSync(temporary, { force: true });
  symlinkSync(stamp, temporary);
  renameSync(temporary, dataLink);
  const topLevel = new Set([...files.keys()].map((path) => path.split('/')[0] ?? path));
  for (const name of topLevel) {
    const link = join(dir, name);
    if (!existsSync(link)) symlinkSync(posix.join('..data', name), link);
  }
  for (const entry of readdirSync(dir)) {
    if (entry.startsWith('..')) {
      if (entry !== '..data' && entry !== stamp) rmSync(join(dir, entry), { recursive: true, force: true });
      continue;
    }
    if (!topLevel.has(entry)) rmSync(join(dir, entry), { recursive: true, force: true });
  }
}

function unchanged(stampDir: string, files: Map<string, FileContent>): boolean {
  try {
    for (const [path, content] of files) {
      const target = join(stampDir, path);
      if ((lstatSync(target).mode & 0o7777) !== content.mode) return false;
      if (!readFileSync(target).equals(content.data)) return false;
    }
    const count = (dir: string): number => readdirSync(dir, { withFileTypes: true }).reduce((sum, entry) => sum + (entry.isDirectory() ? count(join(dir, entry.name)) : 1), 0);
    return count(stampDir) === files.size;
  } catch {
    return false;
  }
}

/** Why the volume cannot be set up (the FailedMount message), or undefined. */
type Check = string | undefined;

/**
 * The atomic writer's own check of a payload path (validatePath), behind the API server's: a pod
 * stored before validation, or written around it, still cannot place a file outside its volume.
 */
function payloadPathProblem(path: string): Check {
  if (path === '') return `invalid path: must not be empty: ""`;
  if (path.startsWith('/')) return `invalid path: must be relative path: ${path}`;
  const items = path.split('/');
  if (items.includes('..')) return `invalid path: must not contain '..': ${path}`;
  if ((items[0] ?? '').startsWith('..') && (items[0] ?? '').length > 2) return `invalid path: must not start with '..': ${path}`;
  return undefined;
}

/** The payload, or the first path the atomic writer refuses. */
function checkedPayload(files: Map<string, FileContent>): Map<string, FileContent> | Check {
  const clean = new Map<string, FileContent>();
  for (const [path, content] of files) {
    const problem = payloadPathProblem(path);
    if (problem) return problem;
    clean.set(posix.normalize(path), content);
  }
  return clean;
}

function sourceData(view: ClusterView, kind: 'configMap' | 'secret', namespace: string, name: string): Map<string, Buffer> | undefined {
  const object = view.get(kind === 'configMap' ? 'configmaps' : 'secrets', namespace, name);
  if (!object) return undefined;
  const data = new Map<string, Buffer>();
  if (kind === 'configMap') {
    for (const [key, value] of Object.entries(obj(object['data']))) data.set(key, Buffer.from(String(value)));
    for (const [key, value] of Object.entries(obj(object['binaryData']))) data.set(key, Buffer.from(String(value), 'base64'));
  } else {
    for (const [key, value] of Object.entries(obj(object['data']))) data.set(key, Buffer.from(String(value), 'base64'));
  }
  return data;
}

/** Files of a configMap/secret source with its items, or the reason it cannot be mounted. */
function keyedFiles(view: ClusterView, kind: 'configMap' | 'secret', namespace: string, source: Json, defaultMode: number): Map<string, FileContent> | Check {
  const name = str(source['name']) ?? '';
  const optional = source['optional'] === true;
  const data = sourceData(view, kind, namespace, name);
  const files = new Map<string, FileContent>();
  if (!data) return optional ? files : `${kind === 'configMap' ? 'configmap' : 'secret'} "${name}" not found`;
  const items = objects(source['items']);
  if (items.length === 0) {
    for (const [key, value] of data) files.set(key, { data: value, mode: defaultMode });
    return files;
  }
  for (const item of items) {
    const key = str(item['key']) ?? '';
    const value = data.get(key);
    if (value === undefined) {
      if (optional) continue;
      return kind === 'configMap' ? `configmap references non-existent config key: ${key}` : `references non-existent secret key: ${key}`;
    }
    files.set(str(item['path']) ?? key, { data: value, mode: num(item['mode']) ?? defaultMode });
  }
  return files;
}

export class PodVolumes {
  readonly #context: VolumeContext;
  #materialized = false;
  #tokenExpiresAt = 0;

  constructor(context: VolumeContext) {
    this.#context = context;
  }

  get #owner(): SandboxIdentity {
    return this.#context.owner ?? SHARED_IDENTITY;
  }

  get materialized(): boolean {
    return this.#materialized;
  }

  /** When the projected token must be written again (80% of its life), or undefined. */
  get tokenRefreshAt(): number | undefined {
    return this.#tokenExpiresAt ? this.#tokenExpiresAt - TOKEN_SECONDS * 200 : undefined;
  }

  /** The ConfigMaps and Secrets this pod's volumes and env read: a change to one re-syncs the pod. */
  static references(pod: KubeObject): { configMaps: Set<string>; secrets: Set<string> } {
    const configMaps = new Set<string>(['kube-root-ca.crt']);
    const secrets = new Set<string>();
    const spec = specOf(pod);
    for (const volume of objects(spec['volumes'])) {
      const configMap = str(obj(volume['configMap'])['name']);
      if (configMap) configMaps.add(configMap);
      const secret = str(obj(volume['secret'])['secretName']);
      if (secret) secrets.add(secret);
      for (const source of objects(obj(volume['projected'])['sources'])) {
        const projectedMap = str(obj(source['configMap'])['name']);
        if (projectedMap) configMaps.add(projectedMap);
        const projectedSecret = str(obj(source['secret'])['name']);
        if (projectedSecret) secrets.add(projectedSecret);
      }
    }
    for (const container of [...objects(spec['initContainers']), ...objects(spec['containers'])]) {
      for (const from of objects(container['envFrom'])) {
        const map = str(obj(from['configMapRef'])['name']);
        if (map) configMaps.add(map);
        const secret = str(obj(from['secretRef'])['name']);
        if (secret) secrets.add(secret);
      }
      for (const variable of objects(container['env'])) {
        const valueFrom = obj(variable['valueFrom']);
        const map = str(obj(valueFrom['configMapKeyRef'])['name']);
        if (map) configMaps.add(map);
        const secret = str(obj(valueFrom['secretKeyRef'])['name']);
        if (secret) secrets.add(secret);
      }
    }
    return { configMaps, secrets };
  }

  /** The first volume that cannot be set up, as the FailedMount event says it. */
  check(pod: KubeObject): string | undefined {
    for (const volume of objects(specOf(pod)['volumes'])) {
      const files = this.#files(pod, volume, true);
      const problem = files instanceof Map ? checkedPayload(files) : volume['hostPath'] ? this.#hostPathTypeProblem(volume) : files;
      if (typeof problem === 'string') return `MountVolume.SetUp failed for volume "${str(volume['name']) ?? ''}" : ${problem}`;
    }
    return undefined;
  }

  /** The hostPath plugin's checkType on the node's path (FileOrCreate makes the file); the message names the path as the pod does. */
  #hostPathTypeProblem(volume: Json): Check {
    const hostPath = obj(volume['hostPath']);
    const path = str(hostPath['path']) ?? '';
    const type = str(hostPath['type']) ?? '';
    if (type === '' || type === 'DirectoryOrCreate') return undefined;
    const expected: Record<string, [test: (stat: Stats) => boolean, what: string]> = {
      Directory: [(stat) => stat.isDirectory(), 'a directory'],
      File: [(stat) => stat.isFile(), 'a file'],
      FileOrCreate: [(stat) => stat.isFile(), 'a file'],
      Socket: [(stat) => stat.isSocket(), 'a socket file'],
      CharDevice: [(stat) => stat.isCharacterDevice(), 'a character device'],
      BlockDevice: [(stat) => stat.isBlockDevice(), 'a block device'],
    };
    const [test, what] = expected[type] ?? [() => false, ''];
    if (!what) return `${type} is an invalid volume type`;
    let stat: Stats | undefined;
    try {
      stat = walkInRoot(this.#nodeRoot(), path, { links: 'within-root' }, (_resolved, handle) => statSync(handle));
    } catch (error) {
      if (!(error instanceof PathEscape)) throw error;
      if (error instanceof PathMissing && type === 'FileOrCreate') return this.#makeNodeFile(path);
    }
    return stat && test(stat) ? undefined : `hostPath type check failed: ${path} is not ${what}`;
  }

  /** FileOrCreate: an empty file in an existing directory of the node, made by name in that directory held open. */
  #makeNodeFile(path: string): Check {
    try {
      walkInRoot(this.#nodeRoot(), posix.dirname(posix.join('/', path)), { links: 'within-root' }, (_resolved, handle) => {
        const file = `${handle}/${posix.basename(posix.join('/', path))}`;
        writeFileSync(file, '', { flag: 'wx', mode: 0o644 });
        if (isRoot) chownSync(file, this.#owner.uid, this.#owner.gid);
      });
      return undefined;
    } catch (error) {
      if (!(error instanceof PathEscape) && !(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
      return `hostPath type check failed: ${path} is not a file`;
    }
  }

  /**
   * Each volumeMount's subPath after subPathExpr expansion (with the container's variables), as
   * the kubelet's makeMounts checks it; throws ContainerConfigError with upstream's message.
   */
  subPaths(container: Json, env: Array<[string, string]>): string[] {
    const values = new Map(env);
    return objects(container['volumeMounts']).map((mount) => {
      const expression = str(mount['subPathExpr']);
      let subPath = str(mount['subPath']) ?? '';
      if (expression) {
        const missing = new Set<string>();
        subPath = expand(expression, (name) => {
          const value = values.get(name);
          if (!value) missing.add(name);
          return value ?? '';
        });
        if (missing.size > 0) throw new ContainerConfigError(`missing value for ${[...missing].sort().join(', ')}`);
      }
      const problem = subPath ? subPathProblem(subPath) : undefined;
      if (problem) throw new ContainerConfigError(problem);
      return subPath;
    });
  }

  /** Writes every volume (first use) or brings them up to date (a ConfigMap changed). */
  materialize(pod: KubeObject): void {
    const ctx = this.#context;
    ensurePassage(ctx.podDir);
    ensurePassage(join(ctx.podDir, 'volumes'));
    for (const volume of objects(specOf(pod)['volumes'])) {
      // hostPath volumes are the node's: resolved (and made) when a container mounts them.
      if (volume['hostPath']) continue;
      const files = this.#files(pod, volume, false);
      const dir = this.#volumeDir(pod, volume);
      if (!dir) continue;
      if (files instanceof Map) {
        const payload = checkedPayload(files);
        if (payload instanceof Map) writeAtomically(dir, payload, ctx.now(), this.#owner, ctx.fsGroup);
      } else if (!existsSync(dir)) createVolumeDirectory(dir, this.#owner, ctx.fsGroup);
    }
    if (this.automountsToken(pod)) {
      const files = this.#serviceAccountFiles(pod);
      if (files) writeAtomically(join(ctx.podDir, 'volumes', 'kube-api-access'), files, ctx.now(), this.#owner, ctx.fsGroup);
    }
    this.#materialized = true;
  }

  /**
   * The pod's claims handed to its fsGroup (SetVolumeOwnership), once per pod as the kubelet does
   * when it sets a volume up for a pod; emptyDir and the keyed volumes get the group as they are made.
   */
  async setClaimOwnership(pod: KubeObject): Promise<void> {
    const fsGroup = this.#context.fsGroup;
    if (fsGroup === undefined) return;
    const policy = str(obj(specOf(pod)['securityContext'])['fsGroupChangePolicy']) === 'OnRootMismatch' ? 'OnRootMismatch' : 'Always';
    for (const volume of objects(specOf(pod)['volumes'])) {
      if (!volume['persistentVolumeClaim']) continue;
      const dir = this.#volumeDir(pod, volume);
      if (!dir) continue;
      if (!existsSync(dir)) createVolumeDirectory(dir, this.#owner, fsGroup);
      await setVolumeOwnership(dir, fsGroup, policy, obj(volume['persistentVolumeClaim'])['readOnly'] === true);
    }
  }

  /** Re-writes only when already written; called on ConfigMap/Secret/label changes and token refresh. */
  refresh(pod: KubeObject): void {
    if (this.#materialized) this.materialize(pod);
  }

  automountsToken(pod: KubeObject): boolean {
    const spec = specOf(pod);
    if (spec['automountServiceAccountToken'] === false) return false;
    if (!this.#context.tokens) return false;
    const hasOwn = objects(spec['containers']).some((c) => objects(c['volumeMounts']).some((m) => m['mountPath'] === SERVICE_ACCOUNT_MOUNT));
    if (hasOwn) return false;
    const account = this.#context.view.get('serviceaccounts', pod.metadata.namespace, str(spec['serviceAccountName']) ?? 'default');
    return account?.['automountServiceAccountToken'] !== false || spec['automountServiceAccountToken'] === true;
  }

  /**
   * The host directory of a pod's own volume (keyed, emptyDir, a claim), made by materialize;
   * undefined for a hostPath (see #nodeSource) or a name that is no volume.
   */
  #volumeDir(pod: KubeObject, volume: Json): string | undefined {
    const ctx = this.#context;
    const name = str(volume['name']) ?? '';
    // Validation allows only DNS labels; the kubelet still never joins anything else into a path.
    if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || volume['hostPath']) return undefined;
    if (volume['persistentVolumeClaim']) {
      const claimName = str(obj(volume['persistentVolumeClaim'])['claimName']) ?? '';
      const pvc = ctx.view.get('persistentvolumeclaims', pod.metadata.namespace, claimName);
      return pvc?.metadata.uid && /^[0-9a-f-]+$/.test(pvc.metadata.uid) ? join(ctx.claimsDir, pvc.metadata.uid) : undefined;
    }
    return join(ctx.podDir, 'volumes', name);
  }

  /**
   * A hostPath volume: that path of the simulated node, whatever it says. `/` is the node's root,
   * `..` stops there and the node's own links are resolved inside it, as RESOLVE_IN_ROOT does;
   * missing directories are made for DirectoryOrCreate and an unset type (containerd makes a
   * missing bind source); the other types were checked by check(). A subPath is then walked
   * inside that directory as in any other volume: links out of it are refused.
   */
  #nodeSource(volume: Json, subPath: string, refused: () => ContainerConfigError): { source: string; pinned: string } {
    const hostPath = obj(volume['hostPath']);
    const path = str(hostPath['path']) ?? '/';
    const type = str(hostPath['type']) ?? '';
    const create = type === '' || type === 'DirectoryOrCreate' ? createdFor(this.#owner) : undefined;
    try {
      // One walk for both: the subPath is looked up in the hostPath directory held open, not by its path again.
      return walkInRoot(this.#nodeRoot(), path, { links: 'within-root', create }, (resolved, handle) => {
        if (!subPath) return pinned(resolved, handle);
        try {
          return walkInRoot(handle, subPath, { links: 'refuse-escape', create: createdFor(this.#owner) }, pinned);
        } catch (error) {
          if (error instanceof PathEscape) throw refused();
          throw error;
        }
      });
    } catch (error) {
      if (!(error instanceof PathEscape)) throw error;
      throw new ContainerConfigError(`MountVolume.SetUp failed for volume "${str(volume['name']) ?? ''}" : hostPath type check failed: ${path} does not exist on the node`);
    }
  }

  /** The simulated node's own filesystem: what every hostPath of this node is inside. */
  #nodeRoot(): string {
    const root = join(this.#context.nodeDir, 'hostpath');
    // The node's root is the node's (root's): every sandbox's pods see it and pass through it to
    // the directories they made, none owns it.
    mkdirSync(root, { recursive: true });
    chmodSync(root, 0o755);
    return root;
  }

  /**
   * Mounts for a container's sandbox: its volumeMounts and the token. Every path a learner names
   * is resolved inside its volume (links that leave it are refused, missing directories are made
   * inside it); a failure is the container's CreateContainerConfigError, with upstream's message
   * (which names no host path). A source a container could swap (a subPath, a hostPath) is held
   * open by the walk and bound by that descriptor, not by its path. A subPath into a ConfigMap, Secret or projected volume is taken
   * once per container instance (in instanceDir): a real subPath bind keeps the file it bound at
   * start, so later updates never reach it.
   */
  mountsFor(pod: KubeObject, container: Json, instanceDir: string, env: Array<[string, string]>): SandboxMount[] {
    const mounts: SandboxMount[] = [];
    const volumes = new Map(objects(specOf(pod)['volumes']).map((v) => [str(v['name']) ?? '', v]));
    const subPaths = this.subPaths(container, env);
    const containerName = str(container['name']) ?? '';
    for (const [index, mount] of objects(container['volumeMounts']).entries()) {
      const name = str(mount['name']) ?? '';
      const volume = volumes.get(name);
      const mountPath = str(mount['mountPath']);
      if (!volume || !mountPath) continue;
      // As the runtime joins it under the container's root: absolute, and no `..` above it.
      const target = posix.join('/', mountPath);
      const keyed = ['configMap', 'secret', 'downwardAPI', 'projected'].some((kind) => volume[kind] !== undefined);
      const subPath = subPaths[index] ?? '';
      const refused = () => new ContainerConfigError(`failed to prepare subPath for volumeMount "${name}" of container "${containerName}"`);
      const readOnly = keyed || mount['readOnly'] === true;
      if (volume['hostPath']) {
        mounts.push({ ...this.#nodeSource(volume, subPath, refused), target, readOnly });
        continue;
      }
      const base = this.#volumeDir(pod, volume);
      if (!base) continue;
      // The pod's own volume directories are the kubelet's paths, no container can swap them.
      if (!keyed && !existsSync(base)) createVolumeDirectory(base, this.#owner, this.#context.fsGroup);
      try {
        if (!subPath) mounts.push({ source: base, target, readOnly });
        else if (keyed) mounts.push({ source: keyedSubPath(base, subPath, join(instanceDir, 'subpath', `${index}-${name}`), this.#owner), target, readOnly });
        else mounts.push({ ...walkInRoot(base, subPath, { links: 'refuse-escape', create: createdFor(this.#owner) }, pinned), target, readOnly });
      } catch (error) {
        if (!(error instanceof PathEscape)) throw error;
        // upstream: "Don't pass detailed error back to the user because it could give information about host filesystem"
        throw refused();
      }
    }
    if (this.automountsToken(pod) && existsSync(join(this.#context.podDir, 'volumes', 'kube-api-access'))) {
      mounts.push({ source: join(this.#context.podDir, 'volumes', 'kube-api-access'), target: SERVICE_ACCOUNT_MOUNT, readOnly: true });
    }
    return mounts;
  }

  remove(): void {
    rmSync(this.#context.podDir, { recursive: true, force: true });
  }

  #serviceAccountFiles(pod: KubeObject): Map<string, FileContent> | undefined {
    const ctx = this.#context;
    const issued = ctx.tokens?.issue(pod, undefined, TOKEN_SECONDS);
    if (!issued || !ctx.tokens) return undefined;
    this.#tokenExpiresAt = issued.expiresAt;
    const rootCa = ctx.view.get('configmaps', pod.metadata.namespace, 'kube-root-ca.crt');
    const ca = str(obj(rootCa?.['data'])['ca.crt']) ?? ctx.tokens.caPem;
    return new Map([
      ['token', { data: Buffer.from(issued.token), mode: 0o644 }],
      ['ca.crt', { data: Buffer.from(ca), mode: 0o644 }],
      ['namespace', { data: Buffer.from(pod.metadata.namespace ?? 'default'), mode: 0o644 }],
    ]);
  }

  /** The files of a keyed volume (Map), undefined for a directory volume, or why it cannot be set up. */
  #files(pod: KubeObject, volume: Json, checkOnly: boolean): Map<string, FileContent> | Check {
    const ctx = this.#context;
    const namespace = pod.metadata.namespace ?? 'default';
    if (volume['configMap']) {
      const source = obj(volume['configMap']);
      return keyedFiles(ctx.view, 'configMap', namespace, source, num(source['defaultMode']) ?? 0o644);
    }
    if (volume['secret']) {
      const source = obj(volume['secret']);
      return keyedFiles(ctx.view, 'secret', namespace, { ...source, name: source['secretName'] }, num(source['defaultMode']) ?? 0o644);
    }
    if (volume['downwardAPI']) {
      const source = obj(volume['downwardAPI']);
      return this.#downwardFiles(pod, objects(source['items']), num(source['defaultMode']) ?? 0o644);
    }
    if (volume['projected']) {
      const projected = obj(volume['projected']);
      const defaultMode = num(projected['defaultMode']) ?? 0o644;
      const files = new Map<string, FileContent>();
      for (const source of objects(projected['sources'])) {
        let part: Map<string, FileContent> | Check;
        if (source['configMap']) part = keyedFiles(ctx.view, 'configMap', namespace, obj(source['configMap']), defaultMode);
        else if (source['secret']) part = keyedFiles(ctx.view, 'secret', namespace, obj(source['secret']), defaultMode);
        else if (source['downwardAPI']) part = this.#downwardFiles(pod, objects(obj(source['downwardAPI'])['items']), defaultMode);
        else if (source['serviceAccountToken']) {
          const request = obj(source['serviceAccountToken']);
          if (checkOnly) continue;
          const audience = str(request['audience']);
          const issued = ctx.tokens?.issue(pod, audience ? [audience] : undefined, num(request['expirationSeconds']) ?? TOKEN_SECONDS);
          if (!issued) continue;
          this.#tokenExpiresAt = this.#tokenExpiresAt ? Math.min(this.#tokenExpiresAt, issued.expiresAt) : issued.expiresAt;
          part = new Map([[str(request['path']) ?? 'token', { data: Buffer.from(issued.token), mode: defaultMode }]]);
        } else continue;
        if (typeof part === 'string') return part;
        if (part) for (const [path, content] of part) files.set(path, content);
      }
      return files;
    }
    if (volume['persistentVolumeClaim']) {
      const claimName = str(obj(volume['persistentVolumeClaim'])['claimName']) ?? '';
      if (!ctx.view.get('persistentvolumeclaims', namespace, claimName)) return `persistentvolumeclaim "${claimName}" not found`;
    }
    return undefined;
  }

  #downwardFiles(pod: KubeObject, items: Json[], defaultMode: number): Map<string, FileContent> {
    const files = new Map<string, FileContent>();
    for (const item of items) {
      const path = str(item['path']) ?? '';
      let value = '';
      if (item['fieldRef']) {
        const fieldPath = str(obj(item['fieldRef'])['fieldPath']) ?? '';
        value = fieldPath === 'metadata.labels' ? formatMap(pod.metadata.labels) : fieldPath === 'metadata.annotations' ? formatMap(pod.metadata.annotations) : (podField(pod, fieldPath) ?? '');
      } else if (item['resourceFieldRef']) {
        const ref = obj(item['resourceFieldRef']);
        value = resourceField(pod, str(ref['containerName']) ?? '', ref, this.#context.allocatable);
      }
      files.set(path, { data: Buffer.from(value), mode: num(item['mode']) ?? defaultMode });
    }
    return files;
  }
}

/**
 * What a subPath into a keyed volume binds, pinned for the container instance: a hard link to the
 * payload file (the same inode, whatever the writer swaps in later), or a copy of a payload
 * directory. The source is a payload the kubelet wrote into its own directories (resolved with no
 * link out of the volume); the copy descends only into directories and regular files.
 */
function keyedSubPath(volumeDir: string, subPath: string, target: string, owner: SandboxIdentity): string {
  if (existsSync(target)) return target;
  ensurePassage(dirname(target));
  let source;
  try {
    source = resolveInRoot(volumeDir, subPath, { links: 'refuse-escape' });
  } catch (error) {
    if (!(error instanceof PathMissing)) throw error;
    // A key the payload lacks: upstream makes the directory inside the volume, so the container sees an empty one.
    ensureKubeletDirectory(target, 0o755, undefined);
    return target;
  }
  const copy = (from: string, to: string) => {
    const stat = lstatSync(from);
    if (stat.isDirectory()) {
      mkdirSync(to, { mode: 0o755 });
      for (const entry of readdirSync(from)) copy(join(from, entry), join(to, entry));
    } else if (stat.isFile()) {
      copyFileSync(from, to, constants.COPYFILE_EXCL);
      own(to, owner);
      chmodSync(to, stat.mode & 0o777);
    }
  };
  if (lstatSync(source).isFile()) linkSync(source, target);
  else copy(source, target);
  return target;
}
