// Real kubectl against a tiny HTTP server that stores one kind (Deployments) and applies every
// PATCH with the patch library: the bodies are what kubectl really sends, and the stored objects
// are what a user would then see.
import { execFile } from 'node:child_process';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyConflictError, applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError, serverSideApply, updateManagedFields } from '../../../../src/cluster/apiserver/patch/index.ts';
import type { KubeObject } from '../../../../src/cluster/types.ts';

const run = promisify(execFile);
const kubectlDir = dirname((await run('readlink', ['-f', (await run('sh', ['-c', 'command -v kubectl'])).stdout.trim()])).stdout.trim());

interface Captured {
  method: string;
  path: string;
  query: URLSearchParams;
  contentType: string;
  body: unknown;
}

const gvk = { group: 'apps', version: 'v1', kind: 'Deployment' };
const collection = '/apis/apps/v1/namespaces/default/deployments';

/** Just enough of an API server for kubectl to create, get and patch Deployments. */
class DeploymentServer {
  readonly requests: Captured[] = [];
  readonly objects = new Map<string, KubeObject>();
  private server: Server | undefined;
  private version = 1;
  private clock = Date.parse('2024-07-01T12:00:00Z');

  async start(): Promise<number> {
    this.server = createServer((req, res) => {
      void this.handle(req, res).catch((error: unknown) => this.send(res, 500, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: String(error), code: 500 }));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    return (this.server!.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((resolve) => this.server?.close(() => resolve()));
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private status(res: ServerResponse, code: number, reason: string, message: string): void {
    this.send(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
  }

  private now(): Date {
    this.clock += 60_000;
    return new Date(this.clock);
  }

  private store(object: KubeObject): KubeObject {
    const stored = { ...object, metadata: { ...object.metadata, namespace: 'default', uid: object.metadata.uid ?? 'uid-web', resourceVersion: String(++this.version) } };
    this.objects.set(stored.metadata.name!, stored);
    return stored;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url!, 'http://localhost');
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString('utf8');
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!;
    const body: unknown = text ? JSON.parse(text) : undefined;
    this.requests.push({ method: req.method!, path: url.pathname, query: url.searchParams, contentType, body });

    switch (url.pathname) {
      case '/api':
        return this.send(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] });
      case '/apis':
        return this.send(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [{ name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } }] });
      case '/api/v1':
        return this.send(res, 200, { kind: 'APIResourceList', groupVersion: 'v1', resources: [] });
      case '/apis/apps/v1':
        return this.send(res, 200, {
          kind: 'APIResourceList',
          apiVersion: 'v1',
          groupVersion: 'apps/v1',
          resources: [{ name: 'deployments', singularName: 'deployment', namespaced: true, kind: 'Deployment', verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'], shortNames: ['deploy'] }],
        });
    }
    if (url.pathname === collection && req.method === 'POST') {
      const created = updateManagedFields(undefined, body as KubeObject, { manager: url.searchParams.get('fieldManager') ?? 'kubectl', operation: 'Update', apiVersion: 'apps/v1', now: this.now() });
      return this.send(res, 201, this.store(created));
    }
    const name = url.pathname.startsWith(`${collection}/`) ? url.pathname.slice(collection.length + 1) : undefined;
    if (!name) return this.status(res, 404, 'NotFound', 'the server could not find the requested resource');
    const live = this.objects.get(name);
    if (req.method === 'GET') return live ? this.send(res, 200, live) : this.status(res, 404, 'NotFound', `deployments.apps "${name}" not found`);
    if (req.method !== 'PATCH') return this.status(res, 405, 'MethodNotAllowed', `${req.method} is not supported`);

    const manager = url.searchParams.get('fieldManager') ?? 'kubectl';
    const now = this.now();
    try {
      if (contentType === 'application/apply-patch+yaml') {
        const result = serverSideApply(live, body as KubeObject, { manager, force: url.searchParams.get('force') === 'true', ...gvk, now });
        if (result.conflicts.length > 0) throw applyConflictError(result.conflicts);
        return this.send(res, live ? 200 : 201, this.store(result.object));
      }
      if (!live) return this.status(res, 404, 'NotFound', `deployments.apps "${name}" not found`);
      const patched =
        contentType === 'application/json-patch+json'
          ? applyJsonPatch(live, body)
          : contentType === 'application/merge-patch+json'
            ? applyMergePatch(live, body)
            : applyStrategicMergePatch(live, body, gvk);
      return this.send(res, 200, this.store(updateManagedFields(live, patched as KubeObject, { manager, operation: 'Update', apiVersion: 'apps/v1', now })));
    } catch (error) {
      if (error instanceof PatchError) return this.send(res, error.code, error.status);
      throw error;
    }
  }

  patches(): Captured[] {
    return this.requests.filter((r) => r.method === 'PATCH');
  }

  lastPatch(): Captured {
    return this.patches().at(-1)!;
  }

  web(): KubeObject {
    return this.objects.get('web')!;
  }
}

interface Manifest {
  replicas?: number;
  image?: string;
  env?: Array<{ name: string; value: string }>;
  sidecar?: boolean;
  labels?: Record<string, string>;
}

function manifest({ replicas = 2, image = 'nginx:1.27', env = [{ name: 'A', value: '1' }, { name: 'B', value: '2' }], sidecar = true, labels = { app: 'web' } }: Manifest = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'default', labels },
    spec: {
      replicas,
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' } },
        spec: { containers: [{ name: 'web', image, env }, ...(sidecar ? [{ name: 'sidecar', image: 'busybox', args: ['sleep', '3600'] }] : [])] },
      },
    },
  };
}

const containersOf = (object: KubeObject) => (object.spec as { template: { spec: { containers: Array<{ name: string; image: string; env?: unknown[] }> } } }).template.spec.containers;

for (const binary of ['kubectl.1.27', 'kubectl.1.33']) {
  describe(`${binary} against the patch library`, () => {
    let server: DeploymentServer;
    let dir: string;
    let kubeconfig: string;

    beforeEach(async () => {
      server = new DeploymentServer();
      const port = await server.start();
      dir = mkdtempSync(join(tmpdir(), 'formicary-kubectl-bodies-'));
      kubeconfig = join(dir, 'kubeconfig');
      writeFileSync(
        kubeconfig,
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'Config',
          clusters: [{ name: 'c', cluster: { server: `http://127.0.0.1:${port}` } }],
          users: [{ name: 'u', user: { token: 't' } }],
          contexts: [{ name: 'x', context: { cluster: 'c', user: 'u', namespace: 'default' } }],
          'current-context': 'x',
        }),
      );
    });

    afterEach(async () => {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    async function kubectl(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
      try {
        const { stdout, stderr } = await run(join(kubectlDir, binary), [`--kubeconfig=${kubeconfig}`, `--cache-dir=${join(dir, 'cache')}`, ...args], { timeout: 20_000, env: { ...process.env, HOME: dir } });
        return { code: 0, stdout, stderr };
      } catch (error) {
        const failed = error as { code?: number; stdout?: string; stderr?: string };
        return { code: typeof failed.code === 'number' ? failed.code : 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
      }
    }

    async function apply(object: KubeObject, ...flags: string[]) {
      const file = join(dir, `manifest-${server.requests.length}.json`);
      writeFileSync(file, JSON.stringify(object));
      return kubectl('apply', '-f', file, '--validate=false', ...flags);
    }

    it('client-side apply: re-apply with a changed image, a removed env var and a removed container', async () => {
      expect(await apply(manifest())).toMatchObject({ code: 0 });
      expect(server.requests.find((r) => r.method === 'POST')?.query.get('fieldManager')).toBe('kubectl-client-side-apply');

      const result = await apply(manifest({ image: 'nginx:1.28', env: [{ name: 'A', value: '1' }], sidecar: false }));
      expect(result).toMatchObject({ code: 0 });
      const patch = server.lastPatch();
      expect(patch.contentType).toBe('application/strategic-merge-patch+json');
      expect(JSON.stringify(patch.body)).toContain('"$setElementOrder/containers":[{"name":"web"}]');
      expect(JSON.stringify(patch.body)).toContain('{"$patch":"delete","name":"sidecar"}');
      expect(JSON.stringify(patch.body)).toContain('{"$patch":"delete","name":"B"}');

      const web = server.web();
      expect(containersOf(web)).toEqual([{ name: 'web', image: 'nginx:1.28', env: [{ name: 'A', value: '1' }] }]);
      expect(JSON.parse(web.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration']!)).toMatchObject({ spec: { template: { spec: { containers: [{ image: 'nginx:1.28' }] } } } });
    });

    it('client-side apply: a changed field leaves fields set by others alone', async () => {
      await apply(manifest());
      await kubectl('label', 'deployment', 'web', 'tier=fe');
      expect(server.lastPatch()).toMatchObject({ contentType: 'application/merge-patch+json', body: { metadata: { labels: { tier: 'fe' } } } });
      await apply(manifest({ replicas: 4 }));
      expect(server.web().metadata.labels).toEqual({ app: 'web', tier: 'fe' });
      expect((server.web().spec as { replicas: number }).replicas).toBe(4);
      expect(server.web().metadata.managedFields!.map((e) => e.manager).sort()).toEqual(['kubectl-client-side-apply', 'kubectl-label']);
    });

    it('set image and label overwrite/remove', async () => {
      await apply(manifest());
      expect(await kubectl('set', 'image', 'deployment/web', 'web=nginx:1.29')).toMatchObject({ code: 0 });
      expect(server.lastPatch().query.get('fieldManager')).toBe('kubectl-set');
      expect(containersOf(server.web()).map((c) => `${c.name}=${c.image}`)).toEqual(['web=nginx:1.29', 'sidecar=busybox']);

      await kubectl('label', 'deployment', 'web', 'tier=fe');
      await kubectl('label', 'deployment', 'web', 'tier=be', '--overwrite');
      expect(server.web().metadata.labels).toEqual({ app: 'web', tier: 'be' });
      await kubectl('label', 'deployment', 'web', 'tier-');
      expect(server.lastPatch().body).toEqual({ metadata: { labels: { tier: null } } });
      expect(server.web().metadata.labels).toEqual({ app: 'web' });
    });

    it('kubectl patch with every type', async () => {
      await apply(manifest());
      expect(await kubectl('patch', 'deployment', 'web', '--type=json', '-p', '[{"op":"replace","path":"/spec/replicas","value":3}]')).toMatchObject({ code: 0 });
      expect(await kubectl('patch', 'deployment', 'web', '--type=merge', '-p', '{"metadata":{"annotations":{"team":"blue"}}}')).toMatchObject({ code: 0 });
      expect(await kubectl('patch', 'deployment', 'web', '-p', '{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","image":"alpine"}]}}}}')).toMatchObject({ code: 0 });
      expect(server.patches().slice(-3).map((p) => p.contentType)).toEqual(['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']);
      const web = server.web();
      expect((web.spec as { replicas: number }).replicas).toBe(3);
      expect(web.metadata.annotations!['team']).toBe('blue');
      expect(containersOf(web).map((c) => `${c.name}=${c.image}`)).toEqual(['web=nginx:1.27', 'sidecar=alpine']);

      const missing = await kubectl('patch', 'deployment', 'web', '--type=json', '-p', '[{"op":"remove","path":"/spec/paused"}]');
      expect(missing.code).not.toBe(0);
      expect(missing.stderr).toContain('the server rejected our request due to an error in our request');
      const notAList = await kubectl('patch', 'deployment', 'web', '--type=json', '-p', '{"spec":{}}');
      expect(notAList.code).not.toBe(0);
    });

    it('server-side apply: create, take over from client-side apply, conflict and force', async () => {
      expect(await apply(manifest(), '--server-side')).toMatchObject({ code: 0 });
      const created = server.lastPatch();
      expect(created.contentType).toBe('application/apply-patch+yaml');
      expect(created.query.get('fieldManager')).toBe('kubectl');
      expect(server.web().metadata.managedFields).toMatchObject([{ manager: 'kubectl', operation: 'Apply' }]);

      expect(await apply(manifest({ env: [{ name: 'A', value: '1' }] }), '--server-side')).toMatchObject({ code: 0 });
      expect(containersOf(server.web())[0]!.env).toEqual([{ name: 'A', value: '1' }]);

      await kubectl('patch', 'deployment', 'web', '--type=merge', '-p', '{"spec":{"replicas":5}}');
      const conflict = await apply(manifest({ replicas: 3, env: [{ name: 'A', value: '1' }] }), '--server-side');
      expect(conflict.code).not.toBe(0);
      expect(conflict.stderr).toContain('Apply failed with 1 conflict: conflict with "kubectl-patch" using apps/v1: .spec.replicas');

      expect(await apply(manifest({ replicas: 3, env: [{ name: 'A', value: '1' }] }), '--server-side', '--force-conflicts')).toMatchObject({ code: 0 });
      expect((server.web().spec as { replicas: number }).replicas).toBe(3);
      expect(server.web().metadata.managedFields!.map((e) => e.manager)).toEqual(['kubectl']);
    });

    it('server-side apply after client-side apply takes kubectl’s fields over', async () => {
      await apply(manifest());
      expect(await apply(manifest({ replicas: 6 }), '--server-side')).toMatchObject({ code: 0 });
      const web = server.web();
      expect((web.spec as { replicas: number }).replicas).toBe(6);
      expect(JSON.parse(web.metadata.annotations!['kubectl.kubernetes.io/last-applied-configuration']!)).toMatchObject({ spec: { replicas: 6 } });
      expect(web.metadata.managedFields!.map((e) => `${e.manager}/${e.operation}`)).toContain('kubectl/Apply');
    });
  });
}
