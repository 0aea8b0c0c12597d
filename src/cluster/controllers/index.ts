// Public face of the controllers: everything that makes stored objects come alive (workload
// controllers, the scheduler, Nodes and their heartbeats, garbage collection, namespaces), and the
// event recorder the kubelet shares. startCluster starts them; tests and benches may start them
// on a registry of their own.
import type { Registry } from '../registry/index.ts';
import { type Clock, realClock } from './clock.ts';
import { controllerContext } from './context.ts';
import { startDeploymentController } from './deployment/index.ts';
import { EventBroadcaster } from './events.ts';
import { startGarbageCollector } from './garbage-collector.ts';
import { startNamespaceController, startNamespaceDefaults } from './namespace.ts';
import { type NodeOptions, startNodeLifecycle } from './nodes.ts';
import { replicationControllerKind, startReplicaSetController } from './replicaset.ts';
import type { RunningController } from './runtime.ts';
import { startScheduler } from './scheduler.ts';
import { type JobOptions, startJobController, startTTLAfterFinishedController } from './job.ts';
import { startCronJobController } from './cronjob.ts';
import { startStatefulSetController } from './statefulset.ts';
import { startDaemonSetController } from './daemonset.ts';
import { startEndpointSliceController, startEndpointsController } from './endpoints.ts';
import { startPersistentVolumeController } from './persistentvolume.ts';
import { type PodMetricsSource, startHorizontalPodAutoscaler } from './hpa.ts';
import { type EvictionOptions, evictPod, startDisruptionController } from './disruption.ts';
import { startCertificateSigning } from './certificate-signing.ts';
import { startClusterRoleAggregation } from './clusterrole-aggregation.ts';
import { ControllerClient, type ControllerWebhooks, schedulerUser } from './client.ts';
import { type PodGCOptions, startPodGarbageCollector } from './podgc.ts';
import { startSystemComponents } from './system-components.ts';

export { ManualClock, realClock, type Clock } from './clock.ts';
export { EventBroadcaster, type EventRecorder, type EventSource, type EventOptions, type EventType } from './events.ts';
export { ControllerClient, ResourceClient, controllerUser, nodeUser, schedulerUser, type ControllerWebhooks } from './client.ts';
export { nodeNames, podCIDROf, type NodeOptions, type NodeCapacity } from './nodes.ts';
export { nodeResourcesForHost, POD_SANDBOX_FOOTPRINT_BYTES, type HostResources, type NodeResources } from './node-capacity.ts';
export type { JobOptions } from './job.ts';
export type { PodGCOptions } from './podgc.ts';
export type { PodMetricsSource, PodUsage } from './hpa.ts';
export type { EvictionOptions } from './disruption.ts';
export { startController, WorkQueue, RetryLater, objectKey, splitKey, controllerOwnerKeys, inform } from './runtime.ts';
export type { RunningController, ReconcileResult, ControllerSpec, WatchSource } from './runtime.ts';
export { computeHash, safeEncodeString } from './hash.ts';

export interface ControllersLogger {
  error(details: Record<string, unknown>, message: string): void;
}

export interface ControllersOptions {
  registry: Registry;
  /** PEM of the cluster CA, published as the kube-root-ca.crt ConfigMap in every namespace. */
  caPem: string;
  /** The CA's private key (PEM): with it approved CertificateSigningRequests get certificates. */
  caKeyPem?: string;
  /** Admission webhooks for the pods workload controllers create (the API server's, as on a cluster). */
  webhooks?: ControllerWebhooks;
  clock?: Clock;
  nodes?: NodeOptions;
  job?: JobOptions;
  podGC?: PodGCOptions;
  /** Pod CPU/memory usage for the HorizontalPodAutoscaler (the kubelet's figures); settable later. */
  metrics?: PodMetricsSource;
  log?: ControllersLogger;
}

export interface RunningControllers {
  /** The event broadcaster: `events.recorder({ component: 'kubelet', host: 'node-1' })`. */
  readonly events: EventBroadcaster;
  /** Names of the Nodes the cluster runs (node-1 …). */
  readonly nodeNames: string[];
  /** Where the HorizontalPodAutoscaler reads pod usage from (the kubelet sets it when it starts). */
  setPodMetrics(source: PodMetricsSource | undefined): void;
  /** pods/eviction with PodDisruptionBudgets honoured: throws a 429 StatusError when a budget forbids it. */
  evict(namespace: string, name: string, options?: EvictionOptions): void;
  stop(): void;
  /** Resolves once no controller has work queued and every event is written (tests, benches). */
  idle(): Promise<void>;
}

export function startControllers(options: ControllersOptions): RunningControllers {
  const clock = options.clock ?? realClock;
  const events = new EventBroadcaster(options.registry, clock);
  const reportError = (controller: string, key: string, error: unknown) => {
    options.log?.error({ controller, key, error: error instanceof Error ? error.message : String(error) }, 'reconcile failed; retrying with back-off');
  };
  const ctx = controllerContext(options.registry, clock, events, reportError, options.webhooks);
  const nodeCount = options.nodes?.count ?? 3;
  let metrics = options.metrics;
  const controllers: RunningController[] = [
    startNodeLifecycle(ctx, options.nodes),
    startNamespaceDefaults(ctx, options.caPem),
    startNamespaceController(ctx),
    startGarbageCollector(ctx),
    startPodGarbageCollector(ctx, options.podGC),
    // node-1, the first node, is the control-plane node.
    startSystemComponents(ctx, 'node-1'),
    startReplicaSetController(ctx),
    startReplicaSetController(ctx, replicationControllerKind),
    startDeploymentController(ctx),
    startJobController(ctx, options.job),
    startTTLAfterFinishedController(ctx),
    startCronJobController(ctx),
    startStatefulSetController(ctx),
    startDaemonSetController(ctx),
    startEndpointsController(ctx),
    startEndpointSliceController(ctx),
    startPersistentVolumeController(ctx),
    startHorizontalPodAutoscaler(ctx, () => metrics),
    startDisruptionController(ctx),
    startClusterRoleAggregation(ctx),
    ...(options.caKeyPem ? [startCertificateSigning(ctx, { caPem: options.caPem, caKeyPem: options.caKeyPem })] : []),
    startScheduler({ client: new ControllerClient(options.registry, schedulerUser), recorder: events.recorder({ component: 'default-scheduler' }), clock }),
  ];
  let stopped = false;
  return {
    events,
    nodeNames: Array.from({ length: nodeCount }, (_, i) => `node-${i + 1}`),
    setPodMetrics(source) {
      metrics = source;
    },
    evict(namespace, name, evictionOptions) {
      evictPod(options.registry, clock, namespace, name, evictionOptions);
    },
    stop() {
      if (stopped) return;
      stopped = true;
      for (const controller of controllers) controller.stop();
      events.stop();
    },
    async idle() {
      // Controllers feed each other (a Deployment's ReplicaSet, the ReplicaSet's pods, …): settle
      // until one full pass finds every queue empty.
      for (let round = 0; round < 100; round++) {
        await Promise.all(controllers.map((controller) => controller.idle()));
        await events.idle();
        await new Promise<void>((resolve) => setImmediate(resolve));
        if (controllers.every((controller) => controller.isIdle)) return;
      }
    },
  };
}
