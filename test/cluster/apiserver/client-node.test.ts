// @kubernetes/client-node 2.x against the server: typed APIs, watch and errors, as the portal uses them.
import { ApiException, AppsV1Api, CoreV1Api, KubeConfig, NetworkingV1Api, RbacAuthorizationV1Api, Watch } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from './harness.ts';

let t: TestCluster;
let kc: KubeConfig;
beforeAll(async () => {
  t = await startTestCluster();
  kc = new KubeConfig();
  kc.loadFromString(t.cluster.kubeconfig());
});
afterAll(async () => {
  await t?.stop();
});

describe('client-node', () => {
  it('creates the sandbox objects of a lab and reads them back', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const rbac = kc.makeApiClient(RbacAuthorizationV1Api);
    const networking = kc.makeApiClient(NetworkingV1Api);
    const namespace = 'lab-one';
    await core.createNamespace({ body: { metadata: { name: namespace, labels: { 'formicary.dev/lab': 'one' } } } });
    await core.createNamespacedServiceAccount({ namespace, body: { metadata: { name: 'learner' } } });
    await rbac.createNamespacedRole({ namespace, body: { metadata: { name: 'learner' }, rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list'] }] } });
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: { metadata: { name: 'learner' }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'learner' }, subjects: [{ kind: 'ServiceAccount', name: 'learner', namespace }] },
    });
    await core.createNamespacedResourceQuota({ namespace, body: { metadata: { name: 'quota' }, spec: { hard: { pods: '10' } } } });
    await core.createNamespacedLimitRange({ namespace, body: { metadata: { name: 'limits' }, spec: { limits: [{ type: 'Container', _default: { cpu: '500m' } }] } } });
    await networking.createNamespacedNetworkPolicy({ namespace, body: { metadata: { name: 'deny' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } } });
    const account = await core.readNamespacedServiceAccount({ name: 'learner', namespace });
    expect(account.metadata?.uid).toBeTruthy();
    const limits = await core.readNamespacedLimitRange({ name: 'limits', namespace });
    expect(limits.spec?.limits[0]?._default).toEqual({ cpu: '500m' });
    const policies = await networking.listNamespacedNetworkPolicy({ namespace });
    expect(policies.items.map((p) => p.metadata?.name)).toEqual(['deny']);
  });

  it('raises ApiException with the Status code for failures', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const error = await core.readNamespacedConfigMap({ name: 'missing', namespace: 'default' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApiException);
    expect((error as ApiException<string>).code).toBe(404);
    const apps = kc.makeApiClient(AppsV1Api);
    const conflict = await apps
      .createNamespacedDeployment({ namespace: 'nowhere', body: { metadata: { name: 'web' }, spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'nginx' }] } } } } })
      .catch((e: unknown) => e);
    expect((conflict as ApiException<string>).code).toBe(404);
  });

  it('watches: ADDED, MODIFIED and DELETED arrive in order', async () => {
    const core = kc.makeApiClient(CoreV1Api);
    const seen: string[] = [];
    let resolveDeleted: () => void = () => {};
    const deleted = new Promise<void>((resolve) => (resolveDeleted = resolve));
    const controller = await new Watch(kc).watch(
      '/api/v1/namespaces/default/configmaps',
      { fieldSelector: 'metadata.name=watched' },
      (type, object: { metadata?: { name?: string } }) => {
        seen.push(`${type} ${object.metadata?.name}`);
        if (type === 'DELETED') resolveDeleted();
      },
      () => {},
    );
    await core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: 'watched' }, data: { a: '1' } } });
    await core.replaceNamespacedConfigMap({ name: 'watched', namespace: 'default', body: { metadata: { name: 'watched' }, data: { a: '2' } } });
    await core.deleteNamespacedConfigMap({ name: 'watched', namespace: 'default' });
    await Promise.race([deleted, new Promise((resolve) => setTimeout(resolve, 5_000))]);
    controller.abort();
    expect(seen).toEqual(['ADDED watched', 'MODIFIED watched', 'DELETED watched']);
  });
});
