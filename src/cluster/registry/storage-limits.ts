// What the embedded cluster's storage holds at most. Two limits follow etcd (the size of one
// write, and compaction of old versions); the third, a byte budget per namespace, is the
// embedded cluster's own: a real cluster's etcd has one quota for everything (2 GiB by default),
// which one learner could fill for all, so here each namespace gets its share.
import { type GroupResource, type KubeObject, qualifiedResource, StatusError } from '../types.ts';
import type { ResourceDefinition, UserInfo } from './interface.ts';
import type { Storage } from './storage.ts';

/** etcd's --max-request-bytes default: a write larger than this never reaches storage. */
export const MAX_OBJECT_BYTES = 1.5 * 1024 * 1024;
/** The objects one namespace may hold, serialized, unless the cluster is told otherwise. */
export const DEFAULT_NAMESPACE_BYTES = 16 * 1024 * 1024;
/** Old versions kept for watches and consistent paging, all resources together. */
export const DEFAULT_HISTORY_BYTES = 64 * 1024 * 1024;

/**
 * What kube-apiserver answers when etcd refuses a write as too large: etcd's own error, passed
 * through as an unknown 500 (kubectl prints "Error from server: etcdserver: request is too large").
 */
export function requestTooLarge(): StatusError {
  return new StatusError({ code: 500, message: 'etcdserver: request is too large' });
}

/** The cluster's own components (controllers, the scheduler, nodes) and its administrators are never refused for space: that would wedge the cluster, not teach the learner. */
export function bypassesNamespaceBudget(user: UserInfo | undefined): boolean {
  if (!user) return true;
  const groups = user.groups ?? [];
  if (groups.includes('system:masters') || groups.includes('system:nodes') || groups.includes('system:serviceaccounts:kube-system')) return true;
  return user.username.startsWith('system:') && !user.username.startsWith('system:serviceaccount:');
}

function mebibytes(bytes: number): string {
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KiB`;
  const value = bytes / (1024 * 1024);
  return `${Number.isInteger(value) ? value : value.toFixed(1)} MiB`;
}

export function namespaceBudgetExceeded(gr: GroupResource, name: string, namespace: string, usage: { requested: number; used: number; limit: number }): StatusError {
  const message =
    `${qualifiedResource(gr)} "${name}" is forbidden: exceeded the storage budget of namespace "${namespace}": ` +
    `requested: ${usage.requested} bytes, used: ${usage.used} bytes, limited: ${usage.limit} bytes ` +
    `(the embedded cluster stores at most ${mebibytes(usage.limit)} of objects a namespace; delete objects you no longer need)`;
  return new StatusError({ code: 403, reason: 'Forbidden', message, details: { name, group: gr.group, kind: gr.resource } });
}

/**
 * Buffer.byteLength(JSON.stringify(object)), counted without making the text: checking a 1 MiB
 * write against the limits would otherwise copy it once more just to measure it.
 */
export function serializedBytes(object: KubeObject): number {
  return jsonBytes(object) ?? 0;
}

/** Printable ASCII that JSON writes as it is (no quote, backslash or control character). */
const plainJsonText = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function stringBytes(text: string): number {
  return plainJsonText.test(text) ? text.length + 2 : Buffer.byteLength(JSON.stringify(text));
}

/** The UTF-8 length of JSON.stringify(value); undefined where JSON.stringify leaves the value out. */
function jsonBytes(value: unknown): number | undefined {
  switch (typeof value) {
    case 'string':
      return stringBytes(value);
    case 'number':
      return Number.isFinite(value) ? String(value).length : 4;
    case 'boolean':
      return value ? 4 : 5;
    case 'object': {
      if (value === null) return 4;
      if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return jsonBytes((value as { toJSON(): unknown }).toJSON());
      if (Array.isArray(value)) {
        let bytes = 2 + Math.max(0, value.length - 1);
        for (const item of value) bytes += jsonBytes(item) ?? 4;
        return bytes;
      }
      let bytes = 2;
      let members = 0;
      for (const key of Object.keys(value)) {
        const member = jsonBytes((value as Record<string, unknown>)[key]);
        if (member === undefined) continue;
        bytes += stringBytes(key) + 1 + member + (members++ > 0 ? 1 : 0);
      }
      return bytes;
    }
    default:
      return undefined;
  }
}

/**
 * etcd's limit on one write, and the namespace's storage budget for a write that grows it (not
 * for status and other subresources: the cluster's own reports must always land).
 */
export function checkStorageLimits(write: {
  storage: Storage;
  /** every storage, whose objects in the namespace count against its budget */
  storages: Iterable<Storage>;
  def: ResourceDefinition;
  draft: KubeObject;
  user: UserInfo | undefined;
  subresource: string | undefined;
  namespaceBytes: number;
}): void {
  const { storage, def, draft, namespaceBytes } = write;
  const bytes = serializedBytes(draft);
  if (bytes > MAX_OBJECT_BYTES) throw requestTooLarge();
  const ns = def.namespaced ? (draft.metadata.namespace ?? '') : '';
  if (ns === '' || namespaceBytes <= 0 || write.subresource !== undefined || bypassesNamespaceBudget(write.user)) return;
  const requested = bytes - storage.sizeOf(ns, draft.metadata.name ?? '');
  if (requested <= 0) return;
  let used = 0;
  for (const each of write.storages) used += each.bytesIn(ns);
  if (used + requested > namespaceBytes) throw namespaceBudgetExceeded({ group: def.group, resource: def.resource }, draft.metadata.name ?? '', ns, { requested, used, limit: namespaceBytes });
}
