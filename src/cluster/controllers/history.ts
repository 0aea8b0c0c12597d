// ControllerRevisions (pkg/controller/history): StatefulSets and DaemonSets keep each pod template
// they have run as a revision named "<owner>-<hash>", the hash being FNV-32a of the revision's
// data, so `kubectl rollout history/undo` and pods' controller-revision-hash label can name it.
import type { KubeObject } from '../types.ts';
import type { ControllerClient } from './client.ts';
import { canonicalJson, safeEncodeString } from './hash.ts';
import { num, obj, specOf } from '../json.ts';
import { claim } from './claim.ts';
import { copy, newControllerRef, selectorOf } from './objects.ts';

export const REVISION_HASH_LABEL = 'controller.kubernetes.io/hash';

/** The patch a revision stores: the template, to be replaced wholesale on rollback. */
export function templatePatch(owner: KubeObject): Record<string, unknown> {
  const template = copy(obj(specOf(owner).template));
  return { spec: { template: { ...template, $patch: 'replace' } } };
}

function fnv32a(text: string, collisionCount: number | undefined): number {
  let hash = 0x811c9dc5;
  const mix = (bytes: Uint8Array) => {
    for (const byte of bytes) {
      hash ^= byte;
      hash = Math.imul(hash, 0x01000193) >>> 0;
    }
  };
  mix(new TextEncoder().encode(text));
  if (collisionCount !== undefined && collisionCount !== 0) {
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setUint32(0, collisionCount >>> 0, true);
    mix(bytes);
  }
  return hash >>> 0;
}

export function revisionHash(data: unknown, collisionCount?: number): string {
  return safeEncodeString(String(fnv32a(canonicalJson(data), collisionCount)));
}

export interface Revisions {
  /** every revision the owner has, oldest first */
  all: KubeObject[];
  /** the revision of the owner's current template */
  update: KubeObject;
}

function revisionNumber(revision: KubeObject): number {
  return num(revision['revision']) ?? 0;
}

/** Finds or creates the revision of the owner's template; an equal older one is renumbered to the newest. */
export function syncRevisions(client: ControllerClient, owner: KubeObject): Revisions {
  const namespace = owner.metadata.namespace;
  // As ClaimControllerRevisions: the revisions of a set deleted with --cascade=orphan are adopted by
  // the set recreated over them (else its first revision's name is taken and it never syncs).
  const owned = claim({ owner, selector: selectorOf(specOf(owner).selector), candidates: client.controllerRevisions.list(namespace), client: client.controllerRevisions }).sort(
    (a, b) => revisionNumber(a) - revisionNumber(b),
  );
  const data = templatePatch(owner);
  const wanted = canonicalJson(data);
  const latest = owned.length ? revisionNumber(owned[owned.length - 1] as KubeObject) : 0;
  const equal = owned.filter((revision) => canonicalJson(revision['data']) === wanted);
  const existing = equal[equal.length - 1];
  if (existing) {
    if (revisionNumber(existing) === latest) return { all: owned, update: existing };
    const renumbered = client.controllerRevisions.mutate(namespace, existing.metadata.name ?? '', (draft) => {
      draft['revision'] = latest + 1;
    });
    const update = renumbered ?? existing;
    return { all: [...owned.filter((r) => r !== existing), update], update };
  }
  const collisionCount = num(obj(owner.status).collisionCount);
  const hash = revisionHash(data, collisionCount);
  const labels = { ...((obj(obj(specOf(owner).template).metadata).labels ?? {}) as Record<string, string>), [REVISION_HASH_LABEL]: hash };
  const created = client.controllerRevisions.create(namespace, {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: { name: `${owner.metadata.name}-${hash}`, namespace, labels, ownerReferences: [newControllerRef(owner)] },
    data,
    revision: latest + 1,
  });
  return { all: [...owned, created], update: created };
}

/** Deletes the oldest revisions beyond the history limit that no live pod or status still uses. */
export function truncateRevisions(client: ControllerClient, revisions: KubeObject[], inUse: Set<string>, limit: number): void {
  const removable = revisions.filter((revision) => !inUse.has(revision.metadata.name ?? '') && !inUse.has(revision.metadata.labels?.[REVISION_HASH_LABEL] ?? ''));
  const excess = removable.length - limit;
  for (const revision of removable.slice(0, Math.max(0, excess))) client.controllerRevisions.delete(revision.metadata.namespace, revision.metadata.name ?? '');
}

/** The pod template a revision stored. */
export function templateOf(revision: KubeObject): unknown {
  const template = copy(obj(obj(obj(revision['data']).spec).template));
  delete template['$patch'];
  return template;
}
