// Who may do what: kubectl auth can-i (admin, a namespaced ServiceAccount through --as and through
// its own token, resource names, subresources, non-resource URLs, --list), auth whoami, the
// default edit/view ClusterRoles bound in a namespace, Forbidden messages and impersonation.
import { describe, expect, it } from 'vitest';
import { ALL_VERSIONS, EDGE_VERSIONS, useConformanceCluster, type Sandbox } from './harness.ts';
import { columns, expectResult, table } from './output.ts';

const c = useConformanceCluster({ kubelet: false });

/** whoami's SelfSubjectReview is served as authentication.k8s.io/v1, which kubectl reads from 1.28 on. */
const WHOAMI_VERSIONS = EDGE_VERSIONS.filter((v) => v !== '1.27').concat(ALL_VERSIONS.includes('1.28') ? ['1.28'] : []);

/** A ServiceAccount `robot` that may read pods (Role pod-reader) and one ConfigMap by name. */
async function robot(hint: string): Promise<Sandbox> {
  const s = await c.sandbox(hint);
  const binding = (name: string, role: string) =>
    `apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: ${name}}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: ${role}}\nsubjects: [{kind: ServiceAccount, name: robot, namespace: ${s.namespace}}]\n`;
  s.create(
    [
      'apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: robot}\n',
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: pod-reader}\nrules: [{apiGroups: [""], resources: [pods], verbs: [get, list, watch]}]\n',
      'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: settings-reader}\nrules: [{apiGroups: [""], resources: [configmaps], resourceNames: [settings], verbs: [get]}]\n',
      binding('robot-pods', 'pod-reader'),
      binding('robot-settings', 'settings-reader'),
    ].join('---\n'),
  );
  return s;
}

const as = (s: Sandbox) => `--as=system:serviceaccount:${s.namespace}:robot`;

describe.concurrent('kubectl auth can-i', () => {
  it.each(EDGE_VERSIONS)('%s the admin may do anything', async (version) => {
    const s = await c.sandbox('can-i-admin');
    const results = [await s.kubectl(version, ['auth', 'can-i', 'create', 'deployments']), await s.kubectl(version, ['auth', 'can-i', '*', '*', '--all-namespaces'])];
    expect(results).toEqual([
      { code: 0, stdout: 'yes\n', stderr: '' },
      { code: 0, stdout: 'yes\n', stderr: '' },
    ]);
  });

  it.each(EDGE_VERSIONS)('%s a ServiceAccount (--as) within its Role', async (version) => {
    const s = await robot('can-i-sa-yes');
    expectResult(await s.kubectl(version, ['auth', 'can-i', 'list', 'pods', as(s)]), { code: 0, stdout: 'yes\n' });
  });

  it.each(EDGE_VERSIONS)('%s a ServiceAccount (--as) outside its Role: no, exit 1', async (version) => {
    const s = await robot('can-i-sa-no');
    const results = [
      await s.kubectl(version, ['auth', 'can-i', 'delete', 'pods', as(s)]),
      await s.kubectl(version, ['auth', 'can-i', 'list', 'pods', as(s), '-n', 'default']),
      await s.kubectl(version, ['auth', 'can-i', 'get', 'pods', '--subresource=log', as(s)]),
    ];
    expect(results.map((r) => [r.code, r.stdout, r.stderr])).toEqual([
      [1, 'no\n', ''],
      [1, 'no\n', ''],
      [1, 'no\n', ''],
    ]);
  });

  it.each(EDGE_VERSIONS)('%s resource names: the named ConfigMap only', async (version) => {
    const s = await robot('can-i-names');
    const results = [await s.kubectl(version, ['auth', 'can-i', 'get', 'configmaps/settings', as(s)]), await s.kubectl(version, ['auth', 'can-i', 'get', 'configmaps/other', as(s)])];
    expect(results.map((r) => [r.code, r.stdout])).toEqual([
      [0, 'yes\n'],
      [1, 'no\n'],
    ]);
  });

  it.each(EDGE_VERSIONS)('%s non-resource URLs every authenticated user may get', async (version) => {
    const s = await robot('can-i-urls');
    const results = [await s.kubectl(version, ['auth', 'can-i', 'get', '/healthz', as(s)]), await s.kubectl(version, ['auth', 'can-i', 'get', '/metrics', as(s)])];
    expect(results.map((r) => [r.code, r.stdout])).toEqual([
      [0, 'yes\n'],
      [1, 'no\n'],
    ]);
  });

  it.each(EDGE_VERSIONS)('%s --list for the ServiceAccount', async (version) => {
    const s = await robot('can-i-list');
    const result = await s.kubectl(version, ['auth', 'can-i', '--list', as(s)]);
    expect([result.code, result.stderr]).toEqual([0, '']);
    const url = (u: string) => ['', `[${u}]`, '[]', '[get]'];
    const expected = columns([
      ['Resources', 'Non-Resource URLs', 'Resource Names', 'Verbs'],
      ['selfsubjectreviews.authentication.k8s.io', '[]', '[]', '[create]'],
      ['selfsubjectaccessreviews.authorization.k8s.io', '[]', '[]', '[create]'],
      ['selfsubjectrulesreviews.authorization.k8s.io', '[]', '[]', '[create]'],
      ['pods', '[]', '[]', '[get list watch]'],
      ['configmaps', '[]', '[settings]', '[get]'],
      url('/.well-known/openid-configuration/'),
      url('/.well-known/openid-configuration'),
      url('/api/*'),
      url('/api'),
      url('/apis/*'),
      url('/apis'),
      url('/healthz'),
      url('/healthz'),
      url('/livez'),
      url('/livez'),
      url('/openapi/*'),
      url('/openapi'),
      url('/openid/v1/jwks/'),
      url('/openid/v1/jwks'),
      url('/readyz'),
      url('/readyz'),
      url('/version/'),
      url('/version/'),
      url('/version'),
      url('/version'),
    ]);
    // The order of rules is kubectl's; what the server grants is the set.
    const rows = (out: string) => table(out).split('\n').map((line) => line.replace(/\s+/g, ' ').trim());
    expect(rows(result.stdout).sort()).toEqual(rows(expected).sort());
  });

  it.each(EDGE_VERSIONS)('%s --list for the admin starts with everything', async (version) => {
    const s = await c.sandbox('can-i-list-admin');
    const result = await s.kubectl(version, ['auth', 'can-i', '--list']);
    expect(result.code).toBe(0);
    const rows = table(result.stdout).split('\n').map((line) => line.replace(/\s+/g, ' ').trim());
    expect(rows.slice(0, 3)).toEqual(['Resources Non-Resource URLs Resource Names Verbs', '*.* [] [] [*]', '[*] [] [*]']);
  });

  it.each(EDGE_VERSIONS)('%s the ServiceAccount\'s own token', async (version) => {
    const s = await robot('can-i-token');
    const kubeconfig = await s.kubeconfigFor('robot');
    const results = [
      await s.kubectl(version, ['auth', 'can-i', 'watch', 'pods'], { kubeconfig }),
      await s.kubectl(version, ['auth', 'can-i', 'create', 'pods'], { kubeconfig }),
    ];
    expect(results.map((r) => [r.code, r.stdout])).toEqual([
      [0, 'yes\n'],
      [1, 'no\n'],
    ]);
  });

  it.each(EDGE_VERSIONS)('%s the default edit ClusterRole bound in a namespace', async (version) => {
    const s = await c.sandbox('can-i-edit');
    await s.must(['create', 'serviceaccount', 'dev']);
    await s.must(['create', 'rolebinding', 'dev-edit', '--clusterrole=edit', `--serviceaccount=${s.namespace}:dev`]);
    const who = `--as=system:serviceaccount:${s.namespace}:dev`;
    const checks = [
      ['create', 'deployments.apps'],
      ['delete', 'secrets'],
      ['create', 'pods/exec'],
      ['create', 'roles.rbac.authorization.k8s.io'],
      ['create', 'resourcequotas'],
      ['get', 'resourcequotas'],
    ];
    const answers = [];
    for (const [verb, resource] of checks) answers.push((await s.kubectl(version, ['auth', 'can-i', verb as string, resource as string, who])).stdout.trim());
    expect(answers).toEqual(['yes', 'yes', 'yes', 'no', 'no', 'yes']);
  });

  it.each(EDGE_VERSIONS)('%s the default view ClusterRole: reads, but not Secrets', async (version) => {
    const s = await c.sandbox('can-i-view');
    await s.must(['create', 'serviceaccount', 'viewer']);
    await s.must(['create', 'rolebinding', 'viewer-view', '--clusterrole=view', `--serviceaccount=${s.namespace}:viewer`]);
    const who = `--as=system:serviceaccount:${s.namespace}:viewer`;
    const answers = [];
    for (const [verb, resource] of [['list', 'pods'], ['get', 'pods/log'], ['get', 'secrets'], ['update', 'configmaps']]) {
      answers.push((await s.kubectl(version, ['auth', 'can-i', verb as string, resource as string, who])).stdout.trim());
    }
    expect(answers).toEqual(['yes', 'yes', 'no', 'no']);
  });

  it.each(EDGE_VERSIONS)('%s a user through a group binding (--as with --as-group)', async (version) => {
    const s = await c.sandbox('can-i-group');
    await s.must(['create', 'rolebinding', 'devs-view', '--clusterrole=view', '--group=devs']);
    const results = [
      await s.kubectl(version, ['auth', 'can-i', 'list', 'services', '--as=alice', '--as-group=devs']),
      await s.kubectl(version, ['auth', 'can-i', 'list', 'services', '--as=alice']),
    ];
    expect(results.map((r) => [r.code, r.stdout])).toEqual([
      [0, 'yes\n'],
      [1, 'no\n'],
    ]);
  });
});

describe.concurrent('what RBAC refuses', () => {
  it.each(EDGE_VERSIONS)('%s a ServiceAccount listing Secrets: Forbidden with the full reason', async (version) => {
    const s = await robot('forbidden-list');
    const kubeconfig = await s.kubeconfigFor('robot');
    expectResult(await s.kubectl(version, ['get', 'secrets'], { kubeconfig }), {
      code: 1,
      stdout: '',
      stderr: `Error from server (Forbidden): secrets is forbidden: User "system:serviceaccount:${s.namespace}:robot" cannot list resource "secrets" in API group "" in the namespace "${s.namespace}"\n`,
    });
  });

  it.each(EDGE_VERSIONS)('%s creating a deployment: Forbidden names the group', async (version) => {
    const s = await robot('forbidden-create');
    const kubeconfig = await s.kubeconfigFor('robot');
    expectResult(await s.kubectl(version, ['create', 'deployment', 'web', '--image=nginx'], { kubeconfig }), {
      code: 1,
      stdout: '',
      stderr: `error: failed to create deployment: deployments.apps is forbidden: User "system:serviceaccount:${s.namespace}:robot" cannot create resource "deployments" in API group "apps" in the namespace "${s.namespace}"\n`,
    });
  });

  it.each(EDGE_VERSIONS)('%s reading a cluster-scoped resource', async (version) => {
    const s = await robot('forbidden-nodes');
    expectResult(await s.kubectl(version, ['get', 'nodes', as(s)]), {
      code: 1,
      stdout: '',
      stderr: `Error from server (Forbidden): nodes is forbidden: User "system:serviceaccount:${s.namespace}:robot" cannot list resource "nodes" in API group "" at the cluster scope\n`,
    });
  });

  it.each(EDGE_VERSIONS)('%s impersonating without permission', async (version) => {
    const s = await robot('forbidden-impersonate');
    const kubeconfig = await s.kubeconfigFor('robot');
    expectResult(await s.kubectl(version, ['get', 'pods', '--as=admin'], { kubeconfig }), {
      code: 1,
      stdout: '',
      stderr: `Error from server (Forbidden): users "admin" is forbidden: User "system:serviceaccount:${s.namespace}:robot" cannot impersonate resource "users" in API group "" at the cluster scope\n`,
    });
  });

  it.each(EDGE_VERSIONS)('%s a named object outside the Role\'s resource names', async (version) => {
    const s = await robot('forbidden-name');
    await s.must(['create', 'configmap', 'settings']);
    await s.must(['create', 'configmap', 'other']);
    const results = [await s.kubectl(version, ['get', 'configmap', 'settings', '-o', 'name', as(s)]), await s.kubectl(version, ['get', 'configmap', 'other', as(s)])];
    expect(results).toEqual([
      { code: 0, stdout: 'configmap/settings\n', stderr: '' },
      {
        code: 1,
        stdout: '',
        stderr: `Error from server (Forbidden): configmaps "other" is forbidden: User "system:serviceaccount:${s.namespace}:robot" cannot get resource "configmaps" in API group "" in the namespace "${s.namespace}"\n`,
      },
    ]);
  });
});

describe.concurrent('kubectl auth whoami', () => {
  it.each(WHOAMI_VERSIONS)('%s the admin', async (version) => {
    expectResult(
      await c.kubectl(version, ['auth', 'whoami']),
      { code: 0, stdout: 'ATTRIBUTE   VALUE\nUsername    kubernetes-admin\nGroups      [system:masters system:authenticated]\n' },
      table,
    );
  });

  it.each(WHOAMI_VERSIONS)('%s a ServiceAccount token: uid, groups and the token id', async (version) => {
    const s = await robot('whoami-sa');
    const kubeconfig = await s.kubeconfigFor('robot');
    const uid = c.get('', 'v1', 'serviceaccounts', s.namespace, 'robot')?.metadata.uid;
    const result = await s.kubectl(version, ['auth', 'whoami'], { kubeconfig });
    expectResult(
      result,
      {
        code: 0,
        stdout: columns([
          ['ATTRIBUTE', 'VALUE'],
          ['Username', `system:serviceaccount:${s.namespace}:robot`],
          ['UID', String(uid)],
          ['Groups', `[system:serviceaccounts system:serviceaccounts:${s.namespace} system:authenticated]`],
          ['Extra: authentication.kubernetes.io/credential-id', '[JTI=<id>]'],
        ]),
      },
      (out) => table(out.replace(/\[JTI=[0-9a-f-]{36}\]/, '[JTI=<id>]')),
    );
  });

  it.each(WHOAMI_VERSIONS)('%s -o jsonpath', async (version) => {
    const s = await robot('whoami-jsonpath');
    expectResult(await s.kubectl(version, ['auth', 'whoami', as(s), '-o', 'jsonpath={.status.userInfo.username}']), {
      code: 0,
      stdout: `system:serviceaccount:${s.namespace}:robot`,
    });
  });
});
