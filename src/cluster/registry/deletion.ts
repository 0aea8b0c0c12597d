// Graceful deletion (k8s.io/apiserver's rest.BeforeDelete and the store's finalizer handling):
// the propagation policy as the orphan/foregroundDeletion finalizers, the grace period a strategy
// gives, deletionTimestamp set once (and shortened, never lengthened), and when an object being
// deleted may finally go.
import type { KubeObject } from '../types.ts';
import { asArray, type Json } from '../json.ts';
import { clone, omitEmptyMetadata, pruneUndefined } from './fields.ts';
import type { DeleteOptions } from './interface.ts';
import { formatTimestamp } from './meta.ts';
import type { ResourceStrategy, StrategyContext } from './strategy.ts';

/**
 * The object as a DELETE leaves it: `now` when nothing holds it (no grace, no finalizer, nothing
 * blocking), else marked for deletion.
 */
export function beforeDelete(strategy: ResourceStrategy, old: KubeObject, options: DeleteOptions, ctx: StrategyContext): { draft: Json & KubeObject; now: boolean } {
  const draft = clone(old) as Json & KubeObject;
  const meta = draft.metadata;
  const finalizers = new Set(asArray(meta.finalizers).filter((f): f is string => typeof f === 'string'));
  switch (options.propagationPolicy) {
    case 'Orphan':
      finalizers.add('orphan');
      finalizers.delete('foregroundDeletion');
      break;
    case 'Foreground':
      finalizers.add('foregroundDeletion');
      finalizers.delete('orphan');
      break;
    case 'Background':
      finalizers.delete('orphan');
      finalizers.delete('foregroundDeletion');
      break;
  }
  if (finalizers.size) meta.finalizers = [...finalizers];
  else delete meta.finalizers;

  const grace = strategy.gracePeriodSeconds?.(old, options) ?? 0;
  const now = ctx.now.getTime();
  if (!meta.deletionTimestamp) {
    if (grace === 0 && finalizers.size === 0 && !strategy.deletionBlocked?.(draft)) return { draft, now: true };
    meta.deletionTimestamp = formatTimestamp(new Date(now + grace * 1000));
    meta.deletionGracePeriodSeconds = grace;
    strategy.beginDeletion?.(draft, ctx);
  } else {
    const currentGrace = typeof meta.deletionGracePeriodSeconds === 'number' ? meta.deletionGracePeriodSeconds : 0;
    if (grace < currentGrace) {
      meta.deletionGracePeriodSeconds = grace;
      meta.deletionTimestamp = formatTimestamp(new Date(now + grace * 1000));
    }
  }
  pruneUndefined(draft);
  omitEmptyMetadata(draft.metadata);
  return { draft, now: false };
}

/** An object being deleted goes once no finalizer, no strategy rule and no grace period holds it. */
export function readyToRemove(strategy: ResourceStrategy, object: KubeObject): boolean {
  if (asArray(object.metadata.finalizers).length > 0) return false;
  if (strategy.deletionBlocked?.(object)) return false;
  const grace = object.metadata.deletionGracePeriodSeconds;
  if (typeof grace === 'number' && grace > 0) return false;
  return true;
}
