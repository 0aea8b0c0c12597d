// Reading the cluster's objects as they are: plain JSON, from clients or from storage (frozen
// there). Every read checks the type it expects instead of trusting a cast, and a field that is
// missing or of another type reads as empty. The registry, the kubelet and the controllers read
// objects through these.
import type { KubeObject } from './types.ts';

export type Json = Record<string, unknown>;

export function isJson(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function obj(value: unknown): Json {
  return isJson(value) ? value : {};
}

/** The object, or undefined where its absence matters (obj reads absent as {}). */
export function asObject(value: unknown): Json | undefined {
  return isJson(value) ? value : undefined;
}

/** A list as it is (empty when it is not one). */
export function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

/** The objects of a list (anything else in it is skipped). */
export function objects(value: unknown): Json[] {
  return Array.isArray(value) ? value.filter(isJson) : [];
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** A list read as strings (a command's argv, a capability list). */
export function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.map((item) => String(item)) : [];
}

export function specOf(object: KubeObject): Json {
  return obj(object.spec);
}

export function statusOf(object: KubeObject): Json {
  return obj(object.status);
}
