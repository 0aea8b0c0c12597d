// The DaemonSet controller (pkg/controller/daemon): one pod on every node whose labels and taints
// the template accepts (with the tolerations daemons always get, so cordoned nodes keep theirs);
// each pod is pinned to its node with required node affinity and then bound by the scheduler.
// RollingUpdate replaces up to maxUnavailable pods at a time; templates are ControllerRevisions.
import type { KubeObject } from '../types.ts';
import { claim } from './claim.ts';
import { type ControllerClient, errorMessage } from './client.ts';
import type { ControllerContext } from './context.ts';
import type { EventRecorder } from './events.ts';
import { REVISION_HASH_LABEL, syncRevisions, templateOf, truncateRevisions } from './history.ts';
import { type Json, num, obj, objects, specOf, statusOf } from '../json.ts';
import { controllerRef, copy, isPodAvailable, isPodReady, isPodTerminal, nodeNameOf, podFromTemplate, podPhase, selectorOf } from './objects.ts';
import { controllerOwnerKeys, objectKey, type ReconcileResult, RetryLater, type RunningController, splitKey, startController } from './runtime.ts';
import { podFitsNodeAffinity } from './scheduler.ts';
import { scaledValue } from './deployment/index.ts';
import { type Taint, tolerates } from './taints.ts';

const daemonTolerations: Json[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];

function withDaemonTolerations(spec: Json): Json[] {
  const tolerations = objects(spec.tolerations);
  const wanted = [...daemonTolerations];
  if (spec.hostNetwork === true) wanted.push({ key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' });
  for (const toleration of wanted) if (!tolerations.some((t) => t.key === toleration.key && t.effect === toleration.effect)) tolerations.push(toleration);
  return tolerations;
}

/** NodeShouldRunDaemonPod: node affinity/selector and NoSchedule/NoExecute taints. */
export function shouldRunOn(template: unknown, node: KubeObject): boolean {
  const spec = obj(obj(template).spec);
  const probe: KubeObject = { apiVersion: 'v1', kind: 'Pod', metadata: {}, spec };
  if (!podFitsNodeAffinity(probe, node)) return false;
  const tolerations = withDaemonTolerations(spec);
  const taints = objects(specOf(node).taints) as unknown as Taint[];
  return taints.every((taint) => (taint.effect !== 'NoSchedule' && taint.effect !== 'NoExecute') || tolerations.some((t) => tolerates(t, taint)));
}

function pinnedToNode(spec: Json, nodeName: string): Json {
  const affinity = copy(obj(spec.affinity));
  const nodeAffinity = obj(affinity.nodeAffinity);
  nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
    nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [nodeName] }] }],
  };
  affinity.nodeAffinity = nodeAffinity;
  return affinity;
}

/** The node a daemon pod was made for (from its pinned affinity), before or after binding. */
function targetNode(pod: KubeObject): string {
  const bound = nodeNameOf(pod);
  if (bound) return bound;
  const terms = objects(obj(obj(obj(specOf(pod).affinity).nodeAffinity).requiredDuringSchedulingIgnoredDuringExecution).nodeSelectorTerms);
  for (const term of terms) {
    for (const field of objects(term.matchFields)) {
      if (field.key === 'metadata.name' && Array.isArray(field.values) && typeof field.values[0] === 'string') return field.values[0];
    }
  }
  return '';
}

class DaemonSetSync {
  readonly ds: KubeObject;
  readonly client: ControllerClient;
  readonly recorder: EventRecorder;
  readonly now: Date;

  constructor(ds: KubeObject, client: ControllerClient, recorder: EventRecorder, now: Date) {
    this.ds = ds;
    this.client = client;
    this.recorder = recorder;
    this.now = now;
  }

  async createPod(nodeName: string, revision: KubeObject, hash: string): Promise<void> {
    const pod = podFromTemplate(templateOf(revision), this.ds, `${this.ds.metadata.name}-`);
    pod.metadata.labels = { ...(pod.metadata.labels ?? {}), 'controller-revision-hash': hash, 'pod-template-generation': String(this.ds.metadata.generation ?? 1) };
    const spec = obj(pod.spec);
    spec.affinity = pinnedToNode(spec, nodeName);
    spec.tolerations = withDaemonTolerations(spec);
    try {
      const created = await this.client.pods.createAdmitted(this.ds.metadata.namespace, pod);
      this.recorder.event(this.ds, 'Normal', 'SuccessfulCreate', `Created pod: ${created.metadata.name}`);
    } catch (error) {
      this.recorder.event(this.ds, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(error)}`);
      throw new RetryLater(errorMessage(error));
    }
  }

  deletePod(pod: KubeObject): void {
    const gone = this.client.pods.delete(pod.metadata.namespace, pod.metadata.name ?? '');
    if (gone) this.recorder.event(this.ds, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
  }

  async run(): Promise<void> {
    const ds = this.ds;
    const spec = specOf(ds);
    const namespace = ds.metadata.namespace;
    const revisions = syncRevisions(this.client, ds);
    const hash = revisions.update.metadata.labels?.[REVISION_HASH_LABEL] ?? '';
    const minReadySeconds = num(spec.minReadySeconds) ?? 0;
    const nodes = this.client.nodes.list();
    const pods = claim({ owner: ds, selector: selectorOf(spec.selector), candidates: this.client.pods.list(namespace), client: this.client.pods });
    const byNode = new Map<string, KubeObject[]>();
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp) continue;
      const node = targetNode(pod);
      byNode.set(node, [...(byNode.get(node) ?? []), pod]);
    }
    const wanted = nodes.filter((node) => shouldRunOn(spec.template, node));
    const wantedNames = new Set(wanted.map((node) => node.metadata.name ?? ''));

    if (!ds.metadata.deletionTimestamp) {
      for (const node of wanted) {
        const name = node.metadata.name ?? '';
        const here = byNode.get(name) ?? [];
        const failed = here.filter((pod) => podPhase(pod) === 'Failed');
        for (const pod of failed) {
          this.recorder.event(ds, 'Warning', 'FailedDaemonPod', `Found failed daemon pod ${namespace}/${pod.metadata.name} on node ${name}, will try to kill it`);
          this.deletePod(pod);
        }
        const alive = here.filter((pod) => !isPodTerminal(pod));
        if (alive.length === 0 && failed.length === 0) await this.createPod(name, revisions.update, hash);
        // More than one: keep the oldest.
        for (const extra of alive.slice(1)) this.deletePod(extra);
      }
      for (const [node, here] of byNode) if (!wantedNames.has(node)) for (const pod of here) this.deletePod(pod);

      if (obj(spec.updateStrategy).type !== 'OnDelete') {
        const maxUnavailable = Math.max(1, scaledValue(obj(obj(spec.updateStrategy).rollingUpdate).maxUnavailable ?? 1, wanted.length, true));
        const current = wanted.map((node) => (byNode.get(node.metadata.name ?? '') ?? []).find((pod) => !isPodTerminal(pod)));
        let unavailable = current.filter((pod) => !pod || !isPodAvailable(pod, minReadySeconds, this.now)).length;
        for (const pod of current) {
          if (!pod || pod.metadata.labels?.['controller-revision-hash'] === hash) continue;
          const podUnavailable = !isPodAvailable(pod, minReadySeconds, this.now);
          if (!podUnavailable && unavailable >= maxUnavailable) continue;
          this.deletePod(pod);
          if (!podUnavailable) unavailable++;
        }
      }
    }

    const live = this.client.pods.list(namespace).filter((pod) => controllerRef(pod)?.uid === ds.metadata.uid && !pod.metadata.deletionTimestamp && !isPodTerminal(pod));
    const onWanted = live.filter((pod) => wantedNames.has(targetNode(pod)) && nodeNameOf(pod) !== '');
    const scheduledNodes = new Set(onWanted.map(targetNode));
    const status: Json = { ...copy(statusOf(ds)) };
    status.currentNumberScheduled = scheduledNodes.size;
    status.desiredNumberScheduled = wanted.length;
    status.numberMisscheduled = live.filter((pod) => nodeNameOf(pod) !== '' && !wantedNames.has(targetNode(pod))).length;
    status.numberReady = onWanted.filter(isPodReady).length;
    status.observedGeneration = ds.metadata.generation ?? 1;
    status.updatedNumberScheduled = onWanted.filter((pod) => pod.metadata.labels?.['controller-revision-hash'] === hash).length;
    const available = onWanted.filter((pod) => isPodAvailable(pod, minReadySeconds, this.now)).length;
    status.numberAvailable = available;
    status.numberUnavailable = Math.max(0, wanted.length - available);
    for (const field of ['numberAvailable', 'numberUnavailable', 'updatedNumberScheduled'] as const) if (status[field] === 0) delete status[field];
    if (JSON.stringify(status) !== JSON.stringify(statusOf(ds))) {
      this.client.daemonSets.mutate(namespace, ds.metadata.name ?? '', (draft) => {
        draft.status = status;
      }, 'status');
    }
    const inUse = new Set<string>([hash, ...live.map((pod) => pod.metadata.labels?.['controller-revision-hash'] ?? '')]);
    truncateRevisions(this.client, revisions.all, inUse, num(spec.revisionHistoryLimit) ?? 10);
  }
}

export function startDaemonSetController(ctx: ControllerContext): RunningController {
  const client = ctx.clientFor('daemon-set-controller');
  const recorder = ctx.recorderFor('daemonset-controller');
  const ownerOfPod = controllerOwnerKeys('DaemonSet');
  let controller: RunningController | undefined;
  const all = () => {
    for (const ds of client.daemonSets.list()) controller?.enqueue(objectKey(ds));
  };
  const nodeSignatures = new Map<string, string>();
  controller = startController(ctx.registry, {
    name: 'daemonset-controller',
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError('daemonset-controller', key, error),
    sources: [
      { group: 'apps', version: 'v1', resource: 'daemonsets' },
      { group: '', version: 'v1', resource: 'pods', keys: (pod) => ownerOfPod(pod) },
      {
        group: '',
        version: 'v1',
        resource: 'nodes',
        keys: (node, type) => {
          const name = node.metadata.name ?? '';
          const signature = type === 'DELETED' ? '' : JSON.stringify([node.metadata.labels, obj(specOf(node)).taints ?? null]);
          if (nodeSignatures.get(name) !== signature) {
            nodeSignatures.set(name, signature);
            queueMicrotask(all);
          }
          return [];
        },
      },
    ],
    async reconcile(key): Promise<ReconcileResult | void> {
      const { namespace, name } = splitKey(key);
      const ds = client.daemonSets.get(namespace, name);
      if (!ds) return;
      await new DaemonSetSync(ds, client, recorder, ctx.clock.now()).run();
      const minReady = num(specOf(ds).minReadySeconds) ?? 0;
      if (minReady > 0) return { requeueAfterMs: minReady * 1000 };
    },
  });
  return controller;
}

