// 1,000 generated malformed requests: every answer is a 4xx (or a success) with a Status body,
// never a 5xx; the server keeps serving and its memory stays roughly flat.
import { request as httpsRequest } from 'node:https';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from './harness.ts';

let t: TestCluster;
beforeAll(async () => {
  t = await startTestCluster();
  await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'target' } }), headers: { 'content-type': 'application/json' } });
});
afterAll(async () => {
  await t?.stop();
});

/** mulberry32: the same 1,000 requests on every run, so a failure can be replayed. */
function prng(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

const random = prng(20250426);
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;

const names = ['target', 'default', '', 'UPPER', '..', '%2e%2e', '%00', '%zz', 'a'.repeat(300), 'ünïcode', 'x y', 'kube-system', 'with.dots', '-leading'];
const resources = ['configmaps', 'pods', 'deployments', 'namespaces', 'nodes', 'secrets', 'services', 'widgets', 'serviceaccounts', 'roles', 'selfsubjectaccessreviews', 'events', ''];
const subresources = ['', '', '', 'status', 'scale', 'log', 'exec', 'token', 'binding', 'eviction', 'finalize', 'nonsense'];
const prefixes = ['/api/v1', '/apis/apps/v1', '/apis/rbac.authorization.k8s.io/v1', '/apis/authorization.k8s.io/v1', '/apis/nope/v1', '/api/v2', '/apis', '/openapi/v3', '/version', '/healthz'];
const queries = [
  'watch=maybe',
  'limit=-1',
  'limit=abc',
  'limit=99999999999999999999',
  'resourceVersion=abc',
  'resourceVersion=-3',
  'resourceVersionMatch=Sometimes',
  'labelSelector=a%20in%20(',
  'labelSelector=!!!',
  'fieldSelector=spec.foo%3Dbar',
  'fieldSelector=%3D%3D%3D',
  'continue=garbage',
  'timeoutSeconds=x',
  'dryRun=Some',
  'fieldValidation=Loose',
  'fieldManager=' + 'm'.repeat(200),
  'propagationPolicy=Nope',
  'gracePeriodSeconds=-5',
  'gracePeriodSeconds=1.5',
  'includeObject=Everything',
  'force=true',
  'pretty=true',
  '',
];
const contentTypes = [
  'application/json',
  'application/yaml',
  'application/vnd.kubernetes.protobuf',
  'application/merge-patch+json',
  'application/json-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
  'text/plain',
  'application/json; charset=utf-16',
  '',
];
const accepts = ['', 'application/json', 'application/json;as=Table;v=v1;g=meta.k8s.io', 'application/json;as=Table;v=v9;g=meta.k8s.io', 'text/html', 'application/vnd.kubernetes.protobuf', '*/*;q=abc'];

function body(): string | Buffer {
  switch (Math.floor(random() * 16)) {
    case 0:
      return '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"tr';
    case 1:
      return '['.repeat(5000) + ']'.repeat(5000);
    case 2:
      return Buffer.from(Array.from({ length: 64 }, () => Math.floor(random() * 256)));
    case 3:
      return Buffer.concat([Buffer.from('k8s\0'), Buffer.from(Array.from({ length: 40 }, () => Math.floor(random() * 256)))]);
    case 4:
      return 'a: &a ["x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c]\n';
    case 5:
      return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: 5 });
    case 6:
      return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: 'running' });
    case 7:
      return JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'target', labels: { a: { b: 1 } } }, data: [1, 2] });
    case 8:
      return JSON.stringify({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 'many', template: null } });
    case 9:
      return 'null';
    case 10:
      return '[{"op":"move","from":"/nope","path":"/x"},{"op":"frob"}]';
    case 11:
      return JSON.stringify({ metadata: { name: pick(names), resourceVersion: 'abc', finalizers: 'x', ownerReferences: [{}] } });
    case 12:
      return '12345';
    case 13:
      return JSON.stringify({ spec: { replicas: -1 }, status: { replicas: 'x' } });
    case 14:
      return JSON.stringify({ kind: 'SelfSubjectAccessReview', apiVersion: 'authorization.k8s.io/v1', spec: { resourceAttributes: 'all' } });
    default:
      return '';
  }
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | Buffer;
}

/** Paths that exist, so most requests get past routing and test decoding, options and handlers. */
const validPaths = [
  '/api/v1/namespaces/default/configmaps',
  '/api/v1/namespaces/default/configmaps/target',
  '/api/v1/namespaces/default/pods',
  '/api/v1/namespaces/default/pods/target',
  '/api/v1/namespaces/default/pods/target/status',
  '/api/v1/namespaces/default/serviceaccounts/default/token',
  '/apis/apps/v1/namespaces/default/deployments',
  '/apis/apps/v1/namespaces/default/deployments/target/scale',
  '/api/v1/namespaces',
  '/api/v1/namespaces/default',
  '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews',
  '/apis/rbac.authorization.k8s.io/v1/namespaces/default/roles',
];

function randomPath(): string {
  const segments = [pick(prefixes)];
  if (random() < 0.6) segments.push('namespaces', pick(names));
  segments.push(pick(resources));
  if (random() < 0.6) segments.push(pick(names));
  const sub = pick(subresources);
  if (sub) segments.push(sub);
  return segments.join('/');
}

function generate(): FuzzRequest {
  const path = random() < 0.7 ? pick(validPaths) : randomPath();
  const query = [pick(queries), pick(queries)].filter(Boolean).join('&');
  const method = pick(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'POST', 'PATCH', 'PUT']);
  const headers: Record<string, string> = { authorization: `Bearer ${t.cluster.adminToken}` };
  const contentType = pick(contentTypes);
  if (contentType) headers['content-type'] = contentType;
  const accept = pick(accepts);
  if (accept) headers['accept'] = accept;
  if (random() < 0.05) headers['impersonate-group'] = 'system:masters';
  if (random() < 0.05) headers['authorization'] = 'Bearer ' + 'x'.repeat(random() * 5000);
  const payload = method === 'GET' || method === 'HEAD' ? '' : body();
  headers['content-length'] = String(Buffer.byteLength(payload));
  return { method, path: path.replace(/\/+/g, '/') + (query ? `?${query}` : ''), headers, body: payload };
}

/** Resolves at the response's end, or once its headers arrive for a stream that would run on (a watch). */
function send(req: FuzzRequest): Promise<{ status: number; text: string; streaming: boolean }> {
  return new Promise((resolve, reject) => {
    const outgoing = httpsRequest(`${t.cluster.url}${req.path}`, { method: req.method, headers: req.headers, ca: t.cluster.caPem }, (res) => {
      if (res.headers['transfer-encoding'] === 'chunked' && res.statusCode === 200) {
        res.destroy();
        resolve({ status: 200, text: '', streaming: true });
        return;
      }
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8'), streaming: false }));
      res.on('error', reject);
    });
    outgoing.on('error', reject);
    outgoing.end(req.body);
  });
}

function heapAfterCollection(): number {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

describe('fuzzing the API server with malformed requests', () => {
  it('answers 1,000 of them without a 5xx, with Status bodies, and keeps serving', async () => {
    const all = Array.from({ length: 1000 }, generate);
    const failures: string[] = [];
    let baseline = 0;
    for (let offset = 0; offset < all.length; offset += 20) {
      if (offset === 200) baseline = heapAfterCollection();
      const batch = all.slice(offset, offset + 20);
      const answers = await Promise.all(batch.map(send));
      answers.forEach((answer, i) => {
        const req = batch[i]!;
        const where = `${req.method} ${req.path.slice(0, 120)} [${req.headers['content-type'] ?? ''}]`;
        if (answer.status >= 500 || answer.status === 0) failures.push(`${answer.status} ${where}: ${answer.text.slice(0, 300)}`);
        else if (answer.status >= 400 && req.method !== 'HEAD' && answer.text !== '') {
          const status = JSON.parse(answer.text) as { kind?: string; code?: number };
          if (status.kind !== 'Status' || status.code !== answer.status) failures.push(`not a Status: ${where}: ${answer.text.slice(0, 200)}`);
        }
      });
    }
    expect(failures).toEqual([]);
    expect((await t.http('GET', '/healthz')).text).toBe('ok');
    const after = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'after-the-storm' } });
    expect((await t.http('POST', '/api/v1/namespaces/default/configmaps', { body: after, headers: { 'content-type': 'application/json' } })).status).toBe(201);
    expect((await t.http('GET', '/api/v1/namespaces/default/configmaps/after-the-storm')).status).toBe(200);
    const growth = heapAfterCollection() - baseline;
    expect(growth).toBeLessThan(32 * 1024 * 1024);
  }, 120_000);
});
