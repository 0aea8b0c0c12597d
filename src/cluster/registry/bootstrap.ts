// What a fresh cluster holds before anyone writes: the four namespaces every cluster has, the
// `kubernetes` Service and the system PriorityClasses. Nodes and default ClusterRoles belong to the kubelet and RBAC parts,
// which create them through the registry when `firstStart` is true.
import type { KubeObject } from '../types.ts';
import { systemPriorityClasses } from './resources/scheduling/priorityclasses.ts';

export interface BootstrapObject {
  resource: { group: string; version: string; resource: string };
  object: KubeObject;
}

const namespace = (name: string): BootstrapObject => ({
  resource: { group: '', version: 'v1', resource: 'namespaces' },
  object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name } },
});

export function bootstrapObjects(): BootstrapObject[] {
  return [
    namespace('default'),
    namespace('kube-system'),
    namespace('kube-public'),
    namespace('kube-node-lease'),
    {
      resource: { group: '', version: 'v1', resource: 'services' },
      object: {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'kubernetes', namespace: 'default', labels: { component: 'apiserver', provider: 'kubernetes' } },
        spec: { clusterIP: '10.96.0.1', ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }], sessionAffinity: 'None', type: 'ClusterIP' },
      },
    },
    ...systemPriorityClasses.map(
      ({ name, value, description }): BootstrapObject => ({
        resource: { group: 'scheduling.k8s.io', version: 'v1', resource: 'priorityclasses' },
        object: { apiVersion: 'scheduling.k8s.io/v1', kind: 'PriorityClass', metadata: { name }, value, description, preemptionPolicy: 'PreemptLowerPriority' },
      }),
    ),
  ];
}
