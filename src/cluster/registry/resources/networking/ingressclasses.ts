// IngressClasses: cluster-scoped, a controller name that never changes.
import type { KubeObject } from '../../../types.ts';
import { asObject } from '../../../json.ts';
import { defineResource, type ResourceStrategy } from '../../strategy.ts';
import { type FieldError, fieldError, immutableField } from '../../validation.ts';

function validateClass(ingressClass: KubeObject): FieldError[] {
  const controller = asObject(ingressClass.spec)?.controller;
  if (typeof controller !== 'string' || controller === '') return [fieldError.required('spec.controller')];
  if (controller.length > 250) return [fieldError.tooLong('spec.controller', 250)];
  return [];
}

export const ingressclasses: ResourceStrategy = {
  definition: defineResource({ group: 'networking.k8s.io', version: 'v1', resource: 'ingressclasses', kind: 'IngressClass', namespaced: false }),
  tracksGeneration: true,
  validate: validateClass,
  validateUpdate: (c, old) => [...validateClass(c), ...immutableField('spec.controller', asObject(c.spec)?.controller, asObject(old.spec)?.controller)],
};
