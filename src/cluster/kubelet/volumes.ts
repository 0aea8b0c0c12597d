// A pod's volumes on the host, laid out as the kubelet lays them out: ConfigMap, Secret,
// downwardAPI and projected volumes are written by an atomic writer (timestamped directory, a
// `..data` link swapped in one rename, one link per key), so a changed ConfigMap appears in every
// mount at once; subPath mounts bind the file itself and so keep the old content, as upstream.
// emptyDir is a plain directory; hostPath is a per-node directory of the simulated node (never
// the real host); a claim is a directory that outlives its pods.
//
// Files are written lazily, the first time a real process needs them (a shell container, exec, an
// exec probe): simulated servers never read them, and thousands of pods stay cheap.
import { chmodSync, chownSync, cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, realpathSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import type { KubeObject } from '../types.ts';
import type { ClusterView } from './cluster-view.ts';
import { formatMap, type NodeAllocatable, podField, resourceField } from './environment.ts';
import { type Json, num, obj, objects, specOf, str } from './format.ts';
import { createSandboxDirectory, SANDBOX_HOST_GID, SANDBOX_HOST_UID, type SandboxMount } from './sandbox/index.ts';

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
}

interface FileContent {
  data: Buffer;
  mode: number;
}

const isRoot = process.getuid?.() === 0;

function own(path: string): void {
  if (isRoot) chownSync(path, SANDBOX_HOST_UID, SANDBOX_HOST_GID);
}

function ensureDirectory(path: string, mode: number): void {
  if (!existsSync(path)) mkdirSync(path, { recursive: true });
  own(path);
  chmodSync(path, mode);
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
function writeAtomically(dir: string, files: Map<string, FileContent>, now: Date): void {
  ensureDirectory(dir, 0o755);
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
  ensureDirectory(stampDir, 0o755);
  for (const [path, content] of files) {
    const target = join(stampDir, path);
    const parent = dirname(target);
    if (parent !== stampDir) ensureDirectory(parent, 0o755);
    writeFileSync(target, content.data);
    own(target);
    chmodSync(target, content.mode);
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
      const problem = this.#files(pod, volume, true);
      if (typeof problem === 'string') return `MountVolume.SetUp failed for volume "${str(volume['name']) ?? ''}" : ${problem}`;
    }
    return undefined;
  }

  /** Writes every volume (first use) or brings them up to date (a ConfigMap changed). */
  materialize(pod: KubeObject): void {
    const ctx = this.#context;
    ensurePassage(ctx.podDir);
    ensurePassage(join(ctx.podDir, 'volumes'));
    for (const volume of objects(specOf(pod)['volumes'])) {
      const name = str(volume['name']) ?? '';
      const files = this.#files(pod, volume, false);
      const dir = this.hostPathOf(pod, name);
      if (!dir) continue;
      if (files instanceof Map) writeAtomically(dir, files, ctx.now());
      else if (!existsSync(dir)) createSandboxDirectory(dir);
    }
    if (this.automountsToken(pod)) {
      const files = this.#serviceAccountFiles(pod);
      if (files) writeAtomically(join(ctx.podDir, 'volumes', 'kube-api-access'), files, ctx.now());
    }
    this.#materialized = true;
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

  /** Host directory of a volume (created by materialize). */
  hostPathOf(pod: KubeObject, volumeName: string): string | undefined {
    const ctx = this.#context;
    const volume = objects(specOf(pod)['volumes']).find((v) => v['name'] === volumeName);
    if (!volume) return undefined;
    const hostPath = obj(volume['hostPath']);
    if (volume['hostPath']) return join(ctx.nodeDir, 'hostpath', (str(hostPath['path']) ?? '/').replace(/^\/+/, ''));
    const claim = obj(volume['persistentVolumeClaim']);
    if (volume['persistentVolumeClaim']) {
      const pvc = ctx.view.get('persistentvolumeclaims', pod.metadata.namespace, str(claim['claimName']) ?? '');
      return join(ctx.claimsDir, pvc?.metadata.uid ?? `${pod.metadata.namespace}-${str(claim['claimName']) ?? ''}`);
    }
    return join(ctx.podDir, 'volumes', volumeName);
  }

  /**
   * Mounts for a container's sandbox: its volumeMounts and the token. A subPath into a ConfigMap,
   * Secret or projected volume is a copy taken once per container instance (in instanceDir): a real
   * subPath bind keeps the file it bound at start, so later updates never reach it.
   */
  mountsFor(pod: KubeObject, container: Json, instanceDir: string): SandboxMount[] {
    const mounts: SandboxMount[] = [];
    const volumes = new Map(objects(specOf(pod)['volumes']).map((v) => [str(v['name']) ?? '', v]));
    for (const [index, mount] of objects(container['volumeMounts']).entries()) {
      const name = str(mount['name']) ?? '';
      const volume = volumes.get(name);
      const base = this.hostPathOf(pod, name);
      const target = str(mount['mountPath']);
      if (!volume || !base || !target) continue;
      const forcedReadOnly = ['configMap', 'secret', 'downwardAPI', 'projected'].some((kind) => volume[kind] !== undefined);
      const subPath = str(mount['subPath']) || (str(mount['subPathExpr']) ? expandSubPath(str(mount['subPathExpr']) ?? '', pod) : '');
      let source = base;
      if (subPath) {
        source = join(base, subPath);
        if (!existsSync(source) && !forcedReadOnly) createSandboxDirectory(source);
        if (!existsSync(source)) continue;
        if (forcedReadOnly) source = frozenCopy(source, join(instanceDir, 'subpath', `${index}-${name}`));
      }
      if ((volume['hostPath'] || volume['persistentVolumeClaim'] || volume['emptyDir'] !== undefined) && !existsSync(base)) createSandboxDirectory(base);
      mounts.push({ source, target, readOnly: forcedReadOnly || mount['readOnly'] === true });
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

function frozenCopy(source: string, target: string): string {
  if (existsSync(target)) return target;
  ensurePassage(dirname(target));
  cpSync(realpathSync(source), target, { recursive: true, dereference: true });
  const ownAll = (path: string) => {
    own(path);
    if (lstatSync(path).isDirectory()) for (const entry of readdirSync(path)) ownAll(join(path, entry));
  };
  ownAll(target);
  return target;
}

function expandSubPath(expression: string, pod: KubeObject): string {
  return expression.replace(/\$\(([^)]+)\)/g, (_m, name: string) => {
    if (name === 'POD_NAME') return pod.metadata.name ?? '';
    if (name === 'POD_NAMESPACE') return pod.metadata.namespace ?? '';
    return '';
  });
}
