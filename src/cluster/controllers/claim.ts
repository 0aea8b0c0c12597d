// ControllerRefManager (pkg/controller/controller_ref_manager.go): a controller owns what carries
// its controller reference; it adopts orphans its selector matches and releases what it owns but
// no longer matches. Adoption never happens while the owner is being deleted.
import type { KubeObject } from '../types.ts';
import { isNotFound, type ResourceClient } from './client.ts';
import { controllerRef, newControllerRef, type Selector } from './objects.ts';

export interface ClaimOptions {
  owner: KubeObject;
  selector: Selector;
  /** the candidates (usually every object of the kind in the owner's namespace) */
  candidates: KubeObject[];
  client: ResourceClient;
  /** extra condition for adopting an orphan (e.g. a pod that is not finished) */
  adoptable?: (object: KubeObject) => boolean;
}

/** Returns the objects the owner controls after adoption and release. */
export function claim({ owner, selector, candidates, client, adoptable }: ClaimOptions): KubeObject[] {
  const uid = owner.metadata.uid;
  const deleting = owner.metadata.deletionTimestamp !== undefined;
  const claimed: KubeObject[] = [];
  for (const candidate of candidates) {
    const ref = controllerRef(candidate);
    const matches = selector.matches(candidate.metadata.labels);
    if (ref) {
      if (ref.uid !== uid) continue;
      if (matches) {
        claimed.push(candidate);
        continue;
      }
      if (deleting) continue;
      release(client, candidate, uid ?? '');
      continue;
    }
    if (!matches || deleting || candidate.metadata.deletionTimestamp) continue;
    if (adoptable && !adoptable(candidate)) continue;
    const adopted = adopt(client, candidate, owner);
    if (adopted) claimed.push(adopted);
  }
  return claimed;
}

function adopt(client: ResourceClient, object: KubeObject, owner: KubeObject): KubeObject | undefined {
  try {
    return client.mutate(object.metadata.namespace, object.metadata.name ?? '', (draft) => {
      if (controllerRef(draft)) return false;
      draft.metadata.ownerReferences = [...(draft.metadata.ownerReferences ?? []), newControllerRef(owner)];
    });
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

function release(client: ResourceClient, object: KubeObject, ownerUid: string): void {
  client.mutate(object.metadata.namespace, object.metadata.name ?? '', (draft) => {
    const references = draft.metadata.ownerReferences ?? [];
    const kept = references.filter((reference) => reference.uid !== ownerUid);
    if (kept.length === references.length) return false;
    if (kept.length) draft.metadata.ownerReferences = kept;
    else delete draft.metadata.ownerReferences;
  });
}
