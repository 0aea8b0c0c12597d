// A hostile learner against the API server's limits: bodies past kube-apiserver's 3 MiB, objects
// past etcd's 1.5 MiB and ConfigMaps past 1 MiB are refused as upstream refuses them, the sandbox's
// quota stops a loop of creates with upstream's message, and the namespace's storage budget (the
// embedded cluster's own limit) stops the bytes. Real kubectl with the sandbox's own token.
import { execFile } from 'node:child_process';
import type { ClientRequest, IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabCatalog } from '../../src/labs/index.ts';
import { DEFAULT_NAMESPACE_BYTES } from '../../src/cluster/registry/index.ts';
import { startLabCluster } from '../../src/server/cluster/index.ts';
import { applyMigrations, openDatabase, readMigrations } from '../../src/server/db/index.ts';
import { startLabs } from '../../src/server/labs/index.ts';
import { createSessions } from '../../src/server/auth/index.ts';
import { Sandboxes, type Sandbox } from '../../src/server/sandboxes/index.ts';
import { createTracking, fixedOutlines } from '../../src/server/tracking/index.ts';
import { startTestCluster, type TestCluster } from '../labs/cluster.ts';
import { sampleLab, writeLab } from '../labs/fixtures.ts';
import { useTestDatabases } from '../support/databases.ts';
import { captureLogs } from '../support/logs.ts';

const databases = useTestDatabases();
const { log } = captureLogs();

const run = promisify(execFile);

let cluster: TestCluster;
let sandboxes: Sandboxes;
let sandbox: Sandbox;
let learnerConfig: string;
let adminConfig: string;
let learnerToken: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  const labsDir = join(cluster.dir, 'labs');
  await writeLab(labsDir, 'sample', sampleLab);
  const catalog = new LabCatalog(labsDir);
  sandboxes = new Sandboxes({ kubeConfig: cluster.kubeConfig, catalog });
  sandbox = await sandboxes.start(await catalog.get('sample'), 'mallory');
  adminConfig = join(cluster.dir, 'admin.kubeconfig');
  await writeFile(adminConfig, cluster.cluster.kubeconfig(), { mode: 0o600 });
  learnerToken = (await kubectl(adminConfig, ['create', 'token', 'learner', '-n', sandbox.namespace])).stdout.trim();
  learnerConfig = join(cluster.dir, 'learner.kubeconfig');
  await writeFile(learnerConfig, cluster.cluster.kubeconfig({ token: learnerToken, namespace: sandbox.namespace }), { mode: 0o600 });
}, 90_000);

afterAll(async () => {
  if (sandbox) await sandboxes.end(sandbox.namespace).catch(() => undefined);
  await sandboxes?.stop();
  await cluster?.stop();
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function kubectl(kubeconfig: string, args: string[]): Promise<Outcome> {
  try {
    const { stdout, stderr } = await run('kubectl', ['--kubeconfig', kubeconfig, ...args], { env: { ...process.env, HOME: cluster.dir }, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

const asLearner = (...args: string[]) => kubectl(learnerConfig, args);

async function manifest(name: string, objects: unknown[]): Promise<string> {
  const file = join(cluster.dir, name);
  await writeFile(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }));
  return file;
}

const configMap = (name: string, bytes = 1) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { blob: 'x'.repeat(bytes) } });

async function configMapNames(): Promise<string[]> {
  const listed = await asLearner('get', 'configmaps', '-o', 'jsonpath={.items[*].metadata.name}');
  return listed.stdout.split(' ').filter(Boolean);
}

describe('request limits, as kube-apiserver and etcd have them', () => {
  it('refuses a 4 MiB body with 413 and stores nothing', async () => {
    const file = await manifest('four-mib.json', [configMap('four-mib', 4 * 1024 * 1024)]);
    const created = await asLearner('create', '-f', file);
    expect(created.code).not.toBe(0);
    expect(created.stderr).toContain('Error from server (RequestEntityTooLarge): error when creating');
    expect(created.stderr).toContain('Request entity too large: limit is 3145728');
    expect(await configMapNames()).not.toContain('four-mib');
  });

  it('answers a 200 MB streamed body with 413 without reading it to the end', async () => {
    const total = 200 * 1024 * 1024;
    const chunk = Buffer.alloc(1024 * 1024, 'x');
    const { status, body, written } = await new Promise<{ status: number; body: string; written: number }>((resolve, reject) => {
      let written = 0;
      let answered = false;
      const req = request(
        `${cluster.cluster.url}/api/v1/namespaces/${sandbox.namespace}/configmaps`,
        { method: 'POST', ca: cluster.cluster.caPem, headers: { authorization: `Bearer ${learnerToken}`, 'content-type': 'application/json', 'transfer-encoding': 'chunked' } },
        (res) => {
          answered = true;
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (part: string) => (text += part));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, written }));
          res.on('error', () => resolve({ status: res.statusCode ?? 0, body: text, written }));
        },
      );
      req.on('error', (error) => (answered ? undefined : reject(error)));
      req.write('{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"streamed"},"data":{"blob":"');
      const pump = () => {
        while (!answered && written < total) {
          written += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        if (!answered) req.end('"}}');
      };
      pump();
    });
    expect(status).toBe(413);
    expect(JSON.parse(body)).toMatchObject({ kind: 'Status', code: 413, reason: 'RequestEntityTooLarge', message: 'Request entity too large: limit is 3145728' });
    // The server stopped reading past the limit: the client was held back long before 200 MB.
    expect(written).toBeLessThan(total / 4);
    expect(await configMapNames()).not.toContain('streamed');
  });

  it('refuses a 2 MiB ConfigMap as invalid, with upstream’s message', async () => {
    const blob = join(cluster.dir, 'two-mib.txt');
    await writeFile(blob, 'y'.repeat(2 * 1024 * 1024));
    const created = await asLearner('create', 'configmap', 'two-mib', `--from-file=blob=${blob}`);
    expect(created.code).not.toBe(0);
    expect(created.stderr).toContain('ConfigMap "two-mib" is invalid: []: Too long: may not be more than 1048576 bytes');
    expect(await configMapNames()).not.toContain('two-mib');
  });

  it('refuses a Secret whose decoded data passes 1 MiB, under data', async () => {
    const file = await manifest('big-secret.json', [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'big-secret' }, data: { key: Buffer.alloc(1024 * 1024 + 1, 'z').toString('base64') } }]);
    const created = await asLearner('create', '-f', file);
    expect(created.stderr).toContain('Secret "big-secret" is invalid: data: Too long: may not be more than 1048576 bytes');
    // 1 MiB exactly is allowed, though its base64 is a third longer.
    const fits = await manifest('fitting-secret.json', [{ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'fitting-secret' }, data: { key: Buffer.alloc(1024 * 1024, 'z').toString('base64') } }]);
    expect((await asLearner('create', '-f', fits)).code).toBe(0);
    expect((await asLearner('delete', 'secret', 'fitting-secret')).code).toBe(0);
  });

  it('refuses an object past etcd’s 1.5 MiB as a real cluster does: etcdserver: request is too large', async () => {
    // No field limit catches it: one environment variable of 1.6 MB in a Deployment.
    const deployment = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'huge-env' },
      spec: {
        selector: { matchLabels: { app: 'huge-env' } },
        template: { metadata: { labels: { app: 'huge-env' } }, spec: { containers: [{ name: 'app', image: 'nginx:1.27', env: [{ name: 'BLOB', value: 'e'.repeat(1_600_000) }] }] } },
      },
    };
    const created = await asLearner('create', '-f', await manifest('huge-env.json', [deployment]));
    expect(created.code).not.toBe(0);
    expect(created.stderr).toContain('Error from server: error when creating');
    expect(created.stderr).toContain('etcdserver: request is too large');
    expect((await asLearner('get', 'deployment', 'huge-env')).stderr).toContain('deployments.apps "huge-env" not found');
  });
});

describe('the sandbox’s quota and the namespace’s storage budget', () => {
  it('stops a loop of ConfigMaps at the object count, with upstream’s exceeded-quota message', async () => {
    const quota = await asLearner('get', 'resourcequota', 'lab-budget', '-o', 'jsonpath={.spec.hard.configmaps}/{.status.used.configmaps}');
    const [limit, used] = quota.stdout.split('/').map(Number) as [number, number];
    expect(limit).toBe(50);
    const names = Array.from({ length: limit - used + 3 }, (_, i) => `loop-${String(i).padStart(3, '0')}`);
    const created = await asLearner('create', '-f', await manifest('loop.json', names.map((name) => configMap(name))));
    expect(created.code).not.toBe(0);
    const refused = names[limit - used] as string;
    expect(created.stderr).toContain(
      `Error from server (Forbidden): error when creating "${join(cluster.dir, 'loop.json')}": configmaps "${refused}" is forbidden: exceeded quota: lab-budget, requested: configmaps=1, used: configmaps=${limit}, limited: configmaps=${limit}`,
    );
    const stored = await configMapNames();
    expect(stored.filter((name) => name.startsWith('loop-'))).toHaveLength(limit - used);
    expect(stored).not.toContain(refused);
    expect((await asLearner('delete', 'configmaps', ...stored.filter((name) => name.startsWith('loop-')))).code).toBe(0);
  }, 60_000);

  it('counts any resource by count/<resource>.<group>, as upstream names it', async () => {
    const tight = await manifest('tight.json', [{ apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'tight' }, spec: { hard: { 'count/deployments.apps': '1', 'count/jobs.batch': '0' } } }]);
    expect((await kubectl(adminConfig, ['create', '-n', sandbox.namespace, '-f', tight])).code).toBe(0);
    try {
      expect((await asLearner('create', 'deployment', 'first', '--image=nginx:1.27')).code).toBe(0);
      const second = await asLearner('create', 'deployment', 'second', '--image=nginx:1.27');
      expect(second.stderr).toContain(
        'deployments.apps "second" is forbidden: exceeded quota: tight, requested: count/deployments.apps=1, used: count/deployments.apps=1, limited: count/deployments.apps=1',
      );
      const job = await asLearner('create', 'job', 'once', '--image=busybox', '--', 'true');
      expect(job.stderr).toContain('jobs.batch "once" is forbidden: exceeded quota: tight, requested: count/jobs.batch=1, used: count/jobs.batch=0, limited: count/jobs.batch=0');
    } finally {
      await kubectl(adminConfig, ['delete', 'resourcequota', 'tight', '-n', sandbox.namespace]);
      await asLearner('delete', 'deployment', 'first', '--ignore-not-found');
    }
  });

  it('refuses the write that would pass the namespace’s storage budget, naming the namespace and the budget', async () => {
    const size = 900 * 1000;
    const count = Math.ceil(DEFAULT_NAMESPACE_BYTES / size) + 1;
    const names = Array.from({ length: count }, (_, i) => `bulk-${String(i).padStart(2, '0')}`);
    const created = await asLearner('create', '-f', await manifest('bulk.json', names.map((name) => configMap(name, size))));
    expect(created.code).not.toBe(0);
    const stored = (await configMapNames()).filter((name) => name.startsWith('bulk-'));
    expect(stored.length).toBeGreaterThan(10);
    expect(stored.length).toBeLessThan(count);
    const refused = names[stored.length] as string;
    expect(created.stderr).toMatch(
      new RegExp(
        `Error from server \\(Forbidden\\): error when creating ".*bulk\\.json": configmaps "${refused}" is forbidden: exceeded the storage budget of namespace "${sandbox.namespace}": ` +
          `requested: \\d+ bytes, used: \\d+ bytes, limited: ${DEFAULT_NAMESPACE_BYTES} bytes \\(the embedded cluster stores at most 16 MiB of objects a namespace; delete objects you no longer need\\)`,
      ),
    );
    // Growing an object that is already stored is a write like any other.
    const grow = await asLearner('create', 'configmap', 'small', '--from-literal=a=b');
    expect(grow.code).toBe(0);
    const patch = join(cluster.dir, 'grow.json');
    await writeFile(patch, JSON.stringify({ data: { a: 'c'.repeat(size) } }));
    const patched = await asLearner('patch', 'configmap', 'small', '--type', 'merge', '--patch-file', patch);
    expect(patched.code).not.toBe(0);
    expect(patched.stderr).toContain(`configmaps "small" is forbidden: exceeded the storage budget of namespace "${sandbox.namespace}"`);
    // Deleting makes room again.
    expect((await asLearner('delete', 'configmap', stored[0] as string)).code).toBe(0);
    expect((await asLearner('create', '-f', await manifest('again.json', [configMap(refused, size)]))).code).toBe(0);
  }, 120_000);
});

describe('what one learner’s parallel requests may hold', () => {
  it('answers a third LIST in flight with API Priority and Fairness’s 429, and serves again once one is done', async () => {
    // The namespace holds megabytes by now (the budget test filled it): a client that does not read keeps its LIST in flight.
    const stalled: Array<ClientRequest> = [];
    const listing = (onResponse: (res: IncomingMessage) => void) => {
      const req = request(`${cluster.cluster.url}/api/v1/namespaces/${sandbox.namespace}/configmaps`, { ca: cluster.cluster.caPem, agent: false, headers: { authorization: `Bearer ${learnerToken}` } }, onResponse);
      req.end();
      return req;
    };
    const started = (req: ClientRequest) => new Promise<void>((resolve) => req.once('response', (res) => (res.pause(), resolve())));
    for (let i = 0; i < 2; i++) {
      const req = listing(() => undefined);
      stalled.push(req);
      await started(req);
    }
    const third = await new Promise<{ status: number; retryAfter: string | undefined; body: string }>((resolve) =>
      listing((res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, retryAfter: res.headers['retry-after'] as string | undefined, body }));
      }),
    );
    expect(third).toEqual({ status: 429, retryAfter: '1', body: 'Too many requests, please try again later.\n' });
    // kubectl retries on its own; once a LIST is done, another one is served.
    for (const req of stalled) req.destroy();
    const listed = await asLearner('get', 'configmaps', '-o', 'name');
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain('configmap/small');
  }, 60_000);
});

describe('lab sessions a learner may run at once', () => {
  it('refuses a third lab while two run, naming them and how to end one; ending one makes room', async () => {
    const labsDir = join(cluster.dir, 'labs');
    for (const id of ['second', 'third']) await writeLab(labsDir, id, { ...sampleLab, 'lab.yaml': sampleLab['lab.yaml'].replace('title: Sample lab', `title: Lab ${id}`) });
    const db = openDatabase(await databases.fresh('sqlite'), log);
    await applyMigrations(db, await readMigrations('sqlite'));
    const people = createSessions(db);
    const eve = (await people.signIn('Eve')).learner;
    const ada = (await people.signIn('Ada')).learner;
    const labCluster = startLabCluster({ mode: 'kubernetes', kubeconfig: adminConfig }, { root: cluster.dir, log });
    const labs = startLabs({ root: cluster.dir, cluster: labCluster, records: createTracking(db, { outlines: fixedOutlines([]) }).labs, log, sessionsPerLearner: 2 });
    const lessons = { lessons: [] };
    try {
      const first = await labs.sessions.start(eve, 'sample', lessons);
      await labs.sessions.start(eve, 'second', lessons);
      // Starting a running lab again is that lab, not one more.
      expect((await labs.sessions.start(eve, 'sample', lessons)).session?.id).toBe(first.session?.id);
      await expect(labs.sessions.start(eve, 'third', lessons)).rejects.toMatchObject({
        name: 'LabRequestError',
        status: 409,
        message:
          'You already have 2 labs running: “Sample lab” (/labs/sample) and “Lab second” (/labs/second). ' +
          'A learner may run at most 2 labs at a time; open one of them and press “End lab”, then start this one.',
      });
      expect(await labs.sessions.state(eve, 'third')).toMatchObject({ session: null });
      // Another learner has a share of their own.
      expect((await labs.sessions.start(ada, 'third', lessons)).session?.status).toBe('starting');
      await labs.sessions.end(eve, 'second');
      expect((await labs.sessions.start(eve, 'third', lessons)).session?.status).toBe('starting');
    } finally {
      // Each start provisions in the background: let it finish before ending, so nothing outlives the database.
      for (const [learner, lab] of [[eve, 'sample'], [eve, 'second'], [eve, 'third'], [ada, 'third']] as const) {
        for (let i = 0; i < 600 && (await labs.sessions.state(learner, lab)).session?.status === 'starting'; i++) await new Promise((resolve) => setTimeout(resolve, 100));
        await labs.sessions.end(learner, lab);
      }
      await labs.stop();
      await db.close();
    }
  }, 120_000);
});
