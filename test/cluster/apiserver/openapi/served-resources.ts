// The resources issue 3 asks the embedded cluster to serve, as ResourceDefinitions: test input
// for the OpenAPI generator, independent of the registry's own strategies.
import type { ResourceDefinition, SubresourceDefinition } from '../../../../src/cluster/registry/index.ts';

const crud = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

function sub(name: string, kind: string, verbs: string[], group = '', version = 'v1'): SubresourceDefinition {
  return { name, kind, group, version, verbs };
}

export function definition(
  group: string,
  version: string,
  resource: string,
  kind: string,
  namespaced: boolean,
  extra: Partial<ResourceDefinition> = {},
): ResourceDefinition {
  return {
    group,
    version,
    resource,
    kind,
    listKind: `${kind}List`,
    singular: kind.toLowerCase(),
    namespaced,
    shortNames: [],
    categories: [],
    verbs: crud,
    subresources: [],
    fieldSelectors: {},
    ...extra,
  };
}

const status = (kind: string, group = '', version = 'v1') => sub('status', kind, ['get', 'patch', 'update'], group, version);
const scale = sub('scale', 'Scale', ['get', 'patch', 'update'], 'autoscaling', 'v1');

export const servedResources: ResourceDefinition[] = [
  definition('', 'v1', 'namespaces', 'Namespace', false, { subresources: [status('Namespace')] }),
  definition('', 'v1', 'pods', 'Pod', true, {
    subresources: [
      status('Pod'),
      sub('log', 'Pod', ['get']),
      sub('exec', 'PodExecOptions', ['create', 'get']),
      sub('binding', 'Binding', ['create']),
      sub('eviction', 'Eviction', ['create'], 'policy', 'v1'),
    ],
  }),
  definition('', 'v1', 'services', 'Service', true, { subresources: [status('Service')] }),
  definition('', 'v1', 'endpoints', 'Endpoints', true),
  definition('', 'v1', 'configmaps', 'ConfigMap', true),
  definition('', 'v1', 'secrets', 'Secret', true),
  definition('', 'v1', 'serviceaccounts', 'ServiceAccount', true, { subresources: [sub('token', 'TokenRequest', ['create'], 'authentication.k8s.io', 'v1')] }),
  definition('', 'v1', 'events', 'Event', true),
  definition('', 'v1', 'nodes', 'Node', false, { subresources: [status('Node')] }),
  definition('', 'v1', 'persistentvolumes', 'PersistentVolume', false),
  definition('', 'v1', 'persistentvolumeclaims', 'PersistentVolumeClaim', true),
  definition('', 'v1', 'resourcequotas', 'ResourceQuota', true, { subresources: [status('ResourceQuota')] }),
  definition('', 'v1', 'limitranges', 'LimitRange', true),
  definition('apps', 'v1', 'deployments', 'Deployment', true, { subresources: [status('Deployment', 'apps'), scale] }),
  definition('apps', 'v1', 'replicasets', 'ReplicaSet', true, { subresources: [status('ReplicaSet', 'apps'), scale] }),
  definition('apps', 'v1', 'statefulsets', 'StatefulSet', true, { subresources: [status('StatefulSet', 'apps'), scale] }),
  definition('apps', 'v1', 'daemonsets', 'DaemonSet', true, { subresources: [status('DaemonSet', 'apps')] }),
  definition('apps', 'v1', 'controllerrevisions', 'ControllerRevision', true),
  definition('batch', 'v1', 'jobs', 'Job', true, { subresources: [status('Job', 'batch')] }),
  definition('batch', 'v1', 'cronjobs', 'CronJob', true, { subresources: [status('CronJob', 'batch')] }),
  definition('networking.k8s.io', 'v1', 'ingresses', 'Ingress', true),
  definition('networking.k8s.io', 'v1', 'ingressclasses', 'IngressClass', false),
  definition('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', true),
  definition('rbac.authorization.k8s.io', 'v1', 'roles', 'Role', true),
  definition('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true),
  definition('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false),
  definition('rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', 'ClusterRoleBinding', false),
  definition('autoscaling', 'v2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', true),
  definition('autoscaling', 'v1', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', true),
  definition('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget', true),
  definition('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true),
  definition('coordination.k8s.io', 'v1', 'leases', 'Lease', true),
  definition('storage.k8s.io', 'v1', 'storageclasses', 'StorageClass', false),
  definition('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false),
  definition('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews', 'SelfSubjectAccessReview', false, { verbs: ['create'] }),
  definition('authorization.k8s.io', 'v1', 'subjectaccessreviews', 'SubjectAccessReview', false, { verbs: ['create'] }),
  definition('authorization.k8s.io', 'v1', 'selfsubjectrulesreviews', 'SelfSubjectRulesReview', false, { verbs: ['create'] }),
  definition('authentication.k8s.io', 'v1', 'tokenreviews', 'TokenReview', false, { verbs: ['create'] }),
  definition('authentication.k8s.io', 'v1', 'selfsubjectreviews', 'SelfSubjectReview', false, { verbs: ['create'] }),
];

/** A CronTab CRD's served resource, as the registry derives it from the CRD. */
export const cronTabSchema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      description: 'What the CronTab runs and when.',
      required: ['cronSpec'],
      properties: {
        cronSpec: { type: 'string', description: 'When to run, in cron syntax.', pattern: '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$' },
        image: { type: 'string', description: 'The image to run.', maxLength: 64 },
        replicas: { type: 'integer', minimum: 1, maximum: 10, default: 1, description: 'How many copies to run.' },
        mode: { type: 'string', enum: ['Fast', 'Slow'] },
        port: { 'x-kubernetes-int-or-string': true },
        tags: { type: 'array', items: { type: 'string' }, maxItems: 3 },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
        extra: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        note: { type: 'string', nullable: true },
        when: { type: 'string', format: 'date-time' },
      },
    },
    status: { type: 'object', properties: { phase: { type: 'string' } } },
  },
};

export const cronTabs = definition('stable.example.com', 'v1', 'crontabs', 'CronTab', true, {
  shortNames: ['ct'],
  subresources: [status('CronTab', 'stable.example.com')],
  crd: { schema: cronTabSchema },
});
