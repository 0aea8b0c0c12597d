// The pod garbage collector (pkg/controller/podgc): pods bound to a Node that no longer exists
// are orphans: marked Failed with a DisruptionTarget condition (reason DeletionByPodGC) and
// deleted at once, whether they were running or already terminating (no kubelet will ever confirm
// their end). A pod that is terminating but was never scheduled goes at once too. As upstream, a
// Node must stay missing for a quarantine (40 s) before its pods go: a kubelet that re-registers
// its Node meanwhile keeps them.
import type { KubeObject } from '../types.ts';
import type { ControllerContext } from './context.ts';
import { statusOf } from '../json.ts';
import { copy, isPodTerminal, nodeNameOf, setCondition, timestamp } from './objects.ts';
import { type RunningController, splitKey, startController } from './runtime.ts';

export interface PodGCOptions {
  /** How long a Node must be missing before its pods are deleted (upstream's quarantineTime, 40 s). */
  quarantineMs?: number;
}

const NODE_KEY = 'node/';
const UNSCHEDULED_KEY = 'unscheduled/';

export function startPodGarbageCollector(ctx: ControllerContext, options: PodGCOptions = {}): RunningController {
  const client = ctx.clientFor('pod-garbage-collector');
  const quarantineMs = options.quarantineMs ?? 40_000;
  // Upstream's nodeQueue: when each missing Node was first seen missing.
  const missingSince = new Map<string, number>();

  const podKeys = (pod: KubeObject): string[] => {
    const node = nodeNameOf(pod);
    if (node === '') return pod.metadata.deletionTimestamp ? [`${UNSCHEDULED_KEY}${pod.metadata.namespace}/${pod.metadata.name}`] : [];
    return client.nodes.get(undefined, node) ? [] : [`${NODE_KEY}${node}`];
  };

  /** markFailedAndDeletePodWithCondition: a terminal phase first (so owners count the pod), then a delete with grace 0. */
  const deleteOrphan = (pod: KubeObject) => {
    const namespace = pod.metadata.namespace;
    const name = pod.metadata.name ?? '';
    if (!isPodTerminal(pod)) {
      client.pods.mutate(namespace, name, (draft) => {
        if (draft.metadata.uid !== pod.metadata.uid || isPodTerminal(draft)) return false;
        const status = copy(statusOf(draft));
        status.phase = 'Failed';
        const now = timestamp(ctx.clock.now());
        setCondition(status, { type: 'DisruptionTarget', status: 'True', lastProbeTime: null, lastTransitionTime: now, reason: 'DeletionByPodGC', message: 'PodGC: node no longer exists' });
        draft.status = status;
      }, 'status');
    }
    client.pods.delete(namespace, name, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
  };

  const collectNode = (node: string): number | undefined => {
    if (client.nodes.get(undefined, node)) {
      missingSince.delete(node);
      return undefined;
    }
    const now = ctx.clock.now().getTime();
    const since = missingSince.get(node) ?? now;
    missingSince.set(node, since);
    if (now - since < quarantineMs) return since + quarantineMs - now;
    for (const pod of client.pods.list()) if (nodeNameOf(pod) === node) deleteOrphan(pod);
    missingSince.delete(node);
    return undefined;
  };

  return startController(ctx.registry, {
    name: 'pod-garbage-collector',
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError('pod-garbage-collector', key, error),
    sources: [
      { group: '', version: 'v1', resource: 'pods', keys: (pod, type) => (type === 'DELETED' ? [] : podKeys(pod)) },
      { group: '', version: 'v1', resource: 'nodes', keys: (node, type) => (type === 'DELETED' ? [`${NODE_KEY}${node.metadata.name}`] : []) },
    ],
    reconcile(key) {
      if (key.startsWith(NODE_KEY)) {
        const wait = collectNode(key.slice(NODE_KEY.length));
        return wait === undefined ? undefined : { requeueAfterMs: wait };
      }
      const { namespace, name } = splitKey(key.slice(UNSCHEDULED_KEY.length));
      const pod = client.pods.get(namespace, name);
      if (pod?.metadata.deletionTimestamp && nodeNameOf(pod) === '') client.pods.delete(namespace, name, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid } });
    },
  });
}
