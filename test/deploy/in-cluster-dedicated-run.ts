// A lab with `needs: cluster` run as the portal runs it in a pod (LAB_CLUSTER=kubernetes, the
// service account's token and CA, no kubeconfig): the learner's own cluster is a pod of the portal
// image running `formicary cluster` in the sandbox namespace. test/deploy/in-cluster.test.ts runs
// this inside bubblewrap as it runs in-cluster-run.ts, and prints one JSON line of what happened.
// Usage: node in-cluster-dedicated-run.ts LABS_DIR LAB STEP COMMAND
import { evaluateChecks, LabCatalog } from '../../src/labs/index.ts';
import { connectKubernetes } from '../../src/server/cluster/kubernetes.ts';
import { Sandboxes } from '../../src/server/sandboxes/index.ts';
import { execShells } from '../../src/server/terminals/index.ts';

const [labsDir, labId, stepId, command] = process.argv.slice(2);
if (!labsDir || !labId || !stepId || !command) throw new Error('usage: in-cluster-dedicated-run.ts LABS_DIR LAB STEP COMMAND');

const kubeConfig = connectKubernetes(null).loadKubeConfig();
const catalog = new LabCatalog(labsDir);
const sandboxes = new Sandboxes({ kubeConfig, catalog, podClusters: { limit: 2 } });
const lab = await catalog.get(labId);
const sandbox = await sandboxes.start(lab, 'ada@example.com');

// The learner's terminal: the workbench on the lab cluster, as the portal's terminal bridge opens it.
let screen = '';
let exited = false;
const shell = await execShells(() => kubeConfig)({ namespace: sandbox.namespace, pod: sandbox.workbench.pod, container: sandbox.workbench.container }, { cols: 200, rows: 50 }, {
  output: (text) => (screen += text),
  exit: () => (exited = true),
});
shell.write(`${command}; echo TERMINAL-DONE-$?\r`);
const deadline = Date.now() + 60_000;
while (!/TERMINAL-DONE-\d/.test(screen) && !exited && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
shell.close();

const step = lab.steps.find((candidate) => candidate.id === stepId);
if (!step) throw new Error(`lab ${labId} has no step ${stepId}`);
const results = await evaluateChecks(
  step.checks,
  { client: await sandboxes.clusterClient(sandbox.namespace), namespace: sandbox.namespace, workbench: sandbox.workbench, customChecksFile: lab.customChecksFile },
  { maxWaitMs: 10_000 },
);
await sandboxes.end(sandbox.namespace);
await sandboxes.stop();

process.stdout.write(
  `${JSON.stringify({
    sandbox: sandbox.namespace,
    dedicated: sandbox.dedicated,
    terminal: /TERMINAL-DONE-0/.test(screen),
    screen: screen.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Z0-9]|\x1b[=>]|\r/g, ''),
    checks: results.map((result) => result.passed),
    ended: (await sandboxes.get(sandbox.namespace)) === null,
  })}\n`,
);
process.exit(0);
