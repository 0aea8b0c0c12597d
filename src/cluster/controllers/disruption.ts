// PodDisruptionBudgets: the disruption controller keeps each budget's status (expected, current
// and desired healthy pods, disruptions allowed), and the eviction policy
// (pkg/registry/core/pod/storage/eviction.go) refuses an eviction that would break a budget with
// 429 "Cannot evict pod as it would violate the pod's disruption budget.", spending one allowed
// disruption otherwise — which is what `kubectl drain` waits on.
import type { Registry, UserInfo } from '../registry/index.ts';
import { StatusError, type KubeObject } from '../types.ts';
import { ControllerClient, controllerUser, isConflict } from './client.ts';
import type { Clock } from './clock.ts';
import type { ControllerContext } from './context.ts';
import { type Json, num, obj, objects, specOf, statusOf } from '../json.ts';
import { type Condition, controllerRef, copy, isPodReady, podPhase, selectorOf, timestamp } from './objects.ts';
import { objectKey, type RunningController, splitKey, startController } from './runtime.ts';
import { scaledValue } from './deployment/index.ts';

/** How long an evicted pod counts as disrupted before the controller stops expecting its deletion. */
const DISRUPTED_POD_TIMEOUT_MS = 2 * 60 * 1000;

function matchingBudgets(client: ControllerClient, pod: KubeObject): KubeObject[] {
  return client.podDisruptionBudgets.list(pod.metadata.namespace).filter((pdb) => selectorOf(specOf(pdb).selector).matches(pod.metadata.labels));
}

/** The replicas of the workload that owns a pod (through its ReplicaSet's Deployment, if any). */
function controllerScale(client: ControllerClient, pod: KubeObject): { uid: string; replicas: number } | undefined {
  let ref = controllerRef(pod);
  if (!ref) return undefined;
  const namespace = pod.metadata.namespace;
  if (ref.kind === 'ReplicaSet') {
    const rs = client.replicaSets.get(namespace, ref.name);
    const deployment = rs ? controllerRef(rs) : undefined;
    if (deployment?.kind === 'Deployment') ref = deployment;
  }
  const resources: Record<string, () => KubeObject | undefined> = {
    Deployment: () => client.deployments.get(namespace, ref.name),
    ReplicaSet: () => client.replicaSets.get(namespace, ref.name),
    StatefulSet: () => client.statefulSets.get(namespace, ref.name),
  };
  const owner = resources[ref.kind]?.();
  if (!owner || owner.metadata.uid !== ref.uid) return undefined;
  return { uid: ref.uid, replicas: num(specOf(owner).replicas) ?? 1 };
}

function podHealthy(pod: KubeObject): boolean {
  return !pod.metadata.deletionTimestamp && isPodReady(pod);
}

export function startDisruptionController(ctx: ControllerContext): RunningController {
  const client = ctx.clientFor('disruption-controller');
  const recorder = ctx.recorderFor('controllermanager');

  const reconcile = (key: string) => {
    const { namespace, name } = splitKey(key);
    const pdb = client.podDisruptionBudgets.get(namespace, name);
    if (!pdb) return;
    const spec = specOf(pdb);
    const now = ctx.clock.now();
    const pods = client.pods.list(namespace).filter((pod) => selectorOf(spec.selector).matches(pod.metadata.labels) && podPhase(pod) !== 'Succeeded' && podPhase(pod) !== 'Failed');
    const previous = statusOf(pdb);
    // Evicted pods stay "disrupted" until they are gone (or two minutes passed).
    const disrupted: Record<string, string> = {};
    let nextExpiry: number | undefined;
    for (const [podName, at] of Object.entries(obj(previous.disruptedPods))) {
      const pod = pods.find((p) => p.metadata.name === podName);
      const since = Date.parse(String(at));
      if (!pod || pod.metadata.deletionTimestamp || Number.isNaN(since)) continue;
      const expires = since + DISRUPTED_POD_TIMEOUT_MS;
      if (expires <= now.getTime()) continue;
      disrupted[podName] = String(at);
      nextExpiry = nextExpiry === undefined ? expires : Math.min(nextExpiry, expires);
    }
    const currentHealthy = pods.filter((pod) => podHealthy(pod) && !disrupted[pod.metadata.name ?? '']).length;
    let expectedPods = pods.length;
    let desiredHealthy: number;
    const minAvailable = spec.minAvailable;
    const usesScale = spec.maxUnavailable !== undefined || (typeof minAvailable === 'string' && minAvailable.endsWith('%'));
    if (usesScale) {
      const owners = new Map<string, number>();
      let orphans = 0;
      for (const pod of pods) {
        const scale = controllerScale(client, pod);
        if (scale) owners.set(scale.uid, scale.replicas);
        else orphans++;
      }
      expectedPods = [...owners.values()].reduce((n, r) => n + r, 0) + orphans;
      if (orphans > 0) recorder.event(pdb, 'Warning', 'NoControllers', `found no controllers for pod "${pods.find((p) => !controllerScale(client, p))?.metadata.name}"`);
    }
    if (spec.maxUnavailable !== undefined) desiredHealthy = Math.max(0, expectedPods - scaledValue(spec.maxUnavailable, expectedPods, true));
    else if (typeof minAvailable === 'string') desiredHealthy = scaledValue(minAvailable, expectedPods, true);
    else desiredHealthy = num(minAvailable) ?? 0;
    const disruptionsAllowed = Math.max(0, currentHealthy - desiredHealthy);
    const stamp = timestamp(now);
    const oldCondition = objects(previous.conditions).find((c) => c.type === 'DisruptionAllowed') as Condition | undefined;
    const allowed = disruptionsAllowed > 0;
    const condition: Condition = {
      type: 'DisruptionAllowed',
      status: allowed ? 'True' : 'False',
      observedGeneration: pdb.metadata.generation ?? 1,
      reason: allowed ? 'SufficientPods' : 'InsufficientPods',
      message: '',
      lastTransitionTime: oldCondition && oldCondition.status === (allowed ? 'True' : 'False') ? (oldCondition.lastTransitionTime ?? stamp) : stamp,
    };
    const status: Json = {
      ...(Object.keys(disrupted).length ? { disruptedPods: disrupted } : {}),
      disruptionsAllowed,
      currentHealthy,
      desiredHealthy,
      expectedPods,
      conditions: [condition],
      observedGeneration: pdb.metadata.generation ?? 1,
    };
    if (JSON.stringify(status) !== JSON.stringify(previous)) {
      client.podDisruptionBudgets.mutate(namespace, name, (draft) => {
        draft.status = status;
      }, 'status');
    }
    if (nextExpiry !== undefined) return { requeueAfterMs: nextExpiry - now.getTime() };
  };

  return startController(ctx.registry, {
    name: 'disruption-controller',
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError('disruption-controller', key, error),
    sources: [
      { group: 'policy', version: 'v1', resource: 'poddisruptionbudgets' },
      { group: '', version: 'v1', resource: 'pods', keys: (pod) => matchingBudgets(client, pod).map(objectKey) },
    ],
    reconcile,
  });
}

export interface EvictionOptions {
  user?: UserInfo;
  dryRun?: boolean;
  gracePeriodSeconds?: number;
}

function tooManyRequests(pdb: KubeObject): StatusError {
  const status = statusOf(pdb);
  return new StatusError({
    code: 429,
    reason: 'TooManyRequests',
    message: "Cannot evict pod as it would violate the pod's disruption budget.",
    details: {
      causes: [{ reason: 'DisruptionBudget', message: `The disruption budget ${pdb.metadata.name} needs ${num(status.desiredHealthy) ?? 0} healthy pods and has ${num(status.currentHealthy) ?? 0} currently` }],
      retryAfterSeconds: 10,
    },
  });
}

/**
 * pods/eviction: deletes the pod unless a PodDisruptionBudget forbids it (429), spending one of
 * the budget's allowed disruptions. Pods that are already finished, pending or terminating are
 * deleted without asking any budget.
 */
export function evictPod(registry: Registry, clock: Clock, namespace: string, name: string, options: EvictionOptions = {}): void {
  const requester = new ControllerClient(registry, options.user ?? controllerUser('eviction'));
  const controller = new ControllerClient(registry, controllerUser('disruption-controller'));
  const pods = requester.pods;
  const pod = registry.get(pods.definition, namespace, name);
  const deleteOptions = { ...(options.dryRun ? { dryRun: true } : {}), ...(options.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: options.gracePeriodSeconds } : {}), ...(options.user ? { user: options.user } : {}) };
  const phase = podPhase(pod);
  const ignoreBudgets = pod.metadata.deletionTimestamp !== undefined || phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending';
  if (!ignoreBudgets) {
    const budgets = matchingBudgets(controller, pod);
    if (budgets.length > 1) {
      throw new StatusError({ code: 500, reason: 'InternalError', message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.' });
    }
    const pdb = budgets[0];
    if (pdb) {
      const status = statusOf(pdb);
      if ((num(status.observedGeneration) ?? 0) < (pdb.metadata.generation ?? 1)) throw tooManyRequests(pdb);
      const unhealthyPolicy = specOf(pdb).unhealthyPodEvictionPolicy;
      const healthy = isPodReady(pod);
      const budgetHealthy = (num(status.currentHealthy) ?? 0) >= (num(status.desiredHealthy) ?? 0) && (num(status.desiredHealthy) ?? 0) > 0;
      const spendsBudget = healthy || !(unhealthyPolicy === 'AlwaysAllow' || budgetHealthy);
      if (spendsBudget) {
        if ((num(status.disruptionsAllowed) ?? 0) <= 0) throw tooManyRequests(pdb);
        if (!options.dryRun) {
          try {
            controller.podDisruptionBudgets.mutate(namespace, pdb.metadata.name ?? '', (draft) => {
              const current = copy(statusOf(draft));
              const allowed = num(current.disruptionsAllowed) ?? 0;
              if (allowed <= 0) throw tooManyRequests(draft);
              current.disruptionsAllowed = allowed - 1;
              current.disruptedPods = { ...obj(current.disruptedPods), [name]: timestamp(clock.now()) };
              draft.status = current;
            }, 'status');
          } catch (error) {
            if (isConflict(error)) throw tooManyRequests(pdb);
            throw error;
          }
        }
      }
    }
  }
  registry.delete(pods.definition, namespace, name, deleteOptions);
}
