// kube-apiserver's autoregister controller and what metrics-server's manifest installs: an
// APIService for every group/version this server serves (Local, always Available) and, where the
// resource metrics API is served, v1beta1.metrics.k8s.io with metrics-server's Service, Available
// as its health checks pass, plus the ClusterRole that aggregates metrics reading into view, edit
// and admin. Built-in groups are registered on every start (automanaged: onstart); a CRD's group
// comes and goes with it (automanaged: true), as crdregistration does.
import { isDeepStrictEqual } from 'node:util';
import type { Registry, ResourceDefinition } from '../registry/index.ts';
import { StatusError, type KubeObject } from '../types.ts';
import { findObject } from './find.ts';
import { METRICS_API_SERVICE, METRICS_GROUP } from './metrics-api.ts';

const AUTOMANAGED = 'kube-aggregator.kubernetes.io/automanaged';

/** kube-apiserver's priorities (DefaultGenericAPIServicePriorities and the controlplane's additions): the order kubectl sees groups in. */
const priorities: Record<string, [group: number, version: number]> = {
  '/v1': [18000, 1],
  'apiregistration.k8s.io/v1': [18000, 15],
  'apps/v1': [17800, 15],
  'events.k8s.io/v1': [17750, 15],
  'authentication.k8s.io/v1': [17700, 15],
  'authorization.k8s.io/v1': [17600, 15],
  'autoscaling/v1': [17500, 15],
  'autoscaling/v2': [17500, 30],
  'batch/v1': [17400, 15],
  'certificates.k8s.io/v1': [17300, 15],
  'networking.k8s.io/v1': [17200, 15],
  'policy/v1': [17100, 15],
  'rbac.authorization.k8s.io/v1': [17000, 15],
  'storage.k8s.io/v1': [16800, 15],
  'apiextensions.k8s.io/v1': [16700, 15],
  'admissionregistration.k8s.io/v1': [16700, 15],
  'scheduling.k8s.io/v1': [16600, 15],
  'coordination.k8s.io/v1': [16500, 15],
  'node.k8s.io/v1': [16300, 15],
  'discovery.k8s.io/v1': [16200, 15],
  'flowcontrol.apiserver.k8s.io/v1': [16100, 21],
};

/** crdregistration: a CRD group's APIService. */
const CRD_GROUP_PRIORITY = 1000;
const CRD_VERSION_PRIORITY = 100;

function condition(now: Date, reason: string, message: string): unknown {
  return { type: 'Available', status: 'True', lastTransitionTime: now.toISOString().replace(/\.\d{3}Z$/, 'Z'), reason, message };
}

function localAPIService(def: Pick<ResourceDefinition, 'group' | 'version'>, custom: boolean): KubeObject {
  const [group, version] = priorities[`${def.group}/${def.version}`] ?? [CRD_GROUP_PRIORITY, CRD_VERSION_PRIORITY];
  return {
    apiVersion: 'apiregistration.k8s.io/v1',
    kind: 'APIService',
    metadata: { name: `${def.version}.${def.group}`, labels: { [AUTOMANAGED]: custom ? 'true' : 'onstart' } },
    spec: { ...(def.group ? { group: def.group } : {}), version: def.version, groupPriorityMinimum: group, versionPriority: version },
  };
}

/** What metrics-server's components.yaml registers. */
function metricsServerObjects(): Array<[string, string, KubeObject]> {
  const labels = { 'k8s-app': 'metrics-server' };
  return [
    [
      'rbac.authorization.k8s.io',
      'clusterroles',
      {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'ClusterRole',
        metadata: {
          name: 'system:aggregated-metrics-reader',
          labels: { ...labels, 'rbac.authorization.k8s.io/aggregate-to-admin': 'true', 'rbac.authorization.k8s.io/aggregate-to-edit': 'true', 'rbac.authorization.k8s.io/aggregate-to-view': 'true' },
        },
        rules: [{ apiGroups: [METRICS_GROUP], resources: ['pods', 'nodes'], verbs: ['get', 'list', 'watch'] }],
      },
    ],
    [
      'apiregistration.k8s.io',
      'apiservices',
      {
        apiVersion: 'apiregistration.k8s.io/v1',
        kind: 'APIService',
        metadata: { name: METRICS_API_SERVICE, labels },
        spec: { group: METRICS_GROUP, version: 'v1beta1', insecureSkipTLSVerify: true, groupPriorityMinimum: 100, versionPriority: 100, service: { name: 'metrics-server', namespace: 'kube-system', port: 443 } },
      },
    ],
  ];
}

function ignoreConflicts(action: () => void): void {
  try {
    action();
  } catch (error) {
    // Another writer got there first (or the object went): the next sync settles it.
    if (!(error instanceof StatusError && (error.code === 409 || error.code === 404))) throw error;
  }
}

/** Keeps the APIServices in step with what is served; returns what stops it. */
export function registerAPIServices(options: { registry: Registry; clock: () => Date; metricsServed: boolean }): () => void {
  const { registry, clock } = options;
  const def = registry.lookup('apiregistration.k8s.io', 'v1', 'apiservices');
  if (!def) return () => {};
  const ensure = (wanted: KubeObject, reason: string, message: string) => {
    const name = wanted.metadata.name ?? '';
    const live = findObject(registry, def, undefined, name);
    const current = live ?? registry.create(def, undefined, wanted);
    if (live && !isDeepStrictEqual(live['spec'], wanted['spec'])) ignoreConflicts(() => registry.update(def, undefined, name, { ...live, spec: wanted['spec'] }));
    const available = ((current['status'] as { conditions?: Array<{ type?: string; status?: string }> } | undefined)?.conditions ?? []).some((c) => c.type === 'Available' && c.status === 'True');
    if (!available) {
      ignoreConflicts(() => {
        const latest = registry.get(def, undefined, name);
        registry.update(def, undefined, name, { ...latest, status: { conditions: [condition(clock(), reason, message)] } }, { subresource: 'status' });
      });
    }
  };
  const sync = () => {
    const served = new Map<string, ResourceDefinition>();
    for (const resource of registry.resources()) served.set(`${resource.group}/${resource.version}`, resource);
    for (const resource of served.values()) ensure(localAPIService(resource, resource.crd !== undefined), 'Local', 'Local APIServices are always available');
    // A CRD group no longer served loses its APIService; built-in ones stay as they are.
    for (const apiService of registry.list(def, {}).items) {
      const spec = apiService['spec'] as { group?: string; version?: string } | undefined;
      if (apiService.metadata.labels?.[AUTOMANAGED] !== 'true' || served.has(`${spec?.group ?? ''}/${spec?.version ?? ''}`)) continue;
      ignoreConflicts(() => registry.delete(def, undefined, apiService.metadata.name ?? ''));
    }
  };
  sync();
  if (options.metricsServed) {
    for (const [group, resource, object] of metricsServerObjects()) {
      const target = registry.lookup(group, 'v1', resource);
      if (!target) continue;
      if (resource === 'apiservices') ensure(object, 'Passed', 'all checks passed');
      else if (!findObject(registry, target, undefined, object.metadata.name ?? '')) registry.create(target, undefined, object);
    }
  }
  // The aggregator's availability check of APIServices served elsewhere: metrics-server's answers
  // (while this cluster serves its metrics); any other Service is not there to be asked.
  let stopped = false;
  const checkAvailability = (name: string) => {
    if (stopped) return;
    const apiService = findObject(registry, def, undefined, name);
    if (!apiService) return;
    const service = (apiService['spec'] as { service?: { namespace?: string; name?: string } } | undefined)?.service;
    if (!service) return;
    const metricsServer = options.metricsServed && name === METRICS_API_SERVICE && service.namespace === 'kube-system' && service.name === 'metrics-server';
    const wanted = metricsServer
      ? { status: 'True', reason: 'Passed', message: 'all checks passed' }
      : { status: 'False', reason: 'ServiceNotFound', message: `service/${service.name ?? ''} in ${JSON.stringify(service.namespace ?? '')} is not present` };
    const conditions = ((apiService['status'] as { conditions?: Array<Record<string, unknown>> } | undefined)?.conditions ?? []).filter((c) => c['type'] === 'Available');
    if (conditions.some((c) => c['status'] === wanted.status && c['reason'] === wanted.reason)) return;
    ignoreConflicts(() => {
      registry.update(def, undefined, name, { ...apiService, status: { conditions: [{ type: 'Available', ...wanted, lastTransitionTime: clock().toISOString().replace(/\.\d{3}Z$/, 'Z') }] } }, { subresource: 'status' });
    });
  };
  const availability = registry.watch(def, {}, (event) => {
    if (event.type !== 'ADDED' && event.type !== 'MODIFIED') return;
    const name = event.object.metadata.name ?? '';
    // Never write from inside the registry's event delivery.
    setImmediate(() => checkAvailability(name));
  });
  let scheduled = false;
  const unsubscribe = registry.onResourcesChanged(() => {
    if (scheduled) return;
    scheduled = true;
    // Never write from inside the registry's own notification.
    setImmediate(() => {
      scheduled = false;
      if (!stopped) sync();
    });
  });
  return () => {
    stopped = true;
    unsubscribe();
    availability.stop();
  };
}
