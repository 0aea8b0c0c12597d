// ClusterRole aggregation: a ClusterRole with an aggregationRule holds the union of the rules of
// every ClusterRole its selectors match, in name order without duplicates, as the
// clusterrole-aggregation controller writes them. Aggregated roles that feed others (edit into
// admin, view into edit) contribute their own aggregated rules.
import type { KubeObject } from '../../../types.ts';
import { roleSchema, type LabelSelector, type PolicyRule, type Role } from './types.ts';

function requirementMatches(labels: Record<string, string>, key: string, operator: string, values: string[]): boolean {
  const has = Object.hasOwn(labels, key);
  switch (operator) {
    case 'In':
      return has && values.includes(labels[key] ?? '');
    case 'NotIn':
      return !has || !values.includes(labels[key] ?? '');
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    default:
      return false;
  }
}

/** metav1.LabelSelectorAsSelector(selector).Matches(labels); an empty selector matches everything. */
export function labelSelectorMatches(selector: LabelSelector, labels: Record<string, string> = {}): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  return (selector.matchExpressions ?? []).every((e) => requirementMatches(labels, e.key, e.operator, e.values ?? []));
}

/** Rules compare as Kubernetes' semantic equality does: an empty list equals an absent one. */
function ruleKey(rule: PolicyRule): string {
  const list = (values: string[] | undefined): string[] | undefined => (values && values.length > 0 ? values : undefined);
  return JSON.stringify([list(rule.verbs), list(rule.apiGroups), list(rule.resources), list(rule.resourceNames), list(rule.nonResourceURLs)]);
}

export function isAggregated(role: Role): boolean {
  return role.aggregationRule !== undefined && role.aggregationRule !== null;
}

/**
 * The rules a ClusterRole grants: its own, or for an aggregated one the union over the roles its
 * selectors match. `clusterRoles` is every ClusterRole in the cluster.
 */
export function effectiveRules(role: Role, clusterRoles: Role[], visiting: Set<string> = new Set()): PolicyRule[] {
  if (!isAggregated(role)) return role.rules ?? [];
  const name = role.metadata.name;
  if (visiting.has(name)) return role.rules ?? [];
  visiting.add(name);
  const selectors = role.aggregationRule?.clusterRoleSelectors ?? [];
  const matched = new Map<string, Role>();
  for (const selector of selectors) {
    for (const candidate of clusterRoles) {
      if (candidate.metadata.name === name || matched.has(candidate.metadata.name)) continue;
      if (labelSelectorMatches(selector, candidate.metadata.labels)) matched.set(candidate.metadata.name, candidate);
    }
  }
  const rules: PolicyRule[] = [];
  const seen = new Set<string>();
  for (const matchedName of [...matched.keys()].sort()) {
    const source = matched.get(matchedName);
    if (!source) continue;
    for (const rule of effectiveRules(source, clusterRoles, visiting)) {
      const key = ruleKey(rule);
      if (seen.has(key)) continue;
      seen.add(key);
      rules.push(rule);
    }
  }
  visiting.delete(name);
  return rules;
}

/**
 * The rules the aggregation controller writes into an aggregated ClusterRole (its own rules when
 * it has no aggregationRule). Objects that are not valid ClusterRoles are ignored.
 */
export function aggregatedClusterRoleRules(clusterRole: KubeObject, clusterRoles: KubeObject[]): PolicyRule[] {
  const all: Role[] = [];
  for (const object of clusterRoles) {
    const parsed = roleSchema.safeParse(object);
    if (parsed.success) all.push(parsed.data);
  }
  const role = roleSchema.safeParse(clusterRole);
  return role.success ? effectiveRules(role.data, all) : [];
}
