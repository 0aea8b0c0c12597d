// The garbage collector (pkg/controller/garbagecollector): a graph of ownerReferences over every
// resource the registry serves. An object whose owners are all gone is deleted (background); an
// owner deleted with propagationPolicy=Foreground keeps the foregroundDeletion finalizer until
// its blocking dependents are gone; one deleted with Orphan has its dependents' references
// removed, then its orphan finalizer.
import type { ResourceDefinition, Watch } from '../registry/index.ts';
import type { KubeObject, OwnerReference } from '../types.ts';
import { type ControllerClient, isNotFound } from './client.ts';
import type { ControllerContext } from './context.ts';
import { inform, type RunningController, startController } from './runtime.ts';

const ORPHAN = 'orphan';
const FOREGROUND = 'foregroundDeletion';

interface Node {
  resource: string;
  namespace: string;
  name: string;
  uid: string;
  owners: OwnerReference[];
}

function nodeKey(resource: string, namespace: string | undefined, name: string): string {
  return `${resource}|${namespace ?? ''}|${name}`;
}

function parseNodeKey(key: string): { resource: string; namespace: string | undefined; name: string } {
  const [resource = '', namespace = '', name = ''] = key.split('|');
  return { resource, namespace: namespace || undefined, name };
}

function resourceId(def: ResourceDefinition): string {
  return `${def.group}/${def.version}/${def.resource}`;
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const slash = apiVersion.indexOf('/');
  return slash === -1 ? { group: '', version: apiVersion } : { group: apiVersion.slice(0, slash), version: apiVersion.slice(slash + 1) };
}

function hasFinalizer(object: KubeObject, finalizer: string): boolean {
  return object.metadata.finalizers?.includes(finalizer) === true;
}

/** One served version of every storable, deletable resource (the graph's monitors). */
function monitoredResources(ctx: ControllerContext): ResourceDefinition[] {
  const seen = new Set<string>();
  const out: ResourceDefinition[] = [];
  for (const def of ctx.registry.resources()) {
    const id = `${def.group}/${def.resource}`;
    if (seen.has(id) || !def.verbs.includes('delete') || !def.verbs.includes('watch')) continue;
    seen.add(id);
    out.push(def);
  }
  return out;
}

export function startGarbageCollector(ctx: ControllerContext): RunningController {
  const client: ControllerClient = ctx.clientFor('generic-garbage-collector');
  const nodes = new Map<string, Node>();
  /** owner uid → keys of its dependents */
  const dependents = new Map<string, Set<string>>();
  const uids = new Map<string, string>();
  const monitors = new Map<string, Watch>();
  let controller: RunningController | undefined;

  const index = (node: Node, add: boolean) => {
    const key = nodeKey(node.resource, node.namespace, node.name);
    for (const owner of node.owners) {
      let set = dependents.get(owner.uid);
      if (add) {
        if (!set) dependents.set(owner.uid, (set = new Set()));
        set.add(key);
      } else if (set) {
        set.delete(key);
        if (set.size === 0) dependents.delete(owner.uid);
      }
    }
  };

  const observe = (resource: string, object: KubeObject, type: string) => {
    const key = nodeKey(resource, object.metadata.namespace, object.metadata.name ?? '');
    const previous = nodes.get(key);
    const uid = object.metadata.uid ?? '';
    if (type === 'DELETED') {
      if (previous) {
        index(previous, false);
        nodes.delete(key);
        uids.delete(previous.uid);
        // Owners waiting in foreground deletion look again once a dependent is gone.
        for (const owner of previous.owners) {
          const ownerKey = uids.get(owner.uid);
          if (ownerKey) controller?.enqueue(`o|${ownerKey}`);
        }
      }
      for (const dependent of dependents.get(uid) ?? []) controller?.enqueue(`d|${dependent}`);
      return;
    }
    const owners = object.metadata.ownerReferences ?? [];
    const ownersChanged = !previous || previous.uid !== uid || JSON.stringify(previous.owners) !== JSON.stringify(owners);
    if (ownersChanged) {
      if (previous) index(previous, false);
      const node: Node = { resource, namespace: object.metadata.namespace ?? '', name: object.metadata.name ?? '', uid, owners: [...owners] };
      nodes.set(key, node);
      uids.set(uid, key);
      index(node, true);
      if (owners.length) controller?.enqueue(`d|${key}`);
    }
    if (object.metadata.deletionTimestamp && (hasFinalizer(object, ORPHAN) || hasFinalizer(object, FOREGROUND))) controller?.enqueue(`o|${key}`);
  };

  const monitor = () => {
    const wanted = new Map(monitoredResources(ctx).map((def) => [resourceId(def), def]));
    for (const [id, watch] of monitors) {
      if (wanted.has(id)) continue;
      watch.stop();
      monitors.delete(id);
    }
    for (const [id, def] of wanted) {
      if (monitors.has(id)) continue;
      monitors.set(id, inform(ctx.registry, def, (object, type) => observe(id, object, type)));
    }
  };

  const resourceClient = (id: string) => {
    const [group = '', version = '', resource = ''] = id.split('/');
    return client.resourceIfServed(group, version, resource);
  };

  const getNode = (key: string): KubeObject | undefined => {
    const { resource, namespace, name } = parseNodeKey(key);
    return resourceClient(resource)?.get(namespace, name);
  };

  /** 'solid' (alive), 'dangling' (gone or replaced), 'waiting' (deleting its dependents first) */
  const ownerState = (dependent: KubeObject, owner: OwnerReference): 'solid' | 'dangling' | 'waiting' => {
    const { group, version } = splitApiVersion(owner.apiVersion);
    const def = ctx.registry.lookupKind(group, version, owner.kind);
    if (!def) return 'dangling';
    const live = client.forDefinition(def).get(def.namespaced ? dependent.metadata.namespace : undefined, owner.name);
    if (!live || live.metadata.uid !== owner.uid) return 'dangling';
    if (live.metadata.deletionTimestamp && hasFinalizer(live, FOREGROUND)) return 'waiting';
    return 'solid';
  };

  const removeOwnerReferences = (key: string, ownerUids: Set<string>) => {
    const { resource, namespace, name } = parseNodeKey(key);
    resourceClient(resource)?.mutate(namespace, name, (draft) => {
      const references = draft.metadata.ownerReferences ?? [];
      const kept = references.filter((reference) => !ownerUids.has(reference.uid));
      if (kept.length === references.length) return false;
      if (kept.length) draft.metadata.ownerReferences = kept;
      else delete draft.metadata.ownerReferences;
    });
  };

  const attemptToDelete = (key: string) => {
    const object = getNode(key);
    if (!object) return;
    if (object.metadata.deletionTimestamp && !hasFinalizer(object, FOREGROUND)) return;
    if (hasFinalizer(object, FOREGROUND)) {
      controller?.enqueue(`o|${key}`);
      return;
    }
    const owners = object.metadata.ownerReferences ?? [];
    if (owners.length === 0) return;
    const states = owners.map((owner) => ({ owner, state: ownerState(object, owner) }));
    const solid = states.filter((s) => s.state === 'solid');
    const notSolid = states.filter((s) => s.state !== 'solid');
    const { resource, namespace, name } = parseNodeKey(key);
    const target = resourceClient(resource);
    if (!target) return;
    if (solid.length) {
      if (notSolid.length) removeOwnerReferences(key, new Set(notSolid.map((s) => s.owner.uid)));
      return;
    }
    const waiting = states.some((s) => s.state === 'waiting');
    const hasDependents = (dependents.get(object.metadata.uid ?? '')?.size ?? 0) > 0;
    let policy: 'Orphan' | 'Foreground' | 'Background' = 'Background';
    if (waiting && hasDependents) policy = 'Foreground';
    else if (hasFinalizer(object, ORPHAN)) policy = 'Orphan';
    try {
      target.delete(namespace, name, { propagationPolicy: policy, preconditions: { uid: object.metadata.uid } });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  };

  const finalizeOwner = (key: string) => {
    const owner = getNode(key);
    if (!owner?.metadata.deletionTimestamp) return;
    const { resource, namespace, name } = parseNodeKey(key);
    const target = resourceClient(resource);
    if (!target) return;
    const uid = owner.metadata.uid ?? '';
    const removeFinalizer = (finalizer: string) =>
      target.mutate(namespace, name, (draft) => {
        const finalizers = draft.metadata.finalizers ?? [];
        if (!finalizers.includes(finalizer)) return false;
        const kept = finalizers.filter((f) => f !== finalizer);
        if (kept.length) draft.metadata.finalizers = kept;
        else delete draft.metadata.finalizers;
      });
    if (hasFinalizer(owner, ORPHAN)) {
      for (const dependent of [...(dependents.get(uid) ?? [])]) removeOwnerReferences(dependent, new Set([uid]));
      removeFinalizer(ORPHAN);
      return;
    }
    if (!hasFinalizer(owner, FOREGROUND)) return;
    const blocking = [...(dependents.get(uid) ?? [])].filter((dependent) => {
      const node = nodes.get(dependent);
      return node?.owners.some((reference) => reference.uid === uid && reference.blockOwnerDeletion === true);
    });
    if (blocking.length === 0) {
      removeFinalizer(FOREGROUND);
      return;
    }
    for (const dependent of blocking) {
      const live = getNode(dependent);
      if (live && !live.metadata.deletionTimestamp) controller?.enqueue(`d|${dependent}`);
    }
  };

  controller = startController(ctx.registry, {
    name: 'garbage-collector',
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError('garbage-collector', key, error),
    sources: [],
    reconcile(key) {
      const kind = key.slice(0, 2);
      const rest = key.slice(2);
      if (kind === 'd|') attemptToDelete(rest);
      else if (kind === 'o|') finalizeOwner(rest);
    },
  });
  monitor();
  const unsubscribe = ctx.registry.onResourcesChanged(monitor);
  const stop = controller.stop;
  return {
    ...controller,
    name: controller.name,
    enqueue: controller.enqueue,
    enqueueAfter: controller.enqueueAfter,
    idle: controller.idle,
    get isIdle() {
      return controller?.isIdle ?? true;
    },
    stop() {
      unsubscribe();
      for (const watch of monitors.values()) watch.stop();
      monitors.clear();
      stop();
    },
  };
}
