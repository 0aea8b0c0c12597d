// Real kubectl against the server: what a learner types, and what they see.
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

const versions = ['1.27', '1.33'].filter(hasKubectl);

describe.each(versions)('kubectl %s', (version) => {
  it('lists resources with short names, groups and kinds (api-resources)', async () => {
    const result = await t.kubectl(['api-resources'], { version });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toMatch(/^NAME\s+SHORTNAMES\s+APIVERSION\s+NAMESPACED\s+KIND/);
    expect(lines.find((line) => line.startsWith('deployments '))).toMatch(/^deployments\s+deploy\s+apps\/v1\s+true\s+Deployment$/);
    expect(lines.find((line) => line.startsWith('pods '))).toMatch(/^pods\s+po\s+v1\s+true\s+Pod$/);
    expect(lines.find((line) => line.startsWith('namespaces '))).toMatch(/^namespaces\s+ns\s+v1\s+false\s+Namespace$/);
  });

  it('resolves short names through discovery (get deploy)', async () => {
    const result = await t.kubectl(['get', 'deploy', '-A'], { version });
    expect(result.stderr).toMatch(/^(No resources found)?\s*$/);
    expect(result.code).toBe(0);
  });
});

describe('kubectl (installed)', () => {
  it('prints server-side Tables: get namespaces', async () => {
    const result = await t.kubectl(['get', 'namespaces']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^NAME\s+STATUS\s+AGE\n/);
    expect(result.stdout).toMatch(/\ndefault\s+Active\s+\d+s\n/);
  });

  it('creates, applies, patches and deletes from manifests', async () => {
    const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: default\ndata:\n  mode: dev\n';
    const created = await t.kubectl(['create', '-f', '-'], { stdin: manifest });
    expect([created.code, created.stdout.trim(), created.stderr]).toEqual([0, 'configmap/settings created', '']);
    const again = await t.kubectl(['create', '-f', '-'], { stdin: manifest });
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('Error from server (AlreadyExists): error when creating "STDIN": configmaps "settings" already exists');

    const applied = await t.kubectl(['apply', '-f', '-'], { stdin: manifest.replace('dev', 'prod') });
    expect(applied.stderr).toContain("Warning: resource configmaps/settings is missing the kubectl.kubernetes.io/last-applied-configuration annotation");
    expect([applied.code, applied.stdout.trim()]).toEqual([0, 'configmap/settings configured']);
    const unchanged = await t.kubectl(['apply', '-f', '-'], { stdin: manifest.replace('dev', 'prod') });
    expect(unchanged.stdout.trim()).toBe('configmap/settings unchanged');
    const serverSide = await t.kubectl(['apply', '--server-side', '-f', '-'], { stdin: manifest.replace('settings', 'ssa') });
    expect([serverSide.code, serverSide.stdout.trim(), serverSide.stderr]).toEqual([0, 'configmap/ssa serverside-applied', '']);

    const labelled = await t.kubectl(['label', 'configmap', 'settings', 'tier=web']);
    expect(labelled.stdout.trim()).toBe('configmap/settings labeled');
    const patched = await t.kubectl(['patch', 'configmap', 'settings', '--type', 'json', '-p', '[{"op":"add","path":"/data/extra","value":"1"}]']);
    expect(patched.stdout.trim()).toBe('configmap/settings patched');
    const shown = await t.kubectl(['get', 'configmap', 'settings', '-o', 'jsonpath={.data.mode},{.data.extra},{.metadata.labels.tier}']);
    expect(shown.stdout).toBe('prod,1,web');

    const deleted = await t.kubectl(['delete', 'configmap', 'settings', 'ssa']);
    expect([deleted.code, deleted.stdout.trim()]).toEqual([0, 'configmap "settings" deleted\nconfigmap "ssa" deleted']);
  });

  it('reports errors as a real cluster does', async () => {
    const missing = await t.kubectl(['get', 'configmap', 'nope']);
    expect([missing.code, missing.stderr.trim()]).toEqual([1, 'Error from server (NotFound): configmaps "nope" not found']);
    const noNamespace = await t.kubectl(['get', 'pods', '-n', 'nowhere']);
    expect([noNamespace.code, noNamespace.stderr.trim()]).toEqual([0, 'No resources found in nowhere namespace.']);
    const unknownKind = await t.kubectl(['get', 'widgets']);
    expect(unknownKind.code).toBe(1);
    expect(unknownKind.stderr).toContain(`the server doesn't have a resource type "widgets"`);
  });

  it('answers auth can-i for the admin and for a ServiceAccount via --as', async () => {
    expect((await t.kubectl(['auth', 'can-i', 'create', 'pods'])).stdout.trim()).toBe('yes');
    await t.kubectl(['create', 'serviceaccount', 'learner']);
    const denied = await t.kubectl(['auth', 'can-i', 'list', 'pods', '--as', 'system:serviceaccount:default:learner']);
    expect([denied.code, denied.stdout.trim()]).toEqual([1, 'no']);
    const forbidden = await t.kubectl(['get', 'pods', '--as', 'system:serviceaccount:default:learner']);
    expect(forbidden.stderr.trim()).toBe(
      'Error from server (Forbidden): pods is forbidden: User "system:serviceaccount:default:learner" cannot list resource "pods" in API group "" in the namespace "default"',
    );
  });

  it('issues ServiceAccount tokens that authenticate (create token, whoami)', async () => {
    await t.kubectl(['create', 'serviceaccount', 'robot']);
    const token = (await t.kubectl(['create', 'token', 'robot'])).stdout.trim();
    expect(token.split('.')).toHaveLength(3);
    const whoami = await t.kubectl(['auth', 'whoami', '--token', token, '-o', 'jsonpath={.status.userInfo.username}']);
    expect(whoami.stdout).toBe('system:serviceaccount:default:robot');
  });
});
