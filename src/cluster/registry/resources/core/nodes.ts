// Nodes: cluster-scoped, registered with their status (as a kubelet does).
import { asObject } from '../../../json.ts';
import { defineResource, type ResourceStrategy, subresource } from '../../strategy.ts';

export const nodes: ResourceStrategy = {
  definition: defineResource({
    group: '',
    version: 'v1',
    resource: 'nodes',
    kind: 'Node',
    namespaced: false,
    shortNames: ['no'],
    subresources: [{ name: 'proxy', kind: 'NodeProxyOptions', group: '', version: 'v1', verbs: ['create', 'delete', 'get', 'patch', 'update'] }, subresource.status('', 'v1', 'Node')],
    fieldSelectors: { 'spec.unschedulable': (n) => String(asObject(n.spec)?.unschedulable === true) },
  }),
  keepStatusOnCreate: true,
};
