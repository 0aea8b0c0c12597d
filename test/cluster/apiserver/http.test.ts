// The API server's own behaviour on the wire: status codes, Status bodies, headers, media types.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from './harness.ts';

let t: TestCluster;
beforeAll(async () => {
  t = await startTestCluster({ watch: { historySize: 20 } });
});
afterAll(async () => {
  await t?.stop();
});

const json = { 'content-type': 'application/json' };
const configMap = (name: string, extra: Record<string, unknown> = {}) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' }, ...extra });

describe('health, version and authentication', () => {
  it('answers health and version without credentials, and 401 with a Status to anything else', async () => {
    for (const path of ['/healthz', '/livez', '/readyz']) {
      const res = await t.http('GET', path, { token: null });
      expect([res.status, res.text]).toEqual([200, 'ok']);
    }
    const version = await t.http('GET', '/version', { token: null });
    expect(version.json()).toMatchObject({ major: '1', minor: '33' });
    const denied = await t.http('GET', '/api/v1/namespaces', { token: null });
    expect(denied.status).toBe(401);
    expect(denied.json()).toMatchObject({ kind: 'Status', status: 'Failure', reason: 'Unauthorized', code: 401 });
    const wrong = await t.http('GET', '/api', { token: 'not-a-token' });
    expect(wrong.status).toBe(401);
  });
});

describe('discovery', () => {
  it('serves aggregated discovery in the version asked for, with its exact Content-Type', async () => {
    for (const version of ['v2', 'v2beta1']) {
      const res = await t.http('GET', '/apis', { headers: { accept: `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList,application/json` } });
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe(`application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`);
      const body = res.json();
      expect(body.apiVersion).toBe(`apidiscovery.k8s.io/${version}`);
      const apps = body.items.find((item: any) => item.metadata.name === 'apps');
      const deployments = apps.versions[0].resources.find((r: any) => r.resource === 'deployments');
      expect(deployments).toMatchObject({ scope: 'Namespaced', shortNames: ['deploy'], responseKind: { group: 'apps', version: 'v1', kind: 'Deployment' } });
      expect(deployments.subresources).toContainEqual(expect.objectContaining({ subresource: 'scale', responseKind: { group: 'autoscaling', version: 'v1', kind: 'Scale' } }));
    }
  });

  it('serves the legacy lists when aggregated discovery is not asked for', async () => {
    const api = (await t.http('GET', '/api')).json();
    expect(api).toMatchObject({ kind: 'APIVersions', versions: ['v1'] });
    const core = (await t.http('GET', '/api/v1')).json();
    expect(core.kind).toBe('APIResourceList');
    expect(core.resources).toContainEqual(expect.objectContaining({ name: 'pods', namespaced: true, kind: 'Pod', shortNames: ['po'] }));
    expect(core.resources).toContainEqual(expect.objectContaining({ name: 'pods/status', kind: 'Pod' }));
    const groups = (await t.http('GET', '/apis')).json();
    expect(groups.groups).toContainEqual(expect.objectContaining({ name: 'apps', preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } }));
    expect((await t.http('GET', '/apis/apps')).json()).toMatchObject({ kind: 'APIGroup', name: 'apps' });
    expect((await t.http('GET', '/apis/nope.example.com/v1')).status).toBe(404);
  });
});

describe('OpenAPI', () => {
  it('serves the v3 index and hash-addressed documents with ETag and 304, and an empty v2 document', async () => {
    const index = (await t.http('GET', '/openapi/v3')).json();
    const apps = index.paths['apis/apps/v1'].serverRelativeURL as string;
    expect(apps).toMatch(/^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]+$/);
    const document = await t.http('GET', apps);
    expect(document.status).toBe(200);
    expect(document.headers['cache-control']).toBe('public, immutable');
    expect(document.json().components.schemas).toHaveProperty(['io.k8s.api.apps.v1.Deployment']);
    const etag = document.headers['etag'] as string;
    expect((await t.http('GET', apps, { headers: { 'if-none-match': etag } })).status).toBe(304);
    const v2 = await t.http('GET', '/openapi/v2');
    expect([v2.status, v2.headers['content-type']]).toEqual([200, 'application/octet-stream']);
    expect((await t.http('GET', '/openapi/v3/apis/nope/v1')).status).toBe(404);
  });
});

describe('errors as Status objects', () => {
  it('answers an unknown path or resource with 404 and a NotFound Status', async () => {
    for (const path of ['/nope', '/api/v1/widgets', '/apis/apps/v9/deployments', '/api/v1/namespaces/default/pods/x/y/z']) {
      const res = await t.http('GET', path);
      expect(res.status, path).toBe(404);
      expect(res.json()).toMatchObject({ kind: 'Status', reason: 'NotFound', code: 404 });
    }
  });

  it('names the missing object', async () => {
    const res = await t.http('GET', '/api/v1/namespaces/default/configmaps/missing');
    expect(res.status).toBe(404);
    expect(res.json()).toMatchObject({ reason: 'NotFound', message: 'configmaps "missing" not found', details: { name: 'missing', kind: 'configmaps' } });
  });

  it('writes Status bodies byte for byte as a kube-apiserver does: its field order, no empty group, a closing newline', async () => {
    const core = await t.http('GET', '/api/v1/namespaces/default/configmaps/missing');
    expect(core.text).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \\"missing\\" not found","reason":"NotFound","details":{"name":"missing","kind":"configmaps"},"code":404}\n',
    );
    const apps = await t.http('GET', '/apis/apps/v1/namespaces/default/deployments/missing');
    expect(apps.text).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"deployments.apps \\"missing\\" not found","reason":"NotFound","details":{"name":"missing","group":"apps","kind":"deployments"},"code":404}\n',
    );
    const path = await t.http('GET', '/nope');
    expect(path.text).toBe('{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","details":{},"code":404}\n');
    await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: configMap('status-order'), headers: json });
    const deleted = await t.http('DELETE', '/api/v1/namespaces/default/configmaps/status-order');
    expect(deleted.text).toMatch(/^\{"kind":"Status","apiVersion":"v1","metadata":\{\},"status":"Success","details":\{"name":"status-order","kind":"configmaps","uid":"[0-9a-f-]{36}"\}\}\n$/);
  });

  it('rejects malformed, mistyped and oversized bodies with 4xx', async () => {
    const malformed = await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: '{"kind": "ConfigMap",', headers: json });
    expect(malformed.status).toBe(400);
    expect(malformed.json().message).toContain('the object provided is unrecognized (must be of type ConfigMap)');
    const wrongKind = await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' } }), headers: json });
    expect(wrongKind.status).toBe(400);
    const badMetadata = await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'x', labels: { a: 1 } } }), headers: json });
    expect(badMetadata.status).toBe(400);
    const unknownType = await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: configMap('x'), headers: { 'content-type': 'text/plain' } });
    expect(unknownType.status).toBe(415);
    expect(unknownType.json().reason).toBe('UnsupportedMediaType');
    const huge = await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: configMap('big', { data: { a: 'x'.repeat(3 * 1024 * 1024) } }), headers: json });
    expect(huge.status).toBe(413);
    expect(huge.json()).toMatchObject({ reason: 'RequestEntityTooLarge', message: 'Request entity too large: limit is 3145728' });
    expect((await t.http('GET', '/healthz')).status).toBe(200);
  });

  it('ends every compact JSON body with the newline Go\'s json.Encoder writes, as clients that print a body show it', async () => {
    expect((await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: configMap('newline'), headers: json })).status).toBe(201);
    const conflict = await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: configMap('newline'), headers: json });
    expect(conflict.text).toBe(
      '{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"configmaps \\"newline\\" already exists","reason":"AlreadyExists","details":{"name":"newline","kind":"configmaps"},"code":409}\n',
    );
    const object = await t.http('GET', '/api/v1/namespaces/default/configmaps/newline');
    expect([object.json().kind, object.text.endsWith('}\n')]).toEqual(['ConfigMap', true]);
    const list = await t.http('GET', '/api/v1/namespaces/default/configmaps');
    expect([list.json().kind, list.text.endsWith(']}\n')]).toEqual(['ConfigMapList', true]);
    // ?pretty=true is indented and is not this encoder's output.
    expect((await t.http('GET', '/api/v1/namespaces/default/configmaps/newline?pretty=true')).text).toMatch(/^\{\n {2}"/);
  });

  it('reports a missing namespace, an existing name and a stale resourceVersion as upstream does', async () => {
    const noNamespace = await t.http('POST', '/api/v1/namespaces/nowhere/configmaps', { body: configMap('x'), headers: json });
    expect(noNamespace.status).toBe(404);
    expect(noNamespace.json().message).toBe('namespaces "nowhere" not found');
    expect((await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: configMap('twice'), headers: json })).status).toBe(201);
    const again = await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: configMap('twice'), headers: json });
    expect(again.status).toBe(409);
    expect(again.json()).toMatchObject({ reason: 'AlreadyExists', message: 'configmaps "twice" already exists' });
    const stale = await t.http('PUT', '/api/v1/namespaces/default/configmaps/twice', { body: configMap('twice', { metadata: { name: 'twice', resourceVersion: '1' } }), headers: json });
    expect(stale.status).toBe(409);
    expect(stale.json()).toMatchObject({ reason: 'Conflict' });
    expect(stale.json().message).toContain('the object has been modified; please apply your changes to the latest version and try again');
    const invalid = await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: configMap('Not_Valid'), headers: json });
    expect(invalid.status).toBe(422);
    expect(invalid.json()).toMatchObject({ reason: 'Invalid', details: { causes: [expect.objectContaining({ field: 'metadata.name' })] } });
  });

  it('answers an Accept it cannot serve with 406', async () => {
    const res = await t.http('GET', '/api/v1/namespaces', { headers: { accept: 'text/html' } });
    expect(res.status).toBe(406);
    expect(res.json().reason).toBe('NotAcceptable');
  });
});

describe('bodies and options', () => {
  it('creates from YAML, honours dryRun=All and answers DELETE with a Status', async () => {
    const yaml = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  greeting: hello\n';
    const created = await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: yaml, headers: { 'content-type': 'application/yaml' } });
    expect(created.status).toBe(201);
    expect(created.json()).toMatchObject({ metadata: { name: 'from-yaml', namespace: 'default' }, data: { greeting: 'hello' } });
    const dry = await t.http('POST', '/api/v1/namespaces/default/configmaps?dryRun=All', { body: configMap('dry'), headers: json });
    expect(dry.status).toBe(201);
    expect((await t.http('GET', '/api/v1/namespaces/default/configmaps/dry')).status).toBe(404);
    const deleted = await t.http('DELETE', '/api/v1/namespaces/default/configmaps/from-yaml', { body: JSON.stringify({ propagationPolicy: 'Background' }), headers: json });
    expect(deleted.status).toBe(200);
    expect(deleted.json()).toMatchObject({ kind: 'Status', status: 'Success', details: { name: 'from-yaml', kind: 'configmaps' } });
  });

  it('patches by Content-Type and refuses strategic merge for what it cannot merge', async () => {
    await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: configMap('patched'), headers: json });
    const merge = await t.http('PATCH', '/api/v1/namespaces/default/configmaps/patched', { body: JSON.stringify({ data: { b: '2' } }), headers: { 'content-type': 'application/merge-patch+json' } });
    expect(merge.json().data).toEqual({ a: '1', b: '2' });
    const jsonPatch = await t.http('PATCH', '/api/v1/namespaces/default/configmaps/patched', { body: JSON.stringify([{ op: 'remove', path: '/data/a' }]), headers: { 'content-type': 'application/json-patch+json' } });
    expect(jsonPatch.json().data).toEqual({ b: '2' });
    const notAList = await t.http('PATCH', '/api/v1/namespaces/default/configmaps/patched', { body: JSON.stringify({ data: {} }), headers: { 'content-type': 'application/json-patch+json' } });
    expect(notAList.status).toBe(400);
    const unknownPatch = await t.http('PATCH', '/api/v1/namespaces/default/configmaps/patched', { body: '{}', headers: { 'content-type': 'application/json' } });
    expect(unknownPatch.status).toBe(415);
    const applied = await t.http('PATCH', '/api/v1/namespaces/default/configmaps/applied?fieldManager=test', {
      body: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: applied\ndata:\n  x: "1"\n',
      headers: { 'content-type': 'application/apply-patch+yaml' },
    });
    expect(applied.status).toBe(201);
    const noManager = await t.http('PATCH', '/api/v1/namespaces/default/configmaps/applied', { body: '{}', headers: { 'content-type': 'application/apply-patch+yaml' } });
    expect(noManager.status).toBe(422);
  });

  it('lists as a Table when asked, and pages with limit and continue', async () => {
    for (let i = 0; i < 3; i++) await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: configMap(`page-${i}`), headers: json });
    const table = await t.http('GET', '/api/v1/namespaces/default/configmaps?labelSelector=', {
      headers: { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json' },
    });
    const body = table.json();
    expect(body.kind).toBe('Table');
    expect(body.columnDefinitions.map((c: any) => c.name)).toEqual(['Name', 'Data', 'Age']);
    expect(body.rows[0].object.kind).toBe('PartialObjectMetadata');
    const first = (await t.http('GET', '/api/v1/namespaces/default/configmaps?limit=2')).json();
    expect(first.items).toHaveLength(2);
    expect(first.metadata.continue).toBeTruthy();
    const rest = (await t.http('GET', `/api/v1/namespaces/default/configmaps?limit=100&continue=${encodeURIComponent(first.metadata.continue)}`)).json();
    expect(rest.items.length).toBeGreaterThan(0);
  });
});

describe('watch', () => {
  it('streams events until timeoutSeconds, and sends Tables with column definitions only first', async () => {
    const headers = { accept: 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json' };
    const pending = t.http('GET', '/api/v1/namespaces/default/configmaps?watch=true&timeoutSeconds=1&labelSelector=watched%3Dyes', { headers });
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const name of ['w1', 'w2']) {
      await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: configMap(name, { metadata: { name, labels: { watched: 'yes' } } }), headers: json });
    }
    const res = await pending;
    expect(res.status).toBe(200);
    const events = res.text.trim().split('\n').map((line) => JSON.parse(line));
    expect(events.map((e) => e.type)).toEqual(['ADDED', 'ADDED']);
    expect(events[0].object.kind).toBe('Table');
    expect(events[0].object.columnDefinitions.length).toBeGreaterThan(0);
    expect(events[1].object.columnDefinitions).toBeNull();
    expect(events[1].object.rows[0].cells[0]).toBe('w2');
  });

  it('ends a watch at its timeout with a bookmark of the newest resourceVersion', async () => {
    const res = await t.http('GET', '/api/v1/namespaces/default/configmaps?watch=true&allowWatchBookmarks=true&timeoutSeconds=1&labelSelector=nothing%3Dhere');
    const events = res.text.trim().split('\n').map((line) => JSON.parse(line));
    expect(events.at(-1)).toMatchObject({ type: 'BOOKMARK', object: { kind: 'ConfigMap', apiVersion: 'v1', metadata: { resourceVersion: expect.stringMatching(/^\d+$/) } } });
  });

  it('ends watches on custom resources when their CRD goes away', async () => {
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: 'gadgets.example.com' },
      spec: {
        group: 'example.com',
        scope: 'Namespaced',
        names: { plural: 'gadgets', singular: 'gadget', kind: 'Gadget' },
        versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
      },
    };
    expect((await t.http('POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', { body: JSON.stringify(crd), headers: json })).status).toBe(201);
    let served = 0;
    while ((await t.http('GET', '/apis/example.com/v1/namespaces/default/gadgets')).status !== 200 && served++ < 50) await new Promise((resolve) => setTimeout(resolve, 100));
    // An hour's timeout: the watch can only end here because its CRD went (else the test's own timeout fails it).
    const watching = t.http('GET', '/apis/example.com/v1/namespaces/default/gadgets?watch=true&timeoutSeconds=3600');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await t.http('DELETE', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.example.com');
    const res = await watching;
    expect(res.status).toBe(200);
  });

  it('sends a 410 as an ERROR event for a resourceVersion too old to resume from', async () => {
    const start = (await t.http('GET', '/api/v1/namespaces/default/configmaps')).json().metadata.resourceVersion;
    for (let i = 0; i < 30; i++) await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: configMap(`churn-${i}`), headers: json });
    const res = await t.http('GET', `/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=${start}&timeoutSeconds=1`);
    expect(res.status).toBe(200);
    const events = res.text.trim().split('\n').map((line) => JSON.parse(line));
    expect(events).toEqual([{ type: 'ERROR', object: expect.objectContaining({ kind: 'Status', code: 410, reason: 'Expired' }) }]);
  });
});

describe('reviews and collections', () => {
  it('answers access, rules and token reviews for other subjects', async () => {
    const sar = await t.http('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      body: JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'alice', groups: ['system:authenticated'], resourceAttributes: { verb: 'get', resource: 'pods', namespace: 'default' } } }),
      headers: json,
    });
    expect(sar.status).toBe(201);
    expect(sar.json().status).toEqual({ allowed: false });
    const masters = await t.http('POST', '/apis/authorization.k8s.io/v1/subjectaccessreviews', {
      body: JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SubjectAccessReview', spec: { user: 'root', groups: ['system:masters'], nonResourceAttributes: { verb: 'get', path: '/healthz' } } }),
      headers: json,
    });
    expect(masters.json().status.allowed).toBe(true);
    const neither = await t.http('POST', '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews', { body: JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: {} }), headers: json });
    expect(neither.status).toBe(422);
    const rules = await t.http('POST', '/apis/authorization.k8s.io/v1/selfsubjectrulesreviews', {
      body: JSON.stringify({ apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectRulesReview', spec: { namespace: 'default' } }),
      headers: json,
    });
    expect(rules.json().status.resourceRules).toContainEqual(expect.objectContaining({ verbs: ['create'], resources: ['selfsubjectaccessreviews', 'selfsubjectrulesreviews'] }));
    const review = await t.http('POST', '/apis/authentication.k8s.io/v1/tokenreviews', {
      body: JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token: 'forged.token.here' } }),
      headers: json,
    });
    expect(review.json().status).toMatchObject({ user: {}, error: expect.stringContaining('invalid bearer token') });
    expect((await t.http('GET', '/apis/authentication.k8s.io/v1/tokenreviews')).status).toBe(405);
  });

  it('deletes a collection by label and keeps objects with finalizers until they are released', async () => {
    for (const name of ['sweep-1', 'sweep-2', 'keep']) {
      await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: configMap(name, { metadata: { name, labels: { sweep: name === 'keep' ? 'no' : 'yes' } } }), headers: json });
    }
    const swept = await t.http('DELETE', '/api/v1/namespaces/default/configmaps?labelSelector=sweep%3Dyes');
    expect(swept.status).toBe(200);
    expect(swept.json()).toMatchObject({ kind: 'ConfigMapList' });
    expect(swept.json().items.map((item: any) => item.metadata.name).sort()).toEqual(['sweep-1', 'sweep-2']);
    expect((await t.http('GET', '/api/v1/namespaces/default/configmaps/keep')).status).toBe(200);

    await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: configMap('held', { metadata: { name: 'held', finalizers: ['example.com/hold'] } }), headers: json });
    const pending = await t.http('DELETE', '/api/v1/namespaces/default/configmaps/held');
    expect(pending.status).toBe(200);
    expect(pending.json()).toMatchObject({ kind: 'ConfigMap', metadata: { name: 'held', deletionTimestamp: expect.any(String) } });
    const released = await t.http('PATCH', '/api/v1/namespaces/default/configmaps/held', { body: JSON.stringify({ metadata: { finalizers: null } }), headers: { 'content-type': 'application/merge-patch+json' } });
    expect(released.status).toBe(200);
    expect((await t.http('GET', '/api/v1/namespaces/default/configmaps/held')).status).toBe(404);
  });

  it('hands streaming subresources to the kubelet hook, and says plainly when there is none', async () => {
    const pods = t.cluster.registry.lookup('', 'v1', 'pods')!;
    t.cluster.registry.create(pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'quiet' }, spec: { containers: [{ name: 'c', image: 'busybox' }] } });
    const log = await t.http('GET', '/api/v1/namespaces/default/pods/quiet/log');
    expect(log.status).toBe(503);
    expect(log.json()).toMatchObject({ kind: 'Status', reason: 'ServiceUnavailable', message: expect.stringContaining('pods/log') });
    expect((await t.http('GET', '/api/v1/namespaces/default/pods/missing/log')).status).toBe(404);
  });
});
