// ControllerRevisions: immutable snapshots of a workload's template, written by controllers.
import type { KubeObject } from '../../../types.ts';
import { defineResource, type ResourceStrategy } from '../../strategy.ts';
import { type FieldError, fieldError, immutableField } from '../../validation.ts';

function validateRevision(revision: KubeObject): FieldError[] {
  const n = revision.revision;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) return [fieldError.invalid('revision', n ?? null, 'must be greater than or equal to 0')];
  return [];
}

export const controllerrevisions: ResourceStrategy = {
  definition: defineResource({ group: 'apps', version: 'v1', resource: 'controllerrevisions', kind: 'ControllerRevision', namespaced: true }),
  validate: validateRevision,
  validateUpdate: (revision, old) => [...validateRevision(revision), ...immutableField('data', revision.data, old.data)],
};
