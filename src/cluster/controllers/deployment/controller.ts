// The Deployment controller (pkg/controller/deployment/deployment_controller.go): its sources
// and its reconcile, which picks the strategy. One ReplicaSet per pod template, named
// "<deployment>-<pod-template-hash>", with revision annotations that `kubectl rollout history`
// and `undo` read; RollingUpdate within maxSurge/maxUnavailable, Recreate, proportional scaling,
// pause, progress deadlines, history cleanup, and the Available/Progressing conditions with
// upstream's reasons and messages.
import type { KubeObject } from '../../types.ts';
import type { ControllerContext } from '../context.ts';
import { isJson, num, obj, specOf, statusOf } from '../../json.ts';
import { controllerRef, podPhase, selectorOf } from '../objects.ts';
import { objectKey, type ReconcileResult, type RunningController, splitKey, startController } from '../runtime.ts';
import { rolloutRecreate } from './recreate.ts';
import { isRollingUpdate } from './replica-sets.ts';
import { rolloutRolling } from './rolling.ts';
import { DeploymentSync } from './sync.ts';

export function startDeploymentController(ctx: ControllerContext): RunningController {
  const client = ctx.clientFor('deployment-controller');
  const recorder = ctx.recorderFor('deployment-controller');

  const reconcile = (key: string): ReconcileResult | void => {
    const { namespace, name } = splitKey(key);
    const live = client.deployments.get(namespace, name);
    if (!live) return;
    const sync = new DeploymentSync(live, client, recorder, ctx.clock.now());
    const selector = specOf(live).selector;
    if (isJson(selector) && Object.keys(obj(selector.matchLabels)).length === 0 && !Array.isArray(selector.matchExpressions)) {
      recorder.event(live, 'Warning', 'SelectingAll', 'This deployment is selecting all pods. A non-empty selector is required.');
      if ((num(statusOf(live).observedGeneration) ?? 0) < (live.metadata.generation ?? 1)) {
        sync.status.observedGeneration = live.metadata.generation ?? 1;
        sync.flush();
      }
      return;
    }
    const rss = sync.replicaSetsOf();
    if (live.metadata.deletionTimestamp) {
      const oldRSs = sync.oldReplicaSets(rss);
      const newRS = sync.newReplicaSet(rss, oldRSs, false);
      sync.syncDeploymentStatus([...oldRSs, ...(newRS ? [newRS] : [])], newRS);
      return;
    }
    sync.checkPaused();
    if (specOf(sync.d).paused === true) {
      sync.sync(rss);
      return;
    }
    if (sync.isScalingEvent(rss)) {
      sync.sync(sync.replicaSetsOf());
      return;
    }
    const current = sync.replicaSetsOf();
    if (isRollingUpdate(sync.d)) rolloutRolling(sync, current);
    else rolloutRecreate(sync, current);
    return sync.requeueAfterMs !== undefined ? { requeueAfterMs: sync.requeueAfterMs } : undefined;
  };

  const deploymentsFor = (object: KubeObject): string[] => {
    const owner = controllerRef(object);
    if (owner) return owner.kind === 'Deployment' ? [`${object.metadata.namespace}/${owner.name}`] : [];
    return client.deployments
      .list(object.metadata.namespace)
      .filter((d) => selectorOf(specOf(d).selector).matches(object.metadata.labels))
      .map(objectKey);
  };

  return startController(ctx.registry, {
    name: 'deployment-controller',
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError('deployment-controller', key, error),
    sources: [
      { group: 'apps', version: 'v1', resource: 'deployments' },
      { group: 'apps', version: 'v1', resource: 'replicasets', keys: (rs) => deploymentsFor(rs) },
      {
        group: '',
        version: 'v1',
        resource: 'pods',
        // Recreate waits for the old pods to be gone; only their disappearance matters here.
        keys: (pod, type) => {
          if (type !== 'DELETED' && podPhase(pod) !== 'Failed' && podPhase(pod) !== 'Succeeded') return [];
          const owner = controllerRef(pod);
          if (!owner || owner.kind !== 'ReplicaSet') return [];
          const rs = client.replicaSets.get(pod.metadata.namespace, owner.name);
          const deployment = rs ? controllerRef(rs) : undefined;
          return deployment?.kind === 'Deployment' ? [`${pod.metadata.namespace}/${deployment.name}`] : [];
        },
      },
    ],
    reconcile,
  });
}
