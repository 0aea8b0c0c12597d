// RBAC escalation prevention, tried as a hostile learner: in a lab whose Role lets the learner
// manage Roles and RoleBindings, every attempt to grant itself more than it holds is refused
// with upstream's Forbidden message (the missing rules, compacted and sorted), so its quota and
// LimitRange stay. Granted `escalate`/`bind` (what upstream asks for), the same writes work.
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandboxes } from '../../src/server/sandboxes/index.ts';
import { hasKubectl } from '../cluster/apiserver/harness.ts';
import { startSecurityFixture, type Learner, type SecurityFixture } from './learner.ts';

const step = `steps:
  - id: look
    title: Look around
    instructions: List the roles.
    checks:
      - kind: exists
        resource: role
        name: pod-reader
        passesBefore: true
    solution:
      - kubectl get roles
`;

const podReader = 'apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata:\n  name: pod-reader\nrules:\n  - apiGroups: [""]\n    resources: [pods]\n    verbs: [get, list]\n';

/** The learner manages Roles and RoleBindings in its sandbox and may create ClusterRoleBindings. */
const rbacManager = {
  'lab.yaml': `title: RBAC manager
summary: The learner writes Roles and RoleBindings.
duration: 5
timeLimit: 30
rbac:
  - apiGroups: [rbac.authorization.k8s.io]
    resources: [roles, rolebindings]
    verbs: [get, list, watch, create, update, patch, delete]
  - apiGroups: [rbac.authorization.k8s.io]
    resources: [clusterrolebindings, clusterroles]
    verbs: [create]
    scope: cluster
setup:
  manifests: [setup/pod-reader.yaml]
${step}`,
  'setup/pod-reader.yaml': podReader,
};

/** The same, plus what upstream asks of a delegated administrator: escalate on roles, bind on named ClusterRoles. */
const delegatedAdmin = {
  'lab.yaml': `title: Delegated admin
summary: The learner may escalate roles and bind admin.
duration: 5
timeLimit: 30
rbac:
  - apiGroups: [rbac.authorization.k8s.io]
    resources: [roles, rolebindings]
    verbs: [get, list, watch, create, update, patch, delete, escalate]
  - apiGroups: [rbac.authorization.k8s.io]
    resources: [clusterroles]
    resourceNames: [admin]
    verbs: [bind]
setup:
  manifests: [setup/pod-reader.yaml]
${step}`,
  'setup/pod-reader.yaml': podReader,
};

const everything = ['{APIGroups:["*"], Resources:["*"], Verbs:["*"]}', '{NonResourceURLs:["*"], Verbs:["*"]}'];

function grantMessage(learner: Learner, resource: string, name: string, missing: string[]): string {
  return `${resource}.rbac.authorization.k8s.io "${name}" is forbidden: user "${learner.username}" (groups=${learner.groupsText}) is attempting to grant RBAC permissions not currently held:\n${missing.join('\n')}`;
}

const allOnAll = (name: string) => `apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata:
  name: ${name}
rules:
  - apiGroups: ['*']
    resources: ['*']
    verbs: ['*']
`;

let fixture: SecurityFixture;

beforeAll(async () => {
  fixture = await startSecurityFixture({ 'rbac-manager': rbacManager, 'delegated-admin': delegatedAdmin });
}, 60_000);
afterAll(async () => {
  await fixture?.stop();
});

const versions = ['1.27', '1.33'].filter(hasKubectl);

describe.each(versions)('a learner who manages Roles (kubectl %s)', (version) => {
  let learner: Learner;
  beforeAll(async () => {
    learner = await fixture.learner('rbac-manager');
  }, 60_000);

  const k = (args: string[], stdin?: string) => learner.kubectl(args, { version, ...(stdin === undefined ? {} : { stdin }) });

  it('cannot bind cluster-admin to itself', async () => {
    const result = await k(['create', 'rolebinding', 'me-admin', '--clusterrole=cluster-admin', `--serviceaccount=${learner.namespace}:learner`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`error: failed to create rolebinding: ${grantMessage(learner, 'rolebindings', 'me-admin', everything)}\n`);
    expect((await fixture.admin(['get', 'rolebinding', 'me-admin', '-n', learner.namespace])).code).toBe(1);
  });

  it('cannot create a Role with * on *', async () => {
    const result = await k(['apply', '-f', '-'], allOnAll('everything'));
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`Error from server (Forbidden): error when creating "STDIN": ${grantMessage(learner, 'roles', 'everything', ['{APIGroups:["*"], Resources:["*"], Verbs:["*"]}'])}\n`);
  });

  it('cannot bind the admin ClusterRole: the message lists what admin holds and the learner does not', async () => {
    const result = await k(['create', 'rolebinding', 'me-admin', '--clusterrole=admin', `--serviceaccount=${learner.namespace}:learner`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `error: failed to create rolebinding: ${grantMessage(learner, 'rolebindings', 'me-admin', [
        '{APIGroups:["authorization.k8s.io"], Resources:["localsubjectaccessreviews"], Verbs:["create"]}',
        '{APIGroups:["rbac.authorization.k8s.io"], Resources:["rolebindings"], Verbs:["deletecollection"]}',
        '{APIGroups:["rbac.authorization.k8s.io"], Resources:["roles"], Verbs:["deletecollection"]}',
      ])}\n`,
    );
  });

  it('cannot bind cluster-admin cluster-wide, though it may create ClusterRoleBindings', async () => {
    const name = `${learner.namespace}-root`;
    const result = await k(['create', 'clusterrolebinding', name, '--clusterrole=cluster-admin', `--serviceaccount=${learner.namespace}:learner`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`error: failed to create clusterrolebinding: ${grantMessage(learner, 'clusterrolebindings', name, everything)}\n`);
    expect((await fixture.admin(['get', 'clusterrolebinding', name])).code).toBe(1);
  });

  it('cannot add verbs it lacks to an existing Role, but may add those it holds', async () => {
    const patch = (verbs: string[]) => JSON.stringify([{ op: 'add', path: '/rules/-', value: { apiGroups: [''], resources: ['resourcequotas', 'limitranges'], verbs } }]);
    const refused = await k(['patch', 'role', 'pod-reader', '--type=json', '-p', patch(['get', 'delete'])]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      `Error from server (Forbidden): ${grantMessage(learner, 'roles', 'pod-reader', [
        '{APIGroups:[""], Resources:["limitranges"], Verbs:["delete"]}',
        '{APIGroups:[""], Resources:["resourcequotas"], Verbs:["delete"]}',
      ])}\n`,
    );
    const held = await k(['patch', 'role', 'pod-reader', '--type=json', '-p', patch(['get', 'list'])]);
    expect(held).toMatchObject({ code: 0, stdout: 'role.rbac.authorization.k8s.io/pod-reader patched\n' });
  });

  it('cannot write an aggregationRule, which could gather any rule there is', async () => {
    const name = `${learner.namespace}-gatherer`;
    const clusterRole = JSON.stringify({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name },
      aggregationRule: { clusterRoleSelectors: [{ matchLabels: { 'rbac.authorization.k8s.io/aggregate-to-admin': 'true' } }] },
      rules: [],
    });
    const result = await k(['create', '-f', '-'], clusterRole);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(`Error from server (Forbidden): error when creating "STDIN": clusterroles.rbac.authorization.k8s.io "${name}" is forbidden: must have cluster-admin privileges to use the aggregationRule\n`);
  });

  it('binding a Role that does not exist is NotFound, as the roles\' registry answers', async () => {
    const result = await k(['create', 'rolebinding', 'ghostly', '--role=ghost', `--serviceaccount=${learner.namespace}:learner`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe('error: failed to create rolebinding: roles.rbac.authorization.k8s.io "ghost" not found\n');
  });

  it('a refusal is a 403 Forbidden Status naming the object, also for a dry run', async () => {
    const result = await k(['create', 'rolebinding', 'dry', '--clusterrole=cluster-admin', `--serviceaccount=${learner.namespace}:learner`, '--dry-run=server', '-o', 'json']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('"dry" is forbidden: user');
    const verbose = await k(['create', 'role', 'wide', '--verb=*', '--resource=secrets', '-v=6']);
    expect(verbose.code).toBe(1);
    // kubectl -v=6 prints the Status the server answered with.
    expect(verbose.stderr).toContain('"reason": "Forbidden"');
    expect(verbose.stderr).toContain('"details": {\n    "name": "wide",\n    "group": "rbac.authorization.k8s.io",\n    "kind": "roles"\n  },\n  "code": 403');
    expect(verbose.stderr).toContain(grantMessage(learner, 'roles', 'wide', ['{APIGroups:[""], Resources:["secrets"], Verbs:["*"]}']));
  });

  it('so its quota and LimitRange stay: deleting them is refused', async () => {
    const quota = await k(['delete', 'resourcequota', 'lab-budget']);
    expect(quota.code).toBe(1);
    expect(quota.stderr).toBe(
      `Error from server (Forbidden): resourcequotas "lab-budget" is forbidden: User "${learner.username}" cannot delete resource "resourcequotas" in API group "" in the namespace "${learner.namespace}"\n`,
    );
    const limits = await k(['delete', 'limitrange', 'lab-defaults']);
    expect(limits.stderr).toBe(
      `Error from server (Forbidden): limitranges "lab-defaults" is forbidden: User "${learner.username}" cannot delete resource "limitranges" in API group "" in the namespace "${learner.namespace}"\n`,
    );
    expect((await fixture.admin(['get', 'resourcequota/lab-budget', 'limitrange/lab-defaults', '-n', learner.namespace, '-o', 'name'])).stdout).toBe('resourcequota/lab-budget\nlimitrange/lab-defaults\n');
  });

  it('may grant what it holds: a Role and a binding of view', async () => {
    expect(await k(['create', 'role', 'pod-lister', '--verb=list', '--resource=pods'])).toMatchObject({ code: 0, stdout: 'role.rbac.authorization.k8s.io/pod-lister created\n' });
    expect(await k(['create', 'rolebinding', 'viewers', '--clusterrole=view', `--serviceaccount=${learner.namespace}:default`])).toMatchObject({
      code: 0,
      stdout: 'rolebinding.rbac.authorization.k8s.io/viewers created\n',
    });
  });

  it('cannot change its own namespace\'s labels', async () => {
    const result = await k(['label', 'namespace', learner.namespace, 'pod-security.kubernetes.io/enforce=privileged', '--overwrite']);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `Error from server (Forbidden): namespaces "${learner.namespace}" is forbidden: User "${learner.username}" cannot patch resource "namespaces" in API group "" in the namespace "${learner.namespace}"\n`,
    );
  });
});

describe('a learner granted escalate and bind', () => {
  let learner: Learner;
  beforeAll(async () => {
    learner = await fixture.learner('delegated-admin');
  }, 60_000);

  it('may create a Role with * on * (escalate) and bind admin (bind on that ClusterRole)', async () => {
    expect(await learner.kubectl(['apply', '-f', '-'], { stdin: allOnAll('everything') })).toMatchObject({ code: 0, stdout: 'role.rbac.authorization.k8s.io/everything created\n' });
    expect(await learner.kubectl(['create', 'rolebinding', 'me-admin', '--clusterrole=admin', `--serviceaccount=${learner.namespace}:learner`])).toMatchObject({
      code: 0,
      stdout: 'rolebinding.rbac.authorization.k8s.io/me-admin created\n',
    });
  });

  it('bind on admin does not reach cluster-admin', async () => {
    const result = await learner.kubectl(['create', 'rolebinding', 'me-root', '--clusterrole=cluster-admin', `--serviceaccount=${learner.namespace}:learner`]);
    expect(result.stderr).toBe(`error: failed to create rolebinding: ${grantMessage(learner, 'rolebindings', 'me-root', everything)}\n`);
  });

  it('binding its * on * Role to itself is allowed only because it holds it now; then the quota can go', async () => {
    // Holding admin in the namespace covers neither * on *; the bind of a Role it wrote needs bind on roles.
    const refused = await learner.kubectl(['create', 'rolebinding', 'me-all', '--role=everything', `--serviceaccount=${learner.namespace}:learner`]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('is attempting to grant RBAC permissions not currently held:\n{APIGroups:["*"], Resources:["*"], Verbs:["*"]}');
    expect(await fixture.admin(['create', 'rolebinding', 'grant-all', '--role=everything', `--serviceaccount=${learner.namespace}:learner`, '-n', learner.namespace])).toMatchObject({ code: 0 });
    expect(await learner.kubectl(['delete', 'resourcequota', 'lab-budget'])).toMatchObject({ code: 0, stdout: 'resourcequota "lab-budget" deleted\n' });
  });
});

describe('the portal, with the RBAC deploy/base gives it on a real cluster', () => {
  it('provisions a sandbox whose lab grants the learner rules the portal does not hold itself', async () => {
    for (const file of ['namespace', 'serviceaccount', 'rbac']) expect(await fixture.admin(['apply', '-f', `deploy/base/${file}.yaml`])).toMatchObject({ code: 0 });
    const token = (await fixture.admin(['create', 'token', 'formicary-portal', '-n', 'formicary'])).stdout.trim();
    const kubeConfig = new KubeConfig();
    kubeConfig.loadFromString(fixture.cluster.cluster.kubeconfig({ token }));
    const portal = new Sandboxes({ kubeConfig, catalog: fixture.catalog });
    // The lab's Role holds escalate and bind, which the portal may write (escalate) and bind (bind on learner-extra).
    const sandbox = await portal.start(await fixture.catalog.get('delegated-admin'), 'portal@example.com');
    expect(sandbox.ready).toBe(true);
    const bound = await fixture.admin(['get', 'rolebinding', 'learner-extra', '-n', sandbox.namespace, '-o', 'jsonpath={.roleRef.name}']);
    expect(bound.stdout).toBe('learner-extra');
    await portal.end(sandbox.namespace);
  }, 60_000);
});
