// Bad input and refusals, as a real cluster words them: malformed manifests, unknown kinds and
// resource types, invalid names and specs, immutable fields, missing namespaces, wrongly typed
// values, ResourceQuota and LimitRange admission.
import { describe, expect, it } from 'vitest';
import { EDGE_VERSIONS, useConformanceCluster } from './harness.ts';
import { expectResult, text } from './output.ts';

const c = useConformanceCluster({ kubelet: false });

const dns1123Subdomain =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";

const deploymentYaml = (name: string, selector = 'web', labels = 'web') => text`
  apiVersion: apps/v1
  kind: Deployment
  metadata: {name: ${name}}
  spec:
    selector: {matchLabels: {app: ${selector}}}
    template:
      metadata: {labels: {app: ${labels}}}
      spec:
        containers: [{name: web, image: nginx}]
`;

describe.concurrent('manifests kubectl cannot read', () => {
  it.each(EDGE_VERSIONS)('%s malformed YAML', async (version) => {
    const s = await c.sandbox('bad-yaml');
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: {a: b}\n' }), {
      code: 1,
      stdout: '',
      stderr: 'error: error parsing STDIN: error converting YAML to JSON: yaml: line 4: did not find expected key\n',
    });
  });

  it.each(EDGE_VERSIONS)('%s a manifest without a kind', async (version) => {
    const s = await c.sandbox('bad-no-kind');
    expectResult(await s.kubectl(version, ['create', '-f', '-'], { stdin: 'apiVersion: v1\nmetadata: {name: x}\n' }), {
      code: 1,
      stdout: '',
      stderr: 'error: error validating "STDIN": error validating data: kind not set; if you choose to ignore these errors, turn validation off with --validate=false\n',
    });
  });

  it.each(EDGE_VERSIONS)('%s a kind no API serves', async (version) => {
    const s = await c.sandbox('bad-kind');
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: 'apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n' }), {
      code: 1,
      stdout: '',
      stderr: 'error: resource mapping not found for name: "w" namespace: "" from "STDIN": no matches for kind "Widget" in version "example.com/v1"\nensure CRDs are installed first\n',
    });
  });

  it.each(EDGE_VERSIONS)('%s a known kind in a version the server does not serve', async (version) => {
    const s = await c.sandbox('bad-version');
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: 'apiVersion: apps/v1beta1\nkind: Deployment\nmetadata: {name: old}\n' }), {
      code: 1,
      stdout: '',
      stderr: 'error: resource mapping not found for name: "old" namespace: "" from "STDIN": no matches for kind "Deployment" in version "apps/v1beta1"\nensure CRDs are installed first\n',
    });
  });

  it.each(EDGE_VERSIONS)('%s a resource type that does not exist', async (version) => {
    const s = await c.sandbox('bad-type');
    expectResult(await s.kubectl(version, ['get', 'widgets']), { code: 1, stdout: '', stderr: 'error: the server doesn\'t have a resource type "widgets"\n' });
  });

  it.each(EDGE_VERSIONS)('%s the manifest names another namespace than -n', async (version) => {
    const s = await c.sandbox('bad-namespace-mismatch');
    expectResult(await s.kubectl(version, ['apply', '-f', '-', '-n', s.namespace], { stdin: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, namespace: elsewhere}\n' }), {
      code: 1,
      stdout: '',
      stderr: `error: the namespace from the provided object "elsewhere" does not match the namespace "${s.namespace}". You must pass '--namespace=elsewhere' to perform this operation.\n`,
    });
  });
});

describe.concurrent('what the server refuses', () => {
  it.each(EDGE_VERSIONS)('%s an invalid name', async (version) => {
    const s = await c.sandbox('bad-name');
    expectResult(await s.kubectl(version, ['create', 'configmap', 'Bad_Name']), {
      code: 1,
      stdout: '',
      stderr: `error: failed to create configmap: ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name": ${dns1123Subdomain}\n`,
    });
  });

  it.each(EDGE_VERSIONS)('%s a service name that is not a DNS label', async (version) => {
    const s = await c.sandbox('bad-service-name');
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: 'apiVersion: v1\nkind: Service\nmetadata: {name: my.service}\nspec: {ports: [{port: 80}]}\n' }), {
      code: 1,
      stdout: '',
      stderr:
        "The Service \"my.service\" is invalid: metadata.name: Invalid value: \"my.service\": a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')\n",
    });
  });

  it.each(EDGE_VERSIONS)('%s a pod without an image', async (version) => {
    const s = await c.sandbox('bad-pod');
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: app}]}\n' }), {
      code: 1,
      stdout: '',
      stderr: 'The Pod "p" is invalid: spec.containers[0].image: Required value\n',
    });
  });

  it.each(EDGE_VERSIONS)('%s a selector that does not match the template labels', async (version) => {
    const s = await c.sandbox('bad-selector');
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: deploymentYaml('web', 'web', 'other') }), {
      code: 1,
      stdout: '',
      stderr: 'The Deployment "web" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"other"}: `selector` does not match template `labels`\n',
    });
  });

  it.each(EDGE_VERSIONS)('%s changing an immutable selector', async (version) => {
    const s = await c.sandbox('bad-immutable');
    await s.apply(deploymentYaml('web'));
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: deploymentYaml('web', 'other', 'other') }), {
      code: 1,
      stdout: '',
      stderr:
        'The Deployment "web" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"other"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable\n',
    });
  });

  it.each(EDGE_VERSIONS)('%s a port out of range (and the targetPort defaulted from it)', async (version) => {
    const s = await c.sandbox('bad-port');
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: 'apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {ports: [{port: 70000}]}\n' }), {
      code: 1,
      stdout: '',
      stderr:
        'The Service "s" is invalid: \n' +
        '* spec.ports[0].port: Invalid value: 70000: must be between 1 and 65535, inclusive\n' +
        '* spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive\n',
    });
  });

  it.each(EDGE_VERSIONS)('%s several problems at once', async (version) => {
    const s = await c.sandbox('bad-many');
    expectResult(
      await s.kubectl(version, ['apply', '-f', '-'], { stdin: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: -1\n  template:\n    spec:\n      containers: [{name: web, image: nginx}]\n' }),
      {
        code: 1,
        stdout: '',
        stderr:
          'The Deployment "web" is invalid: \n' +
          '* spec.replicas: Invalid value: -1: must be greater than or equal to 0\n' +
          '* spec.selector: Required value\n' +
          '* spec.template.metadata.labels: Invalid value: map[string]string(nil): `selector` does not match template `labels`\n',
      },
    );
  });

  it.each(EDGE_VERSIONS)('%s a value the kind cannot hold', async (version) => {
    const s = await c.sandbox('bad-type-value');
    expectResult(await s.kubectl(version, ['create', '-f', '-'], { stdin: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: [a, b]\n' }), {
      code: 1,
      stdout: '',
      stderr: 'Error from server (BadRequest): error when creating "STDIN": ConfigMap in version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal array into Go struct field ConfigMap.data of type map[string]string\n',
    });
  });

  it.each(EDGE_VERSIONS)('%s a number where a string belongs (env value)', async (version) => {
    const s = await c.sandbox('bad-env-number');
    expectResult(
      await s.kubectl(version, ['apply', '-f', '-'], { stdin: 'apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: app, image: nginx, env: [{name: PORT, value: 8080}]}]}\n' }),
      {
        code: 1,
        stdout: '',
        stderr: 'Error from server (BadRequest): error when creating "STDIN": Pod in version "v1" cannot be handled as a Pod: json: cannot unmarshal number into Go struct field EnvVar.spec.containers.env.value of type string\n',
      },
    );
  });
});

describe.concurrent('namespaces that do not exist', () => {
  it.each(EDGE_VERSIONS)('%s kubectl run into it', async (version) => {
    const s = await c.sandbox('no-ns-run');
    expectResult(await s.kubectl(version, ['run', 'web', '--image=nginx', '-n', 'nope']), { code: 1, stdout: '', stderr: 'Error from server (NotFound): namespaces "nope" not found\n' });
  });

  it.each(EDGE_VERSIONS)('%s kubectl apply into it', async (version) => {
    const s = await c.sandbox('no-ns-apply');
    expectResult(await s.kubectl(version, ['apply', '-f', '-', '-n', 'nope'], { stdin: 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n' }), {
      code: 1,
      stdout: '',
      stderr: 'Error from server (NotFound): error when creating "STDIN": namespaces "nope" not found\n',
    });
  });

  it.each(EDGE_VERSIONS)('%s kubectl get in it: an empty list', async (version) => {
    const s = await c.sandbox('no-ns-get');
    expectResult(await s.kubectl(version, ['get', 'pods', '-n', 'nope']), { code: 0, stdout: '', stderr: 'No resources found in nope namespace.\n' });
  });

  it.each(EDGE_VERSIONS)('%s a namespace being deleted takes no new objects', async (version) => {
    const s = await c.sandbox('ns-terminating');
    await s.must(['create', 'configmap', 'keep']);
    const ns = c.get('', 'v1', 'namespaces', undefined, s.namespace);
    // A finalizer of our own holds the namespace in Terminating while the case runs.
    c.cluster.registry.update(c.cluster.registry.lookup('', 'v1', 'namespaces')!, undefined, s.namespace, { ...ns!, spec: { finalizers: ['kubernetes', 'example.com/hold'] } }, { subresource: 'finalize' });
    await s.must(['delete', 'namespace', s.namespace, '--wait=false']);
    expectResult(await s.kubectl(version, ['create', 'configmap', 'late']), {
      code: 1,
      stdout: '',
      stderr: `error: failed to create configmap: configmaps "late" is forbidden: unable to create new content in namespace ${s.namespace} because it is being terminated\n`,
    });
  });
});

describe.concurrent('ResourceQuota and LimitRange admission', () => {
  it.each(EDGE_VERSIONS)('%s a quota on pods exceeded', async (version) => {
    const s = await c.sandbox('quota-pods');
    await s.must(['create', 'quota', 'small', '--hard=pods=1']);
    await c.until('quota status', () => (c.get('', 'v1', 'resourcequotas', s.namespace, 'small')?.status as { hard?: object } | undefined)?.hard);
    await s.must(['run', 'one', '--image=nginx']);
    expectResult(await s.kubectl(version, ['run', 'two', '--image=nginx']), {
      code: 1,
      stdout: '',
      stderr: 'Error from server (Forbidden): pods "two" is forbidden: exceeded quota: small, requested: pods=1, used: pods=1, limited: pods=1\n',
    });
  });

  it.each(EDGE_VERSIONS)('%s a compute quota needs requests and limits', async (version) => {
    const s = await c.sandbox('quota-compute');
    await s.must(['create', 'quota', 'compute', '--hard=requests.cpu=1,requests.memory=1Gi,limits.cpu=2,limits.memory=2Gi']);
    await c.until('quota status', () => (c.get('', 'v1', 'resourcequotas', s.namespace, 'compute')?.status as { hard?: object } | undefined)?.hard);
    expectResult(await s.kubectl(version, ['run', 'web', '--image=nginx']), {
      code: 1,
      stdout: '',
      stderr: 'Error from server (Forbidden): pods "web" is forbidden: failed quota: compute: must specify limits.cpu for: web; limits.memory for: web; requests.cpu for: web; requests.memory for: web\n',
    });
  });

  it.each(EDGE_VERSIONS)('%s a quota on ConfigMaps counted by name', async (version) => {
    const s = await c.sandbox('quota-count');
    await s.must(['create', 'quota', 'objects', '--hard=count/configmaps=2']);
    await c.until('quota used', () => (c.get('', 'v1', 'resourcequotas', s.namespace, 'objects')?.status as { used?: Record<string, string> } | undefined)?.used?.['count/configmaps'] === '1');
    await s.must(['create', 'configmap', 'one']);
    await c.until('quota used', () => (c.get('', 'v1', 'resourcequotas', s.namespace, 'objects')?.status as { used?: Record<string, string> } | undefined)?.used?.['count/configmaps'] === '2');
    expectResult(await s.kubectl(version, ['create', 'configmap', 'two']), {
      code: 1,
      stdout: '',
      stderr: 'error: failed to create configmap: configmaps "two" is forbidden: exceeded quota: objects, requested: count/configmaps=1, used: count/configmaps=2, limited: count/configmaps=2\n',
    });
  });

  it.each(EDGE_VERSIONS)('%s a LimitRange maximum', async (version) => {
    const s = await c.sandbox('limitrange-max');
    await s.apply('apiVersion: v1\nkind: LimitRange\nmetadata: {name: cap}\nspec:\n  limits:\n  - {type: Container, max: {cpu: "1"}}\n');
    expectResult(
      await s.kubectl(version, ['apply', '-f', '-'], { stdin: 'apiVersion: v1\nkind: Pod\nmetadata: {name: big}\nspec: {containers: [{name: app, image: nginx, resources: {limits: {cpu: "2"}}}]}\n' }),
      { code: 1, stdout: '', stderr: 'Error from server (Forbidden): error when creating "STDIN": pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2\n' },
    );
  });

  it.each(EDGE_VERSIONS)('%s LimitRange defaults are applied to a pod without resources', async (version) => {
    const s = await c.sandbox('limitrange-defaults');
    await s.apply('apiVersion: v1\nkind: LimitRange\nmetadata: {name: defaults}\nspec:\n  limits:\n  - {type: Container, default: {cpu: 500m, memory: 256Mi}, defaultRequest: {cpu: 100m, memory: 128Mi}}\n');
    expectResult(await s.kubectl(version, ['run', 'web', '--image=nginx']), { code: 0, stdout: 'pod/web created\n' });
    const pod = c.get('', 'v1', 'pods', s.namespace, 'web');
    expect((pod?.spec as { containers: Array<{ resources: unknown }> }).containers[0]?.resources).toEqual({ limits: { cpu: '500m', memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } });
    expect(pod?.metadata.annotations).toEqual({ 'kubernetes.io/limit-ranger': 'LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit for container web' });
  });
});
