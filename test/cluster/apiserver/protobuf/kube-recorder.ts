// A tiny HTTPS server that real kubectl accepts as an API server: it answers discovery and the
// few endpoints the tests point kubectl at, and records every request with its body. It is test
// support for the protobuf and OpenAPI libraries, not an API server.
import { execFile, execFileSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { AddressInfo } from 'node:net';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

export interface RecordedRequest {
  method: string;
  url: string;
  contentType: string;
  body: Buffer;
}

export interface Responder {
  (request: RecordedRequest, res: ServerResponse): boolean;
}

export interface KubeRecorder {
  readonly url: string;
  readonly kubeconfig: string;
  readonly requests: RecordedRequest[];
  /** Runs a kubectl binary (e.g. "kubectl.1.33") against this server; never throws on non-zero exit. */
  kubectl(binary: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  close(): Promise<void>;
}

/** Where the versioned kubectl binaries (kubectl.1.27 … kubectl.1.33) live. */
export const kubectlDir = dirname(realpathSync(execFileSync('sh', ['-c', 'command -v kubectl'], { encoding: 'utf8' }).trim()));

export function kubectlPath(binary: string): string {
  return join(kubectlDir, binary);
}

/** A self-signed certificate for 127.0.0.1, usable as its own CA. */
export async function selfSignedCertificate(): Promise<{ cert: string; key: string }> {
  const algorithm = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' };
  const keys = await crypto.subtle.generateKey(algorithm, true, ['sign', 'verify']);
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=kube-recorder',
    notBefore: new Date(Date.now() - 60_000),
    notAfter: new Date(Date.now() + 24 * 3600_000),
    signingAlgorithm: algorithm,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyCertSign, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'ip', value: '127.0.0.1' }]),
    ],
  });
  const pkcs8 = Buffer.from(await crypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  const key = `-----BEGIN PRIVATE KEY-----\n${pkcs8.match(/.{1,64}/g)?.join('\n')}\n-----END PRIVATE KEY-----\n`;
  return { cert: certificate.toString('pem'), key };
}

export interface ApiResource {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  verbs?: string[];
  /** names ("scale") or definitions with a name and the kind they answer with */
  subresources?: Array<string | { name: string; kind?: string; group?: string; version?: string }>;
}

/** Discovery for kubectl: legacy APIVersions / APIGroupList / APIResourceList. */
function discovery(resources: ApiResource[], path: string): unknown {
  if (path === '/api') return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] };
  const groups = new Map<string, Set<string>>();
  for (const r of resources) if (r.group !== '') groups.set(r.group, (groups.get(r.group) ?? new Set()).add(r.version));
  if (path === '/apis') {
    return {
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: [...groups].map(([name, versions]) => {
        const list = [...versions].map((version) => ({ groupVersion: `${name}/${version}`, version }));
        return { name, versions: list, preferredVersion: list[0] };
      }),
    };
  }
  const match = /^\/(?:api\/(v1)|apis\/([^/]+)\/([^/]+))$/.exec(path);
  if (!match) return undefined;
  const group = match[2] ?? '';
  const version = match[1] ?? match[3] ?? '';
  const served = resources.filter((r) => r.group === group && r.version === version);
  if (served.length === 0) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: served.flatMap((r) => [
      {
        name: r.resource,
        singularName: r.kind.toLowerCase(),
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: r.verbs ?? ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
      },
      ...(r.subresources ?? []).map((sub) => {
        const declared = typeof sub === 'string' ? { name: sub } : sub;
        return {
          name: `${r.resource}/${declared.name}`,
          singularName: '',
          namespaced: r.namespaced,
          ...(declared.group === undefined ? {} : { group: declared.group }),
          ...(declared.version === undefined ? {} : { version: declared.version }),
          kind: declared.kind ?? r.kind,
          verbs: ['create', 'get'],
        };
      }),
    ]),
  };
}

export interface KubeRecorderOptions {
  resources: ApiResource[];
  /** Answers a request itself (returns true) before the recorder's defaults. */
  respond?: Responder;
}

export async function startKubeRecorder(options: KubeRecorderOptions): Promise<KubeRecorder> {
  const { cert, key } = await selfSignedCertificate();
  const dir = await mkdtemp(join(tmpdir(), 'kube-recorder-'));
  const requests: RecordedRequest[] = [];
  const server = createServer({ cert, key }, (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const request: RecordedRequest = { method: req.method ?? 'GET', url: req.url ?? '/', contentType: req.headers['content-type'] ?? '', body: Buffer.concat(chunks) };
      requests.push(request);
      if (options.respond?.(request, res)) return;
      const path = new URL(request.url, 'https://127.0.0.1').pathname;
      const found = request.method === 'GET' ? discovery(options.resources, path) : undefined;
      if (found !== undefined) return sendJson(res, 200, found);
      sendJson(res, 404, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `the server could not find the requested resource (${request.method} ${path})`, reason: 'NotFound', code: 404 });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const kubeconfig = join(dir, 'kubeconfig');
  await writeFile(
    kubeconfig,
    JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'recorder', cluster: { server: url, 'certificate-authority-data': Buffer.from(cert).toString('base64') } }],
      users: [{ name: 'admin', user: { token: 'recorder-token' } }],
      contexts: [{ name: 'recorder', context: { cluster: 'recorder', user: 'admin', namespace: 'default' } }],
      'current-context': 'recorder',
    }),
  );
  return {
    url,
    kubeconfig,
    requests,
    kubectl(binary, args) {
      return new Promise((resolve) => {
        execFile(
          kubectlPath(binary),
          [...args, '--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache')],
          { env: { ...process.env, HOME: dir, KUBECONFIG: kubeconfig }, timeout: 20_000 },
          (error, stdout, stderr) => {
            const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
            resolve({ code, stdout, stderr });
          },
        );
      });
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function sendJson(res: ServerResponse, code: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}
