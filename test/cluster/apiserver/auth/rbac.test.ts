import { describe, expect, it } from 'vitest';
import {
  aggregatedClusterRoleRules,
  authorize,
  bootstrapClusterRoleBindings,
  bootstrapClusterRoles,
  forbiddenError,
  forbiddenMessage,
  impersonate,
  impersonationFromHeaders,
  rulesReview,
  serviceAccountGroups,
  serviceAccountUsername,
  type AuthorizationAttributes,
  type RbacSource,
  type UserInfo,
} from '../../../../src/cluster/apiserver/auth/rbac.ts';
import { StatusError, type KubeObject } from '../../../../src/cluster/types.ts';

const rbacApi = 'rbac.authorization.k8s.io/v1';

function role(namespace: string, name: string, rules: unknown[]): KubeObject {
  return { apiVersion: rbacApi, kind: 'Role', metadata: { name, namespace }, rules };
}
function clusterRole(name: string, rules: unknown[], labels?: Record<string, string>, aggregationRule?: unknown): KubeObject {
  return { apiVersion: rbacApi, kind: 'ClusterRole', metadata: { name, ...(labels ? { labels } : {}) }, rules, ...(aggregationRule ? { aggregationRule } : {}) };
}
function roleBinding(namespace: string, name: string, roleRef: { kind: string; name: string }, subjects: unknown[]): KubeObject {
  return { apiVersion: rbacApi, kind: 'RoleBinding', metadata: { name, namespace }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', ...roleRef }, subjects };
}
function clusterRoleBinding(name: string, roleName: string, subjects: unknown[]): KubeObject {
  return { apiVersion: rbacApi, kind: 'ClusterRoleBinding', metadata: { name }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: roleName }, subjects };
}

/** An in-memory RbacSource over the bootstrap policy plus the given objects, as the registry would serve them. */
function source(objects: KubeObject[]): RbacSource {
  const all = [...bootstrapClusterRoles(), ...bootstrapClusterRoleBindings(), ...objects];
  const of = (kind: string, namespace?: string): KubeObject[] => all.filter((o) => o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace));
  return {
    roles: (ns) => of('Role', ns),
    clusterRoles: () => of('ClusterRole'),
    roleBindings: (ns) => of('RoleBinding', ns),
    clusterRoleBindings: () => of('ClusterRoleBinding'),
  };
}

const sa = (namespace: string, name: string): UserInfo => ({ username: serviceAccountUsername(namespace, name), groups: serviceAccountGroups(namespace) });
const person = (username: string, ...groups: string[]): UserInfo => ({ username, groups: [...groups, 'system:authenticated'] });
const anonymous: UserInfo = { username: 'system:anonymous', groups: ['system:unauthenticated'] };

const learner = sa('lab', 'learner');

interface Request {
  verb: string;
  resource?: string;
  subresource?: string;
  group?: string;
  namespace?: string;
  name?: string;
  path?: string;
}
function attrs(user: UserInfo, r: Request): AuthorizationAttributes {
  return {
    user,
    verb: r.verb,
    resourceRequest: r.path === undefined,
    apiGroup: r.group ?? '',
    resource: r.resource ?? '',
    subresource: r.subresource ?? '',
    name: r.name ?? '',
    namespace: r.namespace ?? '',
    path: r.path ?? '',
  };
}

const policy = source([
  role('lab', 'pod-reader', [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]),
  roleBinding('lab', 'learner-pods', { kind: 'Role', name: 'pod-reader' }, [{ kind: 'ServiceAccount', name: 'learner', namespace: 'lab' }]),
  role('lab', 'settings', [{ apiGroups: [''], resources: ['configmaps'], resourceNames: ['settings'], verbs: ['get', 'update', 'create'] }]),
  roleBinding('lab', 'learner-settings', { kind: 'Role', name: 'settings' }, [{ kind: 'ServiceAccount', name: 'learner' }]),
  role('lab', 'logs', [{ apiGroups: [''], resources: ['pods/log'], verbs: ['get'] }, { apiGroups: ['apps'], resources: ['*/scale'], verbs: ['update'] }]),
  roleBinding('lab', 'learner-logs', { kind: 'Role', name: 'logs' }, [{ kind: 'User', name: 'logger' }]),
  roleBinding('lab', 'viewers', { kind: 'ClusterRole', name: 'view' }, [{ kind: 'User', name: 'vera' }]),
  roleBinding('lab', 'editors', { kind: 'ClusterRole', name: 'edit' }, [{ kind: 'Group', name: 'devs' }]),
  roleBinding('lab', 'admins', { kind: 'ClusterRole', name: 'admin' }, [{ kind: 'User', name: 'ada' }]),
  roleBinding('lab', 'tools-ci', { kind: 'ClusterRole', name: 'edit' }, [{ kind: 'ServiceAccount', name: 'ci', namespace: 'tools' }]),
  roleBinding('lab', 'all-sas', { kind: 'Role', name: 'pod-reader' }, [{ kind: 'Group', name: 'system:serviceaccounts:lab' }]),
  clusterRoleBinding('global-view', 'view', [{ kind: 'User', name: 'auditor' }, { kind: 'ServiceAccount', name: 'nowhere' }]),
  clusterRoleBinding('root', 'cluster-admin', [{ kind: 'User', name: 'root' }]),
  clusterRole('everything-apps', [{ apiGroups: ['*'], resources: ['deployments'], verbs: ['*'] }]),
  clusterRoleBinding('apps-star', 'everything-apps', [{ kind: 'User', name: 'star' }]),
  clusterRole('health', [{ nonResourceURLs: ['/healthz', '/healthz/*', '/metrics'], verbs: ['get'] }]),
  clusterRoleBinding('health', 'health', [{ kind: 'User', name: 'monitor' }]),
  clusterRole('anything-url', [{ nonResourceURLs: ['*'], verbs: ['get'] }, { apiGroups: [''], resources: ['*'], verbs: ['get'] }]),
  clusterRoleBinding('anything-url', 'anything-url', [{ kind: 'User', name: 'prober' }]),
  roleBinding('lab', 'dangling', { kind: 'Role', name: 'missing' }, [{ kind: 'User', name: 'ghost' }, { kind: 'ServiceAccount', name: 'learner' }]),
  clusterRoleBinding('dangling-cluster', 'no-such-role', [{ kind: 'User', name: 'ghost' }]),
  roleBinding('lab', 'nobody', { kind: 'ClusterRole', name: 'cluster-admin' }, []),
  role('other', 'pod-writer', [{ apiGroups: [''], resources: ['pods'], verbs: ['create'] }]),
  roleBinding('lab', 'wrong-namespace-role', { kind: 'Role', name: 'pod-writer' }, [{ kind: 'User', name: 'wanda' }]),
]);

const can = (user: UserInfo, r: Request): boolean => authorize(attrs(user, r), policy).allowed;

describe('RBAC semantics', () => {
  it.each<[string, UserInfo, Request, boolean]>([
    ['a Role bound to a ServiceAccount grants its verbs in the namespace', learner, { verb: 'list', resource: 'pods', namespace: 'lab' }, true],
    ['... and get of a named pod', learner, { verb: 'get', resource: 'pods', namespace: 'lab', name: 'web' }, true],
    ['... but not in another namespace', learner, { verb: 'list', resource: 'pods', namespace: 'default' }, false],
    ['... nor cluster-wide', learner, { verb: 'list', resource: 'pods' }, false],
    ['... nor verbs the role lacks', learner, { verb: 'delete', resource: 'pods', namespace: 'lab', name: 'web' }, false],
    ['... nor other resources', learner, { verb: 'list', resource: 'services', namespace: 'lab' }, false],
    ['... nor the same resource name in another API group', learner, { verb: 'list', resource: 'pods', group: 'metrics.k8s.io', namespace: 'lab' }, false],
    ['a rule for pods does not cover its subresources', learner, { verb: 'get', resource: 'pods', subresource: 'log', namespace: 'lab', name: 'web' }, false],
    ['a ServiceAccount subject without namespace means the binding namespace', learner, { verb: 'get', resource: 'configmaps', namespace: 'lab', name: 'settings' }, true],
    ['resourceNames limit the rule to those objects', learner, { verb: 'get', resource: 'configmaps', namespace: 'lab', name: 'other' }, false],
    ['resourceNames never match a list (no name)', learner, { verb: 'list', resource: 'configmaps', namespace: 'lab' }, false],
    ['resourceNames never match a create without name', learner, { verb: 'create', resource: 'configmaps', namespace: 'lab' }, false],
    ['resourceNames do match an update of that object', learner, { verb: 'update', resource: 'configmaps', namespace: 'lab', name: 'settings' }, true],
    ['a resource/subresource rule covers exactly that subresource', person('logger'), { verb: 'get', resource: 'pods', subresource: 'log', namespace: 'lab', name: 'web' }, true],
    ['... and not the parent resource', person('logger'), { verb: 'get', resource: 'pods', namespace: 'lab', name: 'web' }, false],
    ['*/scale covers deployments/scale', person('logger'), { verb: 'update', resource: 'deployments', subresource: 'scale', group: 'apps', namespace: 'lab', name: 'web' }, true],
    ['*/scale covers statefulsets/scale', person('logger'), { verb: 'update', resource: 'statefulsets', subresource: 'scale', group: 'apps', namespace: 'lab', name: 'db' }, true],
    ['*/scale does not cover the deployment itself', person('logger'), { verb: 'update', resource: 'deployments', group: 'apps', namespace: 'lab', name: 'web' }, false],
    ['*/scale does not cover other subresources', person('logger'), { verb: 'update', resource: 'deployments', subresource: 'status', group: 'apps', namespace: 'lab', name: 'web' }, false],
    ['a RoleBinding to a ClusterRole grants it only in the binding namespace', person('vera'), { verb: 'list', resource: 'deployments', group: 'apps', namespace: 'lab' }, true],
    ['... not in others', person('vera'), { verb: 'list', resource: 'deployments', group: 'apps', namespace: 'default' }, false],
    ['... and not for cluster-scoped resources', person('vera'), { verb: 'list', resource: 'namespaces' }, false],
    ['a ClusterRoleBinding grants in every namespace', person('auditor'), { verb: 'list', resource: 'pods', namespace: 'anywhere' }, true],
    ['... and across all namespaces', person('auditor'), { verb: 'list', resource: 'pods' }, true],
    ['a User subject matches only that user name', person('vera2'), { verb: 'list', resource: 'pods', namespace: 'lab' }, false],
    ['a Group subject matches members', person('dan', 'devs'), { verb: 'create', resource: 'deployments', group: 'apps', namespace: 'lab' }, true],
    ['... and not non-members', person('dan', 'ops'), { verb: 'create', resource: 'deployments', group: 'apps', namespace: 'lab' }, false],
    ['a ServiceAccount of another namespace may be bound explicitly', sa('tools', 'ci'), { verb: 'patch', resource: 'services', namespace: 'lab', name: 'web' }, true],
    ['... but a same-named ServiceAccount elsewhere is someone else', sa('lab', 'ci'), { verb: 'patch', resource: 'services', namespace: 'lab', name: 'web' }, false],
    ['the system:serviceaccounts:<ns> group covers every ServiceAccount there', sa('lab', 'someone'), { verb: 'watch', resource: 'pods', namespace: 'lab' }, true],
    ['a ClusterRoleBinding ServiceAccount subject needs a namespace', sa('default', 'nowhere'), { verb: 'list', resource: 'pods', namespace: 'default' }, false],
    ['apiGroups "*" matches any group', person('star'), { verb: 'delete', resource: 'deployments', group: 'extensions', namespace: 'x', name: 'a' }, true],
    ['verbs "*" matches any verb', person('star'), { verb: 'escalate', resource: 'deployments', group: 'apps', namespace: 'x' }, true],
    ['resources "*" matches subresources too', person('prober'), { verb: 'get', resource: 'pods', subresource: 'exec', namespace: 'lab', name: 'web' }, true],
    ['a non-resource URL rule matches the exact path', person('monitor'), { verb: 'get', path: '/metrics' }, true],
    ['... not a longer path', person('monitor'), { verb: 'get', path: '/metrics/slis' }, false],
    ['a URL ending in * matches by prefix', person('monitor'), { verb: 'get', path: '/healthz/etcd' }, true],
    ['... "/healthz/*" also covers "/healthz/"', person('monitor'), { verb: 'get', path: '/healthz/' }, true],
    ['... and the plain "/healthz" comes from its own entry', person('monitor'), { verb: 'get', path: '/healthz' }, true],
    ['non-resource rules check the verb', person('monitor'), { verb: 'post', path: '/metrics' }, false],
    ['nonResourceURLs "*" matches any path', person('prober'), { verb: 'get', path: '/anything/at/all' }, true],
    ['resource rules do not grant non-resource URLs', learner, { verb: 'get', path: '/metrics' }, false],
    ['non-resource rules do not grant resources', person('monitor'), { verb: 'get', resource: 'pods', namespace: 'lab' }, false],
    ['a Role of another namespace cannot be bound', person('wanda'), { verb: 'create', resource: 'pods', namespace: 'lab' }, false],
    ['a binding without subjects binds no one', person('nobody'), { verb: 'get', resource: 'pods', namespace: 'lab' }, false],
    ['system:masters may do anything', { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] }, { verb: 'delete', resource: 'nodes', name: 'n1' }, true],
    ['cluster-admin may do anything', person('root'), { verb: 'deletecollection', resource: 'widgets', group: 'example.com', namespace: 'x' }, true],
    ['cluster-admin covers non-resource URLs', person('root'), { verb: 'get', path: '/logs' }, true],
    ['every authenticated user may create selfsubjectaccessreviews', person('nobody'), { verb: 'create', resource: 'selfsubjectaccessreviews', group: 'authorization.k8s.io' }, true],
    ['... selfsubjectrulesreviews', learner, { verb: 'create', resource: 'selfsubjectrulesreviews', group: 'authorization.k8s.io' }, true],
    ['... and selfsubjectreviews (kubectl auth whoami)', learner, { verb: 'create', resource: 'selfsubjectreviews', group: 'authentication.k8s.io' }, true],
    ['authenticated users may read discovery', learner, { verb: 'get', path: '/apis/apps/v1' }, true],
    ['anonymous users may not read discovery', anonymous, { verb: 'get', path: '/api' }, false],
    ['anonymous users may read /version', anonymous, { verb: 'get', path: '/version' }, true],
    ['anonymous users may read /healthz', anonymous, { verb: 'get', path: '/healthz' }, true],
    ['anonymous users may not create selfsubjectaccessreviews', anonymous, { verb: 'create', resource: 'selfsubjectaccessreviews', group: 'authorization.k8s.io' }, false],
  ])('%s', (_title, user, request, allowed) => {
    expect(can(user, request)).toBe(allowed);
  });

  it('says which binding allowed a request', () => {
    expect(authorize(attrs(learner, { verb: 'list', resource: 'pods', namespace: 'lab' }), policy).reason).toBe(
      'RBAC: allowed by RoleBinding "learner-pods/lab" of Role "pod-reader" to ServiceAccount "learner/lab"',
    );
    expect(authorize(attrs(person('root'), { verb: 'list', resource: 'pods' }), policy).reason).toBe('RBAC: allowed by ClusterRoleBinding "root" of ClusterRole "cluster-admin" to User "root"');
    expect(authorize(attrs(person('dan', 'devs'), { verb: 'create', resource: 'pods', namespace: 'lab' }), policy).reason).toBe('RBAC: allowed by RoleBinding "editors/lab" of ClusterRole "edit" to Group "devs"');
    expect(authorize(attrs({ username: 'admin', groups: ['system:masters'] }, { verb: 'get', path: '/' }), policy)).toEqual({ allowed: true, reason: '' });
  });

  it('reports bindings whose role is missing when nothing else allows', () => {
    expect(authorize(attrs(person('ghost'), { verb: 'get', resource: 'pods', namespace: 'lab' }), policy)).toEqual({
      allowed: false,
      reason: 'RBAC: [clusterrole.rbac.authorization.k8s.io "no-such-role" not found, role.rbac.authorization.k8s.io "missing" not found]',
    });
    expect(authorize(attrs(person('ghost'), { verb: 'get', resource: 'pods', namespace: 'default' }), policy)).toEqual({ allowed: false, reason: 'RBAC: clusterrole.rbac.authorization.k8s.io "no-such-role" not found' });
    expect(authorize(attrs(person('plain'), { verb: 'get', resource: 'pods', namespace: 'lab' }), policy)).toEqual({ allowed: false, reason: '' });
    // another binding still allows despite the dangling one
    expect(authorize(attrs(learner, { verb: 'get', resource: 'pods', namespace: 'lab', name: 'x' }), policy).allowed).toBe(true);
  });

  it('ignores objects that are not valid RBAC objects', () => {
    const broken = source([{ apiVersion: rbacApi, kind: 'ClusterRoleBinding', metadata: { name: 'broken' }, subjects: 'not-a-list' } as unknown as KubeObject, clusterRoleBinding('ok', 'view', [{ kind: 'User', name: 'u' }])]);
    expect(authorize(attrs(person('u'), { verb: 'get', resource: 'pods', namespace: 'x' }), broken).allowed).toBe(true);
  });
});

describe('default roles: admin, edit, view', () => {
  const ada = person('ada');
  const dev = person('dan', 'devs');
  const vera = person('vera');

  it.each<[string, UserInfo, Request, boolean]>([
    ['view reads pods', vera, { verb: 'get', resource: 'pods', namespace: 'lab', name: 'p' }, true],
    ['view reads pod logs', vera, { verb: 'get', resource: 'pods', subresource: 'log', namespace: 'lab', name: 'p' }, true],
    ['view reads events, quotas and limit ranges', vera, { verb: 'list', resource: 'resourcequotas', namespace: 'lab' }, true],
    ['view does not read secrets', vera, { verb: 'get', resource: 'secrets', namespace: 'lab', name: 's' }, false],
    ['view does not exec', vera, { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'lab', name: 'p' }, false],
    ['view does not read roles', vera, { verb: 'list', resource: 'roles', group: 'rbac.authorization.k8s.io', namespace: 'lab' }, false],
    ['edit creates deployments', dev, { verb: 'create', resource: 'deployments', group: 'apps', namespace: 'lab' }, true],
    ['edit scales deployments', dev, { verb: 'patch', resource: 'deployments', subresource: 'scale', group: 'apps', namespace: 'lab', name: 'web' }, true],
    ['edit execs into pods', dev, { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'lab', name: 'p' }, true],
    ['edit reads secrets', dev, { verb: 'get', resource: 'secrets', namespace: 'lab', name: 's' }, true],
    ['edit requests tokens', dev, { verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: 'lab', name: 'default' }, true],
    ['edit reads what view reads', dev, { verb: 'list', resource: 'endpointslices', group: 'discovery.k8s.io', namespace: 'lab' }, true],
    ['edit does not write roles', dev, { verb: 'create', resource: 'rolebindings', group: 'rbac.authorization.k8s.io', namespace: 'lab' }, false],
    ['edit does not touch nodes', dev, { verb: 'get', resource: 'nodes', name: 'n' }, false],
    ['admin writes role bindings', ada, { verb: 'create', resource: 'rolebindings', group: 'rbac.authorization.k8s.io', namespace: 'lab' }, true],
    ['admin creates localsubjectaccessreviews', ada, { verb: 'create', resource: 'localsubjectaccessreviews', group: 'authorization.k8s.io', namespace: 'lab' }, true],
    ['admin has what edit has', ada, { verb: 'delete', resource: 'jobs', group: 'batch', namespace: 'lab', name: 'j' }, true],
    ['admin has what view has', ada, { verb: 'watch', resource: 'horizontalpodautoscalers', group: 'autoscaling', namespace: 'lab' }, true],
    ['admin does not edit the namespace itself', ada, { verb: 'delete', resource: 'namespaces', name: 'lab' }, false],
  ])('%s', (_title, user, request, allowed) => {
    expect(can(user, request)).toBe(allowed);
  });
});

describe('ClusterRole aggregation', () => {
  it('a new role labelled aggregate-to-view reaches view, edit and admin', () => {
    const widgets = clusterRole('widget-viewer', [{ apiGroups: ['example.com'], resources: ['widgets'], verbs: ['get', 'list', 'watch'] }], { 'rbac.authorization.k8s.io/aggregate-to-view': 'true' });
    const withWidgets = source([widgets, roleBinding('lab', 'v', { kind: 'ClusterRole', name: 'view' }, [{ kind: 'User', name: 'v' }]), roleBinding('lab', 'a', { kind: 'ClusterRole', name: 'admin' }, [{ kind: 'User', name: 'a' }])]);
    const listWidgets = (user: string): boolean => authorize(attrs(person(user), { verb: 'list', resource: 'widgets', group: 'example.com', namespace: 'lab' }), withWidgets).allowed;
    expect(listWidgets('v')).toBe(true);
    expect(listWidgets('a')).toBe(true);
    expect(can(person('vera'), { verb: 'list', resource: 'widgets', group: 'example.com', namespace: 'lab' })).toBe(false);
  });

  it('selects with matchExpressions, in name order, without duplicate rules', () => {
    const read = { apiGroups: [''], resources: ['pods'], verbs: ['get'] };
    const roles = [
      clusterRole('b-role', [read, { apiGroups: [''], resources: ['services'], verbs: ['get'] }], { team: 'blue' }),
      clusterRole('a-role', [read], { team: 'green' }),
      clusterRole('c-role', [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'] }], { team: 'red' }),
      clusterRole('other', [{ apiGroups: [''], resources: ['nodes'], verbs: ['get'] }], { tier: 'x' }),
    ];
    const aggregate = clusterRole('team-reader', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }], {}, { clusterRoleSelectors: [{ matchExpressions: [{ key: 'team', operator: 'In', values: ['blue', 'green'] }] }, { matchLabels: { team: 'red' } }] });
    expect(aggregatedClusterRoleRules(aggregate, [...roles, aggregate])).toEqual([read, { apiGroups: [''], resources: ['services'], verbs: ['get'] }, { apiGroups: [''], resources: ['secrets'], verbs: ['get'] }]);
  });

  it('an aggregated role with no matching roles grants nothing, whatever rules it stored', () => {
    const lonely = clusterRole('lonely', [{ apiGroups: ['*'], resources: ['*'], verbs: ['*'] }], {}, { clusterRoleSelectors: [{ matchLabels: { none: 'here' } }] });
    const s = source([lonely, clusterRoleBinding('lonely', 'lonely', [{ kind: 'User', name: 'l' }])]);
    expect(authorize(attrs(person('l'), { verb: 'get', resource: 'pods', namespace: 'x' }), s).allowed).toBe(false);
  });

  it('survives roles that aggregate each other, using the stored rules where the loop closes', () => {
    const a = clusterRole('a', [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }], { loop: 'true' }, { clusterRoleSelectors: [{ matchLabels: { loop: 'true' } }] });
    const b = clusterRole('b', [], { loop: 'true' }, { clusterRoleSelectors: [{ matchLabels: { loop: 'true' } }] });
    expect(aggregatedClusterRoleRules(a, [a, b])).toEqual([{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }]);
  });
});

describe('bootstrap policy', () => {
  const roles = bootstrapClusterRoles();
  const byName = (name: string): KubeObject | undefined => roles.find((r) => r.metadata.name === name);

  it('has the default roles a real cluster has, labelled as upstream', () => {
    expect(roles.map((r) => r.metadata.name)).toEqual([
      'cluster-admin', 'admin', 'edit', 'view', 'system:aggregate-to-admin', 'system:aggregate-to-edit', 'system:aggregate-to-view', 'system:basic-user', 'system:discovery', 'system:public-info-viewer',
      'system:service-account-issuer-discovery',
    ]);
    for (const r of roles) {
      expect(r.metadata.labels?.['kubernetes.io/bootstrapping']).toBe('rbac-defaults');
      expect(r.metadata.annotations?.['rbac.authorization.kubernetes.io/autoupdate']).toBe('true');
    }
    expect(byName('edit')?.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-admin']).toBe('true');
    expect(byName('view')?.metadata.labels?.['rbac.authorization.k8s.io/aggregate-to-edit']).toBe('true');
    expect(byName('admin')?.aggregationRule).toEqual({ clusterRoleSelectors: [{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } }] });
  });

  it('ships admin, edit and view with their aggregated rules, edit first in admin', () => {
    const rules = (name: string): unknown[] => (byName(name)?.rules as unknown[]) ?? [];
    expect(rules('view')).toEqual(byName('system:aggregate-to-view')?.rules);
    expect(rules('edit').slice(0, rules('system:aggregate-to-edit').length)).toEqual(rules('system:aggregate-to-edit'));
    expect(rules('edit')).toHaveLength(rules('system:aggregate-to-edit').length + rules('view').length);
    expect(rules('admin')).toEqual([...rules('edit'), ...rules('system:aggregate-to-admin')]);
    expect(rules('admin')[0]).toEqual({ apiGroups: [''], resources: ['pods/attach', 'pods/exec', 'pods/portforward', 'pods/proxy', 'secrets', 'services/proxy'], verbs: ['get', 'list', 'watch'] });
  });

  it('binds cluster-admin to system:masters and the public roles to everyone', () => {
    const bindings = bootstrapClusterRoleBindings();
    const subjects = Object.fromEntries(bindings.map((b) => [b.metadata.name, (b.subjects as { name: string }[]).map((s) => s.name)]));
    expect(subjects).toEqual({
      'cluster-admin': ['system:masters'],
      'system:basic-user': ['system:authenticated'],
      'system:discovery': ['system:authenticated'],
      'system:public-info-viewer': ['system:authenticated', 'system:unauthenticated'],
      'system:service-account-issuer-discovery': ['system:serviceaccounts'],
    });
    expect(bindings[0]?.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cluster-admin' });
  });
});

describe('Forbidden messages', () => {
  it.each<[UserInfo, Request, string]>([
    [learner, { verb: 'list', resource: 'pods', namespace: 'default' }, 'pods is forbidden: User "system:serviceaccount:lab:learner" cannot list resource "pods" in API group "" in the namespace "default"'],
    [learner, { verb: 'get', resource: 'pods', namespace: 'lab', name: 'web' }, 'pods "web" is forbidden: User "system:serviceaccount:lab:learner" cannot get resource "pods" in API group "" in the namespace "lab"'],
    [learner, { verb: 'create', resource: 'pods', subresource: 'exec', namespace: 'lab', name: 'web' }, 'pods "web" is forbidden: User "system:serviceaccount:lab:learner" cannot create resource "pods/exec" in API group "" in the namespace "lab"'],
    [learner, { verb: 'list', resource: 'nodes' }, 'nodes is forbidden: User "system:serviceaccount:lab:learner" cannot list resource "nodes" in API group "" at the cluster scope'],
    [learner, { verb: 'list', resource: 'pods' }, 'pods is forbidden: User "system:serviceaccount:lab:learner" cannot list resource "pods" in API group "" at the cluster scope'],
    [learner, { verb: 'create', resource: 'deployments', group: 'apps', namespace: 'lab' }, 'deployments.apps is forbidden: User "system:serviceaccount:lab:learner" cannot create resource "deployments" in API group "apps" in the namespace "lab"'],
    [learner, { verb: 'patch', resource: 'deployments', subresource: 'scale', group: 'apps', namespace: 'lab', name: 'web' }, 'deployments.apps "web" is forbidden: User "system:serviceaccount:lab:learner" cannot patch resource "deployments/scale" in API group "apps" in the namespace "lab"'],
    [learner, { verb: 'get', path: '/metrics' }, 'forbidden: User "system:serviceaccount:lab:learner" cannot get path "/metrics"'],
  ])('%#: %s', (user, request, message) => {
    expect(forbiddenMessage(attrs(user, request))).toBe(message);
  });

  it('appends the authorizer reason and answers 403 Forbidden', () => {
    const a = attrs(person('ghost'), { verb: 'get', resource: 'pods', namespace: 'lab', name: 'web' });
    const error = forbiddenError(a, authorize(a, policy).reason);
    expect(error).toBeInstanceOf(StatusError);
    expect(error.status).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      code: 403,
      reason: 'Forbidden',
      message: 'pods "web" is forbidden: User "ghost" cannot get resource "pods" in API group "" in the namespace "lab": RBAC: [clusterrole.rbac.authorization.k8s.io "no-such-role" not found, role.rbac.authorization.k8s.io "missing" not found]',
      details: { name: 'web', kind: 'pods' },
    });
  });
});

describe('rulesReview (SelfSubjectRulesReview)', () => {
  it('lists every rule the user has in the namespace, resource and non-resource apart', () => {
    const review = rulesReview(learner, 'lab', policy);
    expect(review.incomplete).toBe(false);
    expect(review.resourceRules).toContainEqual({ verbs: ['get', 'list', 'watch'], apiGroups: [''], resources: ['pods'] });
    expect(review.resourceRules).toContainEqual({ verbs: ['get', 'update', 'create'], apiGroups: [''], resources: ['configmaps'], resourceNames: ['settings'] });
    expect(review.resourceRules).toContainEqual({ verbs: ['create'], apiGroups: ['authorization.k8s.io'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] });
    expect(review.nonResourceRules).toContainEqual({ verbs: ['get'], nonResourceURLs: ['/healthz', '/livez', '/readyz', '/version', '/version/'] });
    expect(review.evaluationError).toBe('role.rbac.authorization.k8s.io "missing" not found');
  });

  it('in another namespace shows only the cluster-wide rules', () => {
    const review = rulesReview(learner, 'default', policy);
    expect(review.resourceRules.map((r) => r.resources)).toEqual([['selfsubjectaccessreviews', 'selfsubjectrulesreviews'], ['selfsubjectreviews']]);
    expect(review.evaluationError).toBeUndefined();
  });

  it('for system:masters shows cluster-admin', () => {
    const review = rulesReview({ username: 'admin', groups: ['system:masters', 'system:authenticated'] }, 'lab', policy);
    expect(review.resourceRules[0]).toEqual({ verbs: ['*'], apiGroups: ['*'], resources: ['*'] });
    expect(review.nonResourceRules[0]).toEqual({ verbs: ['*'], nonResourceURLs: ['*'] });
  });
});

describe('impersonation', () => {
  const admin: UserInfo = { username: 'kubernetes-admin', groups: ['system:masters', 'system:authenticated'] };
  const impersonator = source([
    clusterRole('impersonate-users', [{ apiGroups: [''], resources: ['users'], verbs: ['impersonate'], resourceNames: ['alice'] }]),
    clusterRoleBinding('bob-impersonates', 'impersonate-users', [{ kind: 'User', name: 'bob' }]),
    roleBinding('lab', 'learner-edit', { kind: 'ClusterRole', name: 'edit' }, [{ kind: 'ServiceAccount', name: 'learner' }]),
  ]);

  it('lets an admin act as a ServiceAccount with its groups', () => {
    expect(impersonate(admin, { user: 'system:serviceaccount:lab:learner' }, impersonator)).toEqual({ username: 'system:serviceaccount:lab:learner', groups: ['system:serviceaccounts', 'system:serviceaccounts:lab', 'system:authenticated'] });
  });

  it('keeps requested groups, adds system:authenticated, passes uid and extra', () => {
    expect(impersonate(admin, { user: 'alice', groups: ['devs'], uid: '42', extra: { scopes: ['a', 'b'] } }, impersonator)).toEqual({ username: 'alice', groups: ['devs', 'system:authenticated'], uid: '42', extra: { scopes: ['a', 'b'] } });
    expect(impersonate(admin, { user: 'system:anonymous' }, impersonator).groups).toEqual([]);
  });

  it('checks impersonate on users, honouring resourceNames', () => {
    expect(impersonate(person('bob'), { user: 'alice' }, impersonator).username).toBe('alice');
    expect(() => impersonate(person('bob'), { user: 'carol' }, impersonator)).toThrow('users "carol" is forbidden: User "bob" cannot impersonate resource "users" in API group "" at the cluster scope');
  });

  it('checks impersonate on each group', () => {
    expect(() => impersonate(person('bob'), { user: 'alice', groups: ['system:masters'] }, impersonator)).toThrow('groups "system:masters" is forbidden: User "bob" cannot impersonate resource "groups" in API group "" at the cluster scope');
  });

  it('checks impersonate on serviceaccounts in their namespace (edit grants it)', () => {
    expect(() => impersonate(person('bob'), { user: 'system:serviceaccount:lab:learner' }, impersonator)).toThrow('serviceaccounts "learner" is forbidden: User "bob" cannot impersonate resource "serviceaccounts" in API group "" in the namespace "lab"');
    expect(impersonate(sa('lab', 'learner'), { user: 'system:serviceaccount:lab:helper' }, impersonator).username).toBe('system:serviceaccount:lab:helper');
  });

  it('checks extra and uid in authentication.k8s.io', () => {
    let error: unknown;
    try {
      impersonate(person('bob'), { user: 'alice', extra: { scopes: ['view'] } }, impersonator);
    } catch (e) {
      error = e;
    }
    expect((error as StatusError).status.message).toBe('userextras.authentication.k8s.io "view" is forbidden: User "bob" cannot impersonate resource "userextras/scopes" in API group "authentication.k8s.io" at the cluster scope');
    expect(() => impersonate(person('bob'), { user: 'alice', uid: 'u1' }, impersonator)).toThrow('uids.authentication.k8s.io "u1" is forbidden');
  });

  it('refuses groups without a user with 400', () => {
    let error: unknown;
    try {
      impersonate(admin, { groups: ['devs'] }, impersonator);
    } catch (e) {
      error = e;
    }
    expect((error as StatusError).code).toBe(400);
  });

  it('reads Impersonate-* headers', () => {
    expect(impersonationFromHeaders({ 'impersonate-user': 'alice', 'impersonate-group': ['a', 'b'], 'impersonate-uid': '7', 'impersonate-extra-acme.com%2fproject': ['x'], accept: 'application/json' })).toEqual({
      user: 'alice',
      groups: ['a', 'b'],
      uid: '7',
      extra: { 'acme.com/project': ['x'] },
    });
    expect(impersonationFromHeaders({ accept: 'application/json' })).toBeUndefined();
  });
});
