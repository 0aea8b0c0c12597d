// kubectl delete (by name, -l, --all, -f, cascades, --wait, forced) and kubectl wait (for
// deletion, a condition, a JSONPath value, and what it says when the object is missing or the
// time runs out), against graceful pod termination and the garbage collector.
import { describe, expect, it } from 'vitest';
import { EDGE_VERSIONS, useConformanceCluster, type Sandbox } from './harness.ts';
import { expectResult, table, text } from './output.ts';

const c = useConformanceCluster();

async function running(s: Sandbox, name: string): Promise<void> {
  await s.must(['run', name, '--image=nginx', `--labels=app=${name}`]);
  await c.until(`pod ${name} running`, () => (c.get('', 'v1', 'pods', s.namespace, name)?.status as { phase?: string } | undefined)?.phase === 'Running');
}

async function deploymentWithPods(s: Sandbox): Promise<string> {
  await s.must(['create', 'deployment', 'web', '--image=nginx', '--replicas=2']);
  await c.until('two pods', () => c.list('', 'v1', 'pods', s.namespace).length === 2);
  const rs = c.list('apps', 'v1', 'replicasets', s.namespace)[0]?.metadata.name;
  if (!rs) throw new Error('no ReplicaSet');
  return rs;
}

describe.concurrent('kubectl delete', () => {
  it.each(EDGE_VERSIONS)('%s by name', async (version) => {
    const s = await c.sandbox('delete-name');
    await s.must(['create', 'configmap', 'a']);
    expectResult(await s.kubectl(version, ['delete', 'configmap', 'a']), { code: 0, stdout: 'configmap "a" deleted\n' });
    expect(c.get('', 'v1', 'configmaps', s.namespace, 'a')).toBeUndefined();
  });

  it.each(EDGE_VERSIONS)('%s by label selector', async (version) => {
    const s = await c.sandbox('delete-selector');
    await s.apply(text`
      apiVersion: v1
      kind: List
      items:
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: a, labels: {tier: fe}}}
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: b, labels: {tier: fe}}}
      - {apiVersion: v1, kind: ConfigMap, metadata: {name: c, labels: {tier: be}}}
    `);
    expectResult(await s.kubectl(version, ['delete', 'cm', '-l', 'tier=fe']), { code: 0, stdout: 'configmap "a" deleted\nconfigmap "b" deleted\n' });
    expect(c.list('', 'v1', 'configmaps', s.namespace).map((cm) => cm.metadata.name).sort()).toEqual(['c', 'kube-root-ca.crt']);
  });

  it.each(EDGE_VERSIONS)('%s --all of a kind in the namespace', async (version) => {
    const s = await c.sandbox('delete-all');
    await s.must(['create', 'secret', 'generic', 'one', '--from-literal=a=b']);
    await s.must(['create', 'secret', 'generic', 'two', '--from-literal=a=b']);
    expectResult(await s.kubectl(version, ['delete', 'secrets', '--all']), { code: 0, stdout: 'secret "one" deleted\nsecret "two" deleted\n' });
  });

  it.each(EDGE_VERSIONS)('%s -f a manifest', async (version) => {
    const s = await c.sandbox('delete-file');
    const manifest = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: from-file}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: svc}\nspec: {ports: [{port: 80}]}\n';
    await s.apply(manifest);
    expectResult(await s.kubectl(version, ['delete', '-f', '-'], { stdin: manifest }), { code: 0, stdout: 'configmap "from-file" deleted\nservice "svc" deleted\n' });
  });

  it.each(EDGE_VERSIONS)('%s something missing: NotFound, or nothing with --ignore-not-found', async (version) => {
    const s = await c.sandbox('delete-missing');
    const results = [await s.kubectl(version, ['delete', 'cm', 'ghost']), await s.kubectl(version, ['delete', 'cm', 'ghost', '--ignore-not-found'])];
    expect(results).toEqual([
      { code: 1, stdout: '', stderr: 'Error from server (NotFound): configmaps "ghost" not found\n' },
      { code: 0, stdout: '', stderr: '' },
    ]);
  });

  it.each(EDGE_VERSIONS)('%s a running pod waits for graceful termination', async (version) => {
    const s = await c.sandbox('delete-pod');
    await running(s, 'web');
    expectResult(await s.kubectl(version, ['delete', 'pod', 'web']), { code: 0, stdout: 'pod "web" deleted\n' });
    expect(c.get('', 'v1', 'pods', s.namespace, 'web')).toBeUndefined();
  });

  // KNOWN-GAPS.md "A container that ignores SIGTERM stops at once".
  it.fails.each(EDGE_VERSIONS)('%s --wait=false returns while the pod terminates', async (version) => {
    const s = await c.sandbox('delete-nowait');
    await s.apply(text`
      apiVersion: v1
      kind: Pod
      metadata: {name: slow}
      spec:
        terminationGracePeriodSeconds: 600
        containers:
        - {name: app, image: busybox, command: [sh, -c, "trap '' TERM; while true; do sleep 1; done"]}
    `);
    await c.until('slow running', () => (c.get('', 'v1', 'pods', s.namespace, 'slow')?.status as { phase?: string } | undefined)?.phase === 'Running');
    expectResult(await s.kubectl(version, ['delete', 'pod', 'slow', '--wait=false']), { code: 0, stdout: 'pod "slow" deleted\n' });
    const pod = c.get('', 'v1', 'pods', s.namespace, 'slow');
    expect([pod?.metadata.deletionTimestamp !== undefined, pod?.metadata.deletionGracePeriodSeconds]).toEqual([true, 600]);
    expectResult(
      await s.kubectl(version, ['get', 'pod', 'slow']),
      { code: 0, stdout: 'NAME   READY   STATUS        RESTARTS   AGE\nslow   1/1     Terminating   0          <age>\n' },
      table,
    );
  });

  it.each(EDGE_VERSIONS)('%s --grace-period=0 --force: warning, gone at once', async (version) => {
    const s = await c.sandbox('delete-force');
    await running(s, 'web');
    expectResult(await s.kubectl(version, ['delete', 'pod', 'web', '--grace-period=0', '--force']), {
      code: 0,
      stdout: 'pod "web" force deleted\n',
      stderr: 'Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n',
    });
    expect(c.get('', 'v1', 'pods', s.namespace, 'web')).toBeUndefined();
  });

  it.each(EDGE_VERSIONS)('%s --cascade=orphan leaves the ReplicaSet, without its owner reference', async (version) => {
    const s = await c.sandbox('delete-orphan');
    const rs = await deploymentWithPods(s);
    expectResult(await s.kubectl(version, ['delete', 'deployment', 'web', '--cascade=orphan']), { code: 0, stdout: 'deployment.apps "web" deleted\n' });
    await c.until('the owner reference removed', () => c.get('apps', 'v1', 'replicasets', s.namespace, rs)?.metadata.ownerReferences === undefined);
    expect(c.list('', 'v1', 'pods', s.namespace)).toHaveLength(2);
  });

  it.each(EDGE_VERSIONS)('%s --cascade=foreground: the deployment goes after its ReplicaSet and pods', async (version) => {
    const s = await c.sandbox('delete-foreground');
    const rs = await deploymentWithPods(s);
    expectResult(await s.kubectl(version, ['delete', 'deployment', 'web', '--cascade=foreground']), { code: 0, stdout: 'deployment.apps "web" deleted\n' });
    expect([c.get('apps', 'v1', 'deployments', s.namespace, 'web'), c.get('apps', 'v1', 'replicasets', s.namespace, rs)]).toEqual([undefined, undefined]);
  });

  it.each(EDGE_VERSIONS)('%s --cascade=background (the default): dependents follow', async (version) => {
    const s = await c.sandbox('delete-background');
    const rs = await deploymentWithPods(s);
    expectResult(await s.kubectl(version, ['delete', 'deployment', 'web', '--cascade=background']), { code: 0, stdout: 'deployment.apps "web" deleted\n' });
    await c.until('the ReplicaSet and pods collected', () => !c.get('apps', 'v1', 'replicasets', s.namespace, rs) && c.list('', 'v1', 'pods', s.namespace).length === 0);
  });

  // kubectl's wait GETs each deleted pod, then lists it by name and watches for its deletion: a
  // successor of the same name listed there is waited on until it too is deleted. A StatefulSet
  // recreates web-0 as soon as the old one is gone, so a kubelet that removed a pod within
  // kubectl's GET-to-list gap made this hang (most rounds failed within six).
  it('1.33 pods a StatefulSet recreates at once: the wait ends when the deleted ones are gone', { timeout: 120_000 }, async () => {
    const s = await c.sandbox('delete-recreated');
    await s.apply(text`
      apiVersion: apps/v1
      kind: StatefulSet
      metadata: {name: web}
      spec:
        serviceName: web
        replicas: 2
        selector: {matchLabels: {app: web}}
        template:
          metadata: {labels: {app: web}}
          spec:
            containers:
            - {name: nginx, image: nginx}
    `);
    const pods = () => ['web-0', 'web-1'].map((name) => c.get('', 'v1', 'pods', s.namespace, name));
    for (let round = 0; round < 6; round++) {
      await c.until('web-0 and web-1 running', () => pods().every((pod) => pod && !pod.metadata.deletionTimestamp && (pod.status as { phase?: string } | undefined)?.phase === 'Running'), 60_000);
      const before = pods().map((pod) => pod?.metadata.uid);
      expectResult(await s.kubectl('1.33', ['delete', 'pod', '-l', 'app=web'], { timeoutMs: 20_000 }), { code: 0, stdout: 'pod "web-0" deleted\npod "web-1" deleted\n' });
      // Returned: neither pod it deleted is left.
      expect(pods().filter((pod) => before.includes(pod?.metadata.uid))).toEqual([]);
    }
  });

  it.each(EDGE_VERSIONS)('%s a namespace with everything in it', async (version) => {
    const s = await c.sandbox('delete-namespace');
    await running(s, 'web');
    await s.must(['create', 'configmap', 'a']);
    expectResult(await s.kubectl(version, ['delete', 'namespace', s.namespace]), { code: 0, stdout: `namespace "${s.namespace}" deleted\n` });
    expect(c.get('', 'v1', 'namespaces', undefined, s.namespace)).toBeUndefined();
  });

  it.each(EDGE_VERSIONS)('%s an immortal namespace: Forbidden', async (version) => {
    expectResult(await c.kubectl(version, ['delete', 'namespace', 'default']), {
      code: 1,
      stdout: '',
      stderr: 'Error from server (Forbidden): namespaces "default" is forbidden: this namespace may not be deleted\n',
    });
  });
});

describe.concurrent('kubectl wait', () => {
  it.each(EDGE_VERSIONS)('%s --for=condition=Ready', async (version) => {
    const s = await c.sandbox('wait-ready');
    await s.must(['run', 'web', '--image=nginx']);
    expectResult(await s.kubectl(version, ['wait', '--for=condition=Ready', 'pod/web', '--timeout=30s']), { code: 0, stdout: 'pod/web condition met\n' });
  });

  it.each(EDGE_VERSIONS)('%s --for=condition=Available on a deployment, by label', async (version) => {
    const s = await c.sandbox('wait-available');
    await s.must(['create', 'deployment', 'web', '--image=nginx', '--replicas=2']);
    expectResult(await s.kubectl(version, ['wait', '--for=condition=Available', 'deployment', '-l', 'app=web', '--timeout=30s']), { code: 0, stdout: 'deployment.apps/web condition met\n' });
  });

  it.each(EDGE_VERSIONS)('%s --for=jsonpath', async (version) => {
    const s = await c.sandbox('wait-jsonpath');
    await s.must(['run', 'web', '--image=nginx']);
    expectResult(await s.kubectl(version, ['wait', '--for=jsonpath={.status.phase}=Running', 'pod/web', '--timeout=30s']), { code: 0, stdout: 'pod/web condition met\n' });
  });

  it.each(EDGE_VERSIONS)('%s --for=delete returns once the object is gone', async (version) => {
    const s = await c.sandbox('wait-delete');
    await running(s, 'web');
    await s.must(['delete', 'pod', 'web', '--wait=false']);
    expectResult(await s.kubectl(version, ['wait', '--for=delete', 'pod/web', '--timeout=30s']), { code: 0, stdout: /^(pod\/web condition met\n)?$/ });
    expect(c.get('', 'v1', 'pods', s.namespace, 'web')).toBeUndefined();
  });

  it.each(EDGE_VERSIONS)('%s --for=delete of something already gone succeeds', async (version) => {
    const s = await c.sandbox('wait-delete-gone');
    expectResult(await s.kubectl(version, ['wait', '--for=delete', 'pod/ghost', '--timeout=5s']), { code: 0, stdout: '' });
  });

  it.each(EDGE_VERSIONS)('%s a condition on a missing object: NotFound', async (version) => {
    const s = await c.sandbox('wait-missing');
    expectResult(await s.kubectl(version, ['wait', '--for=condition=Ready', 'pod/ghost', '--timeout=2s']), { code: 1, stdout: '', stderr: 'Error from server (NotFound): pods "ghost" not found\n' });
  });

  it.each(EDGE_VERSIONS)('%s a condition that never comes: timed out', async (version) => {
    const s = await c.sandbox('wait-timeout');
    await running(s, 'web');
    expectResult(await s.kubectl(version, ['wait', '--for=condition=Nope', 'pod/web', '--timeout=2s']), { code: 1, stdout: '', stderr: 'error: timed out waiting for the condition on pods/web\n' });
  });
});
