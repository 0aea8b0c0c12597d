// Access reviews: created, answered by the authorizer, never stored.
import type { KubeObject } from '../../../types.ts';
import { asObject, str } from '../../../json.ts';
import { createOnlyVerbs, defineResource, type ResourceStrategy } from '../../strategy.ts';
import { type FieldError, fieldError } from '../../validation.ts';

const GROUP = 'authorization.k8s.io';

function validateAttributes(review: KubeObject): FieldError[] {
  const spec = asObject(review.spec) ?? {};
  const resource = spec.resourceAttributes;
  const nonResource = spec.nonResourceAttributes;
  if (resource !== undefined && nonResource !== undefined)
    return [fieldError.invalid('spec.nonResourceAttributes', nonResource, 'cannot be specified in combination with resourceAttributes')];
  if (resource === undefined && nonResource === undefined) return [fieldError.required('spec.resourceAttributes', 'exactly one of nonResourceAttributes or resourceAttributes must be specified')];
  return [];
}

function validateSubject(review: KubeObject): FieldError[] {
  const spec = asObject(review.spec) ?? {};
  const errs = validateAttributes(review);
  const user = str(spec.user) ?? '';
  const groups = Array.isArray(spec.groups) ? spec.groups : [];
  const uid = str(spec.uid) ?? '';
  if (user === '' && groups.length === 0 && uid === '') errs.push(fieldError.invalid('spec.user', '', 'at least one of user or group must be specified'));
  return errs;
}

const review = (resource: string, kind: string, namespaced: boolean, validate: (r: KubeObject) => FieldError[]): ResourceStrategy => ({
  definition: defineResource({ group: GROUP, version: 'v1', resource, kind, namespaced, verbs: createOnlyVerbs }),
  virtual: true,
  validate,
});

export const selfsubjectaccessreviews = review('selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, validateAttributes);
export const subjectaccessreviews = review('subjectaccessreviews', 'SubjectAccessReview', false, validateSubject);
export const localsubjectaccessreviews = review('localsubjectaccessreviews', 'LocalSubjectAccessReview', true, validateSubject);
export const selfsubjectrulesreviews = review('selfsubjectrulesreviews', 'SelfSubjectRulesReview', false, () => []);
