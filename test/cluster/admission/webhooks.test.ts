// Admission webhooks called by the API server through clientConfig.url, driven with real kubectl
// (1.27 and 1.33): a small HTTPS webhook running as a pod, reached at the URL forms a pod would use
// (https://wh.hooks.svc/…, the Service's cluster IP, the pod's own IP) with its caBundle, that
// refuses, patches or warns as each configuration's path asks and prints every review it gets (the
// test reads them with kubectl logs). That a URL never leads outside the cluster is in
// test/security/webhook-egress.test.ts; clientConfig.service is in webhooks-service.test.ts.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasKubectl } from '../apiserver/harness.ts';
import { type KubeletCluster, startKubeletCluster, versionedKubectl } from '../kubelet/harness.ts';
import { servingCertificate, startWebhookPod } from './webhook-pod.ts';

interface Review {
  /** the path the API server posted to */
  path: string;
  request: { uid: string; operation: string; name?: string; namespace?: string; dryRun: boolean; object: { metadata: { labels?: Record<string, string>; uid?: string } } | null; oldObject: unknown; userInfo: { username: string } };
}

/** The webhook: answers as the path asks, one JSON line on stdout per review. */
const server = `import base64, http.server, json, ssl, sys, time
def answer(path, request):
    base = {'uid': request['uid']}
    if path == '/deny':
        return dict(base, allowed=False, status={'code': 403, 'message': 'pods need an owner label'})
    if path == '/mutate':
        labels = ((request.get('object') or {}).get('metadata') or {}).get('labels')
        patch = [{'op': 'add', 'path': '/metadata/labels/injected', 'value': 'yes'}] if labels else [{'op': 'add', 'path': '/metadata/labels', 'value': {'injected': 'yes'}}]
        return dict(base, allowed=True, patchType='JSONPatch', patch=base64.b64encode(json.dumps(patch).encode()).decode(), warnings=['label injected'])
    if path == '/wrong-uid':
        return {'uid': 'someone-else', 'allowed': True}
    if path == '/max-3':
        scale = request.get('object') or {}
        if scale.get('kind') == 'Scale' and scale['spec']['replicas'] > 3:
            return dict(base, allowed=False, status={'message': 'at most 3 replicas, not %d' % scale['spec']['replicas']})
    if path == '/keep' and request['operation'] == 'DELETE':
        return dict(base, allowed=False, status={'code': 409, 'reason': 'Conflict', 'message': 'this one stays'})
    return dict(base, allowed=True)
class Review(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass
    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers['Content-Length'])))['request']
        path = self.path.split('?')[0]
        print(json.dumps({'path': path, 'request': request}), flush=True)
        if path == '/slow':
            time.sleep(30)
            return
        body = json.dumps({'apiVersion': 'admission.k8s.io/v1', 'kind': 'AdmissionReview', 'response': answer(path, request)}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain('/tls/tls.crt', '/tls/tls.key')
httpd = http.server.ThreadingHTTPServer(('0.0.0.0', 8443), Review)
httpd.daemon_threads = True
httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
httpd.serve_forever()
`;

let lab: KubeletCluster;
let certDir = '';
let caBundle = '';
/** The webhook Service's cluster IP, the webhook pod's IP, and the cluster IP of a Service with no pod behind it. */
let serviceIP = '';
let podIP = '';
let nothingIP = '';

beforeAll(async () => {
  lab = await startKubeletCluster();
  await lab.kubectl(['create', 'namespace', 'hooks']);
  await lab.apply(
    `apiVersion: v1
kind: Service
metadata: {name: wh}
spec:
  selector: {app: wh}
  ports: [{port: 443, targetPort: 8443}]
---
apiVersion: v1
kind: Service
metadata: {name: nothing}
spec:
  selector: {app: nothing}
  ports: [{port: 443, targetPort: 8443}]
---
apiVersion: v1
kind: Service
metadata: {name: wh-pods}
spec:
  clusterIP: None
  selector: {app: wh}
  ports: [{port: 8443}]
`,
    'hooks',
  );
  const clusterIP = async (name: string) => (await lab.kubectl(['-n', 'hooks', 'get', 'service', name, '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
  [serviceIP, nothingIP] = await Promise.all([clusterIP('wh'), clusterIP('nothing')]);
  certDir = await mkdtemp(join(tmpdir(), 'formicary-webhook-'));
  // The Service's names and its cluster IP, as a learner would put them in the certificate.
  caBundle = await servingCertificate(certDir, 'wh.hooks.svc', `DNS:wh.hooks.svc,DNS:wh.hooks.svc.cluster.local,IP:${serviceIP}`);
  await lab.serviceAccountReady('hooks');
  await startWebhookPod(lab, 'hooks', certDir, server);
  podIP = String((lab.pod('hooks', 'wh')?.['status'] as { podIP?: string } | undefined)?.podIP ?? '');
}, 120_000);

afterAll(async () => {
  await lab?.stop();
  await rm(certDir, { recursive: true, force: true });
});

/** The reviews the webhook has received so far, oldest first. */
async function seen(): Promise<Review[]> {
  const logs = await lab.kubectl(['-n', 'hooks', 'logs', 'wh']);
  return logs.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Review);
}

async function lastReview(name: string): Promise<Review | undefined> {
  return (await seen()).findLast((entry) => entry.request.name === name);
}

function configuration(
  kind: 'Validating' | 'Mutating',
  name: string,
  hooks: Array<{
    name: string;
    url: string;
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
      clientConfig: { url: hook.url, caBundle: hook.caBundle ?? caBundle },
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

const versions = ['1.27', '1.33'].filter(hasKubectl);

describe.each(versions)('admission webhooks with kubectl %s', (version) => {
  const ns = `wh-${version.replace('.', '-')}`;
  const kubectl = (args: string[], stdin?: string) => lab.kubectl(args, { binary: versionedKubectl(version), ...(stdin === undefined ? {} : { stdin }) });
  const apply = async (manifest: string) => {
    const result = await kubectl(['apply', '-f', '-'], manifest);
    expect(result.stderr).toBe('');
  };
  const remove = async (kind: string, name: string) => {
    await kubectl(['delete', kind, name, '--ignore-not-found']);
  };
  beforeAll(async () => {
    await kubectl(['create', 'namespace', ns]);
  });

  /** A ConfigMap labelled so that only the webhook under test matches it. */
  const labelled = (name: string, label: string) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { [label]: ns } } });

  it('a validating webhook at https://<service>.<namespace>.svc refuses with its own message, word for word', async () => {
    await apply(configuration('Validating', `deny-${ns}`, [{ name: 'deny.example.com', url: 'https://wh.hooks.svc/deny', objectSelector: { matchLabels: { check: ns } } }]));
    const unlabelled = await kubectl(['-n', ns, 'create', 'configmap', 'checked', '-o', 'name']);
    expect(unlabelled.code).toBe(0); // no label: the objectSelector keeps the webhook out
    const refused = await kubectl(['-n', ns, 'apply', '-f', '-'], labelled('labelled', 'check'));
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('admission webhook "deny.example.com" denied the request: pods need an owner label');
    expect((await kubectl(['-n', ns, 'get', 'configmap', 'labelled'])).code).not.toBe(0);
    await remove('validatingwebhookconfiguration', `deny-${ns}`);
  });

  it("a mutating webhook at the Service's cluster IP patches the object before it is stored, and its warning reaches kubectl", async () => {
    await apply(configuration('Mutating', `mutate-${ns}`, [{ name: 'mutate.example.com', url: `https://${serviceIP}:443/mutate`, objectSelector: { matchLabels: { mutate: ns } } }]));
    const created = await kubectl(['-n', ns, 'apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'mutated', labels: { mutate: ns } }, data: { a: 'b' } }));
    expect(created.code).toBe(0);
    expect(created.stderr).toContain('Warning: label injected');
    expect((await kubectl(['-n', ns, 'get', 'configmap', 'mutated', '-o', 'jsonpath={.metadata.labels.injected}'])).stdout).toBe('yes');
    const review = await lastReview('mutated');
    expect(review?.request.operation).toBe('CREATE');
    expect(review?.request.namespace).toBe(ns);
    expect(review?.request.userInfo.username).toBe('kubernetes-admin');
    // Mutating webhooks see a create before the server fills in the uid.
    expect(review?.request.object?.metadata.uid).toBeUndefined();
    await remove('mutatingwebhookconfiguration', `mutate-${ns}`);
  });

  it("the pod's own IP and a headless Service's name reach the pod, and its certificate is checked against the URL's host", async () => {
    await apply(configuration('Validating', `podip-${ns}`, [{ name: 'podip.example.com', url: `https://${podIP}:8443/allow`, objectSelector: { matchLabels: { podip: ns } } }]));
    const failed = await kubectl(['-n', ns, 'apply', '-f', '-'], labelled('podip', 'podip'));
    // The handshake was with the webhook: its certificate names the Service and its cluster IP, not the pod.
    expect(failed.stderr).toContain(
      `failed calling webhook "podip.example.com": failed to call webhook: Post "https://${podIP}:8443/allow?timeout=5s": tls: failed to verify certificate: x509: certificate is valid for ${serviceIP}, not ${podIP}`,
    );
    await remove('validatingwebhookconfiguration', `podip-${ns}`);
    await apply(configuration('Validating', `headless-${ns}`, [{ name: 'headless.example.com', url: 'https://wh-pods.hooks.svc:8443/allow', objectSelector: { matchLabels: { headless: ns } } }]));
    const named = await kubectl(['-n', ns, 'apply', '-f', '-'], labelled('headless', 'headless'));
    expect(named.stderr).toContain(
      'failed calling webhook "headless.example.com": failed to call webhook: Post "https://wh-pods.hooks.svc:8443/allow?timeout=5s": tls: failed to verify certificate: x509: certificate is valid for wh.hooks.svc, wh.hooks.svc.cluster.local, not wh-pods.hooks.svc',
    );
    await remove('validatingwebhookconfiguration', `headless-${ns}`);
    await apply(configuration('Validating', `podport-${ns}`, [{ name: 'podport.example.com', url: `https://${podIP}:9443/allow`, objectSelector: { matchLabels: { podport: ns } } }]));
    const refused = await kubectl(['-n', ns, 'apply', '-f', '-'], labelled('podport', 'podport'));
    expect(refused.stderr).toContain(`failed calling webhook "podport.example.com": failed to call webhook: Post "https://${podIP}:9443/allow?timeout=5s": dial tcp ${podIP}:9443: connect: connection refused`);
    await remove('validatingwebhookconfiguration', `podport-${ns}`);
  });

  it('failurePolicy Ignore lets a write through when the webhook cannot be reached; Fail refuses it with upstream words', async () => {
    const unreachable = `https://${nothingIP}/nothing`;
    await apply(configuration('Validating', `ignore-${ns}`, [{ name: 'ignore.example.com', url: unreachable, failurePolicy: 'Ignore', objectSelector: { matchLabels: { reach: ns } } }]));
    expect((await kubectl(['-n', ns, 'apply', '-f', '-'], labelled('ignored', 'reach'))).code).toBe(0);
    await remove('validatingwebhookconfiguration', `ignore-${ns}`);
    await apply(configuration('Validating', `fail-${ns}`, [{ name: 'fail.example.com', url: unreachable, objectSelector: { matchLabels: { reach: ns } } }]));
    const failed = await kubectl(['-n', ns, 'apply', '-f', '-'], labelled('failed', 'reach'));
    expect(failed.stderr).toContain(
      `Internal error occurred: failed calling webhook "fail.example.com": failed to call webhook: Post "https://${nothingIP}/nothing?timeout=5s": dial tcp ${nothingIP}:443: connect: connection refused`,
    );
    await remove('validatingwebhookconfiguration', `fail-${ns}`);
  });

  it('a certificate the caBundle did not sign is refused, as are answers with another uid', async () => {
    await apply(configuration('Validating', `tls-${ns}`, [{ name: 'tls.example.com', url: 'https://wh.hooks.svc.cluster.local/allow', caBundle: Buffer.from(lab.cluster.caPem).toString('base64'), objectSelector: { matchLabels: { tls: ns } } }]));
    const bad = await kubectl(['-n', ns, 'apply', '-f', '-'], labelled('tls', 'tls'));
    expect(bad.stderr).toContain(
      'failed calling webhook "tls.example.com": failed to call webhook: Post "https://wh.hooks.svc.cluster.local/allow?timeout=5s": tls: failed to verify certificate: x509: certificate signed by unknown authority',
    );
    await remove('validatingwebhookconfiguration', `tls-${ns}`);
    await apply(configuration('Validating', `uid-${ns}`, [{ name: 'uid.example.com', url: 'https://wh.hooks.svc/wrong-uid', objectSelector: { matchLabels: { uid: ns } } }]));
    const wrong = await kubectl(['-n', ns, 'apply', '-f', '-'], labelled('uid', 'uid'));
    expect(wrong.stderr).toMatch(/failed calling webhook "uid.example.com": expected response.uid="[0-9a-f-]+", got "someone-else"/);
    await remove('validatingwebhookconfiguration', `uid-${ns}`);
  });

  it('dry run: the webhook is told it is a dry run, and nothing is stored', async () => {
    await apply(configuration('Validating', `dry-${ns}`, [{ name: 'dry.example.com', url: 'https://wh.hooks.svc/allow', objectSelector: { matchLabels: { dry: ns } } }]));
    const dry = await kubectl(['-n', ns, 'apply', '--dry-run=server', '-f', '-'], labelled('dry', 'dry'));
    expect(dry.code).toBe(0);
    expect((await lastReview('dry'))?.request.dryRun).toBe(true);
    expect((await kubectl(['-n', ns, 'get', 'configmap', 'dry'])).code).not.toBe(0);
    await remove('validatingwebhookconfiguration', `dry-${ns}`);
  });

  it('an update by patch (kubectl label) is mutated too, and a webhook may refuse a delete with its own code', async () => {
    await apply(configuration('Mutating', `patch-${ns}`, [{ name: 'patch.example.com', url: `https://${serviceIP}/mutate`, objectSelector: { matchLabels: { patched: ns } } }]));
    expect((await kubectl(['-n', ns, 'create', 'configmap', 'patched'])).code).toBe(0);
    expect((await kubectl(['-n', ns, 'label', 'configmap', 'patched', `patched=${ns}`])).code).toBe(0);
    expect((await lastReview('patched'))?.request.operation).toBe('UPDATE');
    expect((await kubectl(['-n', ns, 'get', 'configmap', 'patched', '-o', 'jsonpath={.metadata.labels.injected}'])).stdout).toBe('yes');
    await remove('mutatingwebhookconfiguration', `patch-${ns}`);

    await apply(configuration('Validating', `keep-${ns}`, [{ name: 'keep.example.com', url: 'https://wh.hooks.svc/keep', operations: ['DELETE'], objectSelector: { matchLabels: { patched: ns } } }]));
    const kept = await kubectl(['-n', ns, 'delete', 'configmap', 'patched']);
    expect(kept.stderr).toBe('Error from server (Conflict): admission webhook "keep.example.com" denied the request: this one stays\n');
    const review = await lastReview('patched');
    expect([review?.request.operation, review?.request.object, (review?.request.oldObject as { metadata: { name: string } }).metadata.name]).toEqual(['DELETE', null, 'patched']);
    await remove('validatingwebhookconfiguration', `keep-${ns}`);
    expect((await kubectl(['-n', ns, 'delete', 'configmap', 'patched'])).code).toBe(0);
  });

  it('a webhook that does not answer within timeoutSeconds fails the write with context deadline exceeded', async () => {
    await apply(configuration('Validating', `slow-${ns}`, [{ name: 'slow.example.com', url: 'https://wh.hooks.svc:443/slow', timeoutSeconds: 1, objectSelector: { matchLabels: { slow: ns } } }]));
    const slow = await kubectl(['-n', ns, 'apply', '-f', '-'], labelled('slow', 'slow'));
    expect(slow.stderr).toContain('Internal error occurred: failed calling webhook "slow.example.com": failed to call webhook: Post "https://wh.hooks.svc:443/slow?timeout=1s": context deadline exceeded');
    await remove('validatingwebhookconfiguration', `slow-${ns}`);
  });

  it('reinvocationPolicy IfNeeded calls a mutating webhook again when a later one changed the object; Never does not', async () => {
    const hooks = (policy: string) => [
      { name: 'first.example.com', url: `https://wh.hooks.svc/allow-${policy}`, reinvocationPolicy: policy, objectSelector: { matchLabels: { again: ns } } },
      { name: 'second.example.com', url: 'https://wh.hooks.svc/mutate', objectSelector: { matchLabels: { again: ns } } },
    ];
    for (const policy of ['IfNeeded', 'Never']) {
      await apply(configuration('Mutating', `again-${ns}`, hooks(policy)));
      const name = `again-${policy.toLowerCase()}`;
      expect((await kubectl(['-n', ns, 'apply', '-f', '-'], labelled(name, 'again'))).code).toBe(0);
      const reviews = (await seen()).filter((entry) => entry.request.namespace === ns && entry.request.name === name);
      const calls = (path: string) => reviews.filter((entry) => entry.path === path);
      expect([calls(`/allow-${policy}`).length, calls('/mutate').length]).toEqual([policy === 'IfNeeded' ? 2 : 1, 1]);
      // The second call saw the second webhook's label.
      expect(calls(`/allow-${policy}`).at(-1)?.request.object?.metadata.labels?.['injected']).toBe(policy === 'IfNeeded' ? 'yes' : undefined);
      await remove('mutatingwebhookconfiguration', `again-${ns}`);
    }
  });

  it('kubectl scale meets the webhooks whose rules name deployments/scale, which see the Scale', async () => {
    await apply(configuration('Validating', `scale-${ns}`, [{ name: 'max.example.com', url: 'https://wh.hooks.svc/max-3', apiGroups: ['apps'], resources: ['deployments/scale'] }]));
    expect((await kubectl(['-n', ns, 'create', 'deployment', 'web', '--image=nginx'])).code).toBe(0);
    expect((await kubectl(['-n', ns, 'scale', 'deployment', 'web', '--replicas=3'])).code).toBe(0);
    const refused = await kubectl(['-n', ns, 'scale', 'deployment', 'web', '--replicas=5']);
    expect(refused.stderr).toBe('Error from server: admission webhook "max.example.com" denied the request: at most 3 replicas, not 5\n');
    expect((await kubectl(['-n', ns, 'get', 'deployment', 'web', '-o', 'jsonpath={.spec.replicas}'])).stdout).toBe('3');
    const review = (await seen()).findLast((entry) => entry.path === '/max-3' && entry.request.namespace === ns) as unknown as { request: Record<string, unknown> };
    expect([review.request['kind'], review.request['resource'], review.request['subResource']]).toEqual([
      { group: 'autoscaling', version: 'v1', kind: 'Scale' },
      { group: 'apps', version: 'v1', resource: 'deployments' },
      'scale',
    ]);
    await remove('validatingwebhookconfiguration', `scale-${ns}`);
  });
});
