// HorizontalPodAutoscalers: stored as autoscaling/v2 and also served as autoscaling/v1 (what
// `kubectl autoscale` uses), with the cpu target converted between the two.
import type { KubeObject } from '../../../types.ts';
import { asArray, asObject, type Json, objects } from '../../../json.ts';
import { clone, ensureObject, setDefault } from '../../fields.ts';
import { defineResource, type ResourceStrategy, subresource } from '../../strategy.ts';
import { type FieldError, fieldError } from '../../validation.ts';

const metricTypes = ['ContainerResource', 'External', 'Object', 'Pods', 'Resource'];

function cpuUtilization(metrics: unknown, field: 'target' | 'current'): number | undefined {
  for (const metric of objects(metrics)) {
    const resource = asObject(metric.resource);
    if (metric.type !== 'Resource' || resource?.name !== 'cpu') continue;
    const value = asObject(resource[field])?.averageUtilization;
    if (typeof value === 'number') return value;
  }
  return undefined;
}

function toV1(hpa: KubeObject): KubeObject {
  const spec = asObject(hpa.spec) ?? {};
  const status = asObject(hpa.status);
  const v1Spec: Json = { scaleTargetRef: spec.scaleTargetRef, minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas };
  const target = cpuUtilization(spec.metrics, 'target');
  if (target !== undefined) v1Spec.targetCPUUtilizationPercentage = target;
  const out: KubeObject = { ...hpa, apiVersion: 'autoscaling/v1', spec: v1Spec };
  if (status) {
    const v1Status: Json = {
      observedGeneration: status.observedGeneration,
      lastScaleTime: status.lastScaleTime,
      currentReplicas: status.currentReplicas ?? 0,
      desiredReplicas: status.desiredReplicas ?? 0,
    };
    const current = cpuUtilization(status.currentMetrics, 'current');
    if (current !== undefined) v1Status.currentCPUUtilizationPercentage = current;
    out.status = JSON.parse(JSON.stringify(v1Status)) as Json;
  }
  return out;
}

function toV2(hpa: KubeObject): KubeObject {
  const spec = asObject(hpa.spec) ?? {};
  const v2Spec: Json = { scaleTargetRef: spec.scaleTargetRef, minReplicas: spec.minReplicas, maxReplicas: spec.maxReplicas };
  if (typeof spec.targetCPUUtilizationPercentage === 'number')
    v2Spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage } } }];
  const out: KubeObject = { ...clone(hpa), apiVersion: 'autoscaling/v2', spec: JSON.parse(JSON.stringify(v2Spec)) as Json };
  const status = asObject(hpa.status);
  if (status) {
    const v2Status: Json = { ...status };
    if (typeof status.currentCPUUtilizationPercentage === 'number')
      v2Status.currentMetrics = [{ type: 'Resource', resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } } }];
    delete v2Status.currentCPUUtilizationPercentage;
    out.status = v2Status;
  }
  return out;
}

function validateHPA(hpa: KubeObject): FieldError[] {
  const spec = asObject(hpa.spec);
  if (!spec) return [fieldError.required('spec')];
  const errs: FieldError[] = [];
  const ref = asObject(spec.scaleTargetRef) ?? {};
  if (typeof ref.kind !== 'string' || ref.kind === '') errs.push(fieldError.required('spec.scaleTargetRef.kind'));
  if (typeof ref.name !== 'string' || ref.name === '') errs.push(fieldError.required('spec.scaleTargetRef.name'));
  const min = spec.minReplicas;
  const max = spec.maxReplicas;
  if (typeof max !== 'number' || max < 1) errs.push(fieldError.invalid('spec.maxReplicas', max ?? 0, 'must be greater than 0'));
  if (typeof min === 'number' && min < 1) errs.push(fieldError.invalid('spec.minReplicas', min, 'must be greater than or equal to 1'));
  if (typeof min === 'number' && typeof max === 'number' && min > max) errs.push(fieldError.invalid('spec.minReplicas', min, 'must be less than or equal to maxReplicas'));
  asArray(spec.metrics).forEach((raw, i) => {
    const metric = asObject(raw) ?? {};
    if (!metricTypes.includes(String(metric.type))) errs.push(fieldError.notSupported(`spec.metrics[${i}].type`, metric.type ?? '', metricTypes));
    const utilization = asObject(asObject(metric.resource)?.target)?.averageUtilization;
    if (utilization !== undefined && (typeof utilization !== 'number' || utilization <= 0))
      errs.push(fieldError.invalid(`spec.metrics[${i}].resource.target.averageUtilization`, utilization, 'must be greater than 0'));
  });
  return errs;
}

export const horizontalpodautoscalers: ResourceStrategy = {
  definition: defineResource({
    group: 'autoscaling',
    version: 'v2',
    resource: 'horizontalpodautoscalers',
    kind: 'HorizontalPodAutoscaler',
    namespaced: true,
    shortNames: ['hpa'],
    categories: ['all'],
    subresources: [subresource.status('autoscaling', 'v2', 'HorizontalPodAutoscaler')],
  }),
  alternateVersions: [{ version: 'v1', fromStorage: toV1, toStorage: toV2 }],
  tracksGeneration: true,
  statusZeroValues: { desiredReplicas: 0 },
  defaults(hpa) {
    const spec = asObject(hpa.spec);
    if (!spec) return;
    setDefault(spec, 'minReplicas', 1);
    if (asArray(spec.metrics).length === 0)
      spec.metrics = [{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 80 } } }];
    const behavior = ensureObject(spec, 'behavior');
    const up = ensureObject(behavior, 'scaleUp');
    setDefault(up, 'stabilizationWindowSeconds', 0);
    setDefault(up, 'selectPolicy', 'Max');
    setDefault(up, 'policies', [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ]);
    const down = ensureObject(behavior, 'scaleDown');
    setDefault(down, 'selectPolicy', 'Max');
    setDefault(down, 'policies', [{ type: 'Percent', value: 100, periodSeconds: 15 }]);
  },
  validate: validateHPA,
  validateUpdate: (hpa) => validateHPA(hpa),
};
