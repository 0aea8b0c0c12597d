import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { openTestRegistry, pod, statusOf, type TestRegistry } from './helpers.ts';

let t: TestRegistry;
beforeAll(async () => {
  t = await openTestRegistry();
});
afterAll(async () => {
  await t?.registry.close();
});

let counter = 0;
const unique = (prefix: string) => `${prefix}-${++counter}`;
const create = (group: string, version: string, resource: string, namespace: string | undefined, object: KubeObject) => t.registry.create(t.def(group, version, resource), namespace, object);
const invalid = (call: () => unknown) => {
  const status = statusOf(call);
  expect(status.code, status.message).toBe(422);
  return status.message ?? '';
};

describe('discovery facts', () => {
  it('names every resource as kubectl api-resources shows on 1.33', () => {
    const rows = t.registry
      .resources()
      .map((r) => `${r.resource} ${r.shortNames.join(',')} ${r.group ? `${r.group}/` : ''}${r.version} ${r.namespaced} ${r.kind}`)
      .sort();
    for (const expected of [
      'configmaps cm v1 true ConfigMap',
      'endpoints ep v1 true Endpoints',
      'events ev v1 true Event',
      'limitranges limits v1 true LimitRange',
      'namespaces ns v1 false Namespace',
      'nodes no v1 false Node',
      'persistentvolumeclaims pvc v1 true PersistentVolumeClaim',
      'persistentvolumes pv v1 false PersistentVolume',
      'pods po v1 true Pod',
      'podtemplates  v1 true PodTemplate',
      'replicationcontrollers rc v1 true ReplicationController',
      'resourcequotas quota v1 true ResourceQuota',
      'secrets  v1 true Secret',
      'serviceaccounts sa v1 true ServiceAccount',
      'services svc v1 true Service',
      'customresourcedefinitions crd,crds apiextensions.k8s.io/v1 false CustomResourceDefinition',
      'controllerrevisions  apps/v1 true ControllerRevision',
      'daemonsets ds apps/v1 true DaemonSet',
      'deployments deploy apps/v1 true Deployment',
      'replicasets rs apps/v1 true ReplicaSet',
      'statefulsets sts apps/v1 true StatefulSet',
      'selfsubjectreviews  authentication.k8s.io/v1 false SelfSubjectReview',
      'tokenreviews  authentication.k8s.io/v1 false TokenReview',
      'localsubjectaccessreviews  authorization.k8s.io/v1 true LocalSubjectAccessReview',
      'selfsubjectaccessreviews  authorization.k8s.io/v1 false SelfSubjectAccessReview',
      'selfsubjectrulesreviews  authorization.k8s.io/v1 false SelfSubjectRulesReview',
      'subjectaccessreviews  authorization.k8s.io/v1 false SubjectAccessReview',
      'horizontalpodautoscalers hpa autoscaling/v2 true HorizontalPodAutoscaler',
      'horizontalpodautoscalers hpa autoscaling/v1 true HorizontalPodAutoscaler',
      'cronjobs cj batch/v1 true CronJob',
      'jobs  batch/v1 true Job',
      'leases  coordination.k8s.io/v1 true Lease',
      'endpointslices  discovery.k8s.io/v1 true EndpointSlice',
      'ingressclasses  networking.k8s.io/v1 false IngressClass',
      'ingresses ing networking.k8s.io/v1 true Ingress',
      'networkpolicies netpol networking.k8s.io/v1 true NetworkPolicy',
      'poddisruptionbudgets pdb policy/v1 true PodDisruptionBudget',
      'clusterrolebindings  rbac.authorization.k8s.io/v1 false ClusterRoleBinding',
      'clusterroles  rbac.authorization.k8s.io/v1 false ClusterRole',
      'rolebindings  rbac.authorization.k8s.io/v1 true RoleBinding',
      'roles  rbac.authorization.k8s.io/v1 true Role',
      'storageclasses sc storage.k8s.io/v1 false StorageClass',
    ])
      expect(rows).toContain(expected);
    const all = t.registry.resources().filter((r) => r.categories.includes('all')).map((r) => `${r.resource}.${r.group}`);
    expect(new Set(all)).toEqual(
      new Set(['pods.', 'replicationcontrollers.', 'services.', 'daemonsets.apps', 'deployments.apps', 'replicasets.apps', 'statefulsets.apps', 'horizontalpodautoscalers.autoscaling', 'cronjobs.batch', 'jobs.batch']),
    );
    const pods = t.def('', 'v1', 'pods');
    expect(pods.subresources.map((s) => s.name)).toEqual(['attach', 'binding', 'ephemeralcontainers', 'eviction', 'exec', 'log', 'portforward', 'proxy', 'resize', 'status']);
    expect(t.def('apps', 'v1', 'deployments').subresources).toContainEqual({ name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] });
    expect(t.def('', 'v1', 'namespaces').verbs).toEqual(['create', 'delete', 'get', 'list', 'patch', 'update', 'watch']);
  });
});

describe('metadata', () => {
  it('validates names, labels and annotations with the apimachinery messages', () => {
    expect(invalid(() => create('', 'v1', 'configmaps', 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }))).toBe(
      'ConfigMap "" is invalid: metadata.name: Required value: name or generateName is required',
    );
    expect(invalid(() => create('', 'v1', 'configmaps', 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ok', labels: { 'bad key!': 'x', good: 'bad value' } } }))).toBe(
      "ConfigMap \"ok\" is invalid: [metadata.labels: Invalid value: \"bad key!\": name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]'), metadata.labels: Invalid value: \"bad value\": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')]",
    );
    expect(invalid(() => create('', 'v1', 'namespaces', undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'has.dot' } }))).toContain(
      "metadata.name: Invalid value: \"has.dot\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
    );
    expect(invalid(() => create('', 'v1', 'services', 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: '1svc' }, spec: { ports: [{ port: 80 }] } }))).toContain(
      'metadata.name: Invalid value: "1svc": a DNS-1035 label must consist of lower case alphanumeric characters or \'-\', start with an alphabetic character',
    );
    const long = 'a'.repeat(64);
    expect(invalid(() => create('', 'v1', 'namespaces', undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: long } }))).toContain(`metadata.name: Invalid value: "${long}": must be no more than 63 characters`);
  });
});

describe('pods', () => {
  it('defaults pull policy from the tag, and computes the QoS class', () => {
    const guaranteed = create('', 'v1', 'pods', 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: unique('qos') },
      spec: {
        containers: [
          { name: 'a', image: 'nginx', resources: { limits: { cpu: '1', memory: '1Gi' } } },
          { name: 'b', image: 'registry.local:5000/app:latest', resources: { limits: { cpu: '1', memory: '1Gi' } } },
          { name: 'c', image: 'busybox:1.36', resources: { limits: { cpu: '1', memory: '1Gi' } }, ports: [{ containerPort: 80 }] },
        ],
      },
    });
    const containers = (guaranteed.spec as { containers: { imagePullPolicy: string; resources: unknown; ports?: unknown }[] }).containers;
    expect(containers.map((c) => c.imagePullPolicy)).toEqual(['Always', 'Always', 'IfNotPresent']);
    expect(containers[0]?.resources).toEqual({ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1', memory: '1Gi' } });
    expect(containers[2]?.ports).toEqual([{ containerPort: 80, protocol: 'TCP' }]);
    expect(guaranteed.status).toEqual({ phase: 'Pending', qosClass: 'Guaranteed' });
  });

  it('reports missing and invalid fields with their paths', () => {
    const message = invalid(() =>
      create('', 'v1', 'pods', 'default', {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { name: 'broken' },
        spec: {
          restartPolicy: 'Sometimes',
          containers: [
            { name: 'web', image: '' },
            { name: 'web', image: 'x', ports: [{ containerPort: 70000 }], resources: { requests: { cpu: '2' }, limits: { cpu: '1' } } },
          ],
        },
      }),
    );
    expect(message).toContain('spec.containers[0].image: Required value');
    expect(message).toContain('spec.containers[1].name: Duplicate value: "web"');
    expect(message).toContain('spec.containers[1].ports[0].containerPort: Invalid value: 70000: must be between 1 and 65535, inclusive');
    expect(message).toContain('spec.containers[1].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1');
    expect(message).toContain('spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "Never", "OnFailure"');
  });

  it('allows image updates but not other spec changes', () => {
    const pods = t.def('', 'v1', 'pods');
    const name = unique('mutable');
    const created = t.registry.create(pods, 'default', pod(name));
    const newImage = structuredClone(created) as KubeObject & { spec: { containers: { image: string }[]; restartPolicy?: string } };
    newImage.spec.containers[0]!.image = 'nginx:1.28';
    const updated = t.registry.update(pods, 'default', name, newImage);
    expect((updated.spec as { containers: { image: string }[] }).containers[0]?.image).toBe('nginx:1.28');
    expect(updated.metadata.generation).toBe(2);
    const other = structuredClone(updated) as KubeObject & { spec: { restartPolicy: string } };
    other.spec.restartPolicy = 'Never';
    expect(invalid(() => t.registry.update(pods, 'default', name, other))).toContain(
      'spec: Forbidden: pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    );
  });

  it('rejects a resource quantity that does not parse', () => {
    expect(invalid(() => create('', 'v1', 'pods', 'default', { ...pod('q'), spec: { containers: [{ name: 'a', image: 'x', resources: { limits: { cpu: 'lots' } } }] } }))).toContain(
      "spec.containers[0].resources.limits[cpu]: Invalid value: \"lots\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
    );
  });
});

describe('services', () => {
  const service = (name: string, spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'v1', kind: 'Service', metadata: { name }, spec });

  it('defaults type, protocol, targetPort, affinity and allocates a cluster IP', () => {
    const svc = create('', 'v1', 'services', 'default', service(unique('svc'), { selector: { app: 'web' }, ports: [{ port: 80 }, { port: 443, name: 'https', targetPort: 'https' }].map((p, i) => ({ ...p, name: p.name ?? `p${i}` })) }));
    const spec = svc.spec as Record<string, unknown>;
    expect(spec).toMatchObject({ type: 'ClusterIP', sessionAffinity: 'None', internalTrafficPolicy: 'Cluster', ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' });
    expect(spec.ports).toEqual([
      { port: 80, name: 'p0', protocol: 'TCP', targetPort: 80 },
      { port: 443, name: 'https', targetPort: 'https', protocol: 'TCP' },
    ]);
    expect(spec.clusterIP).toMatch(/^10\.(9[6-9]|10[0-9]|11[01])\.\d+\.\d+$/);
    expect(spec.clusterIPs).toEqual([spec.clusterIP]);
    expect(svc.status).toEqual({ loadBalancer: {} });
  });

  it('allocates distinct node ports and keeps the cluster IP on replace', () => {
    const services = t.def('', 'v1', 'services');
    const ports = new Set<number>();
    for (let i = 0; i < 20; i++) {
      const svc = t.registry.create(services, 'default', service(unique('np'), { type: 'NodePort', ports: [{ port: 80 }] }));
      const nodePort = (svc.spec as { ports: { nodePort: number }[] }).ports[0]?.nodePort ?? 0;
      expect(nodePort).toBeGreaterThanOrEqual(30000);
      expect(nodePort).toBeLessThanOrEqual(32767);
      ports.add(nodePort);
    }
    expect(ports.size).toBe(20);
    const name = unique('keep');
    const created = t.registry.create(services, 'default', service(name, { type: 'NodePort', ports: [{ port: 80 }] }));
    const replaced = t.registry.update(services, 'default', name, service(name, { type: 'NodePort', ports: [{ port: 80 }] }));
    expect((replaced.spec as { clusterIP: string }).clusterIP).toBe((created.spec as { clusterIP: string }).clusterIP);
    expect((replaced.spec as { ports: unknown[] }).ports).toEqual((created.spec as { ports: unknown[] }).ports);
    const moved = structuredClone(created) as KubeObject & { spec: { clusterIP: string; clusterIPs: string[] } };
    moved.spec.clusterIP = '10.96.7.7';
    moved.spec.clusterIPs = ['10.96.7.7'];
    expect(invalid(() => t.registry.update(services, 'default', name, moved))).toContain('spec.clusterIPs[0]: Invalid value: []string{"10.96.7.7"}: may not change once set');
  });

  it('validates ports and ExternalName services', () => {
    expect(invalid(() => create('', 'v1', 'services', 'default', service('two-ports', { ports: [{ port: 80 }, { port: 81 }] })))).toContain('spec.ports[0].name: Required value');
    expect(invalid(() => create('', 'v1', 'services', 'default', service('no-ports', {})))).toContain('spec.ports: Required value');
    expect(invalid(() => create('', 'v1', 'services', 'default', service('cip', { ports: [{ port: 80, nodePort: 30001 }] })))).toContain(
      "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'",
    );
    const external = create('', 'v1', 'services', 'default', service(unique('ext'), { type: 'ExternalName', externalName: 'example.com' }));
    expect((external.spec as Record<string, unknown>).clusterIP).toBeUndefined();
    const headless = create('', 'v1', 'services', 'default', service(unique('headless'), { clusterIP: 'None', ports: [{ port: 80 }] }));
    expect((headless.spec as Record<string, unknown>).clusterIPs).toEqual(['None']);
  });
});

describe('secrets and configmaps', () => {
  it('merges stringData into base64 data and defaults the type', () => {
    const secret = create('', 'v1', 'secrets', 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: unique('s') }, data: { a: 'YQ==' }, stringData: { b: 'hello' } });
    expect(secret.data).toEqual({ a: 'YQ==', b: 'aGVsbG8=' });
    expect(secret.stringData).toBeUndefined();
    expect(secret.type).toBe('Opaque');
  });

  it('requires the keys a secret type needs and keeps the type immutable', () => {
    expect(invalid(() => create('', 'v1', 'secrets', 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'tls' }, type: 'kubernetes.io/tls', data: { 'tls.crt': 'YQ==' } }))).toBe(
      'Secret "tls" is invalid: data[tls.key]: Required value',
    );
    const name = unique('typed');
    const secrets = t.def('', 'v1', 'secrets');
    const created = t.registry.create(secrets, 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name } });
    expect(invalid(() => t.registry.update(secrets, 'default', name, { ...structuredClone(created), type: 'kubernetes.io/basic-auth', data: { username: 'YQ==' } }))).toContain(
      'type: Invalid value: "kubernetes.io/basic-auth": field is immutable',
    );
    expect(statusOf(() => create('', 'v1', 'secrets', 'default', { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'b64' }, data: { a: 'not base64!' } })).code).toBe(400);
  });

  it('validates config keys and honours immutable ConfigMaps', () => {
    expect(invalid(() => create('', 'v1', 'configmaps', 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'k' }, data: { 'bad/key': 'x' } }))).toContain(
      'data[bad/key]: Invalid value: "bad/key": a valid config key must consist of alphanumeric characters',
    );
    const cms = t.def('', 'v1', 'configmaps');
    const name = unique('frozen');
    const created = t.registry.create(cms, 'default', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { a: '1' }, immutable: true });
    expect(invalid(() => t.registry.update(cms, 'default', name, { ...structuredClone(created), data: { a: '2' } }))).toContain('data: Forbidden: field is immutable when `immutable` is set');
  });
});

describe('workloads', () => {
  const template = (labels: Record<string, string>, restartPolicy?: string) => ({
    metadata: { labels },
    spec: { ...(restartPolicy ? { restartPolicy } : {}), containers: [{ name: 'c', image: 'busybox' }] },
  });

  it('requires a Deployment selector that matches its template', () => {
    const message = invalid(() =>
      create('apps', 'v1', 'deployments', 'default', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'mismatch' }, spec: { selector: { matchLabels: { app: 'a' } }, template: template({ app: 'b' }) } }),
    );
    expect(message).toBe('Deployment.apps "mismatch" is invalid: spec.template.metadata.labels: Invalid value: map[string]string{"app":"b"}: `selector` does not match template `labels`');
    expect(
      invalid(() =>
        create('apps', 'v1', 'deployments', 'default', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'never' }, spec: { selector: { matchLabels: { app: 'a' } }, template: template({ app: 'a' }, 'Never') } }),
      ),
    ).toContain('spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"');
    expect(invalid(() => create('apps', 'v1', 'deployments', 'default', { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nosel' }, spec: { template: template({ app: 'a' }) } }))).toContain(
      'spec.selector: Required value',
    );
  });

  it('gives Jobs a generated selector and their defaults', () => {
    const job = create('batch', 'v1', 'jobs', 'default', { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'pi' }, spec: { template: template({}, 'Never') } });
    const spec = job.spec as Record<string, unknown> & { template: { metadata: { labels: Record<string, string> } } };
    expect(spec).toMatchObject({ completions: 1, parallelism: 1, backoffLimit: 6, completionMode: 'NonIndexed', suspend: false, podReplacementPolicy: 'TerminatingOrFailed' });
    expect(spec.selector).toEqual({ matchLabels: { 'batch.kubernetes.io/controller-uid': job.metadata.uid } });
    expect(spec.template.metadata.labels).toEqual({
      'batch.kubernetes.io/controller-uid': job.metadata.uid,
      'batch.kubernetes.io/job-name': 'pi',
      'controller-uid': job.metadata.uid,
      'job-name': 'pi',
    });
    expect(invalid(() => create('batch', 'v1', 'jobs', 'default', { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'always' }, spec: { template: template({}) } }))).toContain(
      'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"',
    );
  });

  it('checks CronJob schedules', () => {
    const cronJob = (name: string, schedule: string): KubeObject => ({
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: { name },
      spec: { schedule, jobTemplate: { spec: { template: template({}, 'OnFailure') } } },
    });
    const created = create('batch', 'v1', 'cronjobs', 'default', cronJob('hourly', '@hourly'));
    expect(created.spec).toMatchObject({ concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
    create('batch', 'v1', 'cronjobs', 'default', cronJob('five', '*/5 * * * *'));
    expect(invalid(() => create('batch', 'v1', 'cronjobs', 'default', cronJob('bad', 'every day')))).toContain('spec.schedule: Invalid value: "every day": expected exactly 5 fields, found 2: [every day]');
  });

  it('lets a StatefulSet change only what upstream allows', () => {
    const sets = t.def('apps', 'v1', 'statefulsets');
    const created = t.registry.create(sets, 'default', { apiVersion: 'apps/v1', kind: 'StatefulSet', metadata: { name: 'db' }, spec: { serviceName: 'db', selector: { matchLabels: { app: 'db' } }, template: template({ app: 'db' }) } });
    expect(created.spec).toMatchObject({ replicas: 1, podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } } });
    const renamed = structuredClone(created) as KubeObject & { spec: { serviceName: string; replicas: number } };
    renamed.spec.replicas = 3;
    expect((t.registry.update(sets, 'default', 'db', renamed).spec as { replicas: number }).replicas).toBe(3);
    const later = structuredClone(t.registry.get(sets, 'default', 'db')) as KubeObject & { spec: { serviceName: string } };
    later.spec.serviceName = 'other';
    expect(invalid(() => t.registry.update(sets, 'default', 'db', later))).toContain("spec: Forbidden: updates to statefulset spec for fields other than 'replicas'");
  });
});

describe('other resources', () => {
  it('keeps a RoleBinding\'s roleRef and checks subjects', () => {
    const bindings = t.def('rbac.authorization.k8s.io', 'v1', 'rolebindings');
    const created = t.registry.create(bindings, 'default', {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'rb' },
      roleRef: { kind: 'Role', name: 'reader' },
      subjects: [{ kind: 'User', name: 'alice' }, { kind: 'ServiceAccount', name: 'learner' }],
    });
    expect(created.roleRef).toEqual({ kind: 'Role', name: 'reader', apiGroup: 'rbac.authorization.k8s.io' });
    expect(created.subjects).toEqual([
      { kind: 'User', name: 'alice', apiGroup: 'rbac.authorization.k8s.io' },
      { kind: 'ServiceAccount', name: 'learner' },
    ]);
    expect(invalid(() => t.registry.update(bindings, 'default', 'rb', { ...structuredClone(created), roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'writer' } }))).toContain(
      'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"writer"}: cannot change roleRef',
    );
    expect(
      invalid(() => create('rbac.authorization.k8s.io', 'v1', 'roles', 'default', { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'r' }, rules: [{ resources: ['pods'] }] })),
    ).toBe('Role.rbac.authorization.k8s.io "r" is invalid: [rules[0].verbs: Required value: verbs must contain at least one value, rules[0].apiGroups: Required value: resource rules must supply at least one api group]');
  });

  it('serves HorizontalPodAutoscalers as v2 and v1 from one object', () => {
    const v1 = t.def('autoscaling', 'v1', 'horizontalpodautoscalers');
    const v2 = t.def('autoscaling', 'v2', 'horizontalpodautoscalers');
    t.registry.create(v1, 'default', {
      apiVersion: 'autoscaling/v1',
      kind: 'HorizontalPodAutoscaler',
      metadata: { name: 'web' },
      spec: { scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, maxReplicas: 5, targetCPUUtilizationPercentage: 60 },
    });
    const asV2 = t.registry.get(v2, 'default', 'web');
    expect(asV2.apiVersion).toBe('autoscaling/v2');
    expect((asV2.spec as { metrics: unknown; minReplicas: number }).metrics).toEqual([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 60 } } }]);
    expect((asV2.spec as { minReplicas: number }).minReplicas).toBe(1);
    const asV1 = t.registry.get(v1, 'default', 'web');
    expect(asV1.apiVersion).toBe('autoscaling/v1');
    expect(asV1.spec).toEqual({ scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' }, minReplicas: 1, maxReplicas: 5, targetCPUUtilizationPercentage: 60 });
    expect(invalid(() => t.registry.create(v2, 'default', { apiVersion: 'autoscaling/v2', kind: 'HorizontalPodAutoscaler', metadata: { name: 'bad' }, spec: { scaleTargetRef: { kind: 'Deployment', name: 'x' }, minReplicas: 3, maxReplicas: 2 } }))).toContain(
      'spec.minReplicas: Invalid value: 3: must be less than or equal to maxReplicas',
    );
  });

  it('defaults NetworkPolicy types, requires Ingress path types, protects StorageClass parameters', () => {
    const policy = create('networking.k8s.io', 'v1', 'networkpolicies', 'default', { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'egress' }, spec: { egress: [{ ports: [{ port: 53 }] }] } });
    expect(policy.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'], egress: [{ ports: [{ port: 53, protocol: 'TCP' }] }] });
    expect(
      invalid(() =>
        create('networking.k8s.io', 'v1', 'ingresses', 'default', {
          apiVersion: 'networking.k8s.io/v1',
          kind: 'Ingress',
          metadata: { name: 'ing' },
          spec: { rules: [{ http: { paths: [{ path: '/', backend: { service: { name: 'web', port: { number: 80 } } } }] } }] },
        }),
      ),
    ).toBe('Ingress.networking.k8s.io "ing" is invalid: spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified');
    const classes = t.def('storage.k8s.io', 'v1', 'storageclasses');
    const sc = t.registry.create(classes, undefined, { apiVersion: 'storage.k8s.io/v1', kind: 'StorageClass', metadata: { name: 'standard' }, provisioner: 'rancher.io/local-path' });
    expect(sc).toMatchObject({ reclaimPolicy: 'Delete', volumeBindingMode: 'Immediate' });
    expect(invalid(() => t.registry.update(classes, undefined, 'standard', { ...structuredClone(sc), parameters: { type: 'ssd' } }))).toContain('parameters: Forbidden: updates to parameters are forbidden.');
  });

  it('requires storage on a claim and answers reviews without storing them', () => {
    expect(invalid(() => create('', 'v1', 'persistentvolumeclaims', 'default', { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: 'c' }, spec: { accessModes: ['ReadWriteOnce'] } }))).toBe(
      'PersistentVolumeClaim "c" is invalid: spec.resources[storage]: Required value',
    );
    const reviews = t.def('authorization.k8s.io', 'v1', 'selfsubjectaccessreviews');
    const review = t.registry.create(reviews, undefined, { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {}, spec: { resourceAttributes: { verb: 'get', resource: 'pods' } } });
    expect(review.spec).toEqual({ resourceAttributes: { verb: 'get', resource: 'pods' } });
    expect(statusOf(() => t.registry.list(reviews, {}))).toMatchObject({ code: 405, reason: 'MethodNotAllowed' });
    expect(invalid(() => t.registry.create(reviews, undefined, { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', metadata: {}, spec: {} }))).toContain(
      'spec.resourceAttributes: Required value: exactly one of nonResourceAttributes or resourceAttributes must be specified',
    );
  });
});
