// How kube-apiserver's rbac/bootstrap-roles post-start hook brings the default policy back on
// every start (pkg/registry/rbac/reconciliation, RemoveExtraPermissions/RemoveExtraSubjects off):
// what a default role or binding is missing is added, and what a cluster added is kept. So the
// rules the aggregation controller gathered into admin/edit/view from other ClusterRoles stay,
// and a restart writes nothing when nothing is missing. A role or binding annotated
// `rbac.authorization.kubernetes.io/autoupdate: "false"` is left alone.
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../../types.ts';
import { uncoveredRules } from './escalation.ts';
import { labelSelectorSchema, policyRuleSchema, subjectSchema, type LabelSelector, type PolicyRule, type Subject } from './types.ts';

const autoupdateAnnotation = 'rbac.authorization.kubernetes.io/autoupdate';

/** What to write to bring `live` in line with the default `wanted`. */
export type Reconciliation = { operation: 'none' } | { operation: 'update'; object: KubeObject } | { operation: 'recreate'; object: KubeObject };

function parsedList<T>(value: unknown, parse: (item: unknown) => { success: true; data: T } | { success: false }): T[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((item) => {
    const parsed = parse(item);
    return parsed.success ? [parsed.data] : [];
  });
}

const rulesOf = (object: KubeObject): PolicyRule[] => parsedList(object['rules'], (item) => policyRuleSchema.safeParse(item));
const selectorsOf = (object: KubeObject): LabelSelector[] => parsedList((object['aggregationRule'] as { clusterRoleSelectors?: unknown } | null | undefined)?.clusterRoleSelectors, (item) => labelSelectorSchema.safeParse(item));
const subjectsOf = (object: KubeObject): Subject[] => parsedList(object['subjects'], (item) => subjectSchema.safeParse(item));

/** The live object with the default labels and annotations merged in (the live values win). */
function withDefaultMetadata(live: KubeObject, wanted: KubeObject): KubeObject {
  const labels = { ...wanted.metadata.labels, ...live.metadata.labels };
  const annotations = { ...wanted.metadata.annotations, ...live.metadata.annotations };
  return {
    ...live,
    metadata: { ...live.metadata, ...(Object.keys(labels).length > 0 ? { labels } : {}), ...(Object.keys(annotations).length > 0 ? { annotations } : {}) },
  };
}

function protectedFromUpdates(live: KubeObject): boolean {
  return live.metadata.annotations?.[autoupdateAnnotation] === 'false';
}

/** computeReconciledRole in the union case: missing labels, annotations, rules and aggregation selectors are added. */
export function reconcileClusterRole(live: KubeObject, wanted: KubeObject): Reconciliation {
  if (protectedFromUpdates(live)) return { operation: 'none' };
  const next = withDefaultMetadata(live, wanted);
  let changed = !isDeepStrictEqual(next.metadata, live.metadata);
  const missingRules = uncoveredRules(rulesOf(live), rulesOf(wanted));
  if (missingRules.length > 0) {
    next['rules'] = [...(Array.isArray(live['rules']) ? live['rules'] : []), ...missingRules];
    changed = true;
  }
  const liveSelectors = selectorsOf(live);
  const missingSelectors = selectorsOf(wanted).filter((selector) => !liveSelectors.some((existing) => isDeepStrictEqual(existing, selector)));
  if (missingSelectors.length > 0) {
    next['aggregationRule'] = { ...(live['aggregationRule'] as object | null | undefined), clusterRoleSelectors: [...liveSelectors, ...missingSelectors] };
    changed = true;
  }
  return changed ? { operation: 'update', object: next } : { operation: 'none' };
}

/**
 * computeReconciledRoleBinding in the union case: missing subjects are added; a binding to
 * another role is deleted and made again (roleRef cannot change).
 */
export function reconcileClusterRoleBinding(live: KubeObject, wanted: KubeObject): Reconciliation {
  if (protectedFromUpdates(live)) return { operation: 'none' };
  const next = withDefaultMetadata(live, wanted);
  const recreate = !isDeepStrictEqual(live['roleRef'], wanted['roleRef']);
  if (recreate) next['roleRef'] = wanted['roleRef'];
  const liveSubjects = subjectsOf(live);
  const missing = subjectsOf(wanted).filter((subject) => !liveSubjects.some((existing) => isDeepStrictEqual(existing, subject)));
  if (missing.length > 0) next['subjects'] = [...(Array.isArray(live['subjects']) ? live['subjects'] : []), ...missing];
  if (recreate) return { operation: 'recreate', object: next };
  return missing.length > 0 || !isDeepStrictEqual(next.metadata, live.metadata) ? { operation: 'update', object: next } : { operation: 'none' };
}
