// Admission webhooks called by the API server, driven with real kubectl (1.27 and 1.33): a small
// HTTPS webhook on 127.0.0.1 reached through clientConfig.url with its caBundle, that refuses,
// patches or warns as each configuration's path asks. The Service-backed case, with the webhook
// running as a pod, is in webhooks-service.test.ts.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasKubectl, startTestCluster, type TestCluster } from '../apiserver/harness.ts';

const run = promisify(execFile);

interface Review {
  /** the path the API server posted to (set by the test's server) */
  path?: string;
  request: { uid: string; operation: string; name?: string; namespace?: string; dryRun: boolean; object: { metadata: { labels?: Record<string, string>; uid?: string } } | null; oldObject: unknown; userInfo: { username: string } };
}

/** A CA and a serving certificate for 127.0.0.1, made with openssl as a learner would. */
async function certificates(dir: string): Promise<{ ca: string; cert: string; key: string }> {
  const at = (name: string) => join(dir, name);
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('ca.key'), '-out', at('ca.crt'), '-days', '1', '-subj', '/CN=webhook-ca']);
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', at('tls.key'), '-out', at('tls.csr'), '-subj', '/CN=127.0.0.1']);
  await run('bash', ['-c', `printf 'subjectAltName=IP:127.0.0.1\\n' > ${at('ext')} && openssl x509 -req -in ${at('tls.csr')} -CA ${at('ca.crt')} -CAkey ${at('ca.key')} -CAcreateserial -out ${at('tls.crt')} -days 1 -extfile ${at('ext')}`]);
  const [ca, cert, key] = await Promise.all([readFile(at('ca.crt'), 'utf8'), readFile(at('tls.crt'), 'utf8'), readFile(at('tls.key'), 'utf8')]);
  return { ca, cert, key };
}

let t: TestCluster;
let server: Server;
let port = 0;
let caBundle = '';
let certDir = '';
const seen: Review[] = [];

function answer(path: string, review: Review): Record<string, unknown> {
  const base = { uid: review.request.uid };
  if (path === '/deny') return { ...base, allowed: false, status: { code: 403, message: 'pods need an owner label' } };
  if (path === '/deny-bare') return { ...base, allowed: false };
  if (path === '/mutate') {
    const labels = review.request.object?.metadata.labels;
    const patch = labels ? [{ op: 'add', path: '/metadata/labels/injected', value: 'yes' }] : [{ op: 'add', path: '/metadata/labels', value: { injected: 'yes' } }];
    return { ...base, allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64'), warnings: ['label injected'] };
  }
  if (path === '/wrong-uid') return { uid: 'someone-else', allowed: true };
  if (path === '/max-3') {
    const object = review.request.object as unknown as { kind: string; spec: { replicas: number } };
    return object.kind === 'Scale' && object.spec.replicas > 3 ? { ...base, allowed: false, status: { message: `at most 3 replicas, not ${object.spec.replicas}` } } : { ...base, allowed: true };
  }
  if (path === '/keep') return review.request.operation === 'DELETE' ? { ...base, allowed: false, status: { code: 409, reason: 'Conflict', message: 'this one stays' } } : { ...base, allowed: true };
  return { ...base, allowed: true };
}

beforeAll(async () => {
  certDir = await mkdtemp(join(tmpdir(), 'formicary-webhook-'));
  const { ca, cert, key } = await certificates(certDir);
  caBundle = Buffer.from(ca).toString('base64');
  server = createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Review;
      const path = (req.url ?? '/').replace(/\?.*$/, '');
      seen.push({ ...review, path });
      // A webhook that never answers: the API server gives up after timeoutSeconds.
      if (path === '/slow') return;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response: answer(path, review) }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  t = await startTestCluster({ controllers: false });
}, 60_000);

afterAll(async () => {
  await t?.stop();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  await rm(certDir, { recursive: true, force: true });
});

function configuration(
  kind: 'Validating' | 'Mutating',
  name: string,
  hooks: Array<{
    name: string;
    path?: string;
    url?: string;
    failurePolicy?: string;
    caBundle?: string;
    objectSelector?: unknown;
    resources?: string[];
    operations?: string[];
    timeoutSeconds?: number;
    reinvocationPolicy?: string;
    apiGroups?: string[];
  }>,
): string {
  return JSON.stringify({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: `${kind}WebhookConfiguration`,
    metadata: { name },
    webhooks: hooks.map((hook) => ({
      name: hook.name,
      clientConfig: { url: hook.url ?? `https://127.0.0.1:${port}${hook.path ?? '/'}`, caBundle: hook.caBundle ?? caBundle },
      rules: [{ operations: hook.operations ?? ['CREATE', 'UPDATE'], apiGroups: hook.apiGroups ?? [''], apiVersions: ['v1'], resources: hook.resources ?? ['configmaps'], scope: 'Namespaced' }],
      sideEffects: 'None',
      admissionReviewVersions: ['v1'],
      failurePolicy: hook.failurePolicy ?? 'Fail',
      timeoutSeconds: hook.timeoutSeconds ?? 5,
      ...(hook.reinvocationPolicy ? { reinvocationPolicy: hook.reinvocationPolicy } : {}),
      ...(hook.objectSelector ? { objectSelector: hook.objectSelector } : {}),
    })),
  });
}

async function apply(manifest: string, version: string): Promise<void> {
  const result = await t.kubectl(['apply', '-f', '-'], { stdin: manifest, version });
  expect(result.stderr).toBe('');
}

async function remove(kind: string, name: string): Promise<void> {
  await t.kubectl(['delete', kind, name, '--ignore-not-found']);
}

const versions = ['1.27', '1.33'].filter(hasKubectl);

describe.each(versions)('admission webhooks with kubectl %s', (version) => {
  const ns = `wh-${version.replace('.', '-')}`;
  beforeAll(async () => {
    await t.kubectl(['create', 'namespace', ns]);
  });

  it('a validating webhook refuses with its own message, word for word', async () => {
    await apply(configuration('Validating', `deny-${ns}`, [{ name: 'deny.example.com', path: '/deny', objectSelector: { matchLabels: { check: ns } } }]), version);
    const refused = await t.kubectl(['-n', ns, 'create', 'configmap', 'checked', '-o', 'name', '--dry-run=none'], { version });
    expect(refused.code).toBe(0); // no label: the objectSelector keeps the webhook out
    const labelled = await t.kubectl(['-n', ns, 'apply', '-f', '-'], { version, stdin: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'labelled', labels: { check: ns } } }) });
    expect(labelled.code).not.toBe(0);
    expect(labelled.stderr).toContain('admission webhook "deny.example.com" denied the request: pods need an owner label');
    expect((await t.kubectl(['-n', ns, 'get', 'configmap', 'labelled'], { version })).code).not.toBe(0);
    await remove('validatingwebhookconfiguration', `deny-${ns}`);
  });

  it('a mutating webhook patches the object before it is stored, and its warning reaches kubectl', async () => {
    await apply(configuration('Mutating', `mutate-${ns}`, [{ name: 'mutate.example.com', path: '/mutate', objectSelector: { matchLabels: { mutate: ns } } }]), version);
    const created = await t.kubectl(['-n', ns, 'apply', '-f', '-'], { version, stdin: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mutated', labels: { mutate: ns } }, data: { a: 'b' } }) });
    expect(created.code).toBe(0);
    expect(created.stderr).toContain('Warning: label injected');
    const labels = await t.kubectl(['-n', ns, 'get', 'configmap', 'mutated', '-o', 'jsonpath={.metadata.labels.injected}'], { version });
    expect(labels.stdout).toBe('yes');
    const review = seen.findLast((entry) => entry.request.name === 'mutated');
    expect(review?.request.operation).toBe('CREATE');
    expect(review?.request.namespace).toBe(ns);
    expect(review?.request.userInfo.username).toBe('kubernetes-admin');
    // Mutating webhooks see a create before the server fills in the uid.
    expect(review?.request.object?.metadata.uid).toBeUndefined();
    await remove('mutatingwebhookconfiguration', `mutate-${ns}`);
  });

  it('failurePolicy Ignore lets a write through when the webhook cannot be reached; Fail refuses it with upstream words', async () => {
    const unreachable = 'https://127.0.0.1:1/nothing';
    await apply(configuration('Validating', `ignore-${ns}`, [{ name: 'ignore.example.com', url: unreachable, failurePolicy: 'Ignore', objectSelector: { matchLabels: { reach: ns } } }]), version);
    const manifest = (name: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { reach: ns } } });
    expect((await t.kubectl(['-n', ns, 'apply', '-f', '-'], { version, stdin: manifest('ignored') })).code).toBe(0);
    await remove('validatingwebhookconfiguration', `ignore-${ns}`);
    await apply(configuration('Validating', `fail-${ns}`, [{ name: 'fail.example.com', url: unreachable, objectSelector: { matchLabels: { reach: ns } } }]), version);
    const failed = await t.kubectl(['-n', ns, 'apply', '-f', '-'], { version, stdin: manifest('failed') });
    expect(failed.stderr).toContain(
      'Internal error occurred: failed calling webhook "fail.example.com": failed to call webhook: Post "https://127.0.0.1:1/nothing?timeout=5s": dial tcp 127.0.0.1:1: connect: connection refused',
    );
    await remove('validatingwebhookconfiguration', `fail-${ns}`);
  });

  it('a certificate the caBundle did not sign is refused, as are answers with another uid', async () => {
    await apply(configuration('Validating', `tls-${ns}`, [{ name: 'tls.example.com', path: '/allow', caBundle: Buffer.from(t.cluster.caPem).toString('base64'), objectSelector: { matchLabels: { tls: ns } } }]), version);
    const bad = await t.kubectl(['-n', ns, 'apply', '-f', '-'], { version, stdin: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'tls', labels: { tls: ns } } }) });
    expect(bad.stderr).toContain(`failed calling webhook "tls.example.com": failed to call webhook: Post "https://127.0.0.1:${port}/allow?timeout=5s": tls: failed to verify certificate: x509: certificate signed by unknown authority`);
    await remove('validatingwebhookconfiguration', `tls-${ns}`);
    await apply(configuration('Validating', `uid-${ns}`, [{ name: 'uid.example.com', path: '/wrong-uid', objectSelector: { matchLabels: { uid: ns } } }]), version);
    const wrong = await t.kubectl(['-n', ns, 'apply', '-f', '-'], { version, stdin: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'uid', labels: { uid: ns } } }) });
    expect(wrong.stderr).toMatch(/failed calling webhook "uid.example.com": expected response.uid="[0-9a-f-]+", got "someone-else"/);
    await remove('validatingwebhookconfiguration', `uid-${ns}`);
  });

  it('dry run: the webhook is told it is a dry run, and nothing is stored', async () => {
    await apply(configuration('Validating', `dry-${ns}`, [{ name: 'dry.example.com', path: '/allow', objectSelector: { matchLabels: { dry: ns } } }]), version);
    const manifest = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'dry', labels: { dry: ns } } });
    const dry = await t.kubectl(['-n', ns, 'apply', '--dry-run=server', '-f', '-'], { version, stdin: manifest });
    expect(dry.code).toBe(0);
    expect(seen.findLast((entry) => entry.request.name === 'dry')?.request.dryRun).toBe(true);
    expect((await t.kubectl(['-n', ns, 'get', 'configmap', 'dry'], { version })).code).not.toBe(0);
    await remove('validatingwebhookconfiguration', `dry-${ns}`);
  });

  it('an update by patch (kubectl label) is mutated too, and a webhook may refuse a delete with its own code', async () => {
    await apply(configuration('Mutating', `patch-${ns}`, [{ name: 'patch.example.com', path: '/mutate', objectSelector: { matchLabels: { patched: ns } } }]), version);
    expect((await t.kubectl(['-n', ns, 'create', 'configmap', 'patched'], { version })).code).toBe(0);
    expect((await t.kubectl(['-n', ns, 'label', 'configmap', 'patched', `patched=${ns}`], { version })).code).toBe(0);
    expect(seen.findLast((entry) => entry.request.name === 'patched')?.request.operation).toBe('UPDATE');
    expect((await t.kubectl(['-n', ns, 'get', 'configmap', 'patched', '-o', 'jsonpath={.metadata.labels.injected}'], { version })).stdout).toBe('yes');
    await remove('mutatingwebhookconfiguration', `patch-${ns}`);

    await apply(configuration('Validating', `keep-${ns}`, [{ name: 'keep.example.com', path: '/keep', operations: ['DELETE'], objectSelector: { matchLabels: { patched: ns } } }]), version);
    const kept = await t.kubectl(['-n', ns, 'delete', 'configmap', 'patched'], { version });
    expect(kept.stderr).toBe('Error from server (Conflict): admission webhook "keep.example.com" denied the request: this one stays\n');
    const review = seen.findLast((entry) => entry.request.name === 'patched');
    expect([review?.request.operation, review?.request.object, (review?.request.oldObject as { metadata: { name: string } }).metadata.name]).toEqual(['DELETE', null, 'patched']);
    await remove('validatingwebhookconfiguration', `keep-${ns}`);
    expect((await t.kubectl(['-n', ns, 'delete', 'configmap', 'patched'], { version })).code).toBe(0);
  });

  it('a webhook that does not answer within timeoutSeconds fails the write with context deadline exceeded', async () => {
    await apply(configuration('Validating', `slow-${ns}`, [{ name: 'slow.example.com', path: '/slow', timeoutSeconds: 1, objectSelector: { matchLabels: { slow: ns } } }]), version);
    const slow = await t.kubectl(['-n', ns, 'apply', '-f', '-'], { version, stdin: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'slow', labels: { slow: ns } } }) });
    expect(slow.stderr).toContain(`Internal error occurred: failed calling webhook "slow.example.com": failed to call webhook: Post "https://127.0.0.1:${port}/slow?timeout=1s": context deadline exceeded`);
    await remove('validatingwebhookconfiguration', `slow-${ns}`);
  });

  it('reinvocationPolicy IfNeeded calls a mutating webhook again when a later one changed the object; Never does not', async () => {
    const hooks = (policy: string) => [
      { name: 'first.example.com', path: `/allow-${policy}`, reinvocationPolicy: policy, objectSelector: { matchLabels: { again: ns } } },
      { name: 'second.example.com', path: '/mutate', objectSelector: { matchLabels: { again: ns } } },
    ];
    const calls = (name: string, path: string) => seen.filter((entry) => entry.request.namespace === ns && entry.request.name === name && entry.path === path).length;
    for (const policy of ['IfNeeded', 'Never']) {
      await apply(configuration('Mutating', `again-${ns}`, hooks(policy)), version);
      const name = `again-${policy.toLowerCase()}`;
      expect((await t.kubectl(['-n', ns, 'apply', '-f', '-'], { version, stdin: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { again: ns } } }) })).code).toBe(0);
      expect([calls(name, `/allow-${policy}`), calls(name, '/mutate')]).toEqual([policy === 'IfNeeded' ? 2 : 1, 1]);
      // The second call saw the second webhook's label.
      expect(seen.findLast((entry) => entry.request.namespace === ns && entry.request.name === name && entry.path === `/allow-${policy}`)?.request.object?.metadata.labels?.['injected']).toBe(policy === 'IfNeeded' ? 'yes' : undefined);
      await remove('mutatingwebhookconfiguration', `again-${ns}`);
    }
  });

  it('kubectl scale meets the webhooks whose rules name deployments/scale, which see the Scale', async () => {
    await apply(configuration('Validating', `scale-${ns}`, [{ name: 'max.example.com', path: '/max-3', apiGroups: ['apps'], resources: ['deployments/scale'] }]), version);
    expect((await t.kubectl(['-n', ns, 'create', 'deployment', 'web', '--image=nginx'], { version })).code).toBe(0);
    expect((await t.kubectl(['-n', ns, 'scale', 'deployment', 'web', '--replicas=3'], { version })).code).toBe(0);
    const refused = await t.kubectl(['-n', ns, 'scale', 'deployment', 'web', '--replicas=5'], { version });
    expect(refused.stderr).toBe('Error from server: admission webhook "max.example.com" denied the request: at most 3 replicas, not 5\n');
    expect((await t.kubectl(['-n', ns, 'get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}'], { version })).stdout).toBe('3');
    const review = seen.findLast((entry) => entry.path === '/max-3' && entry.request.namespace === ns) as unknown as { request: Record<string, unknown> };
    expect([review.request['kind'], review.request['resource'], review.request['subResource']]).toEqual([
      { group: 'autoscaling', version: 'v1', kind: 'Scale' },
      { group: 'apps', version: 'v1', resource: 'deployments' },
      'scale',
    ]);
    await remove('validatingwebhookconfiguration', `scale-${ns}`);
  });
});

