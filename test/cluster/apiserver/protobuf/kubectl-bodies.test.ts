// Real kubectl against a recording server: kubectl ≥ 1.32 sends these commands' objects as
// protobuf, kubectl 1.31 sends the same objects as JSON. Decoding the protobuf body must give
// exactly the JSON object the older kubectl sends.
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

beforeAll(async () => {
  recorder = await startKubeRecorder({
    resources: [
      { group: '', version: 'v1', resource: 'pods', kind: 'Pod', namespaced: true },
      { group: '', version: 'v1', resource: 'nodes', kind: 'Node', namespaced: false },
      { group: 'apps', version: 'v1', resource: 'deployments', kind: 'Deployment', namespaced: true, subresources: ['scale'] },
    ],
    respond(request, res) {
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

/** Runs kubectl and returns the POST bodies it sent. */
async function postedBodies(binary: string, args: string[]): Promise<RecordedRequest[]> {
  const before = recorder.requests.length;
  const result = await recorder.kubectl(binary, args);
  expect(result.stderr, `${binary} ${args.join(' ')}`).toBe('');
  expect(result.code).toBe(0);
  return recorder.requests.slice(before).filter((r) => r.method === 'POST');
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
];

describe('protobuf bodies from kubectl decode to the JSON kubectl 1.31 sends', () => {
  for (const [name, args] of commands) {
    test(name, async () => {
      const [json] = await postedBodies('kubectl.1.31', args());
      expect(json?.contentType).toBe('application/json');
      const expected = JSON.parse(json?.body.toString('utf8') ?? '') as unknown;
      for (const binary of ['kubectl.1.33', 'kubectl.1.32']) {
        const [proto] = await postedBodies(binary, args());
        expect(proto?.contentType).toBe(protobufMediaType);
        expect(decodeProtobufObject(proto?.body ?? Buffer.alloc(0)), binary).toStrictEqual(expected);
      }
    });
  }
});
