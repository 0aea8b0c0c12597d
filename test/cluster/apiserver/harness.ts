// A cluster per test file, started in-process on port 0 with its own temp data dir, plus the
// clients the tests drive it with: real kubectl (any installed version) and raw HTTPS.
import { execFile } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startCluster, type ClusterOptions, type RunningCluster } from '../../../src/cluster/index.ts';

export interface TestCluster {
  cluster: RunningCluster;
  dir: string;
  /** The admin kubeconfig, written to dir. */
  kubeconfig: string;
  kubectl(args: string[], options?: KubectlOptions): Promise<KubectlResult>;
  http(method: string, path: string, options?: HttpOptions): Promise<HttpResult>;
  stop(): Promise<void>;
}

export interface KubectlOptions {
  /** 'installed' (default) or '1.27' … '1.33' */
  version?: string;
  kubeconfig?: string;
  stdin?: string;
  timeoutMs?: number;
}

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface HttpOptions {
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** Bearer token; the admin's by default, null for none. */
  token?: string | null;
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json(): any;
}

const installedKubectl = (() => {
  try {
    const found = realpathSync('/usr/bin/kubectl');
    return found;
  } catch {
    return 'kubectl';
  }
})();

export function kubectlBinary(version = 'installed'): string {
  if (version === 'installed') return installedKubectl;
  return join(dirname(installedKubectl), `kubectl.${version}`);
}

export function hasKubectl(version: string): boolean {
  return existsSync(kubectlBinary(version));
}

export async function startTestCluster(options: Omit<ClusterOptions, 'dataDir' | 'port'> = {}): Promise<TestCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'formicary-apiserver-'));
  const cluster = await startCluster({ ...options, dataDir: join(dir, 'data'), port: 0 });
  const kubeconfig = join(dir, 'kubeconfig');
  await cluster.writeKubeconfig(kubeconfig);
  const cacheDir = join(dir, 'kube-cache');
  return {
    cluster,
    dir,
    kubeconfig,
    kubectl(args, kubectlOptions = {}) {
      return new Promise((resolve) => {
        // Never a sync spawn: the server answering kubectl runs on this same event loop.
        const child = execFile(
          kubectlBinary(kubectlOptions.version),
          ['--kubeconfig', kubectlOptions.kubeconfig ?? kubeconfig, '--cache-dir', cacheDir, ...args],
          { timeout: kubectlOptions.timeoutMs ?? 30_000, env: { ...process.env, HOME: dir, KUBECONFIG: '' } },
          (error, stdout, stderr) => {
            const code = error ? (typeof error.code === 'number' ? error.code : 1) : 0;
            resolve({ code, stdout, stderr });
          },
        );
        if (kubectlOptions.stdin !== undefined) child.stdin?.end(kubectlOptions.stdin);
      });
    },
    http(method, path, httpOptions = {}) {
      return new Promise((resolve, reject) => {
        const token = httpOptions.token === undefined ? cluster.adminToken : httpOptions.token;
        const headers: Record<string, string> = { ...httpOptions.headers };
        if (token !== null) headers['authorization'] = `Bearer ${token}`;
        // Node frames a DELETE body only when told its length.
        if (httpOptions.body !== undefined) headers['content-length'] = String(Buffer.byteLength(httpOptions.body));
        const req = httpsRequest(`${cluster.url}${path}`, { method, headers, ca: cluster.caPem }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) });
          });
          res.on('error', reject);
        });
        req.on('error', reject);
        req.end(httpOptions.body);
      });
    },
    async stop() {
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
