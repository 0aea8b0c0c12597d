// The parts of objects controllers care about: conditions, owners, selectors, times. Objects are
// plain JSON (as on the wire, read with ../json.ts) and stored ones are frozen: writers work on
// copies.
import { isJson, type Json, num, obj, objects, specOf, str, statusOf } from '../json.ts';
import { labelSelectorFromObject } from '../registry/index.ts';
import type { KubeObject, OwnerReference } from '../types.ts';

/** A mutable deep copy of a (frozen) stored object. */
export function copy<T>(value: T): T {
  return structuredClone(value);
}

/** RFC 3339 with seconds, as metav1.Time serialises. */
export function timestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** RFC 3339 with microseconds, as metav1.MicroTime serialises. */
export function microTimestamp(date: Date): string {
  return date.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function parseTime(value: unknown): number | undefined {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

export function apiVersionOf(group: string, version: string): string {
  return group ? `${group}/${version}` : version;
}

// ---- conditions ----------------------------------------------------------------------------

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  lastUpdateTime?: string;
  lastProbeTime?: string | null;
  lastHeartbeatTime?: string;
  [field: string]: unknown;
}

export function conditionsOf(status: Json): Condition[] {
  return objects(status.conditions) as Condition[];
}

export function findCondition(status: Json, type: string): Condition | undefined {
  return conditionsOf(status).find((c) => c.type === type);
}

/**
 * Puts `condition` into status.conditions in place of one of the same type; the transition time
 * is kept when the status did not change (as the *util.SetCondition helpers do).
 */
export function setCondition(status: Json, condition: Condition): void {
  const existing = conditionsOf(status);
  const previous = existing.find((c) => c.type === condition.type);
  if (previous && previous.status === condition.status && previous.lastTransitionTime) condition.lastTransitionTime = previous.lastTransitionTime;
  const next = existing.filter((c) => c.type !== condition.type);
  if (previous) next.splice(existing.indexOf(previous), 0, condition);
  else next.push(condition);
  status.conditions = next;
}

export function removeCondition(status: Json, type: string): void {
  const next = conditionsOf(status).filter((c) => c.type !== type);
  if (next.length) status.conditions = next;
  else delete status.conditions;
}

// ---- owners and selectors ------------------------------------------------------------------

export function controllerRef(object: KubeObject): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find((reference) => reference.controller === true);
}

export function isControlledBy(object: KubeObject, owner: KubeObject): boolean {
  return controllerRef(object)?.uid === owner.metadata.uid;
}

/** The controller reference a controller puts on what it creates (metav1.NewControllerRef). */
export function newControllerRef(owner: KubeObject): OwnerReference {
  return {
    apiVersion: owner.apiVersion,
    kind: owner.kind,
    name: owner.metadata.name ?? '',
    uid: owner.metadata.uid ?? '',
    controller: true,
    blockOwnerDeletion: true,
  };
}

export interface Selector {
  matches(labels: Readonly<Record<string, string>> | undefined): boolean;
  readonly empty: boolean;
}

/** metav1.LabelSelector → matcher (a missing selector matches nothing, {} everything). */
export function selectorOf(selector: unknown): Selector {
  const parsed = labelSelectorFromObject(selector);
  return { matches: (labels) => parsed.matches(labels), empty: !parsed.matchesNothing && parsed.requirements.length === 0 };
}

/** A Service's map selector: nil or empty selects nothing (a Service without selector). */
export function mapSelectorMatches(selector: unknown, labels: Readonly<Record<string, string>> | undefined): boolean {
  if (!isJson(selector)) return false;
  const entries = Object.entries(selector);
  if (entries.length === 0) return false;
  return entries.every(([key, value]) => labels?.[key] === value);
}

// ---- pods ----------------------------------------------------------------------------------

export function podPhase(pod: KubeObject): string {
  return str(statusOf(pod).phase) ?? 'Pending';
}

export function isPodTerminal(pod: KubeObject): boolean {
  const phase = podPhase(pod);
  return phase === 'Succeeded' || phase === 'Failed';
}

/** controller.IsPodActive: not finished and not being deleted. */
export function isPodActive(pod: KubeObject): boolean {
  return !isPodTerminal(pod) && !pod.metadata.deletionTimestamp;
}

export function isPodReady(pod: KubeObject): boolean {
  return findCondition(statusOf(pod), 'Ready')?.status === 'True';
}

/** podutil.IsPodAvailable: ready for at least minReadySeconds. */
export function isPodAvailable(pod: KubeObject, minReadySeconds: number, now: Date): boolean {
  const ready = findCondition(statusOf(pod), 'Ready');
  if (ready?.status !== 'True') return false;
  if (minReadySeconds <= 0) return true;
  const since = parseTime(ready.lastTransitionTime);
  return since !== undefined && since + minReadySeconds * 1000 <= now.getTime();
}

/** How long until a ready pod becomes available (0 if it already is or never will be by waiting). */
export function msUntilAvailable(pod: KubeObject, minReadySeconds: number, now: Date): number {
  const ready = findCondition(statusOf(pod), 'Ready');
  if (ready?.status !== 'True' || minReadySeconds <= 0) return 0;
  const since = parseTime(ready.lastTransitionTime);
  if (since === undefined) return 0;
  return Math.max(0, since + minReadySeconds * 1000 - now.getTime());
}

export function nodeNameOf(pod: KubeObject): string {
  return str(specOf(pod).nodeName) ?? '';
}

export function restartCount(pod: KubeObject): number {
  let total = 0;
  for (const status of objects(statusOf(pod).containerStatuses)) total += num(status.restartCount) ?? 0;
  return total;
}

/** A pod from a template, as controller.GetPodFromTemplate builds it. */
export function podFromTemplate(template: unknown, owner: KubeObject, generateName: string | undefined): KubeObject {
  const tpl = copy(obj(template));
  const meta = obj(tpl.metadata);
  const labels = { ...(obj(meta.labels) as Record<string, string>) };
  const annotations = { ...(obj(meta.annotations) as Record<string, string>) };
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...(generateName ? { generateName } : {}),
      namespace: owner.metadata.namespace,
      labels,
      ...(Object.keys(annotations).length ? { annotations } : {}),
      ...(Array.isArray(meta.finalizers) ? { finalizers: meta.finalizers as string[] } : {}),
      ownerReferences: [newControllerRef(owner)],
    },
    spec: obj(tpl.spec),
  };
  return pod;
}
