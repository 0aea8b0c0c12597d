// Real kubectl workflows end to end: typed-client creates (protobuf in 1.32+), scale and set image
// through subresources and strategic merge patch, apply/diff/server-side apply, CRDs and their
// objects, get -w, token Secrets, and impersonation that RBAC allows.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { hasKubectl, startTestCluster, type TestCluster } from './harness.ts';

// Each case runs several kubectl processes; on a busy machine one alone can take seconds.
vi.setConfig({ testTimeout: 120_000 });

let t: TestCluster;
beforeAll(async () => {
  t = await startTestCluster();
});
afterAll(async () => {
  await t?.stop();
});

const deployment = (replicas: number, env: string) => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: app
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: app}
  template:
    metadata:
      labels: {app: app}
    spec:
      containers:
      - name: a
        image: nginx
        env:
${env}
      - name: b
        image: busybox
`;

const crd = `apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              cronSpec: {type: string}
              replicas: {type: integer}
    additionalPrinterColumns:
    - {name: Spec, type: string, jsonPath: .spec.cronSpec}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
`;
const cronTab = (replicas: string, extra = '') => `apiVersion: stable.example.com/v1
kind: CronTab
metadata:
  name: nightly
spec:
  cronSpec: "0 3 * * *"
  replicas: ${replicas}${extra}
`;

describe.each(['1.30', '1.33'].filter(hasKubectl))('kubectl %s typed-client creates', (version) => {
  it('creates deployments, configmaps, secrets and jobs with its generators', async () => {
    const suffix = version.replace('.', '-');
    const results = [
      await t.kubectl(['create', 'deployment', `web-${suffix}`, '--image=nginx', '--replicas=2'], { version }),
      await t.kubectl(['create', 'configmap', `conf-${suffix}`, '--from-literal=mode=dev'], { version }),
      await t.kubectl(['create', 'secret', 'generic', `pass-${suffix}`, '--from-literal=p=q'], { version }),
      await t.kubectl(['create', 'job', `once-${suffix}`, '--image=busybox'], { version }),
    ];
    expect(results.map((r) => [r.code, r.stderr])).toEqual(results.map(() => [0, '']));
    expect(results.map((r) => r.stdout.trim())).toEqual([
      `deployment.apps/web-${suffix} created`,
      `configmap/conf-${suffix} created`,
      `secret/pass-${suffix} created`,
      `job.batch/once-${suffix} created`,
    ]);
    const data = await t.kubectl(['get', 'configmap', `conf-${suffix}`, '-o', 'jsonpath={.data.mode}'], { version });
    expect(data.stdout).toBe('dev');
  });
});

describe('kubectl workflows', () => {
  it('scales through the scale subresource and sets images with a strategic merge patch', async () => {
    await t.kubectl(['create', 'deployment', 'scaled', '--image=nginx']);
    expect((await t.kubectl(['scale', 'deployment', 'scaled', '--replicas=4'])).stdout.trim()).toBe('deployment.apps/scaled scaled');
    expect((await t.kubectl(['set', 'image', 'deployment/scaled', 'nginx=nginx:1.29'])).stdout.trim()).toBe('deployment.apps/scaled image updated');
    const shown = await t.kubectl(['get', 'deployment', 'scaled', '-o', 'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].image}']);
    expect(shown.stdout).toBe('4 nginx:1.29');
  });

  it('applies, diffs and re-applies with a removed list item, then takes fields over with server-side apply', async () => {
    const first = deployment(1, '        - {name: A, value: "1"}\n        - {name: B, value: "2"}');
    const second = deployment(2, '        - {name: A, value: "1"}');
    expect((await t.kubectl(['apply', '-f', '-'], { stdin: first })).stdout.trim()).toBe('deployment.apps/app created');
    const diff = await t.kubectl(['diff', '-f', '-'], { stdin: second });
    expect(diff.code).toBe(1);
    expect(diff.stdout).toMatch(/^-  replicas: 1$/m);
    expect(diff.stdout).toMatch(/^\+  replicas: 2$/m);
    expect(diff.stdout).toMatch(/^-        - name: B$/m);
    expect((await t.kubectl(['apply', '-f', '-'], { stdin: second })).stdout.trim()).toBe('deployment.apps/app configured');
    const applied = await t.kubectl(['get', 'deployment', 'app', '-o', 'jsonpath={.spec.replicas} {.spec.template.spec.containers[0].env[*].name} {.spec.template.spec.containers[*].name}']);
    expect(applied.stdout).toBe('2 A a b');

    // kubectl moves client-side-applied fields to its server-side manager, so this is no conflict.
    const migrated = await t.kubectl(['apply', '--server-side', '-f', '-'], { stdin: deployment(3, '        - {name: A, value: "1"}') });
    expect([migrated.code, migrated.stdout.trim()]).toEqual([0, 'deployment.apps/app serverside-applied']);
    const other = deployment(5, '        - {name: A, value: "1"}');
    const conflict = await t.kubectl(['apply', '--server-side', '--field-manager=other', '-f', '-'], { stdin: other });
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain('conflict with "kubectl"');
    expect(conflict.stderr).toContain('.spec.replicas');
    const forced = await t.kubectl(['apply', '--server-side', '--field-manager=other', '--force-conflicts', '-f', '-'], { stdin: other });
    expect([forced.code, forced.stdout.trim()]).toEqual([0, 'deployment.apps/app serverside-applied']);
    const managers = await t.kubectl(['get', 'deployment', 'app', '-o', 'jsonpath={.spec.replicas} {.metadata.managedFields[*].manager}']);
    expect(managers.stdout).toMatch(/^5 .*\bother\b/);
  });

  it('rejects unknown fields on apply, as --validate=strict on a real cluster does', async () => {
    const typo = deployment(1, '        - {name: A, value: "1"}').replace('  replicas: 1', '  replicas: 1\n  replicaz: 2');
    const created = await t.kubectl(['create', '-f', '-'], { stdin: typo.replace('name: app', 'name: typo') });
    expect(created.code).toBe(1);
    expect(created.stderr).toContain('Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replicaz"');
    const relaxed = await t.kubectl(['create', '--validate=warn', '-f', '-'], { stdin: typo.replace('name: app', 'name: typo') });
    expect(relaxed.code).toBe(0);
    expect(relaxed.stderr).toContain('Warning: unknown field "spec.replicaz"');
  });

  it('serves CustomResourceDefinitions: discovery, printer columns, schema validation, merge-patch apply', async () => {
    expect((await t.kubectl(['apply', '-f', '-'], { stdin: crd })).stdout.trim()).toBe('customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com created');
    const resources = await t.kubectl(['api-resources', '--api-group=stable.example.com']);
    expect(resources.stdout).toMatch(/crontabs\s+ct\s+stable\.example\.com\/v1\s+true\s+CronTab/);
    expect((await t.kubectl(['apply', '-f', '-'], { stdin: cronTab('2') })).stdout.trim()).toBe('crontab.stable.example.com/nightly created');
    // With additionalPrinterColumns a CRD's Table has exactly those columns after NAME (no AGE unless listed).
    expect((await t.kubectl(['get', 'ct'])).stdout).toMatch(/^NAME\s+SPEC\s+REPLICAS\nnightly\s+0 3 \* \* \*\s+2\n$/);
    const invalid = await t.kubectl(['apply', '-f', '-'], { stdin: cronTab('"two"') });
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toContain('The CronTab "nightly" is invalid: spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"');
    const unknown = await t.kubectl(['apply', '-f', '-'], { stdin: cronTab('3', '\n  colour: red') });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('strict decoding error: unknown field "spec.colour"');
    expect((await t.kubectl(['apply', '-f', '-'], { stdin: cronTab('3') })).stdout.trim()).toBe('crontab.stable.example.com/nightly configured');
    const smp = await t.kubectl(['patch', 'ct', 'nightly', '-p', '{"spec":{"replicas":4}}']);
    expect(smp.stderr.trim()).toBe(
      'error: application/strategic-merge-patch+json is not supported by stable.example.com/v1, Kind=CronTab: the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml',
    );
    expect((await t.kubectl(['patch', 'ct', 'nightly', '--type=merge', '-p', '{"spec":{"replicas":4}}'])).stdout.trim()).toBe('crontab.stable.example.com/nightly patched');
  });

  it('prints watch events as Table rows under one header (get -w)', async () => {
    const watching = t.kubectl(['get', 'configmaps', '-l', 'watched=yes', '-w', '--request-timeout=10s']);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await t.kubectl(['create', 'configmap', 'seen']);
    await t.kubectl(['label', 'configmap', 'seen', 'watched=yes']);
    await t.kubectl(['annotate', 'configmap', 'seen', 'note=hi']);
    const result = await watching;
    const lines = result.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+DATA\s+AGE$/);
    expect(lines.slice(1).every((line) => /^seen\s+0\s+\d+s$/.test(line))).toBe(true);
    expect(lines.length).toBe(3);
  });

  it('fills token Secrets for ServiceAccounts, and the token works until the Secret goes', async () => {
    await t.kubectl(['create', 'serviceaccount', 'bot']);
    const secret = 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: bot-token\n  annotations:\n    kubernetes.io/service-account.name: bot\ntype: kubernetes.io/service-account-token\n';
    await t.kubectl(['apply', '-f', '-'], { stdin: secret });
    let token = '';
    for (let i = 0; i < 50 && token === ''; i++) {
      token = Buffer.from((await t.kubectl(['get', 'secret', 'bot-token', '-o', 'jsonpath={.data.token}'])).stdout, 'base64').toString();
      if (token === '') await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const whoami = await t.kubectl(['auth', 'whoami', '--token', token, '-o', 'jsonpath={.status.userInfo.username}']);
    expect(whoami.stdout).toBe('system:serviceaccount:default:bot');
    await t.kubectl(['delete', 'secret', 'bot-token']);
    const after = await t.kubectl(['auth', 'whoami', '--token', token]);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('Unauthorized');
  });

  it('lets a ServiceAccount act within what a RoleBinding grants, also via --as', async () => {
    await t.kubectl(['create', 'namespace', 'team']);
    await t.kubectl(['create', 'serviceaccount', 'dev', '-n', 'team']);
    await t.kubectl(['create', 'rolebinding', 'dev-edit', '--clusterrole=edit', '--serviceaccount=team:dev', '-n', 'team']);
    const as = ['--as', 'system:serviceaccount:team:dev', '-n', 'team'];
    expect((await t.kubectl(['auth', 'can-i', 'create', 'deployments', ...as])).stdout.trim()).toBe('yes');
    expect((await t.kubectl(['auth', 'can-i', 'create', 'roles', ...as])).stdout.trim()).toBe('no');
    expect((await t.kubectl(['create', 'configmap', 'from-dev', ...as])).stdout.trim()).toBe('configmap/from-dev created');
    const elsewhere = await t.kubectl(['get', 'configmaps', '--as', 'system:serviceaccount:team:dev', '-n', 'default']);
    expect(elsewhere.stderr.trim()).toBe(
      'Error from server (Forbidden): configmaps is forbidden: User "system:serviceaccount:team:dev" cannot list resource "configmaps" in API group "" in the namespace "default"',
    );
    const token = (await t.kubectl(['create', 'token', 'dev', '-n', 'team'])).stdout.trim();
    const impersonate = await t.kubectl(['get', 'pods', '--token', token, '--as', 'someone-else', '-n', 'team']);
    expect(impersonate.stderr.trim()).toBe('Error from server (Forbidden): users "someone-else" is forbidden: User "system:serviceaccount:team:dev" cannot impersonate resource "users" in API group "" at the cluster scope');
  });
});
