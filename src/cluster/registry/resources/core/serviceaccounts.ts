// ServiceAccounts, with the token subresource (TokenRequest) served by the API server.
import { defineResource, type ResourceStrategy } from '../../strategy.ts';

export const serviceaccounts: ResourceStrategy = {
  definition: defineResource({
    group: '',
    version: 'v1',
    resource: 'serviceaccounts',
    kind: 'ServiceAccount',
    namespaced: true,
    shortNames: ['sa'],
    subresources: [{ name: 'token', kind: 'TokenRequest', group: 'authentication.k8s.io', version: 'v1', verbs: ['create'] }],
  }),
};
