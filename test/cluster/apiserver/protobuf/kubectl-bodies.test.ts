// Real kubectl against a recording server: kubectl ≥ 1.32 sends these commands' objects as
// protobuf (typed clients: every create generator, auth, autoscale, drain's evictions and
// deletes), kubectl 1.31 sends the same objects as JSON. Decoding the protobuf body must give
// exactly the JSON object the older kubectl sends.
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { decodeProtobufObject, protobufMediaType } from '../../../../src/cluster/apiserver/protobuf/index.ts';
import { selfSignedCertificate, sendJson, startKubeRecorder, type KubeRecorder, type RecordedRequest } from './kube-recorder.ts';

/** What the API server would answer to the POST, so kubectl finishes normally. */
function answer(request: RecordedRequest): Record<string, unknown> {
  const object = request.contentType.startsWith(protobufMediaType)
    ? (decodeProtobufObject(request.body) as Record<string, unknown>)
    : (JSON.parse(request.body.toString('utf8')) as Record<string, unknown>);
  const metadata = { ...(object.metadata as Record<string, unknown>), name: (object.metadata as { name?: string }).name ?? 'x', uid: 'u-1', resourceVersion: '1' };
  const status: Record<string, Record<string, unknown>> = {
    SelfSubjectAccessReview: { allowed: true },
    SelfSubjectRulesReview: { resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }], nonResourceRules: [], incomplete: false },
    SelfSubjectReview: { userInfo: { username: 'admin', groups: ['system:masters'] } },
    TokenRequest: { token: 'header.payload.signature', expirationTimestamp: '2030-01-01T00:00:00Z' },
  };
  return { ...object, metadata, ...(status[String(object.kind)] ? { status: status[String(object.kind)] } : {}) };
}

let recorder: KubeRecorder;
let files: string;

/** Objects the commands that read before they write (autoscale, create job --from, drain) find. */
const existing: Record<string, unknown> = {
  '/apis/apps/v1/namespaces/default/deployments/web': {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', uid: 'd-1', resourceVersion: '5' },
    spec: { replicas: 1, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
  },
  '/apis/batch/v1/namespaces/default/cronjobs/tick': {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name: 'tick', namespace: 'default', uid: 'c-1', resourceVersion: '6' },
    spec: { schedule: '*/5 * * * *', jobTemplate: { metadata: { labels: { job: 'tick' } }, spec: { backoffLimit: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'date', image: 'busybox', args: ['date'] }] } } } } },
  },
  '/api/v1/nodes/node-1': { apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-1', uid: 'n-1', resourceVersion: '7' }, spec: {}, status: {} },
};
const pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'worker', namespace: 'default', uid: 'p-1', resourceVersion: '8' },
  spec: { nodeName: 'node-1', containers: [{ name: 'c', image: 'busybox' }] },
  status: { phase: 'Running' },
};
const podPath = '/api/v1/namespaces/default/pods/worker';
/** The pod is gone once deleted or evicted, until drain lists the node's pods again. */
let podGone = false;

function serveExisting(request: RecordedRequest, res: ServerResponse): boolean {
  const path = new URL(request.url, 'https://127.0.0.1').pathname;
  if (request.method === 'GET' && path === '/api/v1/pods') {
    podGone = false;
    sendJson(res, 200, { apiVersion: 'v1', kind: 'PodList', metadata: { resourceVersion: '9' }, items: [pod] });
    return true;
  }
  if (request.method === 'GET' && path === podPath) {
    if (podGone) sendJson(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'pods "worker" not found', reason: 'NotFound', code: 404 });
    else sendJson(res, 200, pod);
    return true;
  }
  if ((request.method === 'DELETE' && path === podPath) || (request.method === 'POST' && path === `${podPath}/eviction`)) {
    podGone = true;
    sendJson(res, request.method === 'DELETE' ? 200 : 201, request.method === 'DELETE' ? pod : { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    return true;
  }
  if (request.method === 'PATCH' && path === '/api/v1/nodes/node-1') {
    sendJson(res, 200, existing[path]);
    return true;
  }
  if (request.method === 'GET' && existing[path] !== undefined) {
    sendJson(res, 200, existing[path]);
    return true;
  }
  return false;
}

beforeAll(async () => {
  recorder = await startKubeRecorder({
    resources: [
      { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true, subresources: [{ name: 'eviction', kind: 'Eviction', group: 'policy', version: 'v1' }] },
      { group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false },
      { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true, subresources: ['scale'] },
      { group: 'batch', version: 'v1', resource: 'cronjobs', kind: 'CronJob', namespaced: true },
      { group: 'autoscaling', version: 'v2', resource: 'horizontalpodautoscalers', kind: 'HorizontalPodAutoscaler', namespaced: true },
    ],
    respond(request, res) {
      if (serveExisting(request, res)) return true;
      if (request.method !== 'POST') return false;
      try {
        sendJson(res, 201, answer(request));
      } catch (error) {
        sendJson(res, 400, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: String(error), reason: 'BadRequest', code: 400 });
      }
      return true;
    },
  });
  files = await mkdtemp(join(tmpdir(), 'kubectl-bodies-'));
  const { cert, key } = await selfSignedCertificate();
  await writeFile(join(files, 'tls.crt'), cert);
  await writeFile(join(files, 'tls.key'), key);
});

afterAll(async () => {
  await recorder.close();
  await rm(files, { recursive: true, force: true });
});

/** Runs kubectl and returns the bodies it sent (POST, and DELETE with a body). */
async function postedBodies(binary: string, args: string[], stderr = ''): Promise<RecordedRequest[]> {
  const before = recorder.requests.length;
  const result = await recorder.kubectl(binary, args);
  expect(result.stderr, `${binary} ${args.join(' ')}`).toBe(stderr);
  expect(result.code).toBe(0);
  return recorder.requests.slice(before).filter((r) => r.method === 'POST' || (r.method === 'DELETE' && r.body.length > 0));
}

const commands: Array<[string, () => string[]]> = [
  ['deployment', () => ['create', 'deployment', 'web', '--image=nginx', '--replicas=2', '-o', 'yaml']],
  ['deployment with zero replicas and a port', () => ['create', 'deployment', 'idle', '--image=nginx:1.27', '--image=busybox', '--replicas=0', '--port=80', '-o', 'name']],
  ['service clusterip', () => ['create', 'service', 'clusterip', 'web', '--tcp=80:8080', '--tcp=443:8443', '-o', 'name']],
  ['headless service', () => ['create', 'service', 'clusterip', 'headless', '--clusterip=None', '-o', 'name']],
  ['service nodeport', () => ['create', 'service', 'nodeport', 'web', '--tcp=80:8080', '--node-port=30080', '-o', 'name']],
  ['service loadbalancer', () => ['create', 'service', 'loadbalancer', 'web', '--tcp=80:8080', '-o', 'name']],
  ['service externalname', () => ['create', 'service', 'externalname', 'db', '--external-name=db.example.com', '-o', 'name']],
  ['configmap', () => ['create', 'configmap', 'settings', '--from-literal=mode=fast', '--from-literal=empty=', '--from-file=cert.pem=' + join(files, 'tls.crt'), '-o', 'name']],
  ['secret generic', () => ['create', 'secret', 'generic', 'password', '--from-literal=password=hunter2', '--from-literal=user=admin', '-o', 'name']],
  ['secret tls', () => ['create', 'secret', 'tls', 'site', `--cert=${join(files, 'tls.crt')}`, `--key=${join(files, 'tls.key')}`, '-o', 'name']],
  ['secret docker-registry', () => ['create', 'secret', 'docker-registry', 'registry', '--docker-server=registry.example.com', '--docker-username=ci', '--docker-password=s3cret', '--docker-email=ci@example.com', '-o', 'name']],
  ['job', () => ['create', 'job', 'hello', '--image=busybox', '--', 'echo', 'hello']],
  ['cronjob', () => ['create', 'cronjob', 'tick', '--image=busybox', '--schedule=*/5 * * * *', '--restart=Never', '--', 'date']],
  ['namespace', () => ['create', 'namespace', 'team-a']],
  ['serviceaccount', () => ['create', 'serviceaccount', 'builder']],
  ['role', () => ['create', 'role', 'reader', '--verb=get,list,watch', '--resource=pods,deployments.apps', '--resource-name=web']],
  ['rolebinding', () => ['create', 'rolebinding', 'reader-binding', '--role=reader', '--user=alice', '--group=devs', '--serviceaccount=default:builder']],
  ['clusterrole', () => ['create', 'clusterrole', 'health', '--verb=get', '--non-resource-url=/healthz', '--non-resource-url=/readyz', '--resource=nodes']],
  ['aggregated clusterrole', () => ['create', 'clusterrole', 'monitoring', '--aggregation-rule=rbac.example.com/aggregate-to-monitoring=true']],
  ['clusterrolebinding', () => ['create', 'clusterrolebinding', 'health-binding', '--clusterrole=health', '--user=bob']],
  ['quota', () => ['create', 'quota', 'small', '--hard=cpu=1,memory=1Gi,pods=2,requests.storage=10Gi', '--scopes=BestEffort']],
  ['poddisruptionbudget with a percentage', () => ['create', 'poddisruptionbudget', 'web-pdb', '--selector=app=web', '--min-available=50%']],
  ['poddisruptionbudget with a count', () => ['create', 'poddisruptionbudget', 'db-pdb', '--selector=app=db', '--max-unavailable=1']],
  ['priorityclass', () => ['create', 'priorityclass', 'high', '--value=1000', '--description=important work', '--preemption-policy=Never']],
  ['ingress', () => ['create', 'ingress', 'site', '--class=nginx', '--rule=foo.example.com/api*=api:8080,tls=site-cert', '--rule=/static=static:http', '--annotation=team=web', '--default-backend=fallback:80']],
  ['token', () => ['create', 'token', 'builder', '--duration=1h', '--audience=https://example.com', '--bound-object-kind=Pod', '--bound-object-name=web-0', '--bound-object-uid=1234']],
  ['auth can-i', () => ['auth', 'can-i', 'create', 'deployments.apps', '--subresource=scale', '-n', 'team-a']],
  ['auth can-i for a non-resource URL', () => ['auth', 'can-i', 'get', '/healthz']],
  ['auth can-i --list', () => ['auth', 'can-i', '--list', '-n', 'team-a']],
  ['auth whoami', () => ['auth', 'whoami']],
  ['create job --from a cronjob', () => ['create', 'job', 'tick-now', '--from=cronjob/tick']],
  ['drain --disable-eviction (DeleteOptions)', () => ['drain', 'node-1', '--force', '--disable-eviction', '--timeout=10s']],
];

/** What drain prints on stderr before it evicts a bare pod. */
const drainWarning = 'Warning: deleting Pods that declare no controller: default/worker\n';

describe('protobuf bodies from kubectl decode to the JSON kubectl 1.31 sends', () => {
  for (const [name, args] of commands) {
    test(name, async () => {
      const stderr = name.startsWith('drain') ? drainWarning : '';
      const [json] = await postedBodies('kubectl.1.31', args(), stderr);
      expect(json?.contentType).toBe('application/json');
      const expected = JSON.parse(json?.body.toString('utf8') ?? '') as unknown;
      for (const binary of ['kubectl.1.33', 'kubectl.1.32']) {
        const [proto] = await postedBodies(binary, args(), stderr);
        expect(proto?.contentType).toBe(protobufMediaType);
        expect(decodeProtobufObject(proto?.body ?? Buffer.alloc(0)), binary).toStrictEqual(expected);
      }
    });
  }
});

// kubectl 1.33 moved autoscale from autoscaling/v1 to v2, so 1.31 is no reference; the same
// kubectl's --dry-run=client -o json prints the object it would send.
test.each([
  ['kubectl.1.33', 'autoscaling/v2'],
  ['kubectl.1.32', 'autoscaling/v1'],
])('%s autoscale sends the %s HorizontalPodAutoscaler it prints with --dry-run', async (binary, apiVersion) => {
  const args = ['autoscale', 'deployment', 'web', '--min=2', '--max=5', '--cpu-percent=60'];
  const printed = await recorder.kubectl(binary, [...args, '--dry-run=client', '-o', 'json']);
  expect(printed.code).toBe(0);
  const [proto] = await postedBodies(binary, args);
  expect(proto?.contentType).toBe(protobufMediaType);
  const decoded = decodeProtobufObject(proto?.body ?? Buffer.alloc(0));
  expect(decoded.apiVersion).toBe(apiVersion);
  expect(decoded).toStrictEqual(JSON.parse(printed.stdout));
});

test('drain evicts with a JSON body even in kubectl 1.33 (the eviction client does not use protobuf)', async () => {
  const requests = await postedBodies('kubectl.1.33', ['drain', 'node-1', '--force', '--timeout=10s'], drainWarning);
  expect(requests.map((r) => [r.url, r.contentType])).toEqual([['/api/v1/namespaces/default/pods/worker/eviction', 'application/json']]);
});
