// Secrets: stringData merged into base64 data and dropped, type Opaque by default, per-type
// required keys, and an immutable type.
import type { KubeObject } from '../../../types.ts';
import { statusErrors } from '../../../types.ts';
import { asObject, str } from '../../../json.ts';
import { defineResource, type ResourceStrategy } from '../../strategy.ts';
import { type FieldError, fieldError, immutableField } from '../../validation.ts';
import { validateDataKeys, validateImmutableData } from './configmaps.ts';

const requiredKeys: Record<string, string[]> = {
  'kubernetes.io/dockercfg': ['.dockercfg'],
  'kubernetes.io/dockerconfigjson': ['.dockerconfigjson'],
  'kubernetes.io/tls': ['tls.crt', 'tls.key'],
  'kubernetes.io/ssh-auth': ['ssh-privatekey'],
};

const base64Pattern = /^[A-Za-z0-9+/]*={0,2}$/;

function mergeStringData(secret: KubeObject): void {
  const stringData = asObject(secret.stringData);
  const data = asObject(secret.data) ?? {};
  for (const value of Object.values(data)) {
    if (typeof value === 'string' && (value.length % 4 !== 0 || !base64Pattern.test(value)))
      throw statusErrors.badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte ${firstBadByte(value)}`);
  }
  if (stringData) {
    for (const [key, value] of Object.entries(stringData)) data[key] = Buffer.from(String(value)).toString('base64');
    delete secret.stringData;
  }
  if (Object.keys(data).length || secret.data !== undefined) secret.data = data;
}

function firstBadByte(value: string): number {
  for (let i = 0; i < value.length; i++) if (!/[A-Za-z0-9+/=]/.test(value[i] ?? '')) return i;
  return Math.max(0, value.length - (value.length % 4));
}

function validateSecret(secret: KubeObject): FieldError[] {
  const errs = validateDataKeys(secret, 'stringData');
  const type = str(secret.type) ?? 'Opaque';
  const data = asObject(secret.data) ?? {};
  for (const key of requiredKeys[type] ?? []) if (!Object.hasOwn(data, key)) errs.push(fieldError.required(`data[${key}]`));
  if (type === 'kubernetes.io/service-account-token' && !secret.metadata.annotations?.['kubernetes.io/service-account.name'])
    errs.push(fieldError.required('metadata.annotations[kubernetes.io/service-account.name]'));
  if (type === 'kubernetes.io/basic-auth' && !Object.hasOwn(data, 'username') && !Object.hasOwn(data, 'password'))
    errs.push(fieldError.required('data[username]'));
  if (type === 'kubernetes.io/dockerconfigjson' && typeof data['.dockerconfigjson'] === 'string') {
    try {
      JSON.parse(Buffer.from(data['.dockerconfigjson'], 'base64').toString('utf8'));
    } catch (error) {
      errs.push(fieldError.invalid('data[.dockerconfigjson]', '<secret contents redacted>', String((error as Error).message)));
    }
  }
  return errs;
}

export const secrets: ResourceStrategy = {
  definition: defineResource({
    group: '',
    version: 'v1',
    resource: 'secrets',
    kind: 'Secret',
    namespaced: true,
    fieldSelectors: { type: (s) => str(s.type) ?? 'Opaque' },
  }),
  defaults(secret) {
    if (secret.type === undefined || secret.type === '') secret.type = 'Opaque';
    mergeStringData(secret);
  },
  validate: validateSecret,
  validateUpdate(secret, old) {
    return [...validateSecret(secret), ...immutableField('type', secret.type, old.type), ...validateImmutableData(secret, old, ['data'])];
  },
};
