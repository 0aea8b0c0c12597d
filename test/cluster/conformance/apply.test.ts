// kubectl apply, client-side (three-way strategic merge from last-applied) and server-side (field
// managers and conflicts), re-applied with a changed field and with list items removed, from a
// directory; and kubectl diff, whose exit code says whether the server would change anything.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { EDGE_VERSIONS, WITH_INSTALLED, useConformanceCluster, type Sandbox } from './harness.ts';
import { expectResult, text } from './output.ts';

const c = useConformanceCluster({ kubelet: false });

const deployment = (s: Sandbox) => c.get('apps', 'v1', 'deployments', s.namespace, 'web') as KubeObject & { spec: Record<string, any> };

function manifest(options: { replicas?: number; env?: string[]; sidecar?: boolean; image?: string; extra?: string } = {}): string {
  const env = (options.env ?? ['MODE=dev', 'LEVEL=3'])
    .map((pair) => {
      const [name, value] = pair.split('=');
      return `        - {name: ${name}, value: "${value}"}`;
    })
    .join('\n');
  const sidecar = options.sidecar === false ? '' : '\n      - name: sidecar\n        image: busybox:1.36\n        command: [sleep, infinity]';
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: ${options.replicas ?? 1}${options.extra ?? ''}
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: ${options.image ?? 'nginx:1.27'}
        env:
${env}${sidecar}
`;
}

const envOf = (s: Sandbox) => (deployment(s).spec.template.spec.containers[0].env as Array<{ name: string; value: string }>).map((e) => `${e.name}=${e.value}`);

describe.concurrent('kubectl apply (client-side)', () => {
  it.each(WITH_INSTALLED)('%s creates, then reports unchanged', async (version) => {
    const s = await c.sandbox('apply-create');
    const results = [await s.kubectl(version, ['apply', '-f', '-'], { stdin: manifest() }), await s.kubectl(version, ['apply', '-f', '-'], { stdin: manifest() })];
    expect(results).toEqual([
      { code: 0, stdout: 'deployment.apps/web created\n', stderr: '' },
      { code: 0, stdout: 'deployment.apps/web unchanged\n', stderr: '' },
    ]);
    const annotation = deployment(s).metadata.annotations?.['kubectl.kubernetes.io/last-applied-configuration'];
    expect(JSON.parse(annotation ?? '{}')).toMatchObject({ kind: 'Deployment', metadata: { name: 'web', namespace: s.namespace }, spec: { replicas: 1 } });
  });

  it.each(WITH_INSTALLED)('%s re-applied with a changed field: configured, generation bumped', async (version) => {
    const s = await c.sandbox('apply-changed');
    await s.apply(manifest());
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: manifest({ replicas: 3 }) }), { code: 0, stdout: 'deployment.apps/web configured\n' });
    expect([deployment(s).spec.replicas, deployment(s).metadata.generation]).toEqual([3, 2]);
  });

  it.each(WITH_INSTALLED)('%s re-applied with an env item removed and one added: the list follows the manifest', async (version) => {
    const s = await c.sandbox('apply-env');
    await s.apply(manifest());
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: manifest({ env: ['LEVEL=4', 'NEW=x'] }) }), { code: 0, stdout: 'deployment.apps/web configured\n' });
    expect(envOf(s)).toEqual(['LEVEL=4', 'NEW=x']);
  });

  it.each(WITH_INSTALLED)('%s re-applied without the sidecar container: it goes', async (version) => {
    const s = await c.sandbox('apply-container');
    await s.apply(manifest());
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: manifest({ sidecar: false }) }), { code: 0, stdout: 'deployment.apps/web configured\n' });
    expect(deployment(s).spec.template.spec.containers.map((x: { name: string }) => x.name)).toEqual(['web']);
  });

  it.each(WITH_INSTALLED)('%s keeps what others added, resets what the manifest sets', async (version) => {
    const s = await c.sandbox('apply-three-way');
    await s.apply(manifest());
    await s.must(['label', 'deploy', 'web', 'owner=ops']);
    await s.must(['scale', 'deploy', 'web', '--replicas=5']);
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: manifest({ image: 'nginx:1.28' }) }), { code: 0, stdout: 'deployment.apps/web configured\n' });
    const live = deployment(s);
    // The label is not in the manifest and stays; replicas is, so the three-way merge sets it back to 1.
    expect([live.metadata.labels, live.spec.replicas, live.spec.template.spec.containers[0].image]).toEqual([{ app: 'web', owner: 'ops' }, 1, 'nginx:1.28']);
  });

  it.each(WITH_INSTALLED)('%s -f a directory: every manifest in it, in file order', async (version) => {
    const s = await c.sandbox('apply-dir');
    const dir = join(s.dir, 'manifests');
    await mkdir(dir, { recursive: true });
    await writeFile(join(dir, '10-config.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: web-config}\ndata: {mode: dev}\n');
    await writeFile(join(dir, '20-service.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports: [{port: 80, targetPort: 8080}]\n');
    await writeFile(join(dir, '30-deployment.yaml'), manifest());
    await writeFile(join(dir, 'notes.txt'), 'not a manifest\n');
    expectResult(await s.kubectl(version, ['apply', '-f', 'manifests/']), {
      code: 0,
      stdout: 'configmap/web-config created\nservice/web created\ndeployment.apps/web created\n',
    });
    expect((c.get('', 'v1', 'services', s.namespace, 'web')?.spec as { ports: unknown[] }).ports).toEqual([{ port: 80, protocol: 'TCP', targetPort: 8080 }]);
  });

  it.each(WITH_INSTALLED)('%s a multi-document stream with a List', async (version) => {
    const s = await c.sandbox('apply-list');
    const list = text`
      apiVersion: v1
      kind: List
      items:
      - apiVersion: v1
        kind: ConfigMap
        metadata: {name: one}
      - apiVersion: v1
        kind: ConfigMap
        metadata: {name: two}
      ---
      apiVersion: v1
      kind: Secret
      metadata: {name: three}
      stringData: {password: s3cr3t}
    `;
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: list }), { code: 0, stdout: 'configmap/one created\nconfigmap/two created\nsecret/three created\n' });
    expect(c.get('', 'v1', 'secrets', s.namespace, 'three')).toMatchObject({ type: 'Opaque', data: { password: Buffer.from('s3cr3t').toString('base64') } });
    expect(c.get('', 'v1', 'secrets', s.namespace, 'three')?.['stringData']).toBeUndefined();
  });

  it.each(WITH_INSTALLED)('%s a field the kind does not have: strict decoding error', async (version) => {
    const s = await c.sandbox('apply-unknown-field');
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: manifest().replace('replicas: 1', 'replica: 1') }), {
      code: 1,
      stdout: '',
      stderr: 'Error from server (BadRequest): error when creating "STDIN": Deployment in version "v1" cannot be handled as a Deployment: strict decoding error: unknown field "spec.replica"\n',
    });
  });

  it.each(WITH_INSTALLED)('%s --validate=false drops the unknown field and creates', async (version) => {
    const s = await c.sandbox('apply-no-validate');
    expectResult(await s.kubectl(version, ['apply', '--validate=false', '-f', '-'], { stdin: manifest().replace('replicas: 1', 'replica: 1') }), {
      code: 0,
      stdout: 'deployment.apps/web created\n',
    });
    expect(deployment(s).spec.replicas).toBe(1);
  });

  it.each(WITH_INSTALLED)('%s --dry-run=server -o yaml shows the defaulted object and stores nothing', async (version) => {
    const s = await c.sandbox('apply-dry-run');
    const result = await s.kubectl(version, ['apply', '--dry-run=server', '-o', 'yaml', '-f', '-'], { stdin: manifest() });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('\n  generation: 1\n');
    expect(result.stdout).toContain('\n  progressDeadlineSeconds: 600\n');
    expect(result.stdout).toMatch(/\n {2}uid: [0-9a-f-]{36}\n/);
    expect(deployment(s)).toBeUndefined();
  });
});

describe.concurrent('kubectl apply --server-side', () => {
  it.each(EDGE_VERSIONS)('%s creates and re-applies as the kubectl field manager', async (version) => {
    const s = await c.sandbox('ssa');
    const results = [
      await s.kubectl(version, ['apply', '--server-side', '-f', '-'], { stdin: manifest() }),
      await s.kubectl(version, ['apply', '--server-side', '-f', '-'], { stdin: manifest({ replicas: 2, env: ['MODE=prod'] }) }),
    ];
    expect(results).toEqual([
      { code: 0, stdout: 'deployment.apps/web serverside-applied\n', stderr: '' },
      { code: 0, stdout: 'deployment.apps/web serverside-applied\n', stderr: '' },
    ]);
    expect([deployment(s).spec.replicas, envOf(s)]).toEqual([2, ['MODE=prod']]);
    expect(deployment(s).metadata.managedFields?.map((m) => [m.manager, m.operation])).toEqual([['kubectl', 'Apply']]);
  });

  it.each(EDGE_VERSIONS)('%s a field another manager owns: conflict, then --force-conflicts takes it', async (version) => {
    const s = await c.sandbox('ssa-conflict');
    await s.must(['apply', '--server-side', '-f', '-'], { stdin: manifest() });
    await s.must(['set', 'image', 'deploy/web', 'web=nginx:1.28']);
    const conflict = await s.kubectl(version, ['apply', '--server-side', '-f', '-'], { stdin: manifest({ image: 'nginx:1.29' }) });
    expect([conflict.code, conflict.stdout]).toEqual([1, '']);
    expect(conflict.stderr).toMatch(/^error: Apply failed with 1 conflict: conflict with "kubectl-set" using apps\/v1: \.spec\.template\.spec\.containers\[name="web"\]\.image\n/);
    expect(conflict.stderr).toContain('--force-conflicts');
    expectResult(await s.kubectl(version, ['apply', '--server-side', '--force-conflicts', '-f', '-'], { stdin: manifest({ image: 'nginx:1.29' }) }), {
      code: 0,
      stdout: 'deployment.apps/web serverside-applied\n',
    });
    expect(deployment(s).spec.template.spec.containers[0].image).toBe('nginx:1.29');
  });

  it.each(EDGE_VERSIONS)('%s removing a field from the manifest removes it from the object', async (version) => {
    const s = await c.sandbox('ssa-remove');
    await s.must(['apply', '--server-side', '-f', '-'], { stdin: manifest({ extra: '\n  minReadySeconds: 5' }) });
    expectResult(await s.kubectl(version, ['apply', '--server-side', '-f', '-'], { stdin: manifest({ sidecar: false }) }), { code: 0, stdout: 'deployment.apps/web serverside-applied\n' });
    expect([deployment(s).spec.minReadySeconds, deployment(s).spec.template.spec.containers.length]).toEqual([undefined, 1]);
  });
});

describe.concurrent('kubectl diff', () => {
  const changedLines = (out: string) => out.split('\n').filter((line) => /^[+-](?![+-]{2} )/.test(line));

  it.each(EDGE_VERSIONS)('%s exit 1 and a unified diff when the server would change the object', async (version) => {
    const s = await c.sandbox('diff-changed');
    await s.apply(manifest());
    const result = await s.kubectl(version, ['diff', '-f', '-'], { stdin: manifest({ replicas: 2 }) });
    expect([result.code, result.stderr]).toEqual([1, '']);
    expect(result.stdout).toMatch(new RegExp(`^diff -u -N \\S+/LIVE-\\d+/apps\\.v1\\.Deployment\\.${s.namespace}\\.web \\S+/MERGED-\\d+/apps\\.v1\\.Deployment\\.${s.namespace}\\.web\\n`));
    expect(changedLines(result.stdout)).toEqual(['-  generation: 1', '+  generation: 2', '-  replicas: 1', '+  replicas: 2']);
  });

  it.each(EDGE_VERSIONS)('%s exit 0 and nothing printed when nothing would change', async (version) => {
    const s = await c.sandbox('diff-same');
    await s.apply(manifest());
    expectResult(await s.kubectl(version, ['diff', '-f', '-'], { stdin: manifest() }), { code: 0, stdout: '' });
  });

  it.each(EDGE_VERSIONS)('%s a new object: every line added', async (version) => {
    const s = await c.sandbox('diff-new');
    const result = await s.kubectl(version, ['diff', '-f', '-'], { stdin: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: fresh}\ndata: {mode: dev}\n' });
    expect(result.code).toBe(1);
    const added = changedLines(result.stdout);
    expect(added.every((line) => line.startsWith('+'))).toBe(true);
    expect(added).toEqual(expect.arrayContaining(['+apiVersion: v1', '+data:', '+  mode: dev', '+kind: ConfigMap', '+  name: fresh', `+  namespace: ${s.namespace}`]));
    expect(c.get('', 'v1', 'configmaps', s.namespace, 'fresh')).toBeUndefined();
  });

  it.each(EDGE_VERSIONS)('%s --server-side diff', async (version) => {
    const s = await c.sandbox('diff-ssa');
    await s.must(['apply', '--server-side', '-f', '-'], { stdin: manifest() });
    const result = await s.kubectl(version, ['diff', '--server-side', '-f', '-'], { stdin: manifest({ image: 'nginx:1.28' }) });
    expect(result.code).toBe(1);
    expect(changedLines(result.stdout)).toEqual(['-  generation: 1', '+  generation: 2', '-        image: nginx:1.27', '+        image: nginx:1.28']);
  });
});
