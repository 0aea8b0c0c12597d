// The default ClusterRoles and ClusterRoleBindings a fresh cluster has, as kube-apiserver's
// bootstrap policy (plugin/pkg/auth/authorizer/rbac/bootstrappolicy) creates them: the
// user-facing roles admin/edit/view aggregate from system:aggregate-to-*, which hold the rules.
import type { KubeObject } from '../../../types.ts';
import { effectiveRules } from './aggregation.ts';
import { authenticatedGroup, mastersGroup, unauthenticatedGroup } from './subjects.ts';
import { roleSchema, type PolicyRule } from './types.ts';

const read = ['get', 'list', 'watch'];
const write = ['create', 'delete', 'deletecollection', 'patch', 'update'];
const readWrite = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

const rule = (apiGroups: string[], resources: string[], verbs: string[]): PolicyRule => ({ apiGroups, resources, verbs });
const urls = (nonResourceURLs: string[], verbs: string[]): PolicyRule => ({ nonResourceURLs, verbs });

const aggregateToAdmin: PolicyRule[] = [rule(['authorization.k8s.io'], ['localsubjectaccessreviews'], ['create']), rule(['rbac.authorization.k8s.io'], ['rolebindings', 'roles'], readWrite)];

const aggregateToEdit: PolicyRule[] = [
  rule([''], ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy'], read),
  rule([''], ['serviceaccounts'], ['impersonate']),
  rule([''], ['pods', 'pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy'], write),
  rule([''], ['pods/eviction'], ['create']),
  rule([''], ['configmaps', 'events', 'persistentvolumeclaims', 'replicationcontrollers', 'replicationcontrollers/scale', 'secrets', 'serviceaccounts', 'services', 'services/proxy'], write),
  rule([''], ['serviceaccounts/token'], ['create']),
  rule(['apps'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'replicasets', 'replicasets/scale', 'statefulsets', 'statefulsets/scale'], write),
  rule(['autoscaling'], ['horizontalpodautoscalers'], write),
  rule(['batch'], ['cronjobs', 'jobs'], write),
  rule(['extensions'], ['daemonsets', 'deployments', 'deployments/rollback', 'deployments/scale', 'ingresses', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicationcontrollers/scale'], write),
  rule(['policy'], ['poddisruptionbudgets'], write),
  rule(['networking.k8s.io'], ['ingresses', 'networkpolicies'], write),
  rule(['coordination.k8s.io'], ['leases'], readWrite),
];

const aggregateToView: PolicyRule[] = [
  rule([''], ['configmaps', 'endpoints', 'persistentvolumeclaims', 'persistentvolumeclaims/status', 'pods', 'replicationcontrollers', 'replicationcontrollers/scale', 'serviceaccounts', 'services', 'services/status'], read),
  rule([''], ['bindings', 'events', 'limitranges', 'namespaces/status', 'pods/log', 'pods/status', 'replicationcontrollers/status', 'resourcequotas', 'resourcequotas/status'], read),
  rule([''], ['namespaces'], read),
  rule(['discovery.k8s.io'], ['endpointslices'], read),
  rule(['apps'], ['controllerrevisions', 'daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'replicasets', 'replicasets/scale', 'replicasets/status', 'statefulsets', 'statefulsets/scale', 'statefulsets/status'], read),
  rule(['autoscaling'], ['horizontalpodautoscalers', 'horizontalpodautoscalers/status'], read),
  rule(['batch'], ['cronjobs', 'cronjobs/status', 'jobs', 'jobs/status'], read),
  rule(['extensions'], ['daemonsets', 'daemonsets/status', 'deployments', 'deployments/scale', 'deployments/status', 'ingresses', 'ingresses/status', 'networkpolicies', 'replicasets', 'replicasets/scale', 'replicasets/status', 'replicationcontrollers/scale'], read),
  rule(['policy'], ['poddisruptionbudgets', 'poddisruptionbudgets/status'], read),
  rule(['networking.k8s.io'], ['ingresses', 'ingresses/status', 'networkpolicies'], read),
];

const bootstrapLabel = { 'kubernetes.io/bootstrapping': 'rbac-defaults' };
const autoupdate = { 'rbac.authorization.kubernetes.io/autoupdate': 'true' };

function clusterRole(name: string, rules: PolicyRule[], options: { labels?: Record<string, string>; aggregateFrom?: string } = {}): KubeObject {
  const role: KubeObject = {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRole',
    metadata: { name, labels: { ...bootstrapLabel, ...options.labels }, annotations: { ...autoupdate } },
    rules,
  };
  if (options.aggregateFrom) role.aggregationRule = { clusterRoleSelectors: [{ matchLabels: { [options.aggregateFrom]: 'true' } }] };
  return role;
}

const toAdmin = 'rbac.authorization.k8s.io/aggregate-to-admin';
const toEdit = 'rbac.authorization.k8s.io/aggregate-to-edit';
const toView = 'rbac.authorization.k8s.io/aggregate-to-view';

/**
 * Default ClusterRoles, with admin/edit/view already holding their aggregated rules as the
 * aggregation controller leaves them on a running cluster.
 */
export function bootstrapClusterRoles(): KubeObject[] {
  const roles = [
    clusterRole('cluster-admin', [rule(['*'], ['*'], ['*']), urls(['*'], ['*'])]),
    clusterRole('admin', [], { aggregateFrom: toAdmin }),
    clusterRole('edit', [], { aggregateFrom: toEdit, labels: { [toAdmin]: 'true' } }),
    clusterRole('view', [], { aggregateFrom: toView, labels: { [toEdit]: 'true' } }),
    clusterRole('system:aggregate-to-admin', aggregateToAdmin, { labels: { [toAdmin]: 'true' } }),
    clusterRole('system:aggregate-to-edit', aggregateToEdit, { labels: { [toEdit]: 'true' } }),
    clusterRole('system:aggregate-to-view', aggregateToView, { labels: { [toView]: 'true' } }),
    clusterRole('system:basic-user', [rule(['authorization.k8s.io'], ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], ['create']), rule(['authentication.k8s.io'], ['selfsubjectreviews'], ['create'])]),
    clusterRole('system:discovery', [urls(['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/openapi', '/openapi/*', '/readyz', '/version', '/version/'], ['get'])]),
    clusterRole('system:public-info-viewer', [urls(['/healthz', '/livez', '/readyz', '/version', '/version/'], ['get'])]),
    clusterRole('system:service-account-issuer-discovery', [urls(['/.well-known/openid-configuration', '/.well-known/openid-configuration/', '/openid/v1/jwks', '/openid/v1/jwks/'], ['get'])]),
  ];
  const parsed = roles.map((r) => roleSchema.parse(r));
  for (const role of roles) {
    if (role.aggregationRule) {
      const own = parsed.find((p) => p.metadata.name === role.metadata.name);
      if (own) role.rules = effectiveRules(own, parsed);
    }
  }
  return roles;
}

function clusterRoleBinding(name: string, subjects: Array<Record<string, string>>): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind: 'ClusterRoleBinding',
    metadata: { name, labels: { ...bootstrapLabel }, annotations: { ...autoupdate } },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects,
  };
}

const groups = (...names: string[]) => names.map((name) => ({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name }));

export function bootstrapClusterRoleBindings(): KubeObject[] {
  return [
    clusterRoleBinding('cluster-admin', groups(mastersGroup)),
    clusterRoleBinding('system:basic-user', groups(authenticatedGroup)),
    clusterRoleBinding('system:discovery', groups(authenticatedGroup)),
    clusterRoleBinding('system:public-info-viewer', groups(authenticatedGroup, unauthenticatedGroup)),
    clusterRoleBinding('system:service-account-issuer-discovery', groups('system:serviceaccounts')),
  ];
}

/**
 * The controllers' own roles that the cluster's controllers need through RBAC (bootstrappolicy's
 * ControllerRoles): the clusterrole-aggregation controller's, since writing a ClusterRole's rules
 * takes `escalate` on clusterroles, and the certificate controller's, since issuing a certificate
 * takes `sign` on its signer. The other controllers write nothing RBAC checks.
 */
const controllerRoles: Array<[string, PolicyRule[]]> = [
  ['clusterrole-aggregation-controller', [rule(['rbac.authorization.k8s.io'], ['clusterroles'], ['escalate', 'get', 'list', 'watch', 'update', 'patch'])]],
  // Setting status.certificate takes `sign` on the signer (the CertificateSigning admission plugin).
  [
    'certificate-controller',
    [
      rule(['certificates.k8s.io'], ['certificatesigningrequests'], ['delete', 'get', 'list', 'watch']),
      rule(['certificates.k8s.io'], ['certificatesigningrequests/approval', 'certificatesigningrequests/status'], ['update']),
      {
        apiGroups: ['certificates.k8s.io'],
        resources: ['signers'],
        resourceNames: ['kubernetes.io/kube-apiserver-client', 'kubernetes.io/kube-apiserver-client-kubelet', 'kubernetes.io/kubelet-serving', 'kubernetes.io/legacy-unknown'],
        verbs: ['sign'],
      },
    ],
  ],
];

export function bootstrapControllerRoles(): KubeObject[] {
  return controllerRoles.map(([controller, rules]) => clusterRole(`system:controller:${controller}`, rules));
}

/** Each controller role bound to the controller's ServiceAccount in kube-system, as the controller manager runs it. */
export function bootstrapControllerRoleBindings(): KubeObject[] {
  return controllerRoles.map(([controller]) => clusterRoleBinding(`system:controller:${controller}`, [{ kind: 'ServiceAccount', name: controller, namespace: 'kube-system' }]));
}
