// A cluster-admin (a learner given their own dedicated cluster, running on the portal's host) tries
// to make the API server connect to the host: admission webhooks whose clientConfig.url names the
// host's loopback in every spelling, the node's address, a Service or Endpoints that lead out of
// the cluster (Endpoints at the loopback are refused, as upstream refuses them), a CRD conversion
// webhook and an APIService. A real listener on the host, started here, stands for the portal,
// PostgreSQL or another learner's cluster: it must never receive a connection. The error for an
// open host port and a closed one is the same, so the API server cannot be used to scan the host's
// ports either. Webhooks inside the cluster's network are in test/cluster/admission/webhooks.test.ts.
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeletCluster, phase, startKubeletCluster } from '../cluster/kubelet/harness.ts';

const NOTE = "(the embedded cluster reaches webhook URLs only at its own Services and pods: <service>.<namespace>.svc, a Service's cluster IP or a pod's IP)";

let lab: KubeletCluster;
let listener: Server;
/** A port a real listener on the host has open, and one nothing listens on. */
let open = 0;
let closed = 0;
let connections = 0;
let nodeIP = '';

async function listen(): Promise<Server> {
  const server = createServer((socket) => {
    connections += 1;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

beforeAll(async () => {
  listener = await listen();
  open = (listener.address() as AddressInfo).port;
  const gone = await listen();
  closed = (gone.address() as AddressInfo).port;
  await new Promise<void>((resolve) => gone.close(() => resolve()));
  lab = await startKubeletCluster({ nodes: 1 });
  await lab.kubectl(['create', 'namespace', 'attack']);
  const node = await lab.kubectl(['get', 'nodes', '-o', 'jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}']);
  nodeIP = node.stdout;
  expect(nodeIP).toMatch(/^\d+\.\d+\.\d+\.\d+$/);
}, 60_000);

afterAll(async () => {
  await lab?.stop();
  await new Promise<void>((resolve) => (listener ? listener.close(() => resolve()) : resolve()));
});

type ClientConfig = { url: string } | { service: { namespace: string; name: string; port: number; path: string } };

/** Registers a validating webhook (failurePolicy Fail) on ConfigMaps labelled `probe`, writes one, and returns what kubectl printed. */
async function probe(clientConfig: ClientConfig): Promise<string> {
  const configuration = {
    apiVersion: 'admissionregistration.k8s.io/v1',
    kind: 'ValidatingWebhookConfiguration',
    metadata: { name: 'probe' },
    webhooks: [
      {
        name: 'probe.example.com',
        clientConfig,
        rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }],
        objectSelector: { matchLabels: { probe: 'yes' } },
        sideEffects: 'None',
        admissionReviewVersions: ['v1'],
        failurePolicy: 'Fail',
        timeoutSeconds: 2,
      },
    ],
  };
  const applied = await lab.kubectl(['apply', '-f', '-'], { stdin: JSON.stringify(configuration) });
  expect(applied.code, applied.stderr).toBe(0);
  const write = await lab.kubectl(['-n', 'attack', 'create', '-f', '-'], { stdin: JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { generateName: 'probe-', labels: { probe: 'yes' } } }) });
  await lab.kubectl(['delete', 'validatingwebhookconfiguration', 'probe']);
  expect(write.code).not.toBe(0);
  return write.stderr;
}

function refusedOutside(url: string, host: string, port: number): string {
  const target = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return `Internal error occurred: failed calling webhook "probe.example.com": failed to call webhook: Post "${url}?timeout=2s": dial tcp ${target}: connect: connection refused ${NOTE}`;
}

describe('admission webhook URLs never lead the API server out of the cluster', () => {
  it("a URL at a port the host has open gets the same answer as a closed one, and the host's listener is never reached", async () => {
    const atOpen = await probe({ url: `https://127.0.0.1:${open}/validate` });
    const atClosed = await probe({ url: `https://127.0.0.1:${closed}/validate` });
    expect(atOpen).toContain(refusedOutside(`https://127.0.0.1:${open}/validate`, '127.0.0.1', open));
    expect(atOpen.replaceAll(String(open), 'PORT')).toBe(atClosed.replaceAll(String(closed), 'PORT'));
    expect(connections).toBe(0);
  });

  it('the loopback in any spelling, the unspecified address and the node address are outside too', async () => {
    const hosts = ['127.1', '2130706433', '0x7f.0.0.1', '127.0.0.2', '0.0.0.0', '[::ffff:127.0.0.1]', '[::1]', nodeIP];
    for (const host of hosts) {
      const url = `https://${host}:${open}/validate`;
      const address = new URL(url).hostname.replace(/^\[|\]$/g, '');
      expect(await probe({ url })).toContain(refusedOutside(url, address, open));
    }
    expect(connections).toBe(0);
  });

  it("names are looked up in the cluster's DNS only: localhost and host names resolve to nothing", async () => {
    for (const host of ['localhost', 'localhost.localdomain', 'postgres', 'example.com']) {
      const url = `https://${host}:${open}/validate`;
      expect(await probe({ url })).toContain(`failed to call webhook: Post "${url}?timeout=2s": dial tcp: lookup ${host}: no such host ${NOTE}`);
    }
    expect(connections).toBe(0);
  });
});

describe('Services and Endpoints a cluster-admin writes never lead the API server out either', () => {
  beforeAll(async () => {
    await lab.serviceAccountReady('attack');
    await lab.apply(
      `apiVersion: v1
kind: Service
metadata: {name: outside}
spec:
  type: ExternalName
  externalName: localhost
  ports: [{port: ${open}}]
---
apiVersion: v1
kind: Service
metadata: {name: handmade}
spec:
  ports: [{name: https, port: 443, targetPort: ${open}}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: handmade}
subsets:
- addresses: [{ip: ${nodeIP}}]
  ports: [{name: https, port: ${open}}]
---
apiVersion: v1
kind: Pod
metadata: {name: hostnet, labels: {app: hostnet}}
spec:
  hostNetwork: true
  containers: [{name: sleep, image: busybox, command: [sleep, '3600']}]
---
apiVersion: v1
kind: Service
metadata: {name: hostnet}
spec:
  selector: {app: hostnet}
  ports: [{port: 443, targetPort: ${open}}]
`,
      'attack',
    );
    await lab.until('the hostNetwork pod running', () => phase(lab.pod('attack', 'hostnet')) === 'Running', 60_000);
    await lab.eventually('the hostNetwork pod behind its Service', async () => (await lab.kubectl(['-n', 'attack', 'get', 'endpoints', 'hostnet', '-o', 'jsonpath={.subsets[0].addresses[0].ip}'])).stdout || undefined);
  }, 90_000);

  it('Endpoints may not name the loopback, the unspecified or a link-local address, as upstream validates them', async () => {
    for (const [ip, reason] of [
      ['127.0.0.1', 'may not be in the loopback range (127.0.0.0/8, ::1/128)'],
      ['0.0.0.0', 'may not be unspecified (0.0.0.0)'],
      ['169.254.169.254', 'may not be in the link-local range (169.254.0.0/16, fe80::/10)'],
    ]) {
      const endpoints = { apiVersion: 'v1', kind: 'Endpoints', metadata: { name: 'handmade' }, subsets: [{ addresses: [{ ip }], ports: [{ name: 'https', port: open }] }] };
      const refused = await lab.kubectl(['-n', 'attack', 'apply', '-f', '-'], { stdin: JSON.stringify(endpoints) });
      expect(refused.stderr).toContain(`Endpoints "handmade" is invalid: subsets[0].addresses[0].ip: Invalid value: "${ip}": ${reason}`);
      const slice = { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'handmade-slice' }, addressType: 'IPv4', endpoints: [{ addresses: [ip] }], ports: [{ name: 'https', port: open }] };
      const refusedSlice = await lab.kubectl(['-n', 'attack', 'apply', '-f', '-'], { stdin: JSON.stringify(slice) });
      expect(refusedSlice.stderr).toContain(`EndpointSlice "handmade-slice" is invalid: endpoints[0].addresses[0]: Invalid value: "${ip}": ${reason}`);
    }
  });

  it("an ExternalName Service, hand-written Endpoints at the node's address and a hostNetwork pod lead nowhere, by clientConfig.service and by URL", async () => {
    expect(await probe({ service: { namespace: 'attack', name: 'outside', port: open, path: '/validate' } })).toContain(
      `failed to call webhook: Post "https://outside.attack.svc:${open}/validate?timeout=2s": service "outside" is of type ExternalName, which the embedded cluster does not follow outside the cluster`,
    );
    for (const name of ['handmade', 'hostnet']) {
      const clusterIP = (await lab.kubectl(['-n', 'attack', 'get', 'service', name, '-o', 'jsonpath={.spec.clusterIP}'])).stdout;
      const refused = `dial tcp ${clusterIP}:443: connect: connection refused`;
      expect(await probe({ service: { namespace: 'attack', name, port: 443, path: '/validate' } })).toContain(`Post "https://${name}.attack.svc:443/validate?timeout=2s": ${refused}`);
      expect(await probe({ url: `https://${clusterIP}/validate` })).toContain(`Post "https://${clusterIP}/validate?timeout=2s": ${refused}`);
      expect(await probe({ url: `https://${name}.attack.svc/validate` })).toContain(`Post "https://${name}.attack.svc/validate?timeout=2s": ${refused}`);
    }
    // ExternalName is a CNAME out of the cluster's zone: nothing to connect to.
    expect(await probe({ url: `https://outside.attack.svc:${open}/validate` })).toContain(`dial tcp: lookup outside.attack.svc: no such host ${NOTE}`);
    expect(connections).toBe(0);
  });

  it('a CRD conversion webhook and an APIService pointing at the host are never called', async () => {
    await lab.apply(`apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.evil.example.com}
spec:
  group: evil.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
  - {name: v2, served: true, storage: false, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
  conversion:
    strategy: Webhook
    webhook:
      conversionReviewVersions: [v1]
      clientConfig: {url: "https://127.0.0.1:${open}/convert"}
`);
    expect((await lab.kubectl(['wait', '--for=condition=Established', 'crd/widgets.evil.example.com', '--timeout=30s'])).code).toBe(0);
    expect((await lab.kubectl(['-n', 'attack', 'apply', '-f', '-'], { stdin: JSON.stringify({ apiVersion: 'evil.example.com/v1', kind: 'Widget', metadata: { name: 'w' } }) })).code).toBe(0);
    await lab.kubectl(['-n', 'attack', 'get', 'widgets.v2.evil.example.com', 'w', '-o', 'yaml']);
    await lab.apply(`apiVersion: apiregistration.k8s.io/v1
kind: APIService
metadata: {name: v1.aggregated.example.com}
spec:
  group: aggregated.example.com
  version: v1
  service: {namespace: attack, name: handmade, port: 443}
  insecureSkipTLSVerify: true
  groupPriorityMinimum: 1000
  versionPriority: 15
`);
    await lab.kubectl(['get', '--raw', '/apis/aggregated.example.com/v1']);
    expect(connections).toBe(0);
  });
});
