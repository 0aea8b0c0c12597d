// ObjectMeta rules shared by every resource (k8s.io/apimachinery/pkg/api/validation/objectmeta.go):
// names, generateName, labels, annotations, owner references, finalizers.
import { randomInt } from 'node:crypto';
import type { KubeObject, ObjectMeta } from '../types.ts';
import { asArray, asObject, isJson } from '../json.ts';
import { deepEqual } from './fields.ts';
import { type FieldError, fieldError, GoValue, isDNS1123Subdomain, isQualifiedName, isValidLabelValue } from './validation.ts';
import type { NameValidator } from './strategy.ts';

const TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024;
const GENERATED_SUFFIX_LENGTH = 5;
const MAX_GENERATED_NAME_LENGTH = 63 - GENERATED_SUFFIX_LENGTH;
const suffixAlphabet = 'bcdfghjklmnpqrstvwxz2456789';

/** generateName + 5 random characters, the prefix cut to 58 characters (names.SimpleNameGenerator). */
export function generateName(prefix: string): string {
  let suffix = '';
  for (let i = 0; i < GENERATED_SUFFIX_LENGTH; i++) suffix += suffixAlphabet[randomInt(suffixAlphabet.length)];
  return `${prefix.slice(0, MAX_GENERATED_NAME_LENGTH)}${suffix}`;
}

/** A trailing '-' is fine in a generateName prefix: validate it as if it were a letter. */
function maskTrailingDash(name: string): string {
  return name.length > 1 && name.endsWith('-') ? `${name.slice(0, -1)}a` : name;
}

export const nameIsDNSSubdomain: NameValidator = (name, prefix) => isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);

export function validateObjectMeta(meta: ObjectMeta, options: { namespaced: boolean; validateName: NameValidator }): FieldError[] {
  const errs: FieldError[] = [];
  const name = meta.name;
  if (typeof meta.generateName === 'string' && meta.generateName !== '') {
    for (const msg of options.validateName(meta.generateName, true)) errs.push(fieldError.invalid('metadata.generateName', meta.generateName, msg));
  }
  if (typeof name !== 'string' || name === '') {
    errs.push(fieldError.required('metadata.name', 'name or generateName is required'));
  } else {
    for (const msg of options.validateName(name, false)) errs.push(fieldError.invalid('metadata.name', name, msg));
  }
  if (options.namespaced) {
    if (typeof meta.namespace !== 'string' || meta.namespace === '') errs.push(fieldError.required('metadata.namespace', ''));
  } else if (typeof meta.namespace === 'string' && meta.namespace !== '') {
    errs.push(fieldError.forbidden('metadata.namespace', 'not allowed on this type'));
  }
  if (meta.generation !== undefined && (typeof meta.generation !== 'number' || meta.generation < 0))
    errs.push(fieldError.invalid('metadata.generation', meta.generation, 'must be greater than or equal to 0'));
  errs.push(...validateLabels(meta.labels, 'metadata.labels'));
  errs.push(...validateAnnotations(meta.annotations, 'metadata.annotations'));
  errs.push(...validateOwnerReferences(meta.ownerReferences));
  errs.push(...validateFinalizers(meta.finalizers));
  return errs;
}

export function validateLabels(labels: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (labels === undefined || labels === null) return errs;
  if (!isJson(labels)) return [fieldError.invalid(path, labels, 'must be a map of string keys to string values')];
  for (const [key, value] of Object.entries(labels)) {
    for (const msg of isQualifiedName(key)) errs.push(fieldError.invalid(path, key, msg));
    if (typeof value !== 'string') errs.push(fieldError.invalid(path, value, 'must be a string'));
    else for (const msg of isValidLabelValue(value)) errs.push(fieldError.invalid(path, value, msg));
  }
  return errs;
}

export function validateAnnotations(annotations: unknown, path: string): FieldError[] {
  const errs: FieldError[] = [];
  if (annotations === undefined || annotations === null) return errs;
  if (!isJson(annotations)) return [fieldError.invalid(path, annotations, 'must be a map of string keys to string values')];
  let total = 0;
  for (const [key, value] of Object.entries(annotations)) {
    for (const msg of isQualifiedName(key.toLowerCase())) errs.push(fieldError.invalid(path, key, msg));
    if (typeof value !== 'string') errs.push(fieldError.invalid(path, value, 'must be a string'));
    total += Buffer.byteLength(key) + (typeof value === 'string' ? Buffer.byteLength(value) : 0);
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT) errs.push(fieldError.tooLong(path, TOTAL_ANNOTATION_SIZE_LIMIT));
  return errs;
}

function validateOwnerReferences(references: unknown): FieldError[] {
  const errs: FieldError[] = [];
  if (references === undefined || references === null) return errs;
  if (!Array.isArray(references)) return [fieldError.invalid('metadata.ownerReferences', references, 'must be a list')];
  let controllers = 0;
  for (const raw of references) {
    const ref = asObject(raw) ?? {};
    const path = 'metadata.ownerReferences';
    if (typeof ref.apiVersion !== 'string' || ref.apiVersion === '') errs.push(fieldError.invalid(`${path}.apiVersion`, ref.apiVersion ?? '', 'version must not be empty'));
    if (typeof ref.kind !== 'string' || ref.kind === '') errs.push(fieldError.invalid(`${path}.kind`, ref.kind ?? '', 'kind must not be empty'));
    if (typeof ref.name !== 'string' || ref.name === '') errs.push(fieldError.invalid(`${path}.name`, ref.name ?? '', 'name must not be empty'));
    if (typeof ref.uid !== 'string' || ref.uid === '') errs.push(fieldError.invalid(`${path}.uid`, ref.uid ?? '', 'uid must not be empty'));
    if (ref.controller === true) controllers++;
  }
  if (controllers > 1)
    errs.push(
      fieldError.invalid(
        'metadata.ownerReferences',
        new GoValue(JSON.stringify(references)),
        'Only one reference can have Controller set to true. Found "true" in references for ' +
          references
            .map(asObject)
            .filter((r) => r?.controller === true)
            .map((r) => `${String(r?.kind)}/${String(r?.name)}`)
            .join(' and '),
      ),
    );
  return errs;
}

function validateFinalizers(finalizers: unknown): FieldError[] {
  const errs: FieldError[] = [];
  if (finalizers === undefined || finalizers === null) return errs;
  if (!Array.isArray(finalizers)) return [fieldError.invalid('metadata.finalizers', finalizers, 'must be a list of strings')];
  const seen = new Set<string>();
  finalizers.forEach((finalizer, index) => {
    if (typeof finalizer !== 'string') {
      errs.push(fieldError.invalid(`metadata.finalizers[${index}]`, finalizer, 'must be a string'));
      return;
    }
    for (const msg of isQualifiedName(finalizer)) errs.push(fieldError.invalid(`metadata.finalizers[${index}]`, finalizer, msg));
    if (seen.has(finalizer)) errs.push(fieldError.duplicate(`metadata.finalizers[${index}]`, finalizer));
    seen.add(finalizer);
  });
  if (seen.has('orphan') && seen.has('foregroundDeletion'))
    errs.push(fieldError.invalid('metadata.finalizers', new GoValue(`[]string{${finalizers.map((f) => JSON.stringify(f)).join(', ')}}`), 'finalizer orphan and foregroundDeletion cannot be both set'));
  return errs;
}

export function validateObjectMetaUpdate(meta: ObjectMeta, old: ObjectMeta): FieldError[] {
  const errs: FieldError[] = [];
  if (old.deletionTimestamp) {
    const before = new Set(asArray(old.finalizers).filter((f): f is string => typeof f === 'string'));
    const added = asArray(meta.finalizers).filter((f): f is string => typeof f === 'string' && !before.has(f));
    if (added.length)
      errs.push(
        fieldError.forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers []string{${added.map((f) => JSON.stringify(f)).join(', ')}}`),
      );
  }
  return errs;
}

/** True when anything but metadata and (for resources with a status subresource) status differs. */
export function specChanged(object: KubeObject, old: KubeObject, ignoreStatus: boolean): boolean {
  const keys = new Set([...Object.keys(object), ...Object.keys(old)]);
  for (const key of keys) {
    if (key === 'metadata' || key === 'apiVersion' || key === 'kind') continue;
    if (ignoreStatus && key === 'status') continue;
    if (!deepEqual(object[key], old[key])) return true;
  }
  return false;
}

/** RFC 3339 with second precision, as metav1.Time serialises. */
export function formatTimestamp(date: Date): string {
  return `${date.toISOString().slice(0, 19)}Z`;
}
