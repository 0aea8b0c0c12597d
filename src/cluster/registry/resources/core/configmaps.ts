// ConfigMaps: keys are config keys, data and binaryData never share a key, 1 MiB in total, and
// `immutable: true` freezes them.
import type { KubeObject } from '../../../types.ts';
import { asObject } from '../../../json.ts';
import { deepEqual } from '../../fields.ts';
import { defineResource, type ResourceStrategy } from '../../strategy.ts';
import { type FieldError, fieldError, isConfigMapKey } from '../../validation.ts';

const MAX_BYTES = 1024 * 1024;

/** Bytes a base64 value decodes to, without decoding it. */
function decodedLength(value: string): number {
  const padding = value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0;
  return Math.floor((value.length * 3) / 4) - padding;
}

/**
 * Keys and the 1 MiB total. A ConfigMap counts data and binaryData and names no field in its
 * error (upstream passes an empty path); a Secret's data is base64 and counts decoded, as `data`.
 */
export function validateDataKeys(object: KubeObject, binaryField: string): FieldError[] {
  const errs: FieldError[] = [];
  let total = 0;
  const secret = binaryField === 'stringData';
  const data = asObject(object.data) ?? {};
  const binary = asObject(object[binaryField]) ?? {};
  for (const [key, value] of Object.entries(data)) {
    for (const msg of isConfigMapKey(key)) errs.push(fieldError.invalid(`data[${key}]`, key, msg));
    if (typeof value !== 'string') errs.push(fieldError.invalid(`data[${key}]`, value, 'must be a string'));
    else total += secret ? decodedLength(value) : Buffer.byteLength(value);
  }
  for (const [key, value] of Object.entries(binary)) {
    for (const msg of isConfigMapKey(key)) errs.push(fieldError.invalid(`${binaryField}[${key}]`, key, msg));
    if (binaryField === 'binaryData' && Object.hasOwn(data, key)) errs.push(fieldError.invalid(`binaryData[${key}]`, key, 'duplicate of key present in data'));
    if (typeof value === 'string' && !secret) total += decodedLength(value);
  }
  if (total > MAX_BYTES) errs.push(fieldError.tooLong(secret ? 'data' : '[]', MAX_BYTES));
  return errs;
}

export function validateImmutableData(object: KubeObject, old: KubeObject, fields: string[]): FieldError[] {
  if (old.immutable !== true) return [];
  const errs: FieldError[] = [];
  for (const field of fields) {
    if (!deepEqual(object[field] ?? {}, old[field] ?? {})) errs.push(fieldError.forbidden(field, 'field is immutable when `immutable` is set'));
  }
  if (object.immutable !== true) errs.push(fieldError.forbidden('immutable', 'field is immutable when `immutable` is set'));
  return errs;
}

export const configmaps: ResourceStrategy = {
  definition: defineResource({ group: '', version: 'v1', resource: 'configmaps', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] }),
  validate: (cm) => validateDataKeys(cm, 'binaryData'),
  validateUpdate: (cm, old) => [...validateDataKeys(cm, 'binaryData'), ...validateImmutableData(cm, old, ['data', 'binaryData'])],
};
