// The in-cluster path for real. A `formicary cluster` process stands for the company's cluster,
// with an audit log (--audit-log-path, as kube-apiserver's); deploy/base is applied to it with
// kubectl apply -k, and `kubectl create token formicary-portal` gives the portal's ServiceAccount
// a token. The portal's side (test/deploy/in-cluster-run.ts) then runs as in a pod: inside
// bubblewrap, the token, CA and namespace mounted at /var/run/secrets/kubernetes.io/serviceaccount,
// KUBERNETES_SERVICE_HOST/PORT set, no kubeconfig — and runs a lab end to end (start, terminal,
// check, end, reaper). The audit log then shows every (verb, resource) the portal's account used:
// all allowed, and every rule of deploy/base/rbac.yaml used by some call or justified in
// deploy/README.md.
import { spawn, execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { writeLab } from '../labs/fixtures.ts';
import { labProject, FIXTURE_LAB } from '../support/lab-fixture.ts';

const run = promisify(execFile);
const ACCOUNT = 'system:serviceaccount:formicary:formicary-portal';
const PROJECT = join(import.meta.dirname, '..', '..');
const OWN_CLUSTER_LAB = 'own-nodes';

interface AuditEvent {
  verb: string;
  user: { username: string };
  objectRef?: { resource: string; apiGroup?: string; subresource?: string; namespace?: string; name?: string };
  responseStatus: { code: number };
  requestURI: string;
}

let dir: string;
let root: string;
let cluster: ReturnType<typeof spawn> | undefined;
let kubeconfig: string;
let server: URL;
let caPem: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'formicary-in-cluster-'));
  await chmod(dir, 0o711);
  root = await labProject();
  kubeconfig = join(dir, 'admin.kubeconfig');
  cluster = spawn(
    process.execPath,
    [join(PROJECT, 'src', 'cli', 'main.ts'), 'cluster', '--kubeconfig', kubeconfig, '--data', join(dir, 'cluster'), '--audit-log-path', join(dir, 'audit.log'), '--stop-on-stdin-close'],
    { stdio: ['pipe', 'pipe', 'pipe'] },
  );
  const child = cluster;
  child.stderr?.resume();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the cluster did not get ready within 60 s')), 60_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (/\bready\b/.test(line)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`the cluster exited with ${code}`)));
  });
  const admin = parse(await readFile(kubeconfig, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
  server = new URL(admin.clusters[0]?.cluster.server ?? '');
  caPem = Buffer.from(admin.clusters[0]?.cluster['certificate-authority-data'] ?? '', 'base64').toString();
}, 90_000);

afterAll(async () => {
  if (cluster && cluster.exitCode === null) {
    const exited = new Promise((resolve) => cluster?.once('exit', resolve));
    cluster.stdin?.end();
    cluster.kill('SIGTERM');
    await exited;
  }
  if (dir) await rm(dir, { recursive: true, force: true });
  if (root) await rm(root, { recursive: true, force: true });
});

async function kubectl(...args: string[]): Promise<string> {
  const { stdout } = await run('kubectl', ['--kubeconfig', kubeconfig, ...args], { timeout: 60_000, env: { ...process.env, HOME: dir } });
  return stdout;
}

/** "verb group/resource[/subresource]" as RBAC names them; core resources have no group. */
function pair(verb: string, group: string, resource: string): string {
  return `${verb} ${group ? `${group}/` : ''}${resource}`;
}

/** deploy/base applied once, and the formicary-portal account as a pod mounts it (token, CA, namespace). */
let accountDir: Promise<string> | undefined;
function portalAccount(): Promise<string> {
  accountDir ??= (async () => {
      await kubectl('apply', '-k', join(PROJECT, 'deploy', 'base'));
      // No portal pods on the stand-in: only its account and RBAC are under test here.
      await kubectl('-n', 'formicary', 'scale', 'deployment/formicary-portal', '--replicas=0');
      const token = (await kubectl('-n', 'formicary', 'create', 'token', 'formicary-portal', '--duration=1h')).trim();
      expect(token.split('.')).toHaveLength(3);

      // What the kubelet mounts in a pod: token, the cluster's CA, the namespace.
      const account = join(dir, 'serviceaccount');
      await mkdir(account);
      expect(caPem).toContain('BEGIN CERTIFICATE');
      await writeFile(join(account, 'token'), token);
      await writeFile(join(account, 'ca.crt'), caPem);
      await writeFile(join(account, 'namespace'), 'formicary');

      return account;
  })();
  return accountDir;
}

/** Runs SCRIPT as the portal runs in a pod: bubblewrap, the account at /var/run/secrets/…, KUBERNETES_SERVICE_HOST/PORT, no kubeconfig. */
async function inPod(script: string, args: string[]): Promise<Record<string, unknown>> {
  const account = await portalAccount();
  const labCluster: NodeJS.ProcessEnv = { ...process.env, LAB_CLUSTER: 'kubernetes', KUBERNETES_SERVICE_HOST: server.hostname, KUBERNETES_SERVICE_PORT: server.port };
  delete labCluster['KUBECONFIG'];
  // /run (and so /var/run) is a fresh tmpfs in the sandbox: the host's stays untouched.
  const { stdout } = await run(
    'bwrap',
    // /var/run is a link to /run, where a pod's kubelet puts them too.
    ['--dev-bind', '/', '/', '--tmpfs', '/run', '--ro-bind', account, '/run/secrets/kubernetes.io/serviceaccount', '--die-with-parent', process.execPath, join(import.meta.dirname, script), ...args],
    { env: labCluster, timeout: 240_000 },
  );
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
}

/** Every call of the portal's account, from the audit log. */
async function portalCalls(): Promise<AuditEvent[]> {
  return (await readFile(join(dir, 'audit.log'), 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as AuditEvent)
    .filter((event) => event.user.username === ACCOUNT);
}

describe('the portal in a pod, on a cluster with deploy/base applied', () => {
  it('runs a lab end to end with its ServiceAccount, and uses every RBAC rule it is given or the README says why not', async () => {
    const outcome = await inPod('in-cluster-run.ts', [join(root, 'labs'), FIXTURE_LAB, 'create', 'kubectl create configmap settings --from-literal=mode=fast']);
    expect(outcome).toMatchObject({
      server: `https://${server.host}`,
      namespace: 'formicary',
      leads: true,
      renews: true,
      terminal: true,
      checks: [true],
      ended: true,
      reaped: true,
    });

    const events = await portalCalls();
    expect(events.length).toBeGreaterThan(20);
    expect(events.filter((event) => event.responseStatus.code === 403).map((event) => `${event.verb} ${event.requestURI}`)).toEqual([]);
    const used = new Set(
      events.flatMap((event) =>
        event.objectRef ? [pair(event.verb, event.objectRef.apiGroup ?? '', event.objectRef.resource + (event.objectRef.subresource ? `/${event.objectRef.subresource}` : ''))] : [],
      ),
    );
    // The lab's run touches what a sandbox is made of and the leader's Lease.
    for (const expected of ['create namespaces', 'delete namespaces', 'create pods/exec', 'create rbac.authorization.k8s.io/rolebindings', 'update coordination.k8s.io/leases']) {
      expect([...used]).toContain(expected);
    }

    // Each rule of rbac.yaml: some (verb, resource) of it used, or its resources named in deploy/README.md.
    const readme = await readFile(join(PROJECT, 'deploy', 'README.md'), 'utf8');
    const documents = parseAllDocuments(await readFile(join(PROJECT, 'deploy', 'base', 'rbac.yaml'), 'utf8')).map((document) => document.toJS() as { kind: string; rules?: { apiGroups: string[]; resources: string[]; verbs: string[] }[] });
    // Resources named as RBAC spells them, in `code` or **bold** (one or a comma-separated list), where the README says what the portal may do and why.
    const why = /^## What the portal may do[^\n]*\n([\s\S]*?)^## /m.exec(readme)?.[1] ?? '';
    const namedInReadme = new Set([...why.matchAll(/\*\*([^*]+)\*\*|`([^`]+)`/g)].flatMap((match) => (match[1] ?? match[2] ?? '').replaceAll('`', '').split(/[,\s]+/)));
    // bind and escalate are never requests: Kubernetes checks them while a RoleBinding or Role is created.
    if (used.has('create rbac.authorization.k8s.io/rolebindings')) used.add('bind rbac.authorization.k8s.io/clusterroles');
    const unexplained: string[] = [];
    for (const role of documents.filter((document) => document.rules)) {
      for (const rule of role.rules ?? []) {
        const grants = rule.apiGroups.flatMap((group) => rule.resources.flatMap((resource) => rule.verbs.map((verb) => pair(verb, group, resource))));
        if (grants.some((grant) => used.has(grant))) continue;
        const named = rule.resources.every((resource) => namedInReadme.has(resource));
        if (!named) unexplained.push(grants.join(', '));
      }
    }
    expect(unexplained).toEqual([]);
  }, 300_000);

  it('gives a lab with needs: cluster a formicary cluster of the learner\'s own, as a pod in the sandbox: the terminal\'s kubectl talks to it, a check reads it, End removes it', async () => {
    await writeLab(join(root, 'labs'), OWN_CLUSTER_LAB, {
      'lab.yaml': `title: Own nodes
summary: For tests.
duration: 5
needs: cluster
steps:
  - id: cordon
    title: Cordon node-2
    instructions: Cordon node-2.
    checks:
      - kind: field
        resource: nodes
        name: node-2
        path: '{.spec.unschedulable}'
        equals: true
        message: node-2 still takes new pods; cordon it.
    solution:
      - kubectl cordon node-2
`,
    });
    const hostNodes = JSON.parse(await kubectl('get', 'nodes', '-o', 'json')) as { items: { metadata: { uid: string } }[] };
    const outcome = await inPod('in-cluster-dedicated-run.ts', [
      join(root, 'labs'),
      OWN_CLUSTER_LAB,
      'cordon',
      "kubectl get nodes -o jsonpath='NODES={.items[*].metadata.uid}{\"\\n\"}' && kubectl get namespaces -o name | tr '\\n' ' ' && kubectl cordon node-2 && kubectl create clusterrole learner-made --verb=get --resource=pods",
    ]);
    expect(outcome).toMatchObject({ dedicated: true, terminal: true, checks: [true], ended: true });
    // The terminal's kubectl reached the learner's cluster: three nodes none of which is the host's,
    // and none of the host's namespaces (deploy/base's `formicary`).
    const screen = String(outcome['screen']);
    // The uids kubectl printed (the echoed command line has none).
    const nodes = /NODES=((?:[0-9a-f]{8}-[0-9a-f-]{27} ?)+)/.exec(screen)?.[1]?.trim().split(' ') ?? [];
    expect(nodes).toHaveLength(3);
    for (const node of hostNodes.items) expect(nodes).not.toContain(node.metadata.uid);
    expect(screen).toContain('namespace/kube-system');
    expect(screen).not.toContain('namespace/formicary ');
    // What the learner did cluster-wide stayed in their cluster.
    expect((await kubectl('get', 'node', 'node-2', '-o', 'jsonpath={.spec.unschedulable}')).trim()).toBe('');
    await expect(kubectl('get', 'clusterrole', 'learner-made')).rejects.toThrow(/NotFound|not found/);
    // End took the sandbox namespace, and with it the cluster's pod, Service and Secret.
    await kubectl('wait', '--for=delete', `namespace/${String(outcome['sandbox'])}`, '--timeout=60s');
    await expect(kubectl('get', 'namespace', String(outcome['sandbox']))).rejects.toThrow(/NotFound|not found/);
    // The portal's account needed nothing its RBAC does not give, port-forward to the learner's cluster among it.
    const events = await portalCalls();
    expect(events.filter((event) => event.responseStatus.code === 403).map((event) => `${event.verb} ${event.requestURI}`)).toEqual([]);
    expect(events.some((event) => event.objectRef?.resource === 'pods' && event.objectRef.subresource === 'portforward')).toBe(true);
  }, 300_000);
});
