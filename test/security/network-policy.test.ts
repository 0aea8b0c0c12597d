// NetworkPolicy enforced on the cluster's pod network, with upstream semantics: a learner
// cannot reach another learner's Service by name or IP (the sandbox admits only its own
// namespace), and within a namespace a default deny, an allow rule, named ports, egress and a
// namespaceSelector behave as on a real cluster. A refused connection is never answered, as a
// dropped packet: curl gives up with its timeout (exit 28).
import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LabCatalog, type KubeObject } from '../../src/labs/index.ts';
import { Sandboxes, type Sandbox } from '../../src/server/sandboxes/index.ts';
import { startTestCluster, type TestCluster } from '../labs/cluster.ts';
import { sampleLab, writeLab } from '../labs/fixtures.ts';

const run = promisify(execFile);
/** curl's exit code when --max-time passes: what a dropped packet looks like from the client. */
const TIMED_OUT = 28;

let cluster: TestCluster;
let sandboxes: Sandboxes;
let catalog: LabCatalog;
let adminConfig: string;

beforeAll(async () => {
  cluster = await startTestCluster();
  const labsDir = join(cluster.dir, 'labs');
  await writeLab(labsDir, 'sample', sampleLab);
  catalog = new LabCatalog(labsDir);
  sandboxes = new Sandboxes({ kubeConfig: cluster.kubeConfig, catalog });
  adminConfig = join(cluster.dir, 'admin.kubeconfig');
  await writeFile(adminConfig, cluster.cluster.kubeconfig(), { mode: 0o600 });
}, 60_000);

afterAll(async () => {
  await sandboxes?.stop();
  await cluster?.stop();
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

async function kubectl(args: string[], stdin?: string): Promise<Outcome> {
  try {
    const child = run('kubectl', ['--kubeconfig', adminConfig, ...args], { env: { ...process.env, HOME: cluster.dir } });
    if (stdin !== undefined) child.child.stdin?.end(stdin);
    const { stdout, stderr } = await child;
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === 'number' ? failed.code : 1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

async function apply(namespace: string, manifest: object): Promise<void> {
  const applied = await kubectl(['apply', '-n', namespace, '-f', '-'], JSON.stringify(manifest));
  expect(applied.code, applied.stderr).toBe(0);
}

async function until<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function getObject(resource: string, namespace: string, name: string): Promise<KubeObject | null> {
  return cluster.client.get(await cluster.client.resolve(resource), namespace, name);
}

const isReady = (pod: KubeObject | null) => ((pod?.status?.['conditions'] ?? []) as Array<{ type: string; status: string }>).some((c) => c.type === 'Ready' && c.status === 'True');

/** What the restricted Pod Security level asks of a pod, so sandboxes labelled for it admit these. */
const restricted = {
  pod: { runAsNonRoot: true, runAsUser: 1000, seccompProfile: { type: 'RuntimeDefault' } },
  container: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
};

/** A web server (simulated nginx) behind a Service `web`, with a named container port `http`. */
async function webIn(namespace: string): Promise<{ serviceIP: string; podIP: string }> {
  await apply(namespace, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'web', labels: { app: 'web' } },
    spec: {
      securityContext: restricted.pod,
      containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ name: 'http', containerPort: 80 }], securityContext: restricted.container, resources: { limits: { cpu: '100m', memory: '64Mi' } } }],
    },
  });
  await apply(namespace, { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web' }, spec: { selector: { app: 'web' }, ports: [{ port: 80, targetPort: 'http' }] } });
  const pod = await until(`web ready in ${namespace}`, async () => {
    const found = await getObject('pods', namespace, 'web');
    return isReady(found) ? found : null;
  });
  const service = await getObject('services', namespace, 'web');
  return { serviceIP: String(service?.spec?.['clusterIP']), podIP: String(pod.status?.['podIP']) };
}

/** A shell pod to curl from (debian: the host's curl; busybox has none). */
async function clientIn(namespace: string, name: string, labels: Record<string, string>): Promise<void> {
  await apply(namespace, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, labels },
    spec: {
      securityContext: restricted.pod,
      containers: [{ name: 'shell', image: 'debian:12', command: ['sh', '-c', 'exec sleep 3600'], securityContext: restricted.container, resources: { limits: { cpu: '100m', memory: '64Mi' } } }],
    },
  });
  await until(`${name} ready`, async () => isReady(await getObject('pods', namespace, name)));
}

/** curl from a pod: the HTTP status, or curl's exit code when it gets none. */
async function curlFrom(namespace: string, pod: string, url: string): Promise<string> {
  const result = await kubectl(['exec', '-n', namespace, pod, '--', 'sh', '-c', `curl -s --max-time 2 -o /dev/null -w '%{http_code}' ${url}; echo " exit=$?"`]);
  return result.stdout.trim();
}

const reached = '200 exit=0';
const droppedCurl = `000 exit=${TIMED_OUT}`;

describe('between sandboxes', () => {
  let a: Sandbox;
  let b: Sandbox;
  let web: { serviceIP: string; podIP: string };

  beforeAll(async () => {
    const lab = await catalog.get('sample');
    [a, b] = await Promise.all([sandboxes.start(lab, 'alice'), sandboxes.start(lab, 'bruno')]);
    web = await webIn(b.namespace);
  }, 90_000);
  afterAll(async () => {
    await Promise.all([a, b].filter(Boolean).map((sandbox) => sandboxes.end(sandbox.namespace)));
  });

  async function fromWorkbench(sandbox: Sandbox, url: string): Promise<string> {
    const result = await sandboxes.exec(sandbox.namespace, `curl -s --max-time 2 -o /dev/null -w '%{http_code}' ${url}; echo " exit=$?"`);
    return result.stdout.trim();
  }

  it('learner A cannot reach B’s Service by name, by cluster IP or its pod by IP: the connection times out', async () => {
    expect(await fromWorkbench(a, `http://web.${b.namespace}`)).toBe(droppedCurl);
    expect(await fromWorkbench(a, `http://web.${b.namespace}.svc.cluster.local/`)).toBe(droppedCurl);
    expect(await fromWorkbench(a, `http://${web.serviceIP}/`)).toBe(droppedCurl);
    expect(await fromWorkbench(a, `http://${web.podIP}/`)).toBe(droppedCurl);
  });

  it('B reaches its own Service, and A’s refused attempts left no trace in B’s server log', async () => {
    expect(await fromWorkbench(b, 'http://web')).toBe(reached);
    const logs = await kubectl(['logs', '-n', b.namespace, 'web']);
    const lines = logs.stdout.split('\n').filter((line) => line.includes('"GET /'));
    expect(lines).toHaveLength(1);
  });
});

describe('within a namespace', () => {
  let ns: string;
  let web: { serviceIP: string; podIP: string };

  beforeAll(async () => {
    ns = await cluster.namespace('policy');
    web = await webIn(ns);
    await Promise.all([clientIn(ns, 'frontend', { role: 'frontend' }), clientIn(ns, 'other', { role: 'other' })]);
  }, 90_000);

  it('without a policy everything is reached; a default deny drops everything; an allow rule opens only what it names', async () => {
    expect(await curlFrom(ns, 'frontend', 'http://web')).toBe(reached);
    expect(await curlFrom(ns, 'other', `http://${web.podIP}/`)).toBe(reached);

    await apply(ns, { apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'default-deny' }, spec: { podSelector: {}, policyTypes: ['Ingress'] } });
    expect(await curlFrom(ns, 'frontend', 'http://web')).toBe(droppedCurl);
    expect(await curlFrom(ns, 'other', `http://${web.podIP}/`)).toBe(droppedCurl);

    // Policies add up: this one admits the frontend to the web pods' named port.
    await apply(ns, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'web-from-frontend' },
      spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ port: 'http' }] }] },
    });
    expect(await curlFrom(ns, 'frontend', 'http://web')).toBe(reached);
    expect(await curlFrom(ns, 'frontend', `http://${web.podIP}/`)).toBe(reached);
    expect(await curlFrom(ns, 'other', 'http://web')).toBe(droppedCurl);

    // A port range that misses the pod's port admits nothing.
    await apply(ns, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'web-from-frontend' },
      spec: { podSelector: { matchLabels: { app: 'web' } }, ingress: [{ from: [{ podSelector: { matchLabels: { role: 'frontend' } } }], ports: [{ port: 8000, endPort: 8100 }] }] },
    });
    expect(await curlFrom(ns, 'frontend', 'http://web')).toBe(droppedCurl);
    expect((await kubectl(['delete', 'networkpolicy', '-n', ns, '--all'])).code).toBe(0);
    expect(await curlFrom(ns, 'other', 'http://web')).toBe(reached);
  }, 60_000);

  it('an egress policy holds the pods it selects back, and only them; names stop resolving until DNS is allowed', async () => {
    await apply(ns, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'other-stays-home' },
      spec: { podSelector: { matchLabels: { role: 'other' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: '192.0.2.0/24' } }] }] },
    });
    expect(await curlFrom(ns, 'other', `http://${web.podIP}/`)).toBe(droppedCurl);
    // The cluster's DNS is out of reach too: the resolver's queries are dropped, and curl gives up resolving.
    const unresolved = await kubectl(['exec', '-n', ns, 'other', '--', 'curl', '-sS', '--max-time', '3', 'http://web/']);
    expect(unresolved.stderr).toContain('Resolving timed out after');
    expect(await curlFrom(ns, 'frontend', 'http://web')).toBe(reached);

    await apply(ns, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'other-stays-home' },
      spec: { podSelector: { matchLabels: { role: 'other' } }, policyTypes: ['Egress'], egress: [{ to: [{ ipBlock: { cidr: `${web.podIP}/32` } }], ports: [{ protocol: 'TCP', port: 80 }] }] },
    });
    expect(await curlFrom(ns, 'other', `http://${web.podIP}/`)).toBe(reached);
    expect((await kubectl(['exec', '-n', ns, 'other', '--', 'curl', '-sS', '--max-time', '3', 'http://web/'])).stderr).toContain('Resolving timed out after');
    await apply(ns, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'other-may-ask-dns' },
      spec: {
        podSelector: { matchLabels: { role: 'other' } },
        policyTypes: ['Egress'],
        egress: [{ to: [{ namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } }], ports: [{ protocol: 'UDP', port: 53 }] }],
      },
    });
    expect(await curlFrom(ns, 'other', 'http://web')).toBe(reached);
    expect((await kubectl(['delete', 'networkpolicy', '-n', ns, '--all'])).code).toBe(0);
  }, 60_000);

  it('a namespaceSelector admits the pods of the namespaces it selects, and not the others', async () => {
    const blue = await cluster.namespace('blue');
    const green = await cluster.namespace('green');
    expect((await kubectl(['label', 'namespace', blue, 'team=blue'])).code).toBe(0);
    await Promise.all([clientIn(blue, 'caller', { role: 'caller' }), clientIn(green, 'caller', { role: 'caller' })]);
    await apply(ns, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'from-team-blue' },
      spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'blue' } } }] }] },
    });
    expect(await curlFrom(blue, 'caller', `http://web.${ns}`)).toBe(reached);
    expect(await curlFrom(green, 'caller', `http://web.${ns}`)).toBe(droppedCurl);
    // Within the namespace nothing is admitted now: the policy names only team blue.
    expect(await curlFrom(ns, 'frontend', 'http://web')).toBe(droppedCurl);

    // Both selectors in one peer: those pods in those namespaces.
    await apply(ns, {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'from-team-blue' },
      spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'blue' } }, podSelector: { matchLabels: { role: 'nobody' } } }] }] },
    });
    expect(await curlFrom(blue, 'caller', `http://web.${ns}`)).toBe(droppedCurl);
  }, 60_000);
});
