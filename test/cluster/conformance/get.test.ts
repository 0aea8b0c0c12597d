// kubectl get in every output format, with selectors, sorting, extra columns, all namespaces,
// paging and a bounded watch: the server's Tables, lists and watch events as kubectl renders them.
import { describe, expect, it } from 'vitest';
import { EDGE_VERSIONS, WITH_INSTALLED, useConformanceCluster, type Sandbox } from './harness.ts';
import { addresses, expectResult, table, text } from './output.ts';

const c = useConformanceCluster();

/** Two ConfigMaps beside the namespace's kube-root-ca.crt: `a` (1 key, tier=fe) and `b` (2 keys, tier=be). */
async function configMaps(hint: string): Promise<Sandbox> {
  const s = await c.sandbox(hint);
  await s.apply(text`
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: a, labels: {tier: fe, app: shop}}
    data: {x: "1"}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: b, labels: {tier: be, app: shop}}
    data: {x: "2", z: "3"}
  `);
  return s;
}

async function runningPod(s: Sandbox, name: string, labels = `app=${name}`): Promise<void> {
  await s.must(['run', name, '--image=nginx', `--labels=${labels}`, '--port=80']);
  await c.until(`pod ${name} Running and Ready`, () => {
    const pod = c.get('', 'v1', 'pods', s.namespace, name);
    const status = pod?.status as { phase?: string; conditions?: Array<{ type: string; status: string }> } | undefined;
    return status?.phase === 'Running' && status.conditions?.some((cond) => cond.type === 'Ready' && cond.status === 'True');
  });
}

/** A bounded kubectl watch, and a promise that settles once it has printed its initial list. */
function watch(s: Sandbox, version: string, args: string[]): { listed: Promise<void>; result: ReturnType<Sandbox['kubectl']> } {
  let listedNow: () => void = () => {};
  const listed = new Promise<void>((resolve) => (listedNow = resolve));
  return { listed, result: s.kubectl(version, args, { onStdout: () => listedNow() }) };
}

const nodeOf = (s: Sandbox, pod: string) => String((c.get('', 'v1', 'pods', s.namespace, pod)?.spec as { nodeName?: string }).nodeName);

describe.concurrent('kubectl get: tables', () => {
  it.each(WITH_INSTALLED)('%s configmaps: NAME DATA AGE, sorted by name', async (version) => {
    const s = await configMaps('get-table');
    expectResult(
      await s.kubectl(version, ['get', 'configmaps']),
      {
        code: 0,
        stdout: text`
          NAME               DATA   AGE
          a                  1      <age>
          b                  2      <age>
          kube-root-ca.crt   1      <age>
        `,
      },
      table,
    );
  });

  it.each(WITH_INSTALLED)('%s pods -o wide: the wide columns', async (version) => {
    const s = await c.sandbox('get-wide');
    await runningPod(s, 'web');
    expectResult(
      await s.kubectl(version, ['get', 'pods', '-o', 'wide']),
      {
        code: 0,
        stdout: text`
          NAME   READY   STATUS    RESTARTS   AGE     IP         NODE     NOMINATED NODE   READINESS GATES
          web    1/1     Running   0          <age>   <pod-ip>   ${nodeOf(s, 'web')}   <none>           <none>
        `,
      },
      (out) => table(addresses(out)),
    );
  });

  it.each(WITH_INSTALLED)('%s several kinds at once (deployments, replicasets, services) with group-qualified names', async (version) => {
    const s = await c.sandbox('get-multi');
    await s.must(['create', 'deployment', 'web', '--image=nginx', '--replicas=0']);
    await s.must(['create', 'service', 'clusterip', 'web', '--tcp=80:80']);
    await c.until('the ReplicaSet', () => c.list('apps', 'v1', 'replicasets', s.namespace).length === 1);
    const rs = c.list('apps', 'v1', 'replicasets', s.namespace)[0]?.metadata.name;
    expectResult(
      await s.kubectl(version, ['get', 'deploy,rs,svc']),
      {
        code: 0,
        stdout: text`
          NAME                  READY   UP-TO-DATE   AVAILABLE   AGE
          deployment.apps/web   0/0     0            0           <age>

          NAME                            DESIRED   CURRENT   READY   AGE
          replicaset.apps/${rs}   0         0         0       <age>

          NAME          TYPE        CLUSTER-IP      EXTERNAL-IP   PORT(S)   AGE
          service/web   ClusterIP   <cluster-ip>   <none>        80/TCP    <age>
        `,
      },
      (out) => table(addresses(out)),
    );
  });

  it.each(WITH_INSTALLED)('%s nodes: STATUS ROLES VERSION', async (version) => {
    expectResult(
      await c.kubectl(version, ['get', 'nodes']),
      {
        code: 0,
        stdout: text`
          NAME     STATUS   ROLES    AGE     VERSION
          node-1   Ready    <none>   <age>   v1.33.0+formicary
          node-2   Ready    <none>   <age>   v1.33.0+formicary
          node-3   Ready    <none>   <age>   v1.33.0+formicary
        `,
      },
      table,
    );
  });

  it.each(WITH_INSTALLED)('%s --no-headers', async (version) => {
    const s = await configMaps('get-no-headers');
    expectResult(await s.kubectl(version, ['get', 'cm', '--no-headers', '-l', 'app=shop']), { code: 0, stdout: /^a\s+1\s+\S+\nb\s+2\s+\S+\n$/ });
  });

  it.each(WITH_INSTALLED)('%s an empty namespace: "No resources found"', async (version) => {
    const s = await c.sandbox('get-empty');
    expectResult(await s.kubectl(version, ['get', 'pods']), { code: 0, stdout: '', stderr: `No resources found in ${s.namespace} namespace.\n` });
  });

  it.each(WITH_INSTALLED)('%s a missing object: NotFound, exit 1', async (version) => {
    const s = await c.sandbox('get-missing');
    expectResult(await s.kubectl(version, ['get', 'configmap', 'nope']), { code: 1, stdout: '', stderr: 'Error from server (NotFound): configmaps "nope" not found\n' });
  });

  it.each(WITH_INSTALLED)('%s named objects, one missing: prints the rest, exit 1', async (version) => {
    const s = await configMaps('get-some-missing');
    expectResult(
      await s.kubectl(version, ['get', 'configmap', 'a', 'nope', 'b']),
      { code: 1, stdout: 'NAME   DATA   AGE\na      1      <age>\nb      2      <age>\n', stderr: 'Error from server (NotFound): configmaps "nope" not found\n' },
      table,
    );
  });

  it.each(WITH_INSTALLED)('%s get all: pods, services, deployments, replicasets', async (version) => {
    const s = await c.sandbox('get-all');
    await runningPod(s, 'solo');
    await s.must(['create', 'service', 'clusterip', 'solo', '--tcp=80:80']);
    expectResult(
      await s.kubectl(version, ['get', 'all']),
      {
        code: 0,
        stdout: text`
          NAME       READY   STATUS    RESTARTS   AGE
          pod/solo   1/1     Running   0          <age>

          NAME           TYPE        CLUSTER-IP      EXTERNAL-IP   PORT(S)   AGE
          service/solo   ClusterIP   <cluster-ip>   <none>        80/TCP    <age>
        `,
      },
      (out) => table(addresses(out)),
    );
  });
});

describe.concurrent('kubectl get: output formats', () => {
  it.each(EDGE_VERSIONS)('%s -o yaml of one object: no managedFields, server-set metadata', async (version) => {
    const s = await configMaps('get-yaml');
    const cm = c.get('', 'v1', 'configmaps', s.namespace, 'a');
    expectResult(await s.kubectl(version, ['get', 'cm', 'a', '-o', 'yaml']), {
      code: 0,
      stdout: text`
        apiVersion: v1
        data:
          x: "1"
        kind: ConfigMap
        metadata:
          annotations:
            kubectl.kubernetes.io/last-applied-configuration: |
              {"apiVersion":"v1","data":{"x":"1"},"kind":"ConfigMap","metadata":{"annotations":{},"labels":{"app":"shop","tier":"fe"},"name":"a","namespace":"${s.namespace}"}}
          creationTimestamp: "${cm?.metadata.creationTimestamp}"
          labels:
            app: shop
            tier: fe
          name: a
          namespace: ${s.namespace}
          resourceVersion: "${cm?.metadata.resourceVersion}"
          uid: ${cm?.metadata.uid}
      `,
    });
  });

  it.each(EDGE_VERSIONS)('%s -o json of one object', async (version) => {
    const s = await c.sandbox('get-json');
    await s.must(['create', 'configmap', 'plain', '--from-literal=k=v']);
    const result = await s.kubectl(version, ['get', 'cm', 'plain', '-o', 'json']);
    const cm = c.get('', 'v1', 'configmaps', s.namespace, 'plain');
    expectResult(result, {
      code: 0,
      stdout:
        JSON.stringify(
          {
            apiVersion: 'v1',
            data: { k: 'v' },
            kind: 'ConfigMap',
            metadata: { creationTimestamp: cm?.metadata.creationTimestamp, name: 'plain', namespace: s.namespace, resourceVersion: cm?.metadata.resourceVersion, uid: cm?.metadata.uid },
          },
          null,
          4,
        ) + '\n',
    });
  });

  it.each(EDGE_VERSIONS)('%s -o yaml of a list: kind List', async (version) => {
    const s = await configMaps('get-yaml-list');
    const result = await s.kubectl(version, ['get', 'cm', '-l', 'tier=be', '-o', 'yaml']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^apiVersion: v1\nitems:\n- apiVersion: v1\n {2}data:\n {4}x: "2"\n {4}z: "3"\n {2}kind: ConfigMap\n/);
    expect(result.stdout).toMatch(/\nkind: List\nmetadata:\n {2}resourceVersion: ""\n$/);
  });

  it.each(EDGE_VERSIONS)('%s -o name', async (version) => {
    const s = await configMaps('get-name');
    expectResult(await s.kubectl(version, ['get', 'cm', '-o', 'name']), { code: 0, stdout: 'configmap/a\nconfigmap/b\nconfigmap/kube-root-ca.crt\n' });
  });

  it.each(EDGE_VERSIONS)('%s -o jsonpath over a list and one object', async (version) => {
    const s = await configMaps('get-jsonpath');
    const results = [
      await s.kubectl(version, ['get', 'cm', '-l', 'app=shop', '-o', 'jsonpath={.items[*].metadata.name}']),
      await s.kubectl(version, ['get', 'cm', 'b', '-o', 'jsonpath={.data.z}']),
      await s.kubectl(version, ['get', 'cm', '-l', 'app=shop', '-o', 'jsonpath={range .items[*]}{.metadata.name}:{.metadata.labels.tier}{"\\n"}{end}']),
    ];
    expect(results).toEqual([
      { code: 0, stdout: 'a b', stderr: '' },
      { code: 0, stdout: '3', stderr: '' },
      { code: 0, stdout: 'a:fe\nb:be\n', stderr: '' },
    ]);
  });

  it.each(EDGE_VERSIONS)('%s -o custom-columns, <none> for a missing value', async (version) => {
    const s = await configMaps('get-custom');
    expectResult(
      await s.kubectl(version, ['get', 'cm', '-o', 'custom-columns=NAME:.metadata.name,TIER:.metadata.labels.tier,Z:.data.z']),
      {
        code: 0,
        stdout: text`
          NAME               TIER     Z
          a                  fe       <none>
          b                  be       3
          kube-root-ca.crt   <none>   <none>
        `,
      },
      table,
    );
  });

  it.each(EDGE_VERSIONS)('%s -o go-template', async (version) => {
    const s = await configMaps('get-template');
    expectResult(await s.kubectl(version, ['get', 'cm', '-o', 'go-template={{range .items}}{{.metadata.name}}={{len .data}}{{"\\n"}}{{end}}']), {
      code: 0,
      stdout: 'a=1\nb=2\nkube-root-ca.crt=1\n',
    });
  });
});

describe.concurrent('kubectl get: selectors, columns, sorting, namespaces, paging', () => {
  it.each(EDGE_VERSIONS)('%s -l with equality, set and existence selectors', async (version) => {
    const s = await configMaps('get-labels');
    const results = [
      await s.kubectl(version, ['get', 'cm', '-l', 'tier=fe', '-o', 'name']),
      await s.kubectl(version, ['get', 'cm', '-l', 'tier in (fe,be),app=shop', '-o', 'name']),
      await s.kubectl(version, ['get', 'cm', '-l', '!tier', '-o', 'name']),
      await s.kubectl(version, ['get', 'cm', '-l', 'tier!=fe', '-o', 'name']),
    ];
    expect(results.map((r) => [r.code, r.stdout, r.stderr])).toEqual([
      [0, 'configmap/a\n', ''],
      [0, 'configmap/a\nconfigmap/b\n', ''],
      [0, 'configmap/kube-root-ca.crt\n', ''],
      [0, 'configmap/b\nconfigmap/kube-root-ca.crt\n', ''],
    ]);
  });

  it.each(EDGE_VERSIONS)('%s an invalid label selector: the server\'s BadRequest', async (version) => {
    const s = await configMaps('get-bad-selector');
    const result = await s.kubectl(version, ['get', 'cm', '-l', 'tier=fe=x']);
    expect([result.code, result.stdout]).toEqual([1, '']);
    expect(result.stderr).toMatch(/^Error from server \(BadRequest\): Unable to find "\/v1, Resource=configmaps" that match label selector "tier=fe=x", field selector "": unable to parse requirement: .+\n$/);
  });

  it.each(EDGE_VERSIONS)('%s --field-selector on metadata.name and status.phase', async (version) => {
    const s = await c.sandbox('get-fields');
    await runningPod(s, 'one');
    await s.must(['create', 'configmap', 'a']);
    const results = [
      await s.kubectl(version, ['get', 'cm', '--field-selector', 'metadata.name=a', '-o', 'name']),
      await s.kubectl(version, ['get', 'pods', '--field-selector', 'status.phase=Running', '-o', 'name']),
      await s.kubectl(version, ['get', 'pods', '--field-selector', 'status.phase!=Running']),
      await s.kubectl(version, ['get', 'pods', '--field-selector', `spec.nodeName=${nodeOf(s, 'one')}`, '-o', 'name']),
    ];
    expect(results).toEqual([
      { code: 0, stdout: 'configmap/a\n', stderr: '' },
      { code: 0, stdout: 'pod/one\n', stderr: '' },
      { code: 0, stdout: '', stderr: `No resources found in ${s.namespace} namespace.\n` },
      { code: 0, stdout: 'pod/one\n', stderr: '' },
    ]);
  });

  it.each(EDGE_VERSIONS)('%s a field selector the resource does not support', async (version) => {
    const s = await configMaps('get-bad-field');
    expectResult(await s.kubectl(version, ['get', 'cm', '--field-selector', 'data.x=1']), {
      code: 1,
      stdout: '',
      stderr: 'Error from server (BadRequest): Unable to find "/v1, Resource=configmaps" that match label selector "", field selector "data.x=1": field label not supported: data.x\n',
    });
  });

  it.each(EDGE_VERSIONS)('%s --show-labels', async (version) => {
    const s = await configMaps('get-show-labels');
    expectResult(
      await s.kubectl(version, ['get', 'cm', '--show-labels']),
      {
        code: 0,
        stdout: text`
          NAME               DATA   AGE     LABELS
          a                  1      <age>   app=shop,tier=fe
          b                  2      <age>   app=shop,tier=be
          kube-root-ca.crt   1      <age>   <none>
        `,
      },
      table,
    );
  });

  it.each(EDGE_VERSIONS)('%s -L adds label columns', async (version) => {
    const s = await configMaps('get-label-columns');
    expectResult(
      await s.kubectl(version, ['get', 'cm', '-l', 'app', '-L', 'tier,app']),
      {
        code: 0,
        stdout: text`
          NAME   DATA   AGE     TIER   APP
          a      1      <age>   fe     shop
          b      2      <age>   be     shop
        `,
      },
      table,
    );
  });

  it.each(EDGE_VERSIONS)('%s --sort-by a field, descending data order', async (version) => {
    const s = await configMaps('get-sort');
    await s.apply('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, labels: {app: shop}}\ndata: {x: "0"}\n');
    expectResult(await s.kubectl(version, ['get', 'cm', '-l', 'app=shop', '--sort-by=.data.x', '-o', 'name']), { code: 0, stdout: 'configmap/c\nconfigmap/a\nconfigmap/b\n' });
  });

  it.each(EDGE_VERSIONS)('%s -A adds the NAMESPACE column', async (version) => {
    const s = await c.sandbox('get-all-namespaces');
    const other = await c.sandbox('get-all-namespaces-other');
    for (const sandbox of [s, other]) await sandbox.must(['create', 'configmap', 'a', '--from-literal=x=1', `-n`, sandbox.namespace]);
    for (const sandbox of [s, other]) await sandbox.must(['label', 'configmap', 'a', `pair=${s.namespace}`]);
    expectResult(
      await s.kubectl(version, ['get', 'cm', '-A', '-l', `pair=${s.namespace}`]),
      {
        code: 0,
        stdout: text`
          NAMESPACE   NAME   DATA   AGE
          ${s.namespace}   a      1      <age>
          ${other.namespace}   a      1      <age>
        `,
      },
      table,
    );
  });

  it.each(EDGE_VERSIONS)('%s --chunk-size pages through limit/continue and prints one table', async (version) => {
    const s = await configMaps('get-chunks');
    expectResult(
      await s.kubectl(version, ['get', 'cm', '--chunk-size=1']),
      {
        code: 0,
        stdout: text`
          NAME               DATA   AGE
          a                  1      <age>
          b                  2      <age>
          kube-root-ca.crt   1      <age>
        `,
      },
      table,
    );
  });
});

describe.concurrent('kubectl get --watch', () => {
  it.each(EDGE_VERSIONS)('%s -w prints the table, then each change as a row, until the request times out', async (version) => {
    const s = await configMaps('get-watch');
    const { listed, result: watching } = watch(s, version, ['get', 'cm', '-l', 'app=shop', '-w', '--request-timeout=3s']);
    await listed;
    await s.must(['label', 'cm', 'b', 'tier=mid', '--overwrite']);
    await s.must(['delete', 'cm', 'a']);
    expectResult(
      await watching,
      {
        code: 0,
        stdout: text`
          NAME   DATA   AGE
          a      1      <age>
          b      2      <age>
          b      2      <age>
          a      1      <age>
        `,
      },
      table,
    );
  });

  it.each(EDGE_VERSIONS)('%s -w --output-watch-events names each event', async (version) => {
    const s = await configMaps('get-watch-events');
    const { listed, result: watching } = watch(s, version, ['get', 'cm', '-l', 'tier=be', '-w', '--output-watch-events', '--request-timeout=3s']);
    await listed;
    await s.must(['annotate', 'cm', 'b', 'note=x']);
    await s.must(['delete', 'cm', 'b']);
    expectResult(
      await watching,
      {
        code: 0,
        stdout: text`
          EVENT      NAME   DATA   AGE
          ADDED      b      2      <age>
          MODIFIED   b      2      <age>
          DELETED    b      2      <age>
        `,
      },
      table,
    );
  });

  it.each(EDGE_VERSIONS)('%s --watch-only prints changes only, -o name', async (version) => {
    const s = await configMaps('get-watch-only');
    // --watch-only prints nothing until a change, so there is no sign the watch has begun: wait.
    const watching = s.kubectl(version, ['get', 'cm', '--watch-only', '-o', 'name', '--request-timeout=5s']);
    await new Promise((resolve) => setTimeout(resolve, 2500));
    await s.must(['create', 'configmap', 'fresh']);
    expectResult(await watching, { code: 0, stdout: 'configmap/fresh\n' });
  });
});
