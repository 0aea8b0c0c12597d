// @kubernetes/client-node 2.x against the cluster, as the portal and lab checks use it: typed
// CRUD with defaults, each patch type, optimistic concurrency, selectors, watch and informer,
// server-side apply through KubernetesObjectApi, scale, access reviews, logs and exec.
import { PassThrough, Writable } from 'node:stream';
import * as k8s from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { useConformanceCluster } from './harness.ts';

const c = useConformanceCluster();

/** The ApiException's HTTP code and the Status reason in its body. */
async function failure(promise: Promise<unknown>): Promise<[number, string | undefined, string | undefined]> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof k8s.ApiException)) throw new Error(`expected an ApiException, got ${String(error)}`);
  const body = typeof error.body === 'string' ? (JSON.parse(error.body) as { reason?: string; message?: string }) : (error.body as { reason?: string; message?: string });
  return [error.code, body?.reason, body?.message];
}

function collect(): { stream: Writable; text: () => string } {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  return { stream, text: () => Buffer.concat(chunks).toString('utf8') };
}

const deploymentBody = (name: string, replicas = 1): k8s.V1Deployment => ({
  metadata: { name, labels: { app: name } },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } } },
});

describe.concurrent('client-node typed APIs', () => {
  it('creates a Deployment and reads it back with the server\'s defaults', async () => {
    const s = await c.sandbox('cn-create');
    const apps = c.kubeConfig().makeApiClient(k8s.AppsV1Api);
    const created = await apps.createNamespacedDeployment({ namespace: s.namespace, body: deploymentBody('web') });
    expect([created.metadata?.generation, created.spec?.strategy?.type, created.spec?.revisionHistoryLimit, created.spec?.template.spec?.containers[0]?.imagePullPolicy]).toEqual([
      1,
      'RollingUpdate',
      10,
      'IfNotPresent',
    ]);
    const read = await apps.readNamespacedDeployment({ name: 'web', namespace: s.namespace });
    expect(read.metadata?.uid).toBe(created.metadata?.uid);
  });

  it('merge patch with the Content-Type set', async () => {
    const s = await c.sandbox('cn-merge');
    const core = c.kubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: s.namespace, body: { metadata: { name: 'settings' }, data: { mode: 'dev', level: '3' } } });
    const patched = await core.patchNamespacedConfigMap({ name: 'settings', namespace: s.namespace, body: { data: { mode: 'prod', level: null } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
    expect(patched.data).toEqual({ mode: 'prod' });
  });

  it('the default JSON-patch Content-Type with an object body: 400, as a real server answers', async () => {
    const s = await c.sandbox('cn-json-patch-object');
    const core = c.kubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: s.namespace, body: { metadata: { name: 'settings' }, data: { mode: 'dev' } } });
    const [code, reason] = await failure(core.patchNamespacedConfigMap({ name: 'settings', namespace: s.namespace, body: { data: { mode: 'prod' } } }));
    expect([code, reason]).toEqual([400, 'BadRequest']);
  });

  it('a JSON patch', async () => {
    const s = await c.sandbox('cn-json-patch');
    const core = c.kubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: s.namespace, body: { metadata: { name: 'settings' }, data: { mode: 'dev' } } });
    const patched = await core.patchNamespacedConfigMap({ name: 'settings', namespace: s.namespace, body: [{ op: 'add', path: '/data/extra', value: '1' }] });
    expect(patched.data).toEqual({ mode: 'dev', extra: '1' });
  });

  it('a strategic merge patch keeps the other containers', async () => {
    const s = await c.sandbox('cn-strategic');
    const apps = c.kubeConfig().makeApiClient(k8s.AppsV1Api);
    const body = deploymentBody('web');
    body.spec!.template.spec!.containers.push({ name: 'sidecar', image: 'busybox', command: ['sleep', 'infinity'] });
    await apps.createNamespacedDeployment({ namespace: s.namespace, body });
    const patched = await apps.patchNamespacedDeployment(
      { name: 'web', namespace: s.namespace, body: { spec: { template: { spec: { containers: [{ name: 'web', image: 'nginx:1.28' }] } } } } },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.StrategicMergePatch),
    );
    expect(patched.spec?.template.spec?.containers.map((x) => `${x.name}=${x.image}`)).toEqual(['web=nginx:1.28', 'sidecar=busybox']);
  });

  it('replace with a stale resourceVersion: 409 Conflict', async () => {
    const s = await c.sandbox('cn-conflict');
    const core = c.kubeConfig().makeApiClient(k8s.CoreV1Api);
    const created = await core.createNamespacedConfigMap({ namespace: s.namespace, body: { metadata: { name: 'settings' }, data: { mode: 'dev' } } });
    await core.replaceNamespacedConfigMap({ name: 'settings', namespace: s.namespace, body: { ...created, data: { mode: 'prod' } } });
    const [code, reason, message] = await failure(core.replaceNamespacedConfigMap({ name: 'settings', namespace: s.namespace, body: { ...created, data: { mode: 'test' } } }));
    expect([code, reason, message]).toEqual([409, 'Conflict', 'Operation cannot be fulfilled on configmaps "settings": the object has been modified; please apply your changes to the latest version and try again']);
  });

  it('create twice: 409 AlreadyExists; read what is gone: 404 NotFound', async () => {
    const s = await c.sandbox('cn-exists');
    const core = c.kubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedSecret({ namespace: s.namespace, body: { metadata: { name: 'pw' }, stringData: { password: 'x' } } });
    expect(await failure(core.createNamespacedSecret({ namespace: s.namespace, body: { metadata: { name: 'pw' } } }))).toEqual([409, 'AlreadyExists', 'secrets "pw" already exists']);
    await core.deleteNamespacedSecret({ name: 'pw', namespace: s.namespace });
    expect(await failure(core.readNamespacedSecret({ name: 'pw', namespace: s.namespace }))).toEqual([404, 'NotFound', 'secrets "pw" not found']);
  });

  it('lists with label and field selectors', async () => {
    const s = await c.sandbox('cn-selectors');
    const core = c.kubeConfig().makeApiClient(k8s.CoreV1Api);
    for (const [name, tier] of [['a', 'fe'], ['b', 'be'], ['c', 'fe']]) await core.createNamespacedConfigMap({ namespace: s.namespace, body: { metadata: { name, labels: { tier: tier as string } } } });
    const byLabel = await core.listNamespacedConfigMap({ namespace: s.namespace, labelSelector: 'tier=fe' });
    const byField = await core.listNamespacedConfigMap({ namespace: s.namespace, fieldSelector: 'metadata.name=b' });
    const paged = await core.listNamespacedConfigMap({ namespace: s.namespace, limit: 2 });
    expect([byLabel.items.map((i) => i.metadata?.name), byField.items.map((i) => i.metadata?.name), paged.items.length, typeof paged.metadata?._continue]).toEqual([['a', 'c'], ['b'], 2, 'string']);
  });

  it('validation failures carry their causes (422 Invalid)', async () => {
    const s = await c.sandbox('cn-invalid');
    const core = c.kubeConfig().makeApiClient(k8s.CoreV1Api);
    const error = await core.createNamespacedService({ namespace: s.namespace, body: { metadata: { name: 'svc' }, spec: { ports: [{ port: 70000 }] } } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(k8s.ApiException);
    const status = JSON.parse((error as k8s.ApiException<string>).body) as k8s.V1Status;
    expect([status.code, status.reason, status.details?.causes?.[0]]).toEqual([422, 'Invalid', { reason: 'FieldValueInvalid', message: 'Invalid value: 70000: must be between 1 and 65535, inclusive', field: 'spec.ports[0].port' }]);
  });
});

describe.concurrent('client-node streams', () => {
  it('Watch delivers ADDED, MODIFIED and DELETED', async () => {
    const s = await c.sandbox('cn-watch');
    const kc = c.kubeConfig();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const seen: string[] = [];
    const gone = new Promise<void>((resolve) => {
      void new k8s.Watch(kc)
        .watch(`/api/v1/namespaces/${s.namespace}/configmaps`, { labelSelector: 'watched=yes' }, (type: string, object: k8s.V1ConfigMap) => {
          seen.push(`${type} ${object.metadata?.name} ${object.data?.['v'] ?? ''}`.trim());
          if (type === 'DELETED') resolve();
        }, () => {})
        .then(async (controller) => {
          await core.createNamespacedConfigMap({ namespace: s.namespace, body: { metadata: { name: 'w', labels: { watched: 'yes' } }, data: { v: '1' } } });
          await core.patchNamespacedConfigMap({ name: 'w', namespace: s.namespace, body: { data: { v: '2' } } }, k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch));
          await core.deleteNamespacedConfigMap({ name: 'w', namespace: s.namespace });
          setTimeout(() => controller.abort(), 10_000).unref();
        });
    });
    await gone;
    expect(seen).toEqual(['ADDED w 1', 'MODIFIED w 2', 'DELETED w 2']);
  });

  it('an informer lists, then follows changes', async () => {
    const s = await c.sandbox('cn-informer');
    const kc = c.kubeConfig();
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedConfigMap({ namespace: s.namespace, body: { metadata: { name: 'before' } } });
    const informer = k8s.makeInformer(kc, `/api/v1/namespaces/${s.namespace}/configmaps`, () => core.listNamespacedConfigMap({ namespace: s.namespace }));
    const added: string[] = [];
    informer.on('add', (cm) => added.push(cm.metadata?.name ?? ''));
    await informer.start();
    await core.createNamespacedConfigMap({ namespace: s.namespace, body: { metadata: { name: 'after' } } });
    await c.until('the informer saw the new ConfigMap', () => added.includes('after'));
    await informer.stop();
    expect(added.sort()).toEqual(['after', 'before', 'kube-root-ca.crt']);
  });

  it('Log reads what a container printed', async () => {
    const s = await c.sandbox('cn-log');
    const core = c.kubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedPod({ namespace: s.namespace, body: { metadata: { name: 'hello' }, spec: { restartPolicy: 'Never', containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', 'echo hello; echo world'] }] } } });
    await c.until('hello done', () => (c.get('', 'v1', 'pods', s.namespace, 'hello')?.status as { phase?: string } | undefined)?.phase === 'Succeeded');
    const out = collect();
    // client-node 2.x pipes the response into the stream, which finishes when the log ends.
    const finished = new Promise((resolve) => out.stream.on('finish', resolve));
    await new k8s.Log(c.kubeConfig()).log(s.namespace, 'hello', 'app', out.stream, { tailLines: 1 });
    await finished;
    expect(out.text()).toBe('world\n');
  });

  it('Exec runs a command and reports its status', async () => {
    const s = await c.sandbox('cn-exec');
    const core = c.kubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedPod({ namespace: s.namespace, body: { metadata: { name: 'box' }, spec: { containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }] } } });
    await c.until('box running', () => (c.get('', 'v1', 'pods', s.namespace, 'box')?.status as { phase?: string } | undefined)?.phase === 'Running');
    const run = async (command: string[]) => {
      const out = collect();
      const err = collect();
      const status = await new Promise<k8s.V1Status>((resolve) => {
        void new k8s.Exec(c.kubeConfig()).exec(s.namespace, 'box', 'app', command, out.stream, err.stream, null, false, resolve);
      });
      return { stdout: out.text(), stderr: err.text(), status: status.status, exitCode: status.details?.causes?.find((cause) => cause.reason === 'ExitCode')?.message };
    };
    expect(await run(['sh', '-c', 'echo out; echo err >&2'])).toEqual({ stdout: 'out\n', stderr: 'err\n', status: 'Success', exitCode: undefined });
    expect(await run(['sh', '-c', 'exit 7'])).toEqual({ stdout: '', stderr: '', status: 'Failure', exitCode: '7' });
  });

  it('Exec with stdin', async () => {
    const s = await c.sandbox('cn-exec-stdin');
    const core = c.kubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedPod({ namespace: s.namespace, body: { metadata: { name: 'box' }, spec: { containers: [{ name: 'app', image: 'busybox', command: ['sleep', '3600'] }] } } });
    await c.until('box running', () => (c.get('', 'v1', 'pods', s.namespace, 'box')?.status as { phase?: string } | undefined)?.phase === 'Running');
    const out = collect();
    const stdin = new PassThrough();
    const status = new Promise<k8s.V1Status>((resolve) => {
      void new k8s.Exec(c.kubeConfig()).exec(s.namespace, 'box', 'app', ['tr', 'a-z', 'A-Z'], out.stream, null, stdin, false, resolve);
    });
    stdin.end('shout\n');
    expect((await status).status).toBe('Success');
    expect(out.text()).toBe('SHOUT\n');
  });
});

describe.concurrent('client-node object API, scale and access reviews', () => {
  it('server-side apply through KubernetesObjectApi creates, then updates', async () => {
    const s = await c.sandbox('cn-ssa');
    const objects = k8s.KubernetesObjectApi.makeApiClient(c.kubeConfig());
    const spec = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'applied', namespace: s.namespace }, data: { mode: 'dev' } };
    await objects.patch(spec, undefined, undefined, 'lab-checker', true, k8s.PatchStrategy.ServerSideApply);
    const updated = (await objects.patch({ ...spec, data: { mode: 'prod' } }, undefined, undefined, 'lab-checker', true, k8s.PatchStrategy.ServerSideApply)) as k8s.V1ConfigMap;
    expect([updated.data, updated.metadata?.managedFields?.map((m) => [m.manager, m.operation])]).toEqual([{ mode: 'prod' }, [['lab-checker', 'Apply']]]);
  });

  it('reads and replaces a Deployment\'s scale', async () => {
    const s = await c.sandbox('cn-scale');
    const apps = c.kubeConfig().makeApiClient(k8s.AppsV1Api);
    await apps.createNamespacedDeployment({ namespace: s.namespace, body: deploymentBody('web', 1) });
    const scale = await apps.readNamespacedDeploymentScale({ name: 'web', namespace: s.namespace });
    expect([scale.kind, scale.apiVersion, scale.spec?.replicas]).toEqual(['Scale', 'autoscaling/v1', 1]);
    // Without a resourceVersion the write is unconditional (the controller may have updated the status since).
    await apps.replaceNamespacedDeploymentScale({ name: 'web', namespace: s.namespace, body: { ...scale, metadata: { ...scale.metadata, resourceVersion: undefined }, spec: { replicas: 3 } } });
    expect((await apps.readNamespacedDeployment({ name: 'web', namespace: s.namespace })).spec?.replicas).toBe(3);
  });

  it('SubjectAccessReview answers for a ServiceAccount', async () => {
    const s = await c.sandbox('cn-sar');
    const core = c.kubeConfig().makeApiClient(k8s.CoreV1Api);
    await core.createNamespacedServiceAccount({ namespace: s.namespace, body: { metadata: { name: 'learner' } } });
    const authz = c.kubeConfig().makeApiClient(k8s.AuthorizationV1Api);
    const review = (verb: string) =>
      authz.createSubjectAccessReview({ body: { spec: { user: `system:serviceaccount:${s.namespace}:learner`, groups: ['system:serviceaccounts', 'system:authenticated'], resourceAttributes: { namespace: s.namespace, verb, resource: 'pods' } } } });
    expect((await review('list')).status?.allowed).toBe(false);
    const rbac = c.kubeConfig().makeApiClient(k8s.RbacAuthorizationV1Api);
    await rbac.createNamespacedRoleBinding({ namespace: s.namespace, body: { metadata: { name: 'view' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' }, subjects: [{ kind: 'ServiceAccount', name: 'learner', namespace: s.namespace }] } });
    const allowed = await review('list');
    expect([allowed.status?.allowed, allowed.status?.reason]).toEqual([true, `RBAC: allowed by RoleBinding "view/${s.namespace}" of ClusterRole "view" to ServiceAccount "learner/${s.namespace}"`]);
  });
});
