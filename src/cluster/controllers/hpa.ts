// The HorizontalPodAutoscaler controller (pkg/controller/podautoscaler), autoscaling/v2: every
// 15 s it reads the target's scale subresource, the CPU/memory usage of the pods it selects (from
// the metrics source the kubelet provides), computes desired = ceil(current × usage/target)
// outside a 10 % tolerance — counting pods without metrics or not ready conservatively — applies
// the default behaviour (scale up by at most max(100 %, 4 pods) per 15 s, scale down to the
// highest recommendation of the last 5 minutes), clamps to min/max and writes the scale.
import { tryParseQuantity } from '../registry/index.ts';
import type { KubeObject } from '../types.ts';
import { type ControllerClient, errorMessage, isNotFound } from './client.ts';
import type { ControllerContext } from './context.ts';
import { type Json, num, obj, objects, specOf, statusOf, str } from '../json.ts';
import { type Condition, copy, isPodReady, podPhase, timestamp } from './objects.ts';
import { objectKey, type RunningController, splitKey, startController } from './runtime.ts';

export interface PodUsage {
  /** CPU in millicores */
  cpuMillis?: number;
  /** memory in bytes */
  memoryBytes?: number;
}

/** Where pod usage figures come from (the simulated kubelet provides one). */
export interface PodMetricsSource {
  podUsage(pod: KubeObject): PodUsage | undefined;
}

const SYNC_PERIOD_MS = 15_000;
const TOLERANCE = 0.1;
const DEFAULT_DOWN_WINDOW_S = 300;

interface Recommendation {
  at: number;
  replicas: number;
}

interface MetricResult {
  replicas: number;
  current: Json;
  description: string;
  above: boolean;
}

function resourceRequest(pod: KubeObject, resource: string): { total: number; missing?: string } {
  let total = 0;
  for (const container of objects(specOf(pod).containers)) {
    const request = tryParseQuantity(obj(obj(container.resources).requests)[resource]);
    if (!request) return { total, missing: str(container.name) };
    total += resource === 'cpu' ? request.milliValue() : request.value();
  }
  return { total };
}

function formatMilli(value: number, resource: string): string {
  if (resource === 'cpu') return `${Math.round(value)}m`;
  return String(Math.round(value));
}

class MetricError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

function computeResourceMetric(metric: Json, pods: KubeObject[], currentReplicas: number, metrics: PodMetricsSource | undefined): MetricResult {
  const resource = obj(metric.resource);
  const name = str(resource.name) ?? 'cpu';
  const target = obj(resource.target);
  const usageOf = (pod: KubeObject) => {
    const usage = metrics?.podUsage(pod);
    return name === 'cpu' ? usage?.cpuMillis : name === 'memory' ? usage?.memoryBytes : undefined;
  };
  const candidates = pods.filter((pod) => !pod.metadata.deletionTimestamp && podPhase(pod) !== 'Failed' && podPhase(pod) !== 'Succeeded');
  const ready: Array<{ pod: KubeObject; usage: number; request: number }> = [];
  const missing: KubeObject[] = [];
  const unready: KubeObject[] = [];
  for (const pod of candidates) {
    const usage = usageOf(pod);
    if (usage === undefined) {
      missing.push(pod);
      continue;
    }
    if (name === 'cpu' && !isPodReady(pod)) {
      unready.push(pod);
      continue;
    }
    const request = resourceRequest(pod, name);
    if (target.type === 'Utilization' && request.missing !== undefined)
      throw new MetricError('FailedGetResourceMetric', `failed to get ${name} utilization: missing request for ${name} in container ${request.missing} of Pod ${pod.metadata.name}`);
    ready.push({ pod, usage, request: request.total });
  }
  if (ready.length === 0)
    throw new MetricError('FailedGetResourceMetric', `failed to get ${name} utilization: unable to get metrics for resource ${name}: no metrics returned from resource metrics API`);
  const usageSum = ready.reduce((n, p) => n + p.usage, 0);
  const requestSum = ready.reduce((n, p) => n + p.request, 0);
  let ratio: number;
  let current: Json;
  let targetText: string;
  if (target.type === 'Utilization') {
    const wanted = num(target.averageUtilization) ?? 80;
    const utilization = requestSum > 0 ? (usageSum * 100) / requestSum : 0;
    ratio = utilization / wanted;
    current = { averageUtilization: Math.floor(utilization), averageValue: formatMilli(usageSum / ready.length, name) };
    targetText = `${name} resource utilization (percentage of request)`;
  } else {
    const wanted = tryParseQuantity(target.averageValue);
    const wantedValue = wanted ? (name === 'cpu' ? wanted.milliValue() : wanted.value()) : 1;
    ratio = usageSum / ready.length / wantedValue;
    current = { averageValue: formatMilli(usageSum / ready.length, name) };
    targetText = `${name} resource`;
  }
  const requestOf = (pod: KubeObject) => resourceRequest(pod, name).total;
  let count = ready.length;
  let adjustedUsage = usageSum;
  let adjustedRequest = requestSum;
  const scaleUp = ratio > 1;
  if (missing.length || (scaleUp && unready.length)) {
    // Missing pods count as 100 % of their request when scaling down, 0 % when scaling up;
    // unready pods as 0 % when scaling up.
    for (const pod of missing) {
      count++;
      adjustedRequest += requestOf(pod);
      if (!scaleUp) adjustedUsage += target.type === 'Utilization' ? requestOf(pod) : (usageSum / ready.length) / ratio;
    }
    if (scaleUp)
      for (const pod of unready) {
        count++;
        adjustedRequest += requestOf(pod);
      }
    const newRatio = target.type === 'Utilization' ? (adjustedRequest > 0 ? (adjustedUsage * 100) / adjustedRequest / (num(target.averageUtilization) ?? 80) : 0) : ratio * (ready.length / count);
    if (Math.abs(newRatio - 1) <= TOLERANCE || (ratio < 1 && newRatio > 1) || (ratio > 1 && newRatio < 1)) return { replicas: currentReplicas, current, description: targetText, above: ratio > 1 };
    return { replicas: Math.ceil(newRatio * count), current, description: targetText, above: ratio > 1 };
  }
  if (Math.abs(ratio - 1) <= TOLERANCE) return { replicas: currentReplicas, current, description: targetText, above: ratio > 1 };
  return { replicas: Math.ceil(ratio * ready.length), current, description: targetText, above: ratio > 1 };
}

function hpaCondition(type: string, status: Condition['status'], reason: string, message: string, now: string, previous: Json): Condition {
  const old = objects(previous.conditions).find((c) => c.type === type);
  return { type, status, lastTransitionTime: old && old.status === status ? (str(old.lastTransitionTime) ?? now) : now, reason, message };
}

function targetClient(client: ControllerClient, ref: Json) {
  const apiVersion = str(ref.apiVersion) ?? '';
  const slash = apiVersion.indexOf('/');
  const group = slash === -1 ? '' : apiVersion.slice(0, slash);
  const version = slash === -1 ? apiVersion : apiVersion.slice(slash + 1);
  const def = client.registry.lookupKind(group, version, str(ref.kind) ?? '');
  return def ? client.forDefinition(def) : undefined;
}

export function startHorizontalPodAutoscaler(ctx: ControllerContext, metricsSource: () => PodMetricsSource | undefined): RunningController {
  const client = ctx.clientFor('horizontal-pod-autoscaler');
  const recorder = ctx.recorderFor('horizontal-pod-autoscaler');
  const recommendations = new Map<string, Recommendation[]>();
  /** Where the current scale-up period started (replicas then), for the per-15 s rate limit. */
  const scaleUpPeriods = new Map<string, { at: number; from: number }>();

  const reconcile = (key: string) => {
    const { namespace, name } = splitKey(key);
    const hpa = client.horizontalPodAutoscalers.get(namespace, name);
    if (!hpa) {
      recommendations.delete(key);
      scaleUpPeriods.delete(key);
      return;
    }
    const now = ctx.clock.now();
    const stamp = timestamp(now);
    const spec = specOf(hpa);
    const previous = statusOf(hpa);
    const ref = obj(spec.scaleTargetRef);
    const minReplicas = num(spec.minReplicas) ?? 1;
    const maxReplicas = num(spec.maxReplicas) ?? minReplicas;
    const status: Json = { ...copy(previous), observedGeneration: hpa.metadata.generation ?? 1 };
    const conditions: Condition[] = [];
    const write = () => {
      status.conditions = conditions;
      if (JSON.stringify(status) === JSON.stringify(previous)) return;
      client.horizontalPodAutoscalers.mutate(namespace, name, (draft) => {
        draft.status = status;
      }, 'status');
    };
    const target = targetClient(client, ref);
    const kindName = `${str(ref.kind)?.toLowerCase() ?? ''}`;
    let scale: KubeObject | undefined;
    try {
      scale = target?.getScale(namespace, str(ref.name) ?? '');
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
    if (!target || !scale) {
      const message = `the HPA controller was unable to get the target's current scale: ${target ? `${target.definition.resource}${target.definition.group ? `.${target.definition.group}` : ''} "${str(ref.name)}" not found` : `no matches for kind "${str(ref.kind)}" in group "${str(ref.apiVersion)}"`}`;
      recorder.event(hpa, 'Warning', 'FailedGetScale', target ? `${kindName}s.${target.definition.group} "${str(ref.name)}" not found` : message);
      conditions.push(hpaCondition('AbleToScale', 'False', 'FailedGetScale', message, stamp, previous));
      write();
      return { requeueAfterMs: SYNC_PERIOD_MS };
    }
    const currentReplicas = num(specOf(scale).replicas) ?? 0;
    status.currentReplicas = currentReplicas;
    let desired = currentReplicas;
    let reason = '';
    let active: Condition;
    if (currentReplicas === 0 && minReplicas !== 0) {
      desired = 0;
      active = hpaCondition('ScalingActive', 'False', 'ScalingDisabled', 'scaling is disabled since the replica count of the target is zero', stamp, previous);
    } else if (currentReplicas > maxReplicas) {
      desired = maxReplicas;
      reason = 'Current number of replicas above Spec.MaxReplicas';
      active = hpaCondition('ScalingActive', 'True', 'ValidMetricFound', '', stamp, previous);
    } else if (currentReplicas < minReplicas) {
      desired = minReplicas;
      reason = 'Current number of replicas below Spec.MinReplicas';
      active = hpaCondition('ScalingActive', 'True', 'ValidMetricFound', '', stamp, previous);
    } else {
      const selector = str(statusOf(scale).selector);
      const pods = selector ? client.pods.list(namespace, { labelSelector: selector }) : [];
      const metricSpecs = objects(spec.metrics).length ? objects(spec.metrics) : [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
      const currentMetrics: Json[] = [];
      let best: MetricResult | undefined;
      let failure: MetricError | undefined;
      for (const metric of metricSpecs) {
        if (metric.type !== 'Resource' && metric.type !== 'ContainerResource') {
          failure ??= new MetricError(`FailedGet${str(metric.type) ?? ''}Metric`, `unable to get metric ${str(obj(obj(metric[String(metric.type).charAt(0).toLowerCase() + String(metric.type).slice(1)]).metric).name) ?? ''}: no custom metrics API (custom.metrics.k8s.io) registered`);
          continue;
        }
        try {
          const result = computeResourceMetric(metric.type === 'Resource' ? metric : { resource: metric.containerResource }, pods, currentReplicas, metricsSource());
          currentMetrics.push({ type: 'Resource', resource: { name: str(obj(metric.resource).name) ?? 'cpu', current: result.current } });
          if (!best || result.replicas > best.replicas) best = result;
        } catch (error) {
          if (!(error instanceof MetricError)) throw error;
          failure ??= error;
        }
      }
      if (currentMetrics.length) status.currentMetrics = currentMetrics;
      else delete status.currentMetrics;
      if (!best) {
        const err = failure ?? new MetricError('FailedGetResourceMetric', 'no metrics');
        recorder.event(hpa, 'Warning', err.reason, err.message);
        recorder.event(hpa, 'Warning', 'FailedComputeMetricsReplicas', `invalid metrics (${metricSpecs.length} invalid out of ${metricSpecs.length}), first error is: ${err.message}`);
        conditions.push(hpaCondition('AbleToScale', 'True', 'SucceededGetScale', 'the HPA controller was able to get the target\'s current scale', stamp, previous));
        conditions.push(hpaCondition('ScalingActive', 'False', err.reason, `the HPA was unable to compute the replica count: ${err.message}`, stamp, previous));
        write();
        return { requeueAfterMs: SYNC_PERIOD_MS };
      }
      desired = best.replicas;
      reason = best.above ? `${best.description} above target` : 'All metrics below target';
      active = hpaCondition('ScalingActive', 'True', 'ValidMetricFound', `the HPA was able to successfully calculate a replica count from ${best.description}`, stamp, previous);
    }

    // Behaviour: stabilise scale-down over the window, rate-limit scale-up.
    const behavior = obj(spec.behavior);
    const downWindow = num(obj(behavior.scaleDown).stabilizationWindowSeconds) ?? DEFAULT_DOWN_WINDOW_S;
    const upWindow = num(obj(behavior.scaleUp).stabilizationWindowSeconds) ?? 0;
    const history = (recommendations.get(key) ?? []).filter((r) => now.getTime() - r.at <= Math.max(downWindow, upWindow) * 1000);
    history.push({ at: now.getTime(), replicas: desired });
    recommendations.set(key, history);
    let stabilized = desired;
    let ableReason = 'ReadyForNewScale';
    let ableMessage = 'recommended size matches current size';
    if (desired < currentReplicas) {
      const recent = history.filter((r) => now.getTime() - r.at <= downWindow * 1000).map((r) => r.replicas);
      stabilized = Math.min(currentReplicas, Math.max(...recent));
      if (stabilized !== desired) {
        ableReason = 'ScaleDownStabilized';
        ableMessage = 'recent recommendations were higher than current one, applying the highest recent recommendation';
      }
    } else if (desired > currentReplicas && upWindow > 0) {
      const recent = history.filter((r) => now.getTime() - r.at <= upWindow * 1000).map((r) => r.replicas);
      stabilized = Math.max(currentReplicas, Math.min(...recent));
    }
    let limited: Condition = hpaCondition('ScalingLimited', 'False', 'DesiredWithinRange', 'the desired count is within the acceptable range', stamp, previous);
    if (stabilized > currentReplicas) {
      let period = scaleUpPeriods.get(key);
      if (!period || now.getTime() - period.at >= SYNC_PERIOD_MS) scaleUpPeriods.set(key, (period = { at: now.getTime(), from: currentReplicas }));
      const rateLimit = Math.max(period.from * 2, period.from + 4);
      if (stabilized > rateLimit) {
        stabilized = rateLimit;
        limited = hpaCondition('ScalingLimited', 'True', 'ScaleUpLimit', 'the desired replica count is increasing faster than the maximum scale rate', stamp, previous);
      }
    }
    if (stabilized > maxReplicas) {
      stabilized = maxReplicas;
      limited = hpaCondition('ScalingLimited', 'True', 'TooManyReplicas', 'the desired replica count is more than the maximum replica count', stamp, previous);
    } else if (stabilized < minReplicas) {
      stabilized = minReplicas;
      limited = hpaCondition('ScalingLimited', 'True', 'TooFewReplicas', 'the desired replica count is less than the minimum replica count', stamp, previous);
    }
    if (currentReplicas === 0 && minReplicas !== 0) stabilized = 0;

    if (stabilized !== currentReplicas) {
      try {
        target.updateScale(namespace, str(ref.name) ?? '', { ...scale, spec: { replicas: stabilized } });
      } catch (error) {
        const message = `the HPA controller was unable to update the target scale: ${errorMessage(error)}`;
        recorder.event(hpa, 'Warning', 'FailedRescale', `New size: ${stabilized}; reason: ${reason}; error: ${errorMessage(error)}`);
        conditions.push(hpaCondition('AbleToScale', 'False', 'FailedUpdateScale', message, stamp, previous));
        conditions.push(active);
        write();
        return { requeueAfterMs: SYNC_PERIOD_MS };
      }
      recorder.event(hpa, 'Normal', 'SuccessfulRescale', `New size: ${stabilized}; reason: ${reason}`);
      status.lastScaleTime = stamp;
      ableReason = 'SucceededRescale';
      ableMessage = `the HPA controller was able to update the target scale to ${stabilized}`;
    }
    status.desiredReplicas = stabilized;
    conditions.push(hpaCondition('AbleToScale', 'True', ableReason, ableMessage, stamp, previous), active);
    if (active.status === 'True') conditions.push(limited);
    write();
    return { requeueAfterMs: SYNC_PERIOD_MS };
  };

  return startController(ctx.registry, {
    name: 'horizontal-pod-autoscaler',
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError('horizontal-pod-autoscaler', key, error),
    sources: [{ group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers' }],
    reconcile,
  });
}
