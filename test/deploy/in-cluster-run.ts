// What the portal does with a lab, run as the portal runs in a pod: LAB_CLUSTER=kubernetes with no
// KUBECONFIG (the portal's own connectKubernetes, so client-node's loadFromCluster reads the
// service-account token, CA and namespace where a pod has them, and KUBERNETES_SERVICE_HOST/PORT),
// then the portal's sandboxes, terminal shell, checks and reaper. test/deploy/in-cluster.test.ts
// runs this inside bubblewrap with the token files mounted at /var/run/secrets/…, and prints one
// JSON line of what happened. Usage: node in-cluster-run.ts LABS_DIR LAB STEP COMMAND
import { evaluateChecks, LabCatalog } from '../../src/labs/index.ts';
import { KubeClient } from '../../src/labs/kube/index.ts';
import { connectKubernetes } from '../../src/server/cluster/kubernetes.ts';
import { Sandboxes } from '../../src/server/sandboxes/index.ts';
import { execShells } from '../../src/server/terminals/index.ts';

const [labsDir, labId, stepId, command] = process.argv.slice(2);
if (!labsDir || !labId || !stepId || !command) throw new Error('usage: in-cluster-run.ts LABS_DIR LAB STEP COMMAND');

const cluster = connectKubernetes(null);
const kubeConfig = cluster.loadKubeConfig();
const namespace = kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace ?? 'default';
const catalog = new LabCatalog(labsDir);
const sandboxes = new Sandboxes({ kubeConfig, catalog, leaderLease: { namespace, identity: 'portal-in-pod' } });

const leads = await sandboxes.leader?.tryAcquireOrRenew();
const sandbox = await sandboxes.start(await catalog.get(labId), 'ada@example.com');

// The learner's terminal: the shell the portal's terminal bridge opens, typed into.
let screen = '';
let exited = false;
const shell = await execShells(() => kubeConfig)({ namespace: sandbox.namespace, pod: sandbox.workbench.pod, container: sandbox.workbench.container }, { cols: 120, rows: 30 }, {
  output: (text) => (screen += text),
  exit: () => (exited = true),
});
shell.write(`${command}; echo TERMINAL-DONE-$?\r`);
const deadline = Date.now() + 60_000;
while (!/TERMINAL-DONE-\d/.test(screen) && !exited && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
shell.close();

const lab = await catalog.get(labId);
const step = lab.steps.find((candidate) => candidate.id === stepId);
if (!step) throw new Error(`lab ${labId} has no step ${stepId}`);
const results = await evaluateChecks(
  step.checks,
  { client: new KubeClient(kubeConfig), namespace: sandbox.namespace, workbench: sandbox.workbench, customChecksFile: lab.customChecksFile },
  { maxWaitMs: 10_000 },
);
await sandboxes.end(sandbox.namespace);

// The reaper, an hour on, takes a sandbox nobody ended.
const left = await sandboxes.start(await catalog.get(labId), 'grace@example.com');
const later = new Sandboxes({ kubeConfig, catalog, now: () => new Date(Date.now() + 60 * 60_000) });
const reaped = await later.reap();
// The leader renews its Lease (every 2 s in the portal), then hands it on as it stops.
const renews = await sandboxes.leader?.tryAcquireOrRenew();
await sandboxes.stop();

process.stdout.write(
  `${JSON.stringify({
    server: kubeConfig.getCurrentCluster()?.server,
    namespace,
    leads,
    renews,
    sandbox: sandbox.namespace,
    terminal: /TERMINAL-DONE-0/.test(screen),
    checks: results.map((result) => result.passed),
    ended: (await sandboxes.get(sandbox.namespace)) === null,
    reaped: reaped.includes(left.namespace),
  })}\n`,
);
process.exit(0);
