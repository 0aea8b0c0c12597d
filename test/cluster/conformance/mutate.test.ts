// Changing live objects: label and annotate (add, --overwrite, remove), patch (strategic, merge,
// JSON), replace (and --force), scale, set image/env/resources, and the errors a real API server
// gives for each (stale resourceVersion, failed JSON patch test, type errors in a patch).
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { EDGE_VERSIONS, minor, useConformanceCluster, type Sandbox } from './harness.ts';
import { expectResult, text } from './output.ts';

const c = useConformanceCluster({ kubelet: false });

const configMap = (s: Sandbox, name: string) => c.get('', 'v1', 'configmaps', s.namespace, name) as KubeObject;
const deployment = (s: Sandbox, name: string) => c.get('apps', 'v1', 'deployments', s.namespace, name) as KubeObject & { spec: Record<string, any> };

async function withConfigMap(hint: string): Promise<Sandbox> {
  const s = await c.sandbox(hint);
  await s.must(['create', 'configmap', 'settings', '--from-literal=mode=dev', '--from-literal=level=3']);
  return s;
}

async function withDeployment(hint: string): Promise<Sandbox> {
  const s = await c.sandbox(hint);
  await s.apply(text`
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, labels: {app: web}}
    spec:
      replicas: 1
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
          - name: web
            image: nginx:1.27
            env: [{name: MODE, value: dev}, {name: LEVEL, value: "3"}]
          - name: sidecar
            image: busybox:1.36
            command: [sleep, infinity]
  `);
  return s;
}

describe.concurrent('kubectl label', () => {
  it.each(EDGE_VERSIONS)('%s adds a label', async (version) => {
    const s = await withConfigMap('label-add');
    expectResult(await s.kubectl(version, ['label', 'configmap', 'settings', 'tier=web']), { code: 0, stdout: 'configmap/settings labeled\n' });
    expect(configMap(s, 'settings').metadata.labels).toEqual({ tier: 'web' });
  });

  it.each(EDGE_VERSIONS)('%s refuses to change a label without --overwrite', async (version) => {
    const s = await withConfigMap('label-no-overwrite');
    await s.must(['label', 'cm', 'settings', 'tier=web']);
    expectResult(await s.kubectl(version, ['label', 'cm', 'settings', 'tier=db']), { code: 1, stdout: '', stderr: "error: 'tier' already has a value (web), and --overwrite is false\n" });
  });

  it.each(EDGE_VERSIONS)('%s --overwrite changes it', async (version) => {
    const s = await withConfigMap('label-overwrite');
    await s.must(['label', 'cm', 'settings', 'tier=web']);
    expectResult(await s.kubectl(version, ['label', 'cm', 'settings', 'tier=db', '--overwrite']), { code: 0, stdout: 'configmap/settings labeled\n' });
    expect(configMap(s, 'settings').metadata.labels).toEqual({ tier: 'db' });
  });

  it.each(EDGE_VERSIONS)('%s key- removes it', async (version) => {
    const s = await withConfigMap('label-remove');
    await s.must(['label', 'cm', 'settings', 'tier=web', 'team=a']);
    expectResult(await s.kubectl(version, ['label', 'cm', 'settings', 'tier-']), { code: 0, stdout: 'configmap/settings unlabeled\n' });
    expect(configMap(s, 'settings').metadata.labels).toEqual({ team: 'a' });
  });

  it.each(EDGE_VERSIONS)('%s removing a label that is not there', async (version) => {
    const s = await withConfigMap('label-remove-missing');
    // kubectl compares the object before and after its own edit: an empty label map it added
    // counts as a change ("labeled"); the server stores no empty map.
    expectResult(await s.kubectl(version, ['label', 'cm', 'settings', 'nope-']), { code: 0, stdout: 'label "nope" not found.\nconfigmap/settings labeled\n' });
    expect(configMap(s, 'settings').metadata.labels).toBeUndefined();
  });

  it.each(EDGE_VERSIONS)('%s every object matching a selector', async (version) => {
    const s = await withConfigMap('label-selector');
    await s.must(['create', 'cm', 'other']);
    await s.must(['label', 'cm', 'settings', 'other', 'group=x']);
    expectResult(await s.kubectl(version, ['label', 'cm', '-l', 'group=x', 'picked=yes']), { code: 0, stdout: 'configmap/other labeled\nconfigmap/settings labeled\n' });
  });

  it.each(EDGE_VERSIONS)('%s an invalid label value: kubectl refuses it', async (version) => {
    const s = await withConfigMap('label-invalid');
    expectResult(await s.kubectl(version, ['label', 'cm', 'settings', `tier=${'x'.repeat(64)}`]), {
      code: 1,
      stdout: '',
      stderr: `error: invalid label value: "tier=${'x'.repeat(64)}": must be no more than 63 characters\n`,
    });
  });

  it.each(EDGE_VERSIONS)('%s an invalid label value patched in: the server\'s Invalid', async (version) => {
    const s = await withConfigMap('label-invalid-patch');
    expectResult(await s.kubectl(version, ['patch', 'cm', 'settings', '-p', `{"metadata":{"labels":{"tier":"${'x'.repeat(64)}"}}}`]), {
      code: 1,
      stdout: '',
      stderr: `The ConfigMap "settings" is invalid: metadata.labels: Invalid value: "${'x'.repeat(64)}": must be no more than 63 characters\n`,
    });
  });
});

describe.concurrent('kubectl annotate', () => {
  it.each(EDGE_VERSIONS)('%s adds, overwrites and removes annotations', async (version) => {
    const s = await withConfigMap('annotate');
    const results = [
      await s.kubectl(version, ['annotate', 'cm', 'settings', 'owner=team-a']),
      await s.kubectl(version, ['annotate', 'cm', 'settings', 'owner=team-b']),
      await s.kubectl(version, ['annotate', 'cm', 'settings', 'owner=team-b', '--overwrite']),
      await s.kubectl(version, ['annotate', 'cm', 'settings', 'owner-']),
    ];
    // kubectl 1.27 printed "annotate" where later ones print "annotated".
    const done = `configmap/settings ${minor(version) === 27 ? 'annotate' : 'annotated'}\n`;
    expect(results).toEqual([
      { code: 0, stdout: done, stderr: '' },
      { code: 1, stdout: '', stderr: "error: --overwrite is false but found the following declared annotation(s): 'owner' already has a value (team-a)\n" },
      { code: 0, stdout: done, stderr: '' },
      { code: 0, stdout: done, stderr: '' },
    ]);
    expect(configMap(s, 'settings').metadata.annotations).toBeUndefined();
  });
});

describe.concurrent('kubectl patch', () => {
  it.each(EDGE_VERSIONS)('%s strategic: containers merge by name, other fields stay', async (version) => {
    const s = await withDeployment('patch-strategic');
    expectResult(await s.kubectl(version, ['patch', 'deployment', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"nginx:1.28"}]}}}}']), {
      code: 0,
      stdout: 'deployment.apps/web patched\n',
    });
    const containers = deployment(s, 'web').spec.template.spec.containers;
    expect(containers.map((x: { name: string; image: string }) => `${x.name}=${x.image}`)).toEqual(['web=nginx:1.28', 'sidecar=busybox:1.36']);
    expect(containers[0].env).toEqual([{ name: 'MODE', value: 'dev' }, { name: 'LEVEL', value: '3' }]);
    expect(deployment(s, 'web').metadata.generation).toBe(2);
  });

  it.each(EDGE_VERSIONS)('%s strategic $patch: delete removes a list item by its merge key', async (version) => {
    const s = await withDeployment('patch-delete-directive');
    expectResult(await s.kubectl(version, ['patch', 'deploy', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}']), {
      code: 0,
      stdout: 'deployment.apps/web patched\n',
    });
    expect(deployment(s, 'web').spec.template.spec.containers.map((x: { name: string }) => x.name)).toEqual(['web']);
  });

  it.each(EDGE_VERSIONS)('%s a patch that changes nothing', async (version) => {
    const s = await withConfigMap('patch-no-change');
    expectResult(await s.kubectl(version, ['patch', 'cm', 'settings', '-p', '{"data":{"mode":"dev"}}']), { code: 0, stdout: 'configmap/settings patched (no change)\n' });
  });

  it.each(EDGE_VERSIONS)('%s merge: null deletes a key', async (version) => {
    const s = await withConfigMap('patch-merge');
    expectResult(await s.kubectl(version, ['patch', 'cm', 'settings', '--type', 'merge', '-p', '{"data":{"mode":null,"extra":"1"}}']), { code: 0, stdout: 'configmap/settings patched\n' });
    expect(configMap(s, 'settings').data).toEqual({ level: '3', extra: '1' });
  });

  it.each(EDGE_VERSIONS)('%s merge: replaces a list whole', async (version) => {
    const s = await withDeployment('patch-merge-list');
    expectResult(
      await s.kubectl(version, ['patch', 'deploy', 'web', '--type=merge', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"solo","image":"redis:7"}]}}}}']),
      { code: 0, stdout: 'deployment.apps/web patched\n' },
    );
    expect(deployment(s, 'web').spec.template.spec.containers).toEqual([
      { name: 'solo', image: 'redis:7', imagePullPolicy: 'IfNotPresent', resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' },
    ]);
  });

  it.each(EDGE_VERSIONS)('%s json: add, replace and remove operations', async (version) => {
    const s = await withConfigMap('patch-json');
    expectResult(
      await s.kubectl(version, ['patch', 'cm', 'settings', '--type', 'json', '-p', '[{"op":"add","path":"/data/extra","value":"1"},{"op":"replace","path":"/data/mode","value":"prod"},{"op":"remove","path":"/data/level"}]']),
      { code: 0, stdout: 'configmap/settings patched\n' },
    );
    expect(configMap(s, 'settings').data).toEqual({ mode: 'prod', extra: '1' });
  });

  it.each(EDGE_VERSIONS)('%s json: a failing test operation', async (version) => {
    const s = await withConfigMap('patch-json-test');
    expectResult(await s.kubectl(version, ['patch', 'cm', 'settings', '--type', 'json', '-p', '[{"op":"test","path":"/data/mode","value":"prod"},{"op":"remove","path":"/data/mode"}]']), {
      code: 1,
      stdout: '',
      stderr: 'The request is invalid: the server rejected our request due to an error in our request\n',
    });
    expect(configMap(s, 'settings').data).toEqual({ mode: 'dev', level: '3' });
  });

  it.each(EDGE_VERSIONS)('%s merge: a value of the wrong type is refused and nothing changes', async (version) => {
    const s = await withConfigMap('patch-type-error');
    const result = await s.kubectl(version, ['patch', 'cm', 'settings', '--type', 'merge', '-p', '{"data":"notamap"}']);
    expectResult(result, {
      code: 1,
      stdout: '',
      stderr: /^The request is invalid: patch: Invalid value: ".*": json: cannot unmarshal string into Go struct field ConfigMap\.data of type map\[string\]string\n$/,
    });
    expect(configMap(s, 'settings').data).toEqual({ mode: 'dev', level: '3' });
  });

  it.each(EDGE_VERSIONS)('%s a patch that breaks validation: Invalid with the field', async (version) => {
    const s = await withDeployment('patch-invalid');
    expectResult(await s.kubectl(version, ['patch', 'deploy', 'web', '-p', '{"spec":{"replicas":-1}}']), {
      code: 1,
      stdout: '',
      stderr: 'The Deployment "web" is invalid: spec.replicas: Invalid value: -1: must be greater than or equal to 0\n',
    });
  });

  it.each(EDGE_VERSIONS)('%s a missing object', async (version) => {
    const s = await c.sandbox('patch-missing');
    expectResult(await s.kubectl(version, ['patch', 'cm', 'ghost', '-p', '{"data":{"a":"b"}}']), { code: 1, stdout: '', stderr: 'Error from server (NotFound): configmaps "ghost" not found\n' });
  });
});

describe.concurrent('kubectl replace', () => {
  const manifest = (s: Sandbox, mode: string, resourceVersion?: string) => text`
    apiVersion: v1
    kind: ConfigMap
    metadata:
      name: settings
      namespace: ${s.namespace}${resourceVersion ? `\n      resourceVersion: "${resourceVersion}"` : ''}
    data:
      mode: ${mode}
  `;

  it.each(EDGE_VERSIONS)('%s replaces the whole object', async (version) => {
    const s = await withConfigMap('replace');
    expectResult(await s.kubectl(version, ['replace', '-f', '-'], { stdin: manifest(s, 'prod') }), { code: 0, stdout: 'configmap/settings replaced\n' });
    expect(configMap(s, 'settings').data).toEqual({ mode: 'prod' });
  });

  it.each(EDGE_VERSIONS)('%s a stale resourceVersion: Conflict', async (version) => {
    const s = await withConfigMap('replace-conflict');
    const stale = configMap(s, 'settings').metadata.resourceVersion;
    await s.must(['label', 'cm', 'settings', 'touched=yes']);
    expectResult(await s.kubectl(version, ['replace', '-f', '-'], { stdin: manifest(s, 'prod', stale) }), {
      code: 1,
      stdout: '',
      stderr:
        'Error from server (Conflict): error when replacing "STDIN": Operation cannot be fulfilled on configmaps "settings": the object has been modified; please apply your changes to the latest version and try again\n',
    });
  });

  it.each(EDGE_VERSIONS)('%s --force deletes and creates again', async (version) => {
    const s = await withConfigMap('replace-force');
    const uid = configMap(s, 'settings').metadata.uid;
    expectResult(await s.kubectl(version, ['replace', '--force', '-f', '-'], { stdin: manifest(s, 'prod') }), {
      code: 0,
      stdout: 'configmap "settings" deleted\nconfigmap/settings replaced\n',
    });
    expect(configMap(s, 'settings').metadata.uid).not.toBe(uid);
  });

  it.each(EDGE_VERSIONS)('%s something that does not exist', async (version) => {
    const s = await c.sandbox('replace-missing');
    expectResult(await s.kubectl(version, ['replace', '-f', '-'], { stdin: manifest(s, 'prod') }), {
      code: 1,
      stdout: '',
      stderr: 'Error from server (NotFound): error when replacing "STDIN": configmaps "settings" not found\n',
    });
  });
});

describe.concurrent('kubectl scale', () => {
  it.each(EDGE_VERSIONS)('%s a deployment through the scale subresource', async (version) => {
    const s = await withDeployment('scale');
    expectResult(await s.kubectl(version, ['scale', 'deployment', 'web', '--replicas=3']), { code: 0, stdout: 'deployment.apps/web scaled\n' });
    expect(deployment(s, 'web').spec.replicas).toBe(3);
  });

  it.each(EDGE_VERSIONS)('%s --current-replicas that does not match', async (version) => {
    const s = await withDeployment('scale-precondition');
    expectResult(await s.kubectl(version, ['scale', 'deploy/web', '--current-replicas=2', '--replicas=3']), {
      code: 1,
      stdout: '',
      stderr: 'error: Expected replicas to be 2, was 1\n',
    });
  });

  it.each(EDGE_VERSIONS)('%s a kind without a scale subresource', async (version) => {
    const s = await withConfigMap('scale-configmap');
    expectResult(await s.kubectl(version, ['scale', 'configmap', 'settings', '--replicas=2']), {
      code: 1,
      stdout: '',
      stderr: 'Error from server (NotFound): the server could not find the requested resource\n',
    });
  });
});

describe.concurrent('kubectl set', () => {
  it.each(EDGE_VERSIONS)('%s image of one container', async (version) => {
    const s = await withDeployment('set-image');
    expectResult(await s.kubectl(version, ['set', 'image', 'deployment/web', 'web=nginx:1.29']), { code: 0, stdout: 'deployment.apps/web image updated\n' });
    expect(deployment(s, 'web').spec.template.spec.containers.map((x: { image: string }) => x.image)).toEqual(['nginx:1.29', 'busybox:1.36']);
  });

  it.each(EDGE_VERSIONS)('%s image of a container that does not exist', async (version) => {
    const s = await withDeployment('set-image-missing');
    expectResult(await s.kubectl(version, ['set', 'image', 'deployment/web', 'nope=nginx:1.29']), { code: 1, stdout: '', stderr: 'error: unable to find container named "nope"\n' });
  });

  it.each(EDGE_VERSIONS)('%s env: adds, changes and removes variables', async (version) => {
    const s = await withDeployment('set-env');
    expectResult(await s.kubectl(version, ['set', 'env', 'deployment/web', '-c', 'web', 'MODE=prod', 'NEW=1', 'LEVEL-']), { code: 0, stdout: 'deployment.apps/web env updated\n' });
    expect(deployment(s, 'web').spec.template.spec.containers[0].env).toEqual([
      { name: 'MODE', value: 'prod' },
      { name: 'NEW', value: '1' },
    ]);
  });

  it.each(EDGE_VERSIONS)('%s env --list', async (version) => {
    const s = await withDeployment('set-env-list');
    expectResult(await s.kubectl(version, ['set', 'env', 'deployment/web', '--list']), {
      code: 0,
      stdout: '# Deployment web, container web\nMODE=dev\nLEVEL=3\n# Deployment web, container sidecar\n',
    });
  });

  it.each(EDGE_VERSIONS)('%s resources: limits and requests, canonical quantities', async (version) => {
    const s = await withDeployment('set-resources');
    expectResult(await s.kubectl(version, ['set', 'resources', 'deployment', 'web', '-c', 'web', '--limits=cpu=1000m,memory=1024Mi', '--requests=cpu=0.25']), {
      code: 0,
      stdout: 'deployment.apps/web resource requirements updated\n',
    });
    expect(deployment(s, 'web').spec.template.spec.containers[0].resources).toEqual({ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '250m' } });
  });
});
