// Labs with `needs: cluster`: the learner gets a `formicary cluster` process of their own. Started,
// worked through the terminal with cluster-wide rights, checked, ended (the process gone), capped,
// reaped, and refused where no such cluster can be started; against a real embedded lab cluster and
// real learners' clusters.
import { accessSync, constants, existsSync, mkdirSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluateChecks, LabCatalog } from '../../../src/labs/index.ts';
import { KubeClient } from '../../../src/labs/kube/index.ts';
import { startDedicatedClusters, type DedicatedClusters } from '../../../src/server/cluster/index.ts';
import { createLogger } from '../../../src/server/log.ts';
import { DedicatedClusterLimitError, SandboxError, Sandboxes, type StartProgress } from '../../../src/server/sandboxes/index.ts';
import { execShells, PLAIN_SHELL_COMMAND } from '../../../src/server/terminals/index.ts';
import { startTestCluster, type TestCluster } from '../../labs/cluster.ts';
import { writeLab } from '../../labs/fixtures.ts';

const ROOT = join(import.meta.dirname, '..', '..', '..');

const clusterLab = {
  'lab.yaml': `title: Own cluster
summary: For tests.
duration: 5
timeLimit: 30
needs: cluster
setup:
  manifests: [setup/team.yaml]
  commands:
    - kubectl create configmap prepared --from-literal=by=setup
steps:
  - id: cordon
    title: Cordon a node
    instructions: Cordon node-2.
    checks:
      - kind: field
        resource: nodes
        name: node-2
        path: '{.spec.unschedulable}'
        equals: true
    solution:
      - kubectl cordon node-2
`,
  // A cluster-scoped object and a namespace: what a namespace lab may not create in its setup.
  'setup/team.yaml': `apiVersion: v1
kind: Namespace
metadata:
  name: team-a
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: node-reader
rules:
  - apiGroups: ['']
    resources: [nodes]
    verbs: [get, list, watch]
`,
};

let lab: TestCluster;
let catalog: LabCatalog;
let host: DedicatedClusters;
const log = createLogger({ level: 'silent' });

beforeAll(async () => {
  lab = await startTestCluster();
  await writeLab(join(lab.dir, 'labs'), 'own-cluster', clusterLab);
  catalog = new LabCatalog(join(lab.dir, 'labs'));
  host = await startDedicatedClusters({ dir: join(lab.dir, 'dedicated'), root: ROOT, hiddenPaths: [lab.dir], limit: 1, log, readyTimeoutMs: 60_000 });
}, 60_000);
afterAll(async () => {
  await lab?.stop();
});

/** Processes whose command line names `text` (a learner's cluster names its data dir). */
async function processesNaming(text: string): Promise<number[]> {
  const found: number[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    const command = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
    if (command.split('\0').includes(text)) found.push(Number(entry));
  }
  return found;
}

/** Types `line` into a shell opened as the portal's terminal opens it, and returns what it printed up to `marker`. */
async function typeInTerminal(target: Parameters<ReturnType<typeof execShells>>[0], line: string, marker: string): Promise<string> {
  let output = '';
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const shell = await execShells(() => lab.kubeConfig, PLAIN_SHELL_COMMAND)(target, { cols: 200, rows: 40 }, {
    output(text) {
      output += text;
      if (output.includes(marker)) done();
    },
    exit: () => done(),
  });
  shell.write(`${line}\r`);
  await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, 30_000))]);
  shell.close();
  return output;
}

describe('a lab with needs: cluster', () => {
  it('starts a cluster of the learner’s own, which the terminal and the checks reach, and ending it stops its process', async () => {
    const sandboxes = new Sandboxes({ kubeConfig: lab.kubeConfig, catalog, dedicatedClusters: host, log: { info: () => undefined, warn: () => undefined, error: () => undefined } });
    const progress: StartProgress[] = [];
    const sandbox = await sandboxes.start(await catalog.get('own-cluster'), 'grace@example.com', { onProgress: (p) => progress.push(p) });
    expect(progress.map((p) => p.phase)).toEqual(['creating-namespace', 'starting-cluster', 'granting-access', 'starting-workbench', 'running-setup', 'ready']);
    expect(sandbox).toMatchObject({ labId: 'own-cluster', learnerId: 'grace@example.com', ready: true, dedicated: true });
    const kubeconfig = sandbox.kubeconfig as string;
    expect(kubeconfig.startsWith(join(lab.dir, 'dedicated', sandbox.namespace))).toBe(true);
    expect(await processesNaming(join(lab.dir, 'dedicated', sandbox.namespace))).toHaveLength(1);

    // The lab cluster holds only the record; the workbench and the setup are in the learner's cluster.
    const record = await lab.client.get(await lab.client.resolve('namespaces'), '', sandbox.namespace);
    expect(record?.metadata.labels).toMatchObject({ 'formicary.dev/lab': 'own-cluster', 'formicary.dev/cluster': 'dedicated', 'formicary.dev/ready': 'true' });
    expect(await lab.client.get(await lab.client.resolve('pods'), sandbox.namespace, 'workbench')).toBeNull();
    const own = new KubeConfig();
    own.loadFromFile(kubeconfig);
    const ownClient = new KubeClient(own);
    expect(await ownClient.get(await ownClient.resolve('configmaps'), sandbox.namespace, 'prepared')).not.toBeNull();
    expect(await ownClient.get(await ownClient.resolve('clusterroles.rbac.authorization.k8s.io'), '', 'node-reader')).not.toBeNull();

    // The learner's terminal: kubectl there is cluster-admin of their own cluster, and only of it.
    const target = { namespace: sandbox.namespace, pod: sandbox.workbench.pod, container: sandbox.workbench.container, kubeconfig };
    const typed = await typeInTerminal(target, `kubectl auth can-i '*' '*' --all-namespaces; kubectl cordon node-2; echo "END-$((40+2))"`, 'END-42');
    expect(typed).toContain('yes');
    expect(typed).toContain('node/node-2 cordoned');
    const nodes = await ownClient.resolve('nodes');
    expect((await ownClient.get(nodes, '', 'node-2'))?.spec?.['unschedulable']).toBe(true);
    expect((await lab.client.get(await lab.client.resolve('nodes'), '', 'node-2'))?.spec?.['unschedulable']).toBeUndefined();

    // The check reads the learner's cluster.
    const step = (await catalog.get('own-cluster')).steps[0]!;
    const results = await evaluateChecks(step.checks, { client: sandboxes.clientOf(sandbox.namespace), namespace: sandbox.namespace, workbench: sandbox.workbench });
    expect(results.map((result) => result.passed)).toEqual([true]);
    const onLabCluster = await evaluateChecks(step.checks, { client: sandboxes.client, namespace: sandbox.namespace, workbench: sandbox.workbench });
    expect(onLabCluster.map((result) => result.passed)).toEqual([false]);

    await sandboxes.end(sandbox.namespace);
    expect(await processesNaming(join(lab.dir, 'dedicated', sandbox.namespace))).toEqual([]);
    expect(existsSync(join(lab.dir, 'dedicated', sandbox.namespace))).toBe(false);
    expect(sandboxes.dedicatedClusters).toBe(0);
    expect(await sandboxes.get(sandbox.namespace)).toBeNull();
    await sandboxes.stop();
  }, 180_000);

  it('holds a hostile cluster-admin inside their cluster: a privileged pod with hostPID and the node’s / sees neither the portal’s data nor the host', async (context) => {
    // Only a DATA_DIR in a tree pods see (/usr, /etc, /opt) is worth aiming at; only root can make one.
    try {
      mkdirSync('/opt', { recursive: true });
      accessSync('/opt', constants.W_OK);
    } catch {
      context.skip('this user cannot write in /opt (rootless): no data dir can lie in a tree pods see');
    }
    // The portal's DATA_DIR, open to everyone: only the mask keeps the learners' pods out of it.
    const dataDir = await mkdtemp('/opt/formicary-dedicated-test-');
    await chmod(dataDir, 0o755);
    const secret = join(dataDir, 'formicary.db');
    await writeFile(secret, 'the portal database', { mode: 0o644 });
    const own = await startDedicatedClusters({ dir: join(dataDir, 'dedicated'), root: ROOT, hiddenPaths: [dataDir], limit: 1, log });
    const sandboxes = new Sandboxes({ kubeConfig: lab.kubeConfig, catalog, dedicatedClusters: own });
    const sandbox = await sandboxes.start(await catalog.get('own-cluster'), 'mallory@example.com');
    try {
      const attack = `kubectl apply -f - <<'YAML'
apiVersion: v1
kind: Pod
metadata:
  name: escape
  namespace: kube-system
spec:
  hostPID: true
  hostNetwork: true
  containers:
    - name: escape
      image: busybox:1.36
      command: [sleep, '3600']
      securityContext: { privileged: true, runAsUser: 0 }
      volumeMounts: [{ name: node, mountPath: /node }]
  volumes:
    - name: node
      hostPath: { path: / }
YAML
kubectl -n kube-system wait --for=condition=Ready pod/escape --timeout=90s`;
      const applied = await sandboxes.exec(sandbox.namespace, attack, { timeoutMs: 120_000 });
      expect(applied.exitCode, applied.stdout + applied.stderr).toBe(0);
      // The learner's own shell sees the host's /opt, but not the portal's data in it, nor its own cluster's credentials.
      const kubeconfig = join(dataDir, 'dedicated', sandbox.namespace, 'kubeconfig');
      const shell = await sandboxes.exec(sandbox.namespace, `ls /opt >/dev/null && echo opt-visible; cat ${secret} ${kubeconfig} 2>&1; ls -A ${dataDir} 2>&1`, { timeoutMs: 60_000 });
      expect(shell.stdout).toContain('opt-visible');
      expect(shell.stdout).not.toContain('the portal database');
      expect(shell.stdout).not.toContain('current-context');
      expect(shell.stdout).not.toContain('formicary.db\n');
      // The privileged pod's node root is the simulated node's, empty of the host.
      const look = await sandboxes.exec(sandbox.namespace, `kubectl -n kube-system exec escape -- sh -c 'cat ${secret} /node${secret} /node${kubeconfig} 2>&1; ls -A /node'`, { timeoutMs: 60_000 });
      expect(look.stdout).not.toContain('the portal database');
      expect(look.stdout).not.toContain('current-context');
      expect(look.stdout).toContain(`cat: can't open '${secret}': No such file or directory`);
      // The host's processes (this test runner, the clusters) are not in its process namespace.
      const processes = await sandboxes.exec(sandbox.namespace, `kubectl -n kube-system exec escape -- ps -o comm`, { timeoutMs: 60_000 });
      expect(new Set(processes.stdout.split('\n').map((line) => line.trim()).filter((line) => line && line !== 'COMMAND'))).toEqual(new Set(['sleep', 'ps']));
    } finally {
      await sandboxes.end(sandbox.namespace);
      await sandboxes.stop();
      await rm(dataDir, { recursive: true, force: true });
    }
  }, 180_000);

  it('refuses a second learner past DEDICATED_CLUSTER_LIMIT, and the reaper stops an expired one', async () => {
    let now = new Date();
    const sandboxes = new Sandboxes({ kubeConfig: lab.kubeConfig, catalog, dedicatedClusters: host, now: () => now });
    const first = await sandboxes.start(await catalog.get('own-cluster'), 'ada@example.com');
    const refused = await sandboxes.start(await catalog.get('own-cluster'), 'linus@example.com').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DedicatedClusterLimitError);
    expect((refused as Error).message).toBe(
      'Lab own-cluster needs a cluster of its own, and every one this portal can run is in use (at most 1 at once, DEDICATED_CLUSTER_LIMIT: each is a process); try again in a few minutes, or end a lab you no longer need.',
    );
    expect((await sandboxes.list({ learnerId: 'linus@example.com' })).length).toBe(0);

    now = new Date(now.getTime() + 31 * 60_000);
    expect(await sandboxes.reap()).toEqual([first.namespace]);
    expect(await processesNaming(join(lab.dir, 'dedicated', first.namespace))).toEqual([]);
    expect(existsSync(join(lab.dir, 'dedicated', first.namespace))).toBe(false);
    await sandboxes.stop();
  }, 180_000);

  it('is refused, naming the lab and why, where no cluster of the learner’s own can be started', async () => {
    const sandboxes = new Sandboxes({ kubeConfig: lab.kubeConfig, catalog });
    const refused = await sandboxes.start(await catalog.get('own-cluster'), 'ada@example.com').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(SandboxError);
    expect((refused as Error).message).toBe(
      "Lab own-cluster needs a cluster of its own (needs: cluster), and none can be started here: DEDICATED_CLUSTER_LIMIT is 0 (above 0, learners' own clusters are processes beside the portal with LAB_CLUSTER=embedded, pods in their sandboxes with LAB_CLUSTER=kubernetes).",
    );
    expect(await sandboxes.list({ learnerId: 'ada@example.com' })).toEqual([]);
  });

  it('starts a learner’s cluster again, with its objects, when the portal runs again on the same DATA_DIR; without its data the sandbox goes', async () => {
    const first = new Sandboxes({ kubeConfig: lab.kubeConfig, catalog, dedicatedClusters: host });
    const sandbox = await first.start(await catalog.get('own-cluster'), 'ada@example.com');
    expect((await first.exec(sandbox.namespace, 'kubectl create configmap kept --from-literal=work=mine')).exitCode).toBe(0);
    // The portal stops: the learner's cluster's process goes, its data stays.
    await first.stop();
    const dataDir = join(lab.dir, 'dedicated', sandbox.namespace);
    expect(await processesNaming(dataDir)).toEqual([]);
    expect(existsSync(dataDir)).toBe(true);

    // Started again on the same DATA_DIR: the same host; the reaper starts the cluster again.
    const again = new Sandboxes({ kubeConfig: lab.kubeConfig, catalog, dedicatedClusters: await startDedicatedClusters({ dir: join(lab.dir, 'dedicated'), root: ROOT, hiddenPaths: [lab.dir], limit: 1, log }) });
    expect((await again.get(sandbox.namespace))?.ready).toBe(false);
    expect(await again.reap()).toEqual([]);
    expect((await again.get(sandbox.namespace))?.ready).toBe(true);
    const kept = await again.exec(sandbox.namespace, 'kubectl get configmap kept -o jsonpath={.data.work}');
    expect([kept.exitCode, kept.stdout]).toEqual([0, 'mine']);
    await again.stop();

    // Its data lost (a machine wiped): nothing can be started again, and its record goes.
    await rm(dataDir, { recursive: true, force: true });
    const wiped = new Sandboxes({ kubeConfig: lab.kubeConfig, catalog, dedicatedClusters: await startDedicatedClusters({ dir: join(lab.dir, 'dedicated'), root: ROOT, hiddenPaths: [lab.dir], limit: 1, log }) });
    expect(await wiped.reap()).toEqual([sandbox.namespace]);
  }, 180_000);
});
