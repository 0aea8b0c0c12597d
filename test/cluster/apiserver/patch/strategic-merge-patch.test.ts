import { afterAll, describe, expect, it } from 'vitest';
import { applyStrategicMergePatch, PatchError, supportsStrategicMergePatch } from '../../../../src/cluster/apiserver/patch/index.ts';
import { kubectlLocal } from './kubectl-local.ts';

const oracle = kubectlLocal();
afterAll(() => oracle.close());

const apps = { group: 'apps', version: 'v1', kind: 'Deployment' };

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: {
    name: 'web',
    labels: { app: 'web' },
    finalizers: ['example.com/a', 'example.com/b'],
    ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'owner', uid: 'u-1' }],
  },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: {
        containers: [
          {
            name: 'web',
            image: 'nginx:1.27',
            ports: [{ containerPort: 80, name: 'http' }],
            env: [
              { name: 'A', value: '1' },
              { name: 'B', value: '2' },
            ],
            volumeMounts: [{ name: 'data', mountPath: '/data' }],
          },
          { name: 'sidecar', image: 'busybox', args: ['sleep', '3600'] },
        ],
        volumes: [{ name: 'data', emptyDir: {} }],
        tolerations: [{ key: 'a', operator: 'Exists' }],
        imagePullSecrets: [{ name: 'registry' }],
        hostAliases: [{ ip: '10.0.0.1', hostnames: ['one'] }],
      },
    },
  },
};

/** Bodies as kubectl 1.27–1.33 send them (see kubectl-wire.md §1.3) and hand-written directives. */
const agreeing: Array<[string, unknown]> = [
  ['kubectl set image', { spec: { template: { spec: { $setElementOrder$containers: [{ name: 'web' }, { name: 'sidecar' }], containers: [{ image: 'nginx:1.29', name: 'web' }] } } } }],
  ['kubectl apply: re-apply with a changed field', { spec: { replicas: 3, template: { spec: { $setElementOrder$containers: [{ name: 'web' }, { name: 'sidecar' }], containers: [{ image: 'nginx:1.28', name: 'web' }] } } } }],
  ['kubectl apply: removed container', { spec: { template: { spec: { $setElementOrder$containers: [{ name: 'web' }], containers: [{ $patch: 'delete', name: 'sidecar' }] } } } }],
  [
    'kubectl apply: removed env var',
    { spec: { template: { spec: { $setElementOrder$containers: [{ name: 'web' }, { name: 'sidecar' }], containers: [{ $setElementOrder$env: [{ name: 'A' }], env: [{ $patch: 'delete', name: 'B' }], name: 'web' }] } } } },
  ],
  ['kubectl apply: added env var keeps the order given', { spec: { template: { spec: { $setElementOrder$containers: [{ name: 'web' }, { name: 'sidecar' }], containers: [{ $setElementOrder$env: [{ name: 'A' }, { name: 'C' }, { name: 'B' }], env: [{ name: 'C', value: '3' }], name: 'web' }] } } } }],
  ['reordered containers with $setElementOrder only', { spec: { template: { spec: { $setElementOrder$containers: [{ name: 'sidecar' }, { name: 'web' }] } } } }],
  ['a new container without $setElementOrder goes first', { spec: { template: { spec: { containers: [{ name: 'debug', image: 'busybox' }] } } } }],
  ['$retainKeys on the deployment strategy (switch to Recreate)', { spec: { strategy: { $retainKeys: ['type'], type: 'Recreate' } } }],
  ['$retainKeys on a volume changes its source', { spec: { template: { spec: { $setElementOrder$volumes: [{ name: 'data' }], volumes: [{ $retainKeys: ['configMap', 'name'], configMap: { name: 'settings' }, name: 'data' }] } } } }],
  ['$deleteFromPrimitiveList on finalizers', { metadata: { $deleteFromPrimitiveList$finalizers: ['example.com/a'] } }],
  ['finalizers merge as a set; a new one goes first', { metadata: { finalizers: ['example.com/c', 'example.com/a'] } }],
  ['$setElementOrder on a primitive list', { metadata: { $setElementOrder$finalizers: ['example.com/b', 'example.com/c', 'example.com/a'], finalizers: ['example.com/c'] } }],
  ['$patch: replace inside a list drops the live items', { spec: { template: { spec: { containers: [{ name: 'only', image: 'alpine' }, { $patch: 'replace' }] } } } }],
  ['$patch: replace on a map', { metadata: { labels: { $patch: 'replace', fresh: 'yes' } } }],
  ['$patch: delete on a map empties it', { spec: { strategy: { $patch: 'delete' } } }],
  ['container ports merge by containerPort', { spec: { template: { spec: { containers: [{ name: 'web', ports: [{ containerPort: 443, name: 'https' }] }] } } } }],
  ['tolerations are replaced as a whole', { spec: { template: { spec: { tolerations: [{ key: 'b', operator: 'Exists' }] } } } }],
  ['args of a container are replaced', { spec: { template: { spec: { containers: [{ name: 'sidecar', args: ['sleep', '10'] }] } } } }],
  ['imagePullSecrets and hostAliases merge by name and ip', { spec: { template: { spec: { imagePullSecrets: [{ name: 'other' }], hostAliases: [{ ip: '10.0.0.1', hostnames: ['uno'] }, { ip: '10.0.0.2', hostnames: ['two'] }] } } } }],
  ['ownerReferences merge by uid', { metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'Secret', name: 'other', uid: 'u-2' }] } }],
  ['null deletes a field and a label', { spec: { replicas: null }, metadata: { labels: { app: null, tier: 'web' } } }],
  ['volumeMounts merge by mountPath', { spec: { template: { spec: { containers: [{ name: 'web', volumeMounts: [{ name: 'cache', mountPath: '/cache' }, { name: 'data2', mountPath: '/data' }] }] } } } }],
];

/** JSON keys cannot hold "/" in these literals readably, so "$" stands for it. */
function withSlashes(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withSlashes);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key.replace(/^(\$setElementOrder|\$deleteFromPrimitiveList)\$/, '$1/'), withSlashes(item)]));
  }
  return value;
}

function failure(run: () => unknown): PatchError {
  try {
    run();
  } catch (error) {
    if (error instanceof PatchError) return error;
    throw error;
  }
  throw new Error('expected a PatchError');
}

describe('applyStrategicMergePatch on a Deployment', () => {
  it.each(agreeing)('%s: same result as upstream', async (_name, body) => {
    const patch = withSlashes(body);
    const expected = await oracle.patch(deployment, 'strategic', patch);
    expect(expected.ok ? undefined : expected.error).toBeUndefined();
    expect(applyStrategicMergePatch(deployment, patch, apps)).toEqual(expected.ok ? expected.object : undefined);
  });

  it('puts the new image where kubectl set image meant it, leaving the sidecar alone', () => {
    const patched = applyStrategicMergePatch(deployment, withSlashes(agreeing[0]![1]), apps) as typeof deployment;
    expect(patched.spec.template.spec.containers.map((c) => [c.name, c.image])).toEqual([
      ['web', 'nginx:1.29'],
      ['sidecar', 'busybox'],
    ]);
    expect(patched.spec.template.spec.containers[0]!.env).toEqual(deployment.spec.template.spec.containers[0]!.env);
  });

  it('ignores a deletion list for a list the object does not have', () => {
    const patched = applyStrategicMergePatch(deployment, { spec: { template: { spec: { containers: [{ name: 'web', '$deleteFromPrimitiveList/args': ['x'] }] } } } }, apps) as typeof deployment;
    expect(patched.spec.template.spec.containers[0]).not.toHaveProperty('args');
  });

  it('never stores directives of a patch for a field the object lacks', () => {
    const patched = applyStrategicMergePatch(
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' } },
      { spec: { '$setElementOrder/containers': [{ name: 'a' }], containers: [{ name: 'a', image: 'x' }, { name: 'gone', $patch: 'delete' }] } },
      { group: '', version: 'v1', kind: 'Pod' },
    );
    expect(patched).toEqual({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'a', image: 'x' }] } });
  });
});

describe('applyStrategicMergePatch on other built-in kinds', () => {
  const cases: Array<[string, Record<string, unknown>, { group: string; version: string; kind: string }, unknown]> = [
    [
      'Service ports merge by port',
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80, targetPort: 8080, name: 'http' }], selector: { app: 'a', tier: 'b' } } },
      { group: '', version: 'v1', kind: 'Service' },
      { spec: { ports: [{ port: 80, targetPort: 9090 }, { port: 443, name: 'https' }], selector: { tier: null } } },
    ],
    [
      'Node taints are replaced, podCIDRs merge',
      { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n' }, spec: { podCIDRs: ['10.0.0.0/24'], taints: [{ key: 'a', effect: 'NoSchedule' }] } },
      { group: '', version: 'v1', kind: 'Node' },
      { spec: { podCIDRs: ['10.0.1.0/24'], taints: [{ key: 'b', effect: 'NoExecute' }] } },
    ],
    [
      'Pod status conditions merge by type',
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True' }, { type: 'Ready', status: 'False' }] } },
      { group: '', version: 'v1', kind: 'Pod' },
      { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } },
    ],
    [
      'CronJob containers inside jobTemplate merge by name',
      { apiVersion: 'batch/v1', kind: 'CronJob', metadata: { name: 'c' }, spec: { schedule: '* * * * *', jobTemplate: { spec: { template: { spec: { restartPolicy: 'Never', containers: [{ name: 'job', image: 'a', env: [{ name: 'X', value: '1' }] }] } } } } } },
      { group: 'batch', version: 'v1', kind: 'CronJob' },
      { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'job', env: [{ name: 'Y', value: '2' }] }] } } } } } },
    ],
    [
      'PodDisruptionBudget selector is replaced whole',
      { apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', metadata: { name: 'p' }, spec: { minAvailable: 1, selector: { matchLabels: { app: 'a', tier: 'b' } } } },
      { group: 'policy', version: 'v1', kind: 'PodDisruptionBudget' },
      { spec: { selector: { matchLabels: { app: 'c' } } } },
    ],
    [
      'Role rules are atomic',
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get'] }] },
      { group: 'rbac.authorization.k8s.io', version: 'v1', kind: 'Role' },
      { rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['list'] }] },
    ],
    [
      'ServiceAccount secrets merge by name',
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'sa' }, secrets: [{ name: 'one' }] },
      { group: '', version: 'v1', kind: 'ServiceAccount' },
      { secrets: [{ name: 'two' }] },
    ],
    [
      'StatefulSet initContainers merge by name',
      { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 's' }, spec: { serviceName: 's', template: { spec: { initContainers: [{ name: 'init', image: 'a' }], containers: [{ name: 'main', image: 'b' }] } } } },
      { group: 'apps', version: 'v1', kind: 'StatefulSet' },
      { spec: { template: { spec: { initContainers: [{ name: 'init', image: 'a2' }] } } } },
    ],
  ];

  it.each(cases)('%s: same result as upstream', async (_name, doc, gvk, patch) => {
    const expected = await oracle.patch(doc, 'strategic', patch);
    expect(expected.ok ? undefined : expected.error).toBeUndefined();
    expect(applyStrategicMergePatch(doc, patch, gvk)).toEqual(expected.ok ? expected.object : undefined);
  });
});

describe('strategic merge patch errors', () => {
  it.each<[string, unknown, number]>([
    ['a list item without its merge key', { spec: { template: { spec: { containers: [{ image: 'q' }] } } } }, 400],
    ['$patch: merge in a list', { spec: { template: { spec: { containers: [{ name: 'web', $patch: 'merge' }] } } } }, 400],
    ['a key outside $retainKeys', { spec: { strategy: { $retainKeys: ['type'], rollingUpdate: { maxSurge: 1 }, type: 'Recreate' } } }, 400],
    ['a malformed deletion-list key', { metadata: { '$deleteFromPrimitiveListx/finalizers': ['a'] } }, 400],
    ['a patch list that $setElementOrder does not name', { spec: { template: { spec: { '$setElementOrder/containers': [{ name: 'web' }], containers: [{ name: 'sidecar', image: 'z' }] } } } }, 400],
  ])('%s: %s with upstream message', async (_name, patch, code) => {
    const error = failure(() => applyStrategicMergePatch(deployment, patch, apps));
    expect(error.code).toBe(code);
    expect(await oracle.patch(deployment, 'strategic', patch)).toEqual({ ok: false, error: error.message.trim() });
  });

  it('answers a list of lists with 422', () => {
    const error = failure(() => applyStrategicMergePatch({ ...deployment, metadata: { name: 'web' } }, { metadata: { finalizers: [['x']] } }, apps));
    expect(error.code).toBe(422);
    expect(error.message).toBe('lists of lists are not supported');
  });

  it('rejects a body that is not an object with 400', () => {
    const error = failure(() => applyStrategicMergePatch(deployment, [{ op: 'add' }], apps));
    expect(error.code).toBe(400);
    expect(error.message).toBe('json: cannot unmarshal array into Go value of type map[string]interface {}');
  });

  it('knows the built-in kinds and not custom resources', () => {
    expect(supportsStrategicMergePatch(apps)).toBe(true);
    expect(supportsStrategicMergePatch({ group: '', version: 'v1', kind: 'ConfigMap' })).toBe(true);
    expect(supportsStrategicMergePatch({ group: 'apiextensions.k8s.io', version: 'v1', kind: 'CustomResourceDefinition' })).toBe(true);
    expect(supportsStrategicMergePatch({ group: 'stable.example.com', version: 'v1', kind: 'CronTab' })).toBe(false);
    expect(supportsStrategicMergePatch({ group: 'apps', version: 'v1beta1', kind: 'Deployment' })).toBe(false);
  });
});
