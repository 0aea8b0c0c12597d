// Namespaces: a name that is a DNS label, the kubernetes.io/metadata.name label, the
// 'kubernetes' finalizer in spec, Active → Terminating, and the finalize subresource.
import type { KubeObject } from '../../../types.ts';
import { asArray, asObject, str } from '../../../json.ts';
import { ensureObject } from '../../fields.ts';
import { defineResource, type ResourceStrategy, subresource } from '../../strategy.ts';
import { fieldError, isDNS1123Label } from '../../validation.ts';

export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

function setNameLabel(namespace: KubeObject): void {
  const name = namespace.metadata.name;
  if (!name) return;
  namespace.metadata.labels = { ...(namespace.metadata.labels ?? {}), [NAMESPACE_NAME_LABEL]: name };
}

function specFinalizers(namespace: KubeObject): unknown[] {
  return asArray(asObject(namespace.spec)?.finalizers);
}

export const namespaces: ResourceStrategy = {
  definition: defineResource({
    group: '',
    version: 'v1',
    resource: 'namespaces',
    kind: 'Namespace',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    subresources: [{ name: 'finalize', kind: 'Namespace', group: '', version: 'v1', verbs: ['update'] }, subresource.status('', 'v1', 'Namespace')],
    fieldSelectors: { 'status.phase': (ns) => str(asObject(ns.status)?.phase) },
  }),
  validateName: (name, prefix) => isDNS1123Label(prefix && name.endsWith('-') ? `${name.slice(0, -1)}a` : name),

  defaults(namespace) {
    setNameLabel(namespace);
  },

  prepareForCreate(namespace) {
    const spec = ensureObject(namespace, 'spec');
    const finalizers = asArray(spec.finalizers).filter((f) => f !== 'kubernetes');
    spec.finalizers = ['kubernetes', ...finalizers];
    namespace.status = { phase: 'Active' };
    setNameLabel(namespace);
  },

  validate(namespace) {
    return specFinalizers(namespace).some((f) => typeof f !== 'string' || f === '')
      ? [fieldError.invalid('spec.finalizers', specFinalizers(namespace), 'finalizers must be non-empty strings')]
      : [];
  },

  prepareForUpdate(namespace, old) {
    // spec.finalizers change only through the finalize subresource
    namespace.spec = old.spec;
    setNameLabel(namespace);
  },

  prepareForStatusUpdate(namespace, old) {
    namespace.spec = old.spec;
  },

  validateStatusUpdate(namespace, old) {
    const phase = asObject(namespace.status)?.phase;
    if (old.metadata.deletionTimestamp && phase !== 'Terminating')
      return [fieldError.invalid('status.phase', phase ?? '', 'A namespace may not be set to Active if deletion timestamp is set')];
    if (phase !== undefined && phase !== 'Active' && phase !== 'Terminating') return [fieldError.notSupported('status.phase', phase, ['Active', 'Terminating'])];
    return [];
  },

  prepareForFinalize(namespace, input) {
    const finalizers = asArray(asObject(input.spec)?.finalizers);
    ensureObject(namespace, 'spec').finalizers = finalizers;
  },

  deletionBlocked(namespace) {
    return specFinalizers(namespace).length > 0;
  },

  beginDeletion(namespace) {
    ensureObject(namespace, 'status').phase = 'Terminating';
  },
};
