// What every check kind gets: the cluster, the sandbox it looks at, and helpers that turn what it
// found into sentences a learner understands.
import type { ApiResource, KubeClient, KubeObject } from '../kube/index.ts';

export interface Workbench {
  pod: string;
  container: string;
}

/** Where a check looks: one sandbox namespace, read with the portal's credentials. */
export interface CheckTarget {
  client: KubeClient;
  namespace: string;
  /** The learner's shell (file checks, custom checks' readFile). */
  workbench: Workbench;
  /** Absolute path of the lab's checks.ts, for custom checks. */
  customChecksFile?: string | null;
}

/** A check's verdict without its kind: what was expected, what was found, one sentence. */
export interface Outcome {
  passed: boolean;
  expected: string;
  found: string;
  message: string;
}

export function pass(expected: string, found: string, message: string): Outcome {
  return { passed: true, expected, found, message };
}

export function fail(expected: string, found: string, message: string): Outcome {
  return { passed: false, expected, found, message };
}

/** "Deployment web" */
export function named(resource: ApiResource, name: string): string {
  return `${resource.kind} ${name}`;
}

/** Deployments, Ingresses, NetworkPolicies. */
export function plural(kind: string, count = 2): string {
  if (count === 1) return kind;
  if (/[^aeiou]y$/.test(kind)) return `${kind.slice(0, -1)}ies`;
  if (/(s|x|ch|sh)$/.test(kind)) return `${kind}es`;
  return `${kind}s`;
}

export function isTerminating(object: KubeObject): boolean {
  return typeof object.metadata.deletionTimestamp === 'string';
}

export function quote(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

export function record(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' ? value : fallback;
}

/** "with app=web", or "" when there is no selector. */
export function selectorPhrase(selector: string | undefined): string {
  return selector ? ` with ${selector}` : '';
}
