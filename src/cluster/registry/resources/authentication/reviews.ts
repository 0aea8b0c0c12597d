// TokenReview and SelfSubjectReview: created, answered by the authenticator, never stored.
import { createOnlyVerbs, defineResource, type ResourceStrategy } from '../../strategy.ts';

const GROUP = 'authentication.k8s.io';

export const tokenreviews: ResourceStrategy = {
  definition: defineResource({ group: GROUP, version: 'v1', resource: 'tokenreviews', kind: 'TokenReview', namespaced: false, verbs: createOnlyVerbs }),
  virtual: true,
};

export const selfsubjectreviews: ResourceStrategy = {
  definition: defineResource({ group: GROUP, version: 'v1', resource: 'selfsubjectreviews', kind: 'SelfSubjectReview', namespaced: false, verbs: createOnlyVerbs }),
  virtual: true,
};
