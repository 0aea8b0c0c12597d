// Every `kubectl create <generator>`, with the oldest kubectl (JSON bodies), 1.32 (the first to
// send protobuf) and the newest: the line kubectl prints and the object a real API server stores
// (its defaults included).
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { ALL_VERSIONS, minor, useConformanceCluster, type ConformanceCluster, type Sandbox } from './harness.ts';
import { expectResult, text } from './output.ts';

const c = useConformanceCluster({ kubelet: false });

/** JSON bodies (oldest), the first protobuf sender, the newest. */
const GENERATOR_VERSIONS = ['1.27', '1.32', '1.33'].filter((v) => ALL_VERSIONS.includes(v));
const EDGE_CREATE_VERSIONS = ['1.27', '1.33'].filter((v) => ALL_VERSIONS.includes(v));

const b64 = (text: string) => Buffer.from(text).toString('base64');

interface Generator {
  what: string;
  setup?: (s: Sandbox, version: string) => Promise<void>;
  args: (s: Sandbox, version: string) => string[];
  stdout: (s: Sandbox, version: string) => string;
  /** Where the created object lives: group, version, resource, name (namespaced unless clusterScoped). */
  object: (s: Sandbox, version: string) => [string, string, string, string];
  clusterScoped?: boolean;
  check: (object: KubeObject, s: Sandbox, c: ConformanceCluster, version: string) => void;
}

const podTemplateDefaults = { restartPolicy: 'Always', terminationGracePeriodSeconds: 30, dnsPolicy: 'ClusterFirst', securityContext: {}, schedulerName: 'default-scheduler' };
const containerDefaults = { resources: {}, terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File' };
const tag = (version: string) => version.replace('.', '-');

const generators: Generator[] = [
  {
    what: 'deployment (image, replicas, port)',
    args: () => ['create', 'deployment', 'web', '--image=nginx:1.27', '--replicas=2', '--port=80'],
    stdout: () => 'deployment.apps/web created\n',
    object: () => ['apps', 'v1', 'deployments', 'web'],
    check(d) {
      expect(d.metadata.labels).toEqual({ app: 'web' });
      expect(d.metadata.generation).toBe(1);
      expect(d.spec).toEqual({
        replicas: 2,
        selector: { matchLabels: { app: 'web' } },
        template: {
          metadata: { creationTimestamp: null, labels: { app: 'web' } },
          spec: {
            containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80, protocol: 'TCP' }], imagePullPolicy: 'IfNotPresent', ...containerDefaults }],
            ...podTemplateDefaults,
          },
        },
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
      });
    },
  },
  {
    what: 'deployment with a command (image :latest pulls Always)',
    args: () => ['create', 'deployment', 'sleeper', '--image=busybox', '--', 'sleep', '3600'],
    stdout: () => 'deployment.apps/sleeper created\n',
    object: () => ['apps', 'v1', 'deployments', 'sleeper'],
    check(d) {
      const containers = (d.spec as any).template.spec.containers;
      expect(containers).toEqual([{ name: 'busybox', image: 'busybox', command: ['sleep', '3600'], imagePullPolicy: 'Always', ...containerDefaults }]);
      expect((d.spec as any).replicas).toBe(1);
    },
  },
  {
    what: 'service clusterip',
    args: () => ['create', 'service', 'clusterip', 'web', '--tcp=80:8080'],
    stdout: () => 'service/web created\n',
    object: () => ['', 'v1', 'services', 'web'],
    check(svc) {
      const spec = svc.spec as any;
      expect(spec.clusterIP).toMatch(/^10\.(9[6-9]|10\d|11[01])\.\d+\.\d+$/);
      expect(spec).toEqual({
        ports: [{ name: '80-8080', port: 80, protocol: 'TCP', targetPort: 8080 }],
        selector: { app: 'web' },
        type: 'ClusterIP',
        sessionAffinity: 'None',
        clusterIP: spec.clusterIP,
        clusterIPs: [spec.clusterIP],
        ipFamilies: ['IPv4'],
        ipFamilyPolicy: 'SingleStack',
        internalTrafficPolicy: 'Cluster',
      });
      expect(svc.metadata.labels).toEqual({ app: 'web' });
      expect(svc.status).toEqual({ loadBalancer: {} });
    },
  },
  {
    what: 'service clusterip --clusterip=None (headless)',
    args: () => ['create', 'service', 'clusterip', 'db', '--clusterip=None'],
    stdout: () => 'service/db created\n',
    object: () => ['', 'v1', 'services', 'db'],
    check(svc) {
      expect(svc.spec).toMatchObject({ clusterIP: 'None', clusterIPs: ['None'], type: 'ClusterIP', selector: { app: 'db' } });
    },
  },
  {
    what: 'service nodeport with a fixed node port',
    args: (_s, version) => ['create', 'service', 'nodeport', 'np', '--tcp=80:8080', `--node-port=${30050 + Number(version.split('.')[1])}`],
    stdout: () => 'service/np created\n',
    object: () => ['', 'v1', 'services', 'np'],
    check(svc, _s, _c, version) {
      expect(svc.spec).toMatchObject({
        type: 'NodePort',
        externalTrafficPolicy: 'Cluster',
        ports: [{ name: '80-8080', port: 80, protocol: 'TCP', targetPort: 8080, nodePort: 30050 + Number(version.split('.')[1]) }],
      });
    },
  },
  {
    what: 'service loadbalancer',
    args: () => ['create', 'service', 'loadbalancer', 'lb', '--tcp=443:8443'],
    stdout: () => 'service/lb created\n',
    object: () => ['', 'v1', 'services', 'lb'],
    check(svc) {
      const spec = svc.spec as any;
      expect(spec).toMatchObject({ type: 'LoadBalancer', allocateLoadBalancerNodePorts: true, externalTrafficPolicy: 'Cluster' });
      expect(spec.ports[0].nodePort).toBeGreaterThanOrEqual(30000);
      expect(spec.ports[0].nodePort).toBeLessThanOrEqual(32767);
    },
  },
  {
    what: 'service externalname',
    args: () => ['create', 'service', 'externalname', 'ext', '--external-name=example.com'],
    stdout: () => 'service/ext created\n',
    object: () => ['', 'v1', 'services', 'ext'],
    check(svc) {
      expect(svc.spec).toEqual({ externalName: 'example.com', selector: { app: 'ext' }, sessionAffinity: 'None', type: 'ExternalName' });
    },
  },
  {
    what: 'configmap --from-literal',
    args: () => ['create', 'configmap', 'cfg', '--from-literal=mode=dev', '--from-literal=level=3'],
    stdout: () => 'configmap/cfg created\n',
    object: () => ['', 'v1', 'configmaps', 'cfg'],
    check(cm) {
      expect(cm.data).toEqual({ mode: 'dev', level: '3' });
    },
  },
  {
    what: 'configmap --from-file (file name and explicit key)',
    async setup(s) {
      await s.writeFile('app.properties', 'color=blue\nsize=large\n');
    },
    args: () => ['create', 'configmap', 'files', '--from-file=app.properties', '--from-file=settings=app.properties'],
    stdout: () => 'configmap/files created\n',
    object: () => ['', 'v1', 'configmaps', 'files'],
    check(cm) {
      expect(cm.data).toEqual({ 'app.properties': 'color=blue\nsize=large\n', settings: 'color=blue\nsize=large\n' });
    },
  },
  {
    what: 'configmap --from-env-file',
    async setup(s) {
      await s.writeFile('app.env', '# settings\nMODE=dev\nLEVEL=3\n');
    },
    args: () => ['create', 'configmap', 'env', '--from-env-file=app.env'],
    stdout: () => 'configmap/env created\n',
    object: () => ['', 'v1', 'configmaps', 'env'],
    check(cm) {
      expect(cm.data).toEqual({ MODE: 'dev', LEVEL: '3' });
    },
  },
  {
    what: 'secret generic --from-literal',
    args: () => ['create', 'secret', 'generic', 'db-pass', '--from-literal=password=s3cr3t'],
    stdout: () => 'secret/db-pass created\n',
    object: () => ['', 'v1', 'secrets', 'db-pass'],
    check(secret) {
      expect([secret.type, secret.data]).toEqual(['Opaque', { password: b64('s3cr3t') }]);
    },
  },
  {
    what: 'secret generic --from-file --type',
    async setup(s) {
      await s.writeFile('id_rsa', 'not really a key\n');
    },
    args: () => ['create', 'secret', 'generic', 'ssh', '--from-file=ssh-privatekey=id_rsa', '--type=kubernetes.io/ssh-auth'],
    stdout: () => 'secret/ssh created\n',
    object: () => ['', 'v1', 'secrets', 'ssh'],
    check(secret) {
      expect([secret.type, secret.data]).toEqual(['kubernetes.io/ssh-auth', { 'ssh-privatekey': b64('not really a key\n') }]);
    },
  },
  {
    what: 'secret tls',
    async setup(s) {
      await promisify(execFile)('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'tls.key', '-out', 'tls.crt', '-days', '1', '-subj', '/CN=web.example.com'], { cwd: s.dir });
    },
    args: () => ['create', 'secret', 'tls', 'web-tls', '--cert=tls.crt', '--key=tls.key'],
    stdout: () => 'secret/web-tls created\n',
    object: () => ['', 'v1', 'secrets', 'web-tls'],
    check(secret) {
      expect(secret.type).toBe('kubernetes.io/tls');
      const data = secret.data as Record<string, string>;
      expect(Object.keys(data).sort()).toEqual(['tls.crt', 'tls.key']);
      expect(Buffer.from(data['tls.crt'] ?? '', 'base64').toString()).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
    },
  },
  {
    what: 'secret docker-registry',
    args: () => ['create', 'secret', 'docker-registry', 'pull', '--docker-server=registry.example.com', '--docker-username=u', '--docker-password=p', '--docker-email=e@example.com'],
    stdout: () => 'secret/pull created\n',
    object: () => ['', 'v1', 'secrets', 'pull'],
    check(secret) {
      expect(secret.type).toBe('kubernetes.io/dockerconfigjson');
      const config = JSON.parse(Buffer.from((secret.data as Record<string, string>)['.dockerconfigjson'] ?? '', 'base64').toString());
      expect(config).toEqual({ auths: { 'registry.example.com': { username: 'u', password: 'p', email: 'e@example.com', auth: b64('u:p') } } });
    },
  },
  {
    what: 'job with a command',
    args: () => ['create', 'job', 'once', '--image=busybox', '--', 'echo', 'hi'],
    stdout: () => 'job.batch/once created\n',
    object: () => ['batch', 'v1', 'jobs', 'once'],
    check(job) {
      const spec = job.spec as any;
      const uid = job.metadata.uid;
      expect(spec).toMatchObject({
        backoffLimit: 6,
        completions: 1,
        parallelism: 1,
        completionMode: 'NonIndexed',
        suspend: false,
        podReplacementPolicy: 'TerminatingOrFailed',
        selector: { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
      });
      expect(spec.template.metadata.labels).toEqual({ 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': 'once', 'controller-uid': uid, 'job-name': 'once' });
      expect(spec.template.spec).toEqual({
        containers: [{ name: 'once', image: 'busybox', command: ['echo', 'hi'], imagePullPolicy: 'Always', ...containerDefaults }],
        ...podTemplateDefaults,
        restartPolicy: 'Never',
      });
    },
  },
  {
    what: 'cronjob',
    args: () => ['create', 'cronjob', 'nightly', '--image=busybox', '--schedule=*/5 * * * *', '--', 'date'],
    stdout: () => 'cronjob.batch/nightly created\n',
    object: () => ['batch', 'v1', 'cronjobs', 'nightly'],
    check(cronJob) {
      const spec = cronJob.spec as any;
      expect(spec).toMatchObject({ schedule: '*/5 * * * *', concurrencyPolicy: 'Allow', suspend: false, successfulJobsHistoryLimit: 3, failedJobsHistoryLimit: 1 });
      expect(spec.jobTemplate.spec.template.spec).toEqual({
        containers: [{ name: 'nightly', image: 'busybox', command: ['date'], imagePullPolicy: 'Always', ...containerDefaults }],
        ...podTemplateDefaults,
        restartPolicy: 'OnFailure',
      });
    },
  },
  {
    what: 'job --from=cronjob',
    async setup(s) {
      await s.must(['create', 'cronjob', 'nightly', '--image=busybox', '--schedule=0 3 * * *', '--', 'date']);
    },
    args: () => ['create', 'job', 'manual', '--from=cronjob/nightly'],
    stdout: () => 'job.batch/manual created\n',
    object: () => ['batch', 'v1', 'jobs', 'manual'],
    check(job, s, cc, version) {
      const cronJob = cc.get('batch', 'v1', 'cronjobs', s.namespace, 'nightly');
      expect(job.metadata.annotations).toEqual({ 'cronjob.kubernetes.io/instantiate': 'manual' });
      // kubectl 1.27 sent a plain reference; 1.32 and later mark it as the controller (never blockOwnerDeletion).
      const controller = minor(version) >= 28 ? { controller: true } : {};
      expect(job.metadata.ownerReferences).toEqual([{ apiVersion: 'batch/v1', kind: 'CronJob', name: 'nightly', uid: cronJob?.metadata.uid, ...controller }]);
      expect((job.spec as any).template.spec.containers[0]).toMatchObject({ name: 'nightly', image: 'busybox', command: ['date'] });
    },
  },
  {
    what: 'namespace',
    args: (_s, v) => ['create', 'namespace', `team-${tag(v)}`],
    stdout: (_s, v) => `namespace/team-${tag(v)} created\n`,
    object: (_s, v) => ['', 'v1', 'namespaces', `team-${tag(v)}`],
    clusterScoped: true,
    check(ns, _s, _c, v) {
      expect(ns.spec).toEqual({ finalizers: ['kubernetes'] });
      expect(ns.status).toEqual({ phase: 'Active' });
      expect(ns.metadata.labels).toEqual({ 'kubernetes.io/metadata.name': `team-${tag(v)}` });
    },
  },
  {
    what: 'serviceaccount',
    args: () => ['create', 'serviceaccount', 'robot'],
    stdout: () => 'serviceaccount/robot created\n',
    object: () => ['', 'v1', 'serviceaccounts', 'robot'],
    check(sa) {
      expect(Object.keys(sa).sort()).toEqual(['apiVersion', 'kind', 'metadata']);
    },
  },
  {
    what: 'role',
    args: () => ['create', 'role', 'pod-reader', '--verb=get,list,watch', '--resource=pods,pods/log'],
    stdout: () => 'role.rbac.authorization.k8s.io/pod-reader created\n',
    object: () => ['rbac.authorization.k8s.io', 'v1', 'roles', 'pod-reader'],
    check(role) {
      expect(role.rules).toEqual([{ apiGroups: [''], resources: ['pods', 'pods/log'], verbs: ['get', 'list', 'watch'] }]);
    },
  },
  {
    what: 'rolebinding to a ServiceAccount',
    args: (s) => ['create', 'rolebinding', 'read-pods', '--role=pod-reader', `--serviceaccount=${s.namespace}:robot`],
    stdout: () => 'rolebinding.rbac.authorization.k8s.io/read-pods created\n',
    object: () => ['rbac.authorization.k8s.io', 'v1', 'rolebindings', 'read-pods'],
    check(binding, s) {
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pod-reader' });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'robot', namespace: s.namespace }]);
    },
  },
  {
    what: 'clusterrole',
    args: (_s, v) => ['create', 'clusterrole', `node-reader-${tag(v)}`, '--verb=get,list', '--resource=nodes', '--resource-name=node-1'],
    stdout: (_s, v) => `clusterrole.rbac.authorization.k8s.io/node-reader-${tag(v)} created\n`,
    object: (_s, v) => ['rbac.authorization.k8s.io', 'v1', 'clusterroles', `node-reader-${tag(v)}`],
    clusterScoped: true,
    check(role) {
      expect(role.rules).toEqual([{ apiGroups: [''], resources: ['nodes'], resourceNames: ['node-1'], verbs: ['get', 'list'] }]);
    },
  },
  {
    what: 'clusterrolebinding to a user and a group',
    args: (_s, v) => ['create', 'clusterrolebinding', `alice-view-${tag(v)}`, '--clusterrole=view', '--user=alice', '--group=devs'],
    stdout: (_s, v) => `clusterrolebinding.rbac.authorization.k8s.io/alice-view-${tag(v)} created\n`,
    object: (_s, v) => ['rbac.authorization.k8s.io', 'v1', 'clusterrolebindings', `alice-view-${tag(v)}`],
    clusterScoped: true,
    check(binding) {
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'view' });
      expect(binding.subjects).toEqual([
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: 'alice' },
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'devs' },
      ]);
    },
  },
  {
    what: 'quota',
    args: () => ['create', 'quota', 'small', '--hard=pods=2,requests.cpu=1,count/configmaps=5'],
    stdout: () => 'resourcequota/small created\n',
    object: () => ['', 'v1', 'resourcequotas', 'small'],
    check(quota) {
      expect((quota.spec as any).hard).toEqual({ pods: '2', 'requests.cpu': '1', 'count/configmaps': '5' });
    },
  },
  {
    what: 'poddisruptionbudget',
    args: () => ['create', 'pdb', 'web', '--selector=app=web', '--min-available=1'],
    stdout: () => 'poddisruptionbudget.policy/web created\n',
    object: () => ['policy', 'v1', 'poddisruptionbudgets', 'web'],
    check(pdb) {
      expect(pdb.spec).toEqual({ minAvailable: 1, selector: { matchLabels: { app: 'web' } } });
    },
  },
  {
    what: 'priorityclass',
    args: (_s, v) => ['create', 'priorityclass', `batch-${tag(v)}`, '--value=1000', '--description=for batch jobs'],
    stdout: (_s, v) => `priorityclass.scheduling.k8s.io/batch-${tag(v)} created\n`,
    object: (_s, v) => ['scheduling.k8s.io', 'v1', 'priorityclasses', `batch-${tag(v)}`],
    clusterScoped: true,
    check(pc) {
      expect([pc.value, pc.description, pc.preemptionPolicy, pc.globalDefault]).toEqual([1000, 'for batch jobs', 'PreemptLowerPriority', undefined]);
    },
  },
  {
    what: 'ingress with a prefix and an exact rule',
    args: () => ['create', 'ingress', 'web', '--class=nginx', '--rule=example.com/*=web:80', '--rule=example.com/health=web:8080'],
    stdout: () => 'ingress.networking.k8s.io/web created\n',
    object: () => ['networking.k8s.io', 'v1', 'ingresses', 'web'],
    check(ingress) {
      expect(ingress.spec).toEqual({
        ingressClassName: 'nginx',
        rules: [
          {
            host: 'example.com',
            http: {
              paths: [
                { path: '/', pathType: 'Prefix', backend: { service: { name: 'web', port: { number: 80 } } } },
                { path: '/health', pathType: 'Exact', backend: { service: { name: 'web', port: { number: 8080 } } } },
              ],
            },
          },
        ],
      });
      expect(ingress.status).toEqual({ loadBalancer: {} });
    },
  },
];

describe.concurrent.each(generators)('kubectl create $what', (generator) => {
  it.each(GENERATOR_VERSIONS)('%s', async (version) => {
    const s = await c.sandbox(`create-${generator.object({} as Sandbox, version)[2]}`);
    await generator.setup?.(s, version);
    expectResult(await s.kubectl(version, generator.args(s, version)), { code: 0, stdout: generator.stdout(s, version) });
    const [group, apiVersion, resource, name] = generator.object(s, version);
    const object = c.get(group, apiVersion, resource, generator.clusterScoped ? undefined : s.namespace, name);
    expect(object, `${resource}/${name}`).toBeDefined();
    generator.check(object as KubeObject, s, c, version);
  });
});

describe.concurrent('kubectl create with every installed version', () => {
  it.each(ALL_VERSIONS)('%s creates a deployment, a configmap and a secret in one namespace', async (version) => {
    const s = await c.sandbox('create-all');
    const results = [
      await s.kubectl(version, ['create', 'deployment', 'web', '--image=nginx']),
      await s.kubectl(version, ['create', 'configmap', 'cfg', '--from-literal=a=b']),
      await s.kubectl(version, ['create', 'secret', 'generic', 'pw', '--from-literal=p=q']),
    ];
    expect(results).toEqual([
      { code: 0, stdout: 'deployment.apps/web created\n', stderr: '' },
      { code: 0, stdout: 'configmap/cfg created\n', stderr: '' },
      { code: 0, stdout: 'secret/pw created\n', stderr: '' },
    ]);
  });
});

describe.concurrent('kubectl create: what the server refuses', () => {
  it.each(GENERATOR_VERSIONS)('%s an existing configmap: AlreadyExists', async (version) => {
    const s = await c.sandbox('create-exists');
    await s.must(['create', 'configmap', 'cfg', '--from-literal=a=b']);
    expectResult(await s.kubectl(version, ['create', 'configmap', 'cfg', '--from-literal=a=b']), {
      code: 1,
      stdout: '',
      stderr: 'error: failed to create configmap: configmaps "cfg" already exists\n',
    });
  });

  it.each(GENERATOR_VERSIONS)('%s an existing namespace: AlreadyExists', async (version) => {
    const s = await c.sandbox('create-ns-exists');
    expectResult(await s.kubectl(version, ['create', 'namespace', s.namespace]), {
      code: 1,
      stdout: '',
      stderr: `Error from server (AlreadyExists): namespaces "${s.namespace}" already exists\n`,
    });
  });

  it.each(GENERATOR_VERSIONS)('%s a deployment in a namespace that does not exist: NotFound', async (version) => {
    const s = await c.sandbox('create-no-ns');
    expectResult(await s.kubectl(version, ['create', 'deployment', 'web', '--image=nginx', '-n', 'nope']), {
      code: 1,
      stdout: '',
      stderr: 'error: failed to create deployment: namespaces "nope" not found\n',
    });
  });

  it.each(GENERATOR_VERSIONS)('%s a user priority class above one billion: Forbidden value', async (version) => {
    const s = await c.sandbox('create-pc-high');
    expectResult(await s.kubectl(version, ['create', 'priorityclass', `too-high-${tag(version)}`, '--value=2000000000']), {
      code: 1,
      stdout: '',
      stderr: `error: failed to create priorityclass: PriorityClass.scheduling.k8s.io "too-high-${tag(version)}" is invalid: value: Forbidden: maximum allowed value of a user defined priority is 1000000000\n`,
    });
  });

  it.each(GENERATOR_VERSIONS)('%s a service whose node port is taken: Invalid', async (version) => {
    const s = await c.sandbox('create-np-taken');
    await s.must(['create', 'service', 'nodeport', 'first', '--tcp=80:80', `--node-port=${30000 + Number(version.split('.')[1])}`]);
    expectResult(await s.kubectl(version, ['create', 'service', 'nodeport', 'second', '--tcp=80:80', `--node-port=${30000 + Number(version.split('.')[1])}`]), {
      code: 1,
      stdout: '',
      stderr: `error: failed to create NodePort service: Service "second" is invalid: spec.ports[0].nodePort: Invalid value: ${30000 + Number(version.split('.')[1])}: provided port is already allocated\n`,
    });
  });

  it.each(GENERATOR_VERSIONS)('%s a token for a missing ServiceAccount: NotFound', async (version) => {
    const s = await c.sandbox('create-token-missing');
    expectResult(await s.kubectl(version, ['create', 'token', 'ghost']), { code: 1, stdout: '', stderr: 'error: failed to create token: serviceaccounts "ghost" not found\n' });
  });
});

describe.concurrent('kubectl create token', () => {
  it.each(GENERATOR_VERSIONS)('%s prints a JWT bound to the ServiceAccount with the requested lifetime', async (version) => {
    const s = await c.sandbox('create-token');
    await s.must(['create', 'serviceaccount', 'robot']);
    const result = await s.kubectl(version, ['create', 'token', 'robot', '--duration=10m', '--audience=https://example.com']);
    // No newline unless stdout is a terminal.
    expectResult(result, { code: 0, stdout: /^[\w-]+\.[\w-]+\.[\w-]+$/ });
    const claims = JSON.parse(Buffer.from(result.stdout.split('.')[1] ?? '', 'base64url').toString());
    expect(claims).toMatchObject({ aud: ['https://example.com'], sub: `system:serviceaccount:${s.namespace}:robot` });
    expect(claims.exp - claims.iat).toBe(600);
    expect(claims['kubernetes.io']).toMatchObject({ namespace: s.namespace, serviceaccount: { name: 'robot' } });
  });
});

describe.concurrent('the status a create answers with', () => {
  // Go writes the status fields that carry no `omitempty` even when zero; clients read them
  // straight from the create response (a DaemonSet's `currentNumberScheduled`, a PDB's
  // `disruptionsAllowed`), so a bare `status: {}` makes them raise.
  const manifests = text`
    apiVersion: apps/v1
    kind: DaemonSet
    metadata: {name: agent}
    spec:
      selector: {matchLabels: {app: agent}}
      template:
        metadata: {labels: {app: agent}}
        spec: {containers: [{name: agent, image: busybox:1.36, command: [sleep, '3600']}]}
    ---
    apiVersion: apps/v1
    kind: ReplicaSet
    metadata: {name: front}
    spec:
      replicas: 0
      selector: {matchLabels: {app: front}}
      template:
        metadata: {labels: {app: front}}
        spec: {containers: [{name: web, image: nginx:1.27}]}
    ---
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: db}
    spec:
      replicas: 0
      serviceName: db
      selector: {matchLabels: {app: db}}
      template:
        metadata: {labels: {app: db}}
        spec: {containers: [{name: db, image: redis:7}]}
    ---
    apiVersion: policy/v1
    kind: PodDisruptionBudget
    metadata: {name: keep}
    spec: {minAvailable: 1, selector: {matchLabels: {app: front}}}
    ---
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {name: scale}
    spec:
      scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
      minReplicas: 1
      maxReplicas: 3
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 0
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec: {containers: [{name: web, image: nginx:1.27}]}
  `;

  it.each(EDGE_CREATE_VERSIONS)('%s carries the zeroed counters upstream writes, and nothing where every field is omitempty', async (version) => {
    const s = await c.sandbox('create-zero-status');
    const result = await s.kubectl(version, ['create', '-f', '-', '-o', 'json'], { stdin: manifests });
    expect(result.code, result.stderr).toBe(0);
    // one JSON document an object, one after the other
    const created = result.stdout.split(/\n(?=\{)/).map((doc) => JSON.parse(doc) as KubeObject);
    expect(Object.fromEntries(created.map((o) => [o.kind, o.status]))).toEqual({
      DaemonSet: { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 },
      ReplicaSet: { replicas: 0 },
      StatefulSet: { replicas: 0, availableReplicas: 0 },
      PodDisruptionBudget: { disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 0, expectedPods: 0 },
      HorizontalPodAutoscaler: { desiredReplicas: 0 },
      Deployment: {},
    });
  });
});

describe.concurrent('PodTemplate (core/v1), served as upstream', () => {
  const podTemplate = (name: string, image = 'nginx:1.27') => text`
    apiVersion: v1
    kind: PodTemplate
    metadata: {name: ${name}}
    template:
      metadata: {labels: {app: web, tier: front}}
      spec:
        containers: [{name: nginx, image: ${image}}, {name: side, image: busybox:1.36}]
  `;

  it.each(EDGE_CREATE_VERSIONS)('%s created with the pod defaults, listed with its table, explained, bumped, validated', async (version) => {
    const s = await c.sandbox('podtemplate');
    expectResult(await s.kubectl(version, ['apply', '-f', '-'], { stdin: podTemplate('web') }), { code: 0, stdout: 'podtemplate/web created\n' });
    expectResult(await s.kubectl(version, ['get', 'podtemplates']), {
      code: 0,
      stdout: 'NAME   CONTAINERS   IMAGES                    POD LABELS\nweb    nginx,side   nginx:1.27,busybox:1.36   app=web,tier=front\n',
    });
    const stored = c.get('', 'v1', 'podtemplates', s.namespace, 'web') as KubeObject & { template: { spec: Record<string, unknown> } };
    expect(stored.metadata.generation).toBe(1);
    expect(stored.template.spec).toMatchObject({ ...podTemplateDefaults, containers: [{ name: 'nginx', image: 'nginx:1.27', imagePullPolicy: 'IfNotPresent', ...containerDefaults }, expect.anything()] });
    await s.must(['apply', '-f', '-'], { stdin: podTemplate('web', 'nginx:1.28') });
    expect(c.get('', 'v1', 'podtemplates', s.namespace, 'web')?.metadata.generation).toBe(2);
    const explain = await s.kubectl(version, ['explain', 'podtemplate.template']);
    expect(explain.code, explain.stderr).toBe(0);
    expect(explain.stdout).toMatch(/^KIND: +PodTemplate\nVERSION: +v1\n\nFIELD: +template <PodTemplateSpec>\n/);
    expectResult(
      await s.kubectl(version, ['apply', '-f', '-'], { stdin: 'apiVersion: v1\nkind: PodTemplate\nmetadata: {name: bad}\ntemplate:\n  spec: {containers: [{name: x}]}\n' }),
      { code: 1, stdout: '', stderr: 'The PodTemplate "bad" is invalid: template.spec.containers[0].image: Required value\n' },
    );
  });
});
