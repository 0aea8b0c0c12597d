// A sandbox made by the real provisioner for a lab written by the test, and kubectl run with the
// sandbox's own ServiceAccount token (what a learner's terminal holds), any installed version.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { LabCatalog } from '../../src/labs/index.ts';
import { Sandboxes, type Sandbox } from '../../src/server/sandboxes/index.ts';
import { kubectlBinary } from '../cluster/apiserver/harness.ts';
import { startTestCluster, type TestCluster } from '../labs/cluster.ts';
import { writeLab } from '../labs/fixtures.ts';

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Learner {
  sandbox: Sandbox;
  namespace: string;
  /** system:serviceaccount:<namespace>:learner */
  username: string;
  /** Go's %q of the learner's groups, as escalation messages print them. */
  groupsText: string;
  /** A kubeconfig holding the learner's token, for clients other than kubectl. */
  kubeconfig: string;
  kubectl(args: string[], options?: { version?: string; stdin?: string }): Promise<KubectlResult>;
}

export interface SecurityFixture {
  cluster: TestCluster;
  catalog: LabCatalog;
  sandboxes: Sandboxes;
  /** kubectl as the cluster admin. */
  admin(args: string[], options?: { stdin?: string }): Promise<KubectlResult>;
  /** A fresh sandbox of a lab (lab.yaml text, extra files) for a new learner. */
  learner(labId: string): Promise<Learner>;
  stop(): Promise<void>;
}

const run = promisify(execFile);

async function kubectl(binary: string, kubeconfig: string, home: string, args: string[], stdin?: string): Promise<KubectlResult> {
  return new Promise((resolve) => {
    // Never a sync spawn: the API server answering kubectl runs on this same event loop.
    const child = execFile(binary, ['--kubeconfig', kubeconfig, ...args], { timeout: 30_000, env: { ...process.env, HOME: home, KUBECONFIG: '' } }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
    if (stdin !== undefined) child.stdin?.end(stdin);
  });
}

export async function startSecurityFixture(labs: Record<string, Record<string, string>>): Promise<SecurityFixture> {
  const cluster = await startTestCluster();
  const labsDir = join(cluster.dir, 'labs');
  for (const [id, files] of Object.entries(labs)) await writeLab(labsDir, id, files);
  const catalog = new LabCatalog(labsDir);
  const sandboxes = new Sandboxes({ kubeConfig: cluster.kubeConfig, catalog });
  const adminConfig = join(cluster.dir, 'admin.kubeconfig');
  await cluster.cluster.writeKubeconfig(adminConfig);
  let learners = 0;
  const admin = (args: string[], options: { stdin?: string } = {}) => kubectl(kubectlBinary(), adminConfig, cluster.dir, args, options.stdin);
  return {
    cluster,
    catalog,
    sandboxes,
    admin,
    async learner(labId) {
      const sandbox = await sandboxes.start(await catalog.get(labId), `learner-${++learners}@example.com`);
      const namespace = sandbox.namespace;
      const token = (await run(kubectlBinary(), ['--kubeconfig', adminConfig, 'create', 'token', 'learner', '-n', namespace], { env: { ...process.env, HOME: cluster.dir } })).stdout.trim();
      const kubeconfig = join(cluster.dir, `${namespace}.kubeconfig`);
      await cluster.cluster.writeKubeconfig(kubeconfig, { token, namespace });
      const groups = ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'];
      return {
        sandbox,
        namespace,
        username: `system:serviceaccount:${namespace}:learner`,
        groupsText: `[${groups.map((g) => JSON.stringify(g)).join(' ')}]`,
        kubeconfig,
        kubectl: (args, options = {}) => kubectl(kubectlBinary(options.version), kubeconfig, join(cluster.dir, `home-${namespace}-${options.version ?? 'installed'}`), args, options.stdin),
      };
    },
    stop: () => cluster.stop(),
  };
}
