// Real kubectl against a small HTTPS server that answers discovery for pods and deployments in the
// legacy form and returns our Tables: what a learner sees in the terminal is what this asserts.
import { execFile } from 'node:child_process';
import { webcrypto } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { realpathSync, existsSync } from 'node:fs';
import { promisify } from 'node:util';
// @peculiar/x509 needs the Reflect metadata API before it loads.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toTable } from '../../../../src/cluster/apiserver/tables/index.ts';
import type { KubeObject } from '../../../../src/cluster/types.ts';

const run = promisify(execFile);
const start = Date.now();
// Chosen so the printed durations stay the same for the first 55 s of the run.
const threeHoursAgo = new Date(start - 3 * 3600_000 - 5_000).toISOString();
const fifteenMinutesAgo = new Date(start - 15 * 60_000 - 5_000).toISOString();

const meta = (name: string): KubeObject['metadata'] => ({ name, namespace: 'default', uid: `uid-${name}`, resourceVersion: '7', creationTimestamp: threeHoursAgo });
const pods: KubeObject[] = [
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { ...meta('web-1'), labels: { app: 'web', tier: 'fe' } },
    spec: { nodeName: 'lab-node', containers: [{ name: 'web', image: 'nginx:1.27' }] },
    status: {
      phase: 'Running',
      podIP: '10.244.0.7',
      podIPs: [{ ip: '10.244.0.7' }],
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'web', ready: true, restartCount: 2, state: { running: {} }, lastState: { terminated: { exitCode: 1, reason: 'Error', finishedAt: fifteenMinutesAgo } } }],
    },
  },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta('crash'),
    spec: { nodeName: 'lab-node', containers: [{ name: 'app', image: 'busybox' }] },
    status: { phase: 'Running', podIP: '10.244.0.8', containerStatuses: [{ name: 'app', ready: false, restartCount: 4, state: { waiting: { reason: 'CrashLoopBackOff' } }, lastState: { terminated: { exitCode: 1, finishedAt: fifteenMinutesAgo } } }] },
  },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: meta('setup'),
    spec: { initContainers: [{ name: 'migrate', image: 'busybox' }], containers: [{ name: 'app', image: 'busybox' }] },
    status: { phase: 'Pending', initContainerStatuses: [{ name: 'migrate', ready: false, restartCount: 0, state: { running: {} } }] },
  },
];
const deployments: KubeObject[] = [
  {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: meta('web'),
    spec: { replicas: 3, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
    status: { replicas: 3, readyReplicas: 2, updatedReplicas: 3, availableReplicas: 2 },
  },
];

const verbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const routes: Record<string, (port: number) => unknown> = {
  '/api': (port) => ({ kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${port}` }] }),
  '/apis': () => ({ kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } }] }),
  '/api/v1': () => ({ kind: 'APIResourceList', groupVersion: 'v1', resources: [{ name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs, shortNames: ['po'], categories: ['all'] }] }),
  '/apis/apps/v1': () => ({ kind: 'APIResourceList', apiVersion: 'v1', groupVersion: 'apps/v1', resources: [{ name: 'deployments', singularName: 'deployment', namespaced: true, kind: 'Deployment', verbs, shortNames: ['deploy'], categories: ['all'] }] }),
};
const lists: Record<string, { group: string; resource: string; items: KubeObject[] }> = {
  '/api/v1/namespaces/default/pods': { group: '', resource: 'pods', items: pods },
  '/apis/apps/v1/namespaces/default/deployments': { group: 'apps', resource: 'deployments', items: deployments },
};

let server: Server;
let dir: string;
let kubeconfig: string;
const tableRequests: string[] = [];

async function selfSignedCertificate(): Promise<{ cert: string; key: string }> {
  x509.cryptoProvider.set(webcrypto as unknown as Crypto);
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await webcrypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    name: 'CN=formicary-test',
    keys: keys as unknown as CryptoKeyPair,
    signingAlgorithm: algorithm,
    notBefore: new Date(start - 60_000),
    notAfter: new Date(start + 3600_000),
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
      new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { cert: certificate.toString('pem'), key: x509.PemConverter.encode(pkcs8, 'PRIVATE KEY') };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'formicary-tables-'));
  const { cert, key } = await selfSignedCertificate();
  server = createServer({ cert, key }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const port = (server.address() as AddressInfo).port;
    const send = (code: number, body: unknown): void => {
      res.writeHead(code, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    const discovery = routes[url.pathname];
    if (discovery) return send(200, discovery(port));
    const list = lists[url.pathname];
    if (list) {
      const accept = req.headers.accept ?? '';
      if (!accept.includes('as=Table')) return send(200, { kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: '7' }, items: list.items });
      tableRequests.push(`${url.pathname} ${accept}`);
      return send(200, toTable(list, list.items, { now: new Date(), resourceVersion: '7', includeObject: (url.searchParams.get('includeObject') as 'Object' | null) ?? 'Metadata' }));
    }
    send(404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', reason: 'NotFound', message: 'the server could not find the requested resource', code: 404 });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  kubeconfig = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'lab', cluster: { server: `https://127.0.0.1:${port}`, 'certificate-authority-data': Buffer.from(cert).toString('base64') } }],
      users: [{ name: 'admin', user: { token: 'test-token' } }],
      contexts: [{ name: 'lab', context: { cluster: 'lab', user: 'admin', namespace: 'default' } }],
      'current-context': 'lab',
    }),
  );
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await rm(dir, { recursive: true, force: true });
});

/** The installed kubectl plus the oldest and newest versioned ones beside it. */
function kubectls(): string[] {
  const found: string[] = ['kubectl'];
  try {
    const home = dirname(realpathSync('/usr/lib/google-cloud-sdk/bin/kubectl'));
    for (const version of ['1.27', '1.33']) {
      const path = join(home, `kubectl.${version}`);
      if (existsSync(path)) found.push(path);
    }
  } catch {
    // only the kubectl on PATH
  }
  return found;
}

async function kubectl(binary: string, ...args: string[]): Promise<string> {
  const { stdout } = await run(binary, [...args, '--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache', binary.replaceAll('/', '_'))], { env: { ...process.env, HOME: dir }, timeout: 20_000 });
  return stdout;
}

describe.each(kubectls())('%s get renders our Table', (binary) => {
  it('asks for a Table', async () => {
    await kubectl(binary, 'get', 'pods');
    expect(tableRequests.at(-1)).toMatch(/^\/api\/v1\/namespaces\/default\/pods application\/json;as=Table;v=v1;g=meta.k8s.io/);
  });

  it('get pods', async () => {
    expect(await kubectl(binary, 'get', 'pods')).toBe(
      [
        'NAME    READY   STATUS             RESTARTS      AGE',
        'web-1   1/1     Running            2 (15m ago)   3h',
        'crash   0/1     CrashLoopBackOff   4 (15m ago)   3h',
        'setup   0/1     Init:0/1           0             3h',
        '',
      ].join('\n'),
    );
  });

  it('get pods -o wide', async () => {
    expect(await kubectl(binary, 'get', 'po', '-o', 'wide')).toBe(
      [
        'NAME    READY   STATUS             RESTARTS      AGE   IP           NODE       NOMINATED NODE   READINESS GATES',
        'web-1   1/1     Running            2 (15m ago)   3h    10.244.0.7   lab-node   <none>           <none>',
        'crash   0/1     CrashLoopBackOff   4 (15m ago)   3h    10.244.0.8   lab-node   <none>           <none>',
        'setup   0/1     Init:0/1           0             3h    <none>       <none>     <none>           <none>',
        '',
      ].join('\n'),
    );
  });

  it('get deploy, plain and wide', async () => {
    expect(await kubectl(binary, 'get', 'deploy')).toBe(['NAME   READY   UP-TO-DATE   AVAILABLE   AGE', 'web    2/3     3            2           3h', ''].join('\n'));
    expect(await kubectl(binary, 'get', 'deployments', '-o', 'wide')).toBe(
      ['NAME   READY   UP-TO-DATE   AVAILABLE   AGE   CONTAINERS   IMAGES       SELECTOR', 'web    2/3     3            2           3h    web          nginx:1.27   app=web', ''].join('\n'),
    );
  });

  it('get pods --show-labels reads labels from the row objects', async () => {
    const lines = (await kubectl(binary, 'get', 'pods', '--show-labels')).split('\n');
    expect(lines[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\s+LABELS$/);
    expect(lines[1]).toMatch(/^web-1 .* 3h\s+app=web,tier=fe$/);
    expect(lines[2]).toMatch(/^crash .* 3h\s+<none>$/);
  });
});
