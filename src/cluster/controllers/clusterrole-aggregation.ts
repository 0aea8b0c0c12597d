// The clusterrole-aggregation controller: a ClusterRole with an aggregationRule gets, as its
// rules, the rules of every ClusterRole its selectors match (in name order, without repeats), so
// `kubectl describe clusterrole view` shows what aggregation gave it.
import type { KubeObject } from '../types.ts';
import type { ControllerContext } from './context.ts';
import { canonicalJson } from './hash.ts';
import { isJson, obj, objects } from '../json.ts';
import { selectorOf } from './objects.ts';
import { objectKey, type RunningController, startController } from './runtime.ts';

function aggregating(role: KubeObject): boolean {
  return isJson(role['aggregationRule']);
}

export function startClusterRoleAggregation(ctx: ControllerContext): RunningController {
  const client = ctx.clientFor('clusterrole-aggregation-controller');
  const roles = () => client.resource('rbac.authorization.k8s.io', 'v1', 'clusterroles');
  let controller: RunningController | undefined;
  const all = () => {
    for (const role of roles().list()) if (aggregating(role)) controller?.enqueue(objectKey(role));
  };
  controller = startController(ctx.registry, {
    name: 'clusterrole-aggregation-controller',
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError('clusterrole-aggregation-controller', key, error),
    sources: [
      {
        group: 'rbac.authorization.k8s.io',
        version: 'v1',
        resource: 'clusterroles',
        keys: () => {
          queueMicrotask(all);
          return [];
        },
      },
    ],
    reconcile(name) {
      const role = roles().get(undefined, name);
      if (!role || !aggregating(role)) return;
      const selectors = objects(obj(role['aggregationRule']).clusterRoleSelectors).map(selectorOf);
      const sources = roles()
        .list()
        .filter((other) => other.metadata.name !== name && selectors.some((selector) => selector.matches(other.metadata.labels)))
        .sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
      const seen = new Set<string>();
      const rules: unknown[] = [];
      for (const source of sources) {
        for (const rule of Array.isArray(source['rules']) ? source['rules'] : []) {
          const key = canonicalJson(rule);
          if (seen.has(key)) continue;
          seen.add(key);
          rules.push(rule);
        }
      }
      if (canonicalJson(role['rules'] ?? []) === canonicalJson(rules)) return;
      roles().mutate(undefined, name, (draft) => {
        draft['rules'] = rules;
      });
    },
  });
  return controller;
}
