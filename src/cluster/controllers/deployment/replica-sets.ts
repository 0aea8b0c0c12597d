// What the Deployment controller reads off a Deployment and its ReplicaSets (upstream's
// deploymentutil): the revision and replica annotations, surge and unavailability from the
// strategy, the ReplicaSets' replica counts and revisions, and templates compared without their
// pod-template-hash.
import type { KubeObject } from '../../types.ts';
import { canonicalJson } from '../hash.ts';
import { type Json, num, obj, specOf, statusOf } from '../../json.ts';
import { copy, parseTime } from '../objects.ts';

export const REVISION_ANNOTATION = 'deployment.kubernetes.io/revision';
export const REVISION_HISTORY_ANNOTATION = 'deployment.kubernetes.io/revision-history';
export const DESIRED_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/desired-replicas';
export const MAX_REPLICAS_ANNOTATION = 'deployment.kubernetes.io/max-replicas';
export const POD_TEMPLATE_HASH_LABEL = 'pod-template-hash';
export const MAX_REVISION_HISTORY_CHARS = 2000;

export const skippedAnnotations = new Set([
  'kubectl.kubernetes.io/last-applied-configuration',
  REVISION_ANNOTATION,
  REVISION_HISTORY_ANNOTATION,
  DESIRED_REPLICAS_ANNOTATION,
  MAX_REPLICAS_ANNOTATION,
  'deprecated.deployment.rollback.to',
]);

// ---- numbers from the spec -------------------------------------------------------------------

export function replicas(object: KubeObject): number {
  return num(specOf(object).replicas) ?? 1;
}

/** intstr.GetScaledValueFromIntOrPercent */
export function scaledValue(value: unknown, total: number, roundUp: boolean): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const match = /^(\d+)%$/.exec(value);
    if (match) {
      const scaled = (Number(match[1]) * total) / 100;
      return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
    }
    const parsed = Number.parseInt(value, 10);
    if (Number.isFinite(parsed)) return parsed;
  }
  return 0;
}

export function strategyOf(d: KubeObject): Json {
  return obj(specOf(d).strategy);
}

export function isRollingUpdate(d: KubeObject): boolean {
  return strategyOf(d).type !== 'Recreate';
}

/** ResolveFenceposts: surge rounds up, unavailable down; both zero means one unavailable. */
function resolveFenceposts(d: KubeObject): { surge: number; unavailable: number } {
  const rolling = obj(strategyOf(d).rollingUpdate);
  const desired = replicas(d);
  const surge = scaledValue(rolling.maxSurge ?? '25%', desired, true);
  let unavailable = scaledValue(rolling.maxUnavailable ?? '25%', desired, false);
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

export function maxUnavailable(d: KubeObject): number {
  if (!isRollingUpdate(d) || replicas(d) === 0) return 0;
  return Math.min(resolveFenceposts(d).unavailable, replicas(d));
}

export function maxSurge(d: KubeObject): number {
  if (!isRollingUpdate(d)) return 0;
  return resolveFenceposts(d).surge;
}

export function hasProgressDeadline(d: KubeObject): boolean {
  const seconds = num(specOf(d).progressDeadlineSeconds);
  return seconds !== undefined && seconds !== 2147483647;
}

// ---- replica sets --------------------------------------------------------------------------

export function rsReplicas(rs: KubeObject): number {
  return num(specOf(rs).replicas) ?? 1;
}

export function statusCount(rs: KubeObject, field: string): number {
  return num(statusOf(rs)[field]) ?? 0;
}

export function revisionOf(rs: KubeObject): number {
  const value = Number.parseInt(rs.metadata.annotations?.[REVISION_ANNOTATION] ?? '', 10);
  return Number.isFinite(value) ? value : 0;
}

export function byCreation(a: KubeObject, b: KubeObject): number {
  const ta = parseTime(a.metadata.creationTimestamp) ?? 0;
  const tb = parseTime(b.metadata.creationTimestamp) ?? 0;
  return ta !== tb ? ta - tb : (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}

function templateWithoutHash(template: unknown): string {
  const t = copy(obj(template));
  const meta = { ...obj(t.metadata) };
  const labels = { ...(obj(meta.labels) as Record<string, string>) };
  delete labels[POD_TEMPLATE_HASH_LABEL];
  if (Object.keys(labels).length) meta.labels = labels;
  else delete meta.labels;
  // Upstream compares Go structs, where `creationTimestamp: null` (which kubectl rollout undo
  // sends) is the zero time, the same as no timestamp; otherwise an undo builds a new ReplicaSet.
  if (meta.creationTimestamp === null) delete meta.creationTimestamp;
  t.metadata = meta;
  return canonicalJson(t);
}

/** EqualIgnoreHash: the templates are the same apart from the pod-template-hash label. */
export function equalIgnoreHash(a: unknown, b: unknown): boolean {
  return templateWithoutHash(a) === templateWithoutHash(b);
}

function sumOf(rss: KubeObject[], count: (rs: KubeObject) => number): number {
  return rss.reduce((total, rs) => total + count(rs), 0);
}

export const specReplicaCount = (rss: KubeObject[]) => sumOf(rss, rsReplicas);
export const actualReplicaCount = (rss: KubeObject[]) => sumOf(rss, (rs) => statusCount(rs, 'replicas'));
export const readyReplicaCount = (rss: KubeObject[]) => sumOf(rss, (rs) => statusCount(rs, 'readyReplicas'));
export const availableReplicaCount = (rss: KubeObject[]) => sumOf(rss, (rs) => statusCount(rs, 'availableReplicas'));
export const activeReplicaSets = (rss: KubeObject[]) => rss.filter((rs) => rsReplicas(rs) > 0);

export function desiredAnnotation(rs: KubeObject): number | undefined {
  const value = Number.parseInt(rs.metadata.annotations?.[DESIRED_REPLICAS_ANNOTATION] ?? '', 10);
  return Number.isFinite(value) ? value : undefined;
}

export function maxReplicasAnnotation(rs: KubeObject): number | undefined {
  const value = Number.parseInt(rs.metadata.annotations?.[MAX_REPLICAS_ANNOTATION] ?? '', 10);
  return Number.isFinite(value) ? value : undefined;
}
