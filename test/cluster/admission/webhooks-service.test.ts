// An admission webhook that runs as a pod behind a Service, as a learner deploys one: a Python
// HTTPS server whose certificate is for wh.webhooks.svc, reached by the API server through the
// Service (clientConfig.service, caBundle), refusing and patching ConfigMaps; then a Service with
// no ready pod, which failurePolicy Ignore lets writes past and Fail does not; and the pods a
// Deployment's ReplicaSet creates, which meet the webhooks too. kubectl 1.27 and 1.33.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { condition, type KubeletCluster, startKubeletCluster, versionedKubectl } from '../kubelet/harness.ts';
import { servingCertificate, startWebhookPod } from './webhook-pod.ts';

const server = `import base64, http.server, json, ssl
class Review(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        request = json.loads(self.rfile.read(int(self.headers['Content-Length'])))['request']
        labels = ((request.get('object') or {}).get('metadata') or {}).get('labels') or {}
        response = {'uid': request['uid'], 'allowed': True}
        if self.path.startswith('/validate') and 'deny' in labels:
            response = {'uid': request['uid'], 'allowed': False, 'status': {'code': 403, 'message': 'objects labelled deny are refused'}}
        if self.path.startswith('/no-exec') and request['operation'] == 'CONNECT':
            command = ' '.join((request.get('object') or {}).get('command') or [])
            response = {'uid': request['uid'], 'allowed': False, 'status': {'code': 403, 'message': request['object']['kind'] + ' refused: ' + command}}
        if self.path.startswith('/mutate'):
            patch = [{'op': 'add', 'path': '/metadata/labels', 'value': dict(labels, mutated='by-pod')}]
            response.update(patchType='JSONPatch', patch=base64.b64encode(json.dumps(patch).encode()).decode())
        body = json.dumps({'apiVersion': 'admission.k8s.io/v1', 'kind': 'AdmissionReview', 'response': response}).encode()
        self.send_response(200)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)
context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
context.load_cert_chain('/tls/tls.crt', '/tls/tls.key')
httpd = http.server.HTTPServer(('0.0.0.0', 8443), Review)
httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
httpd.serve_forever()
`;

let lab: KubeletCluster;
let certDir = '';
let caBundle = '';

beforeAll(async () => {
  certDir = await mkdtemp(join(tmpdir(), 'formicary-webhook-svc-'));
  caBundle = await servingCertificate(certDir, 'wh.webhooks.svc', 'DNS:wh.webhooks.svc');
  lab = await startKubeletCluster();
  for (const ns of ['webhooks', 'lab']) await lab.kubectl(['create', 'namespace', ns]);
  await lab.serviceAccountReady('webhooks');
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
`,
    'webhooks',
  );
  await startWebhookPod(lab, 'webhooks', certDir, server);
  await lab.serviceAccountReady('lab');
}, 120_000);

afterAll(async () => {
  await lab?.stop();
  await rm(certDir, { recursive: true, force: true });
});

function configuration(kind: 'Validating' | 'Mutating', name: string, service: string, path: string, failurePolicy = 'Fail', resource = 'configmaps', operation = 'CREATE'): string {
  return JSON.stringify({
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: `${kind}WebhookConfiguration`,
    metadata: { name },
    webhooks: [
      {
        name: `${name}.example.com`,
        clientConfig: { service: { namespace: 'webhooks', name: service, path }, caBundle },
        rules: [{ operations: [operation], apiGroups: [''], apiVersions: ['v1'], resources: [resource] }],
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'lab' } },
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        failurePolicy,
        timeoutSeconds: 5,
      },
    ],
  });
}

const kubectl = (version: string, args: string[], stdin?: string) => lab.kubectl(args, { binary: versionedKubectl(version), ...(stdin === undefined ? {} : { stdin }) });

describe.each(['1.27', '1.33'])('a webhook served by a pod, with kubectl %s', (version) => {
  const suffix = version.replace('.', '');

  it('refuses through the Service, and its Service-backed mutation is stored', async () => {
    expect((await kubectl(version, ['apply', '-f', '-'], configuration('Validating', `deny${suffix}`, 'wh', '/validate'))).code).toBe(0);
    const allowed = await kubectl(version, ['-n', 'lab', 'create', 'configmap', `allowed${suffix}`]);
    expect(allowed.code).toBe(0); // no deny label
    const denied = await kubectl(version, ['-n', 'lab', 'apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `denied${suffix}`, labels: { deny: 'yes' } } }));
    expect(denied.stderr).toContain('admission webhook "deny' + suffix + '.example.com" denied the request: objects labelled deny are refused');
    expect((await kubectl(version, ['delete', 'validatingwebhookconfiguration', `deny${suffix}`])).code).toBe(0);

    expect((await kubectl(version, ['apply', '-f', '-'], configuration('Mutating', `mutate${suffix}`, 'wh', '/mutate'))).code).toBe(0);
    expect((await kubectl(version, ['-n', 'lab', 'create', 'configmap', `mutated${suffix}`])).code).toBe(0);
    const label = await kubectl(version, ['-n', 'lab', 'get', 'configmap', `mutated${suffix}`, '-o', 'jsonpath={.metadata.labels.mutated}']);
    expect(label.stdout).toBe('by-pod');
    expect((await kubectl(version, ['delete', 'mutatingwebhookconfiguration', `mutate${suffix}`])).code).toBe(0);
  });

  it('a Service with no ready pod: Ignore lets the write through, Fail refuses it as kube-apiserver words it', async () => {
    expect((await kubectl(version, ['apply', '-f', '-'], configuration('Validating', `ignore${suffix}`, 'nothing', '/validate', 'Ignore'))).code).toBe(0);
    expect((await kubectl(version, ['-n', 'lab', 'create', 'configmap', `ignored${suffix}`])).code).toBe(0);
    expect((await kubectl(version, ['delete', 'validatingwebhookconfiguration', `ignore${suffix}`])).code).toBe(0);

    expect((await kubectl(version, ['apply', '-f', '-'], configuration('Validating', `fail${suffix}`, 'nothing', '/validate'))).code).toBe(0);
    const clusterIP = (await kubectl(version, ['-n', 'webhooks', 'get', 'service', 'nothing', '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
    const failed = await kubectl(version, ['-n', 'lab', 'create', 'configmap', `failed${suffix}`]);
    expect(failed.stderr).toBe(
      `error: failed to create configmap: Internal error occurred: failed calling webhook "fail${suffix}.example.com": failed to call webhook: Post "https://nothing.webhooks.svc:443/validate?timeout=5s": dial tcp ${clusterIP}:443: connect: connection refused\n`,
    );
    expect((await kubectl(version, ['delete', 'validatingwebhookconfiguration', `fail${suffix}`])).code).toBe(0);
  });

  it('the pods a Deployment or a Job creates meet the webhooks: patched by one, refused by the other with a FailedCreate event', async () => {
    const suffix2 = `pods${suffix}`;
    expect((await kubectl(version, ['apply', '-f', '-'], configuration('Mutating', `mutate${suffix2}`, 'wh', '/mutate', 'Fail', 'pods'))).code).toBe(0);
    expect((await kubectl(version, ['-n', 'lab', 'create', 'deployment', `web${suffix}`, '--image=nginx'])).code).toBe(0);
    const labels = await lab.eventually('a pod of the Deployment', async () => (await kubectl(version, ['-n', 'lab', 'get', 'pods', '-l', `app=web${suffix}`, '-o', 'jsonpath={.items[0].metadata.labels.mutated}'])).stdout || undefined);
    expect(labels).toBe('by-pod');
    expect((await kubectl(version, ['-n', 'lab', 'create', 'job', `job${suffix}`, '--image=busybox', '--', 'true'])).code).toBe(0);
    const jobLabels = await lab.eventually("the Job's pod", async () => (await kubectl(version, ['-n', 'lab', 'get', 'pods', '-l', `job-name=job${suffix}`, '-o', 'jsonpath={.items[0].metadata.labels.mutated}'])).stdout || undefined);
    expect(jobLabels).toBe('by-pod');
    expect((await kubectl(version, ['delete', 'mutatingwebhookconfiguration', `mutate${suffix2}`])).code).toBe(0);

    expect((await kubectl(version, ['apply', '-f', '-'], configuration('Validating', `deny${suffix2}`, 'wh', '/validate', 'Fail', 'pods'))).code).toBe(0);
    const denied = JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: `denied${suffix}` },
      spec: { selector: { matchLabels: { app: `denied${suffix}` } }, template: { metadata: { labels: { app: `denied${suffix}`, deny: 'yes' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } },
    });
    expect((await kubectl(version, ['-n', 'lab', 'apply', '-f', '-'], denied)).code).toBe(0);
    const event = await lab.eventually('the FailedCreate event', async () => {
      const events = await kubectl(version, ['-n', 'lab', 'get', 'events', '--field-selector', 'reason=FailedCreate', '-o', 'jsonpath={.items[*].message}']);
      return events.stdout.includes(`deny${suffix2}.example.com`) ? events.stdout : undefined;
    });
    expect(event).toContain(`Error creating: admission webhook "deny${suffix2}.example.com" denied the request: objects labelled deny are refused`);
    expect((await kubectl(version, ['-n', 'lab', 'get', 'pods', '-l', `app=denied${suffix}`, '-o', 'name'])).stdout).toBe('');
    expect((await kubectl(version, ['delete', 'validatingwebhookconfiguration', `deny${suffix2}`])).code).toBe(0);
  });

  it('kubectl exec is a CONNECT the webhooks see, with the command in its PodExecOptions, and may refuse', async () => {
    const shell = `shell${suffix}`;
    expect((await kubectl(version, ['-n', 'lab', 'run', shell, '--image=busybox', '--', 'sleep', '3600'])).code).toBe(0);
    await lab.until(`${shell} running`, () => condition(lab.pod('lab', shell), 'Ready') === 'True', 60_000);
    expect((await kubectl(version, ['-n', 'lab', 'exec', shell, '--', 'true'])).code).toBe(0);
    expect((await kubectl(version, ['apply', '-f', '-'], configuration('Validating', `noexec${suffix}`, 'wh', '/no-exec', 'Fail', 'pods/exec', 'CONNECT'))).code).toBe(0);
    const refused = await kubectl(version, ['-n', 'lab', 'exec', shell, '--', 'echo', 'hi']);
    expect(refused.code).not.toBe(0);
    // A Status without a reason, as the webhook sent it: kubectl prints no "(Forbidden)".
    expect(refused.stderr).toBe(`Error from server: admission webhook "noexec${suffix}.example.com" denied the request: PodExecOptions refused: echo hi\n`);
    expect((await kubectl(version, ['delete', 'validatingwebhookconfiguration', `noexec${suffix}`])).code).toBe(0);
  });
});

