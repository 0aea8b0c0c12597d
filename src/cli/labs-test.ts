// `formicary labs test [ID…]`: every lab (or the ones named) in a fresh sandbox: setup, then per
// step the checks fail, the solution runs, the checks pass. By default on an embedded cluster
// started in-process in a temporary folder; `--kubeconfig FILE` or LAB_CLUSTER=kubernetes uses a
// real one. Prints a table and a summary line; exits 1 when any lab misbehaves.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import { LabCatalog } from '../labs/index.ts';
import { testLabs, type LabTestResult } from '../labs/self-test/index.ts';
import { startDedicatedClusters, type DedicatedClusters } from '../server/cluster/index.ts';
import { createLogger } from '../server/log.ts';
import { Sandboxes } from '../server/sandboxes/index.ts';

/** Where src/cli/main.ts is, to start learners' own clusters with. */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

const usage = `usage: formicary labs test [ID…] [--kubeconfig FILE] [--concurrency N] [--root DIR] [--unsafe-local-shell]
  ID               a lab (a folder of labs/); default: every lab
  --kubeconfig     test on the cluster of this kubeconfig (its current context) instead of an
                   embedded cluster started for the run; LAB_CLUSTER=kubernetes uses KUBECONFIG
  --concurrency    labs tested at once (default 2)
  --root           the project folder holding labs/ (default: the current folder)
  --unsafe-local-shell  embedded cluster without bubblewrap: workbench shells run unsandboxed
`;

interface Output {
  write(text: string): unknown;
}

interface Arguments {
  ids: string[];
  kubeconfig: string | null;
  concurrency: number;
  root: string;
  unsafeLocalShell: boolean;
}

function parse(args: readonly string[], env: NodeJS.ProcessEnv): Arguments | string {
  const parsed: Arguments = { ids: [], kubeconfig: null, concurrency: 2, root: process.cwd(), unsafeLocalShell: false };
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    const value = args[index + 1];
    if (arg === '--kubeconfig' || arg === '--concurrency' || arg === '--root') {
      if (value === undefined || value.startsWith('--')) return `${arg} needs a value`;
      index += 1;
      if (arg === '--kubeconfig') parsed.kubeconfig = resolve(value);
      else if (arg === '--root') parsed.root = resolve(value);
      else if (/^[1-9]\d*$/.test(value)) parsed.concurrency = Number(value);
      else return `--concurrency: "${value}" is not a positive whole number`;
    } else if (arg === '--unsafe-local-shell') {
      parsed.unsafeLocalShell = true;
    } else if (arg.startsWith('-')) {
      return `unknown option "${arg}"`;
    } else {
      parsed.ids.push(arg);
    }
  }
  if (parsed.kubeconfig === null && env['LAB_CLUSTER'] === 'kubernetes') {
    const fromEnv = env['KUBECONFIG'];
    if (!fromEnv) return 'LAB_CLUSTER=kubernetes needs KUBECONFIG (or pass --kubeconfig FILE)';
    parsed.kubeconfig = resolve(fromEnv.split(':')[0] as string);
  } else if (env['LAB_CLUSTER'] !== undefined && env['LAB_CLUSTER'] !== '' && !['embedded', 'kubernetes'].includes(env['LAB_CLUSTER'])) {
    return `LAB_CLUSTER: "${env['LAB_CLUSTER']}" is not one of embedded, kubernetes`;
  }
  return parsed;
}

function table(results: LabTestResult[]): string {
  const rows = results.map((result) => [
    result.labId,
    `${result.stepsPassed}/${result.steps}`,
    result.passed ? 'pass' : 'FAIL',
    result.seconds.toFixed(1),
    result.failure ? `${result.failure.step ? `step ${result.failure.step}, ` : ''}${result.failure.phase}: ${result.failure.message}` : '',
  ]);
  const header = ['LAB', 'STEPS', 'RESULT', 'SECONDS', 'FIRST FAILURE'];
  const widths = header.slice(0, 4).map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] as string).length)));
  const line = (cells: string[]) => cells.map((cell, column) => (column < 4 ? cell.padEnd(widths[column] as number) : cell)).join('  ').trimEnd();
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

export async function runLabsTest(
  args: readonly string[],
  output: { stdout: Output; stderr: Output } = { stdout: process.stdout, stderr: process.stderr },
  env: NodeJS.ProcessEnv = process.env,
): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    output.stdout.write(usage);
    return 0;
  }
  const parsed = parse(args, env);
  if (typeof parsed === 'string') {
    output.stderr.write(`formicary labs test: ${parsed}\n${usage}`);
    return 2;
  }
  const catalog = new LabCatalog(join(parsed.root, 'labs'));
  const known = await catalog.ids();
  const unknown = parsed.ids.filter((id) => !known.includes(id));
  if (unknown.length) {
    output.stderr.write(`formicary labs test: no lab ${unknown.map((id) => `"${id}"`).join(', ')} in ${join(parsed.root, 'labs')}; labs are ${known.join(', ') || '(none)'}\n`);
    return 2;
  }
  if (known.length === 0) {
    output.stderr.write(`formicary labs test: ${join(parsed.root, 'labs')} holds no labs\n`);
    return 2;
  }

  let stopCluster: (() => Promise<void>) | null = null;
  let dedicatedClusters: DedicatedClusters | undefined;
  const kubeConfig = new KubeConfig();
  if (parsed.kubeconfig) {
    try {
      kubeConfig.loadFromFile(parsed.kubeconfig);
    } catch (error) {
      output.stderr.write(`formicary labs test: --kubeconfig ${parsed.kubeconfig}: ${(error as Error).message}\n`);
      return 2;
    }
    output.stderr.write(`labs test: using ${kubeConfig.getCurrentCluster()?.server ?? 'the cluster'} (context ${kubeConfig.getCurrentContext()})\n`);
  } else {
    const dir = await mkdtemp(join(tmpdir(), 'formicary-labs-test-'));
    // The sandboxed shells' user must pass through to the kubelet's folder (never into the data dir).
    await chmod(dir, 0o711);
    const { rootlessLaunch, runRootless, startCluster } = await import('../cluster/index.ts');
    // As a normal user, the whole run goes into a user namespace of its own (see formicary cluster).
    if (process.getuid?.() !== 0 && !parsed.unsafeLocalShell) {
      const launch = rootlessLaunch([process.execPath, ...process.execArgv, ...process.argv.slice(1)]);
      if ('command' in launch) {
        await rm(dir, { recursive: true, force: true });
        return runRootless(launch, 'formicary labs test');
      }
    }
    // Start-up delays as learners get them: a lab that passes here passes for them.
    const cluster = await startCluster({ dataDir: join(dir, 'cluster'), port: 0, kubelet: { kubeletDir: join(dir, 'kubelet'), unsafeLocalShell: parsed.unsafeLocalShell } });
    const sandbox = cluster.kubelet?.sandbox;
    if (sandbox?.mode === 'unavailable') {
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
      output.stderr.write(`formicary labs test: the embedded cluster cannot run workbench shells: ${sandbox.reason}\n`);
      return 2;
    }
    kubeConfig.loadFromString(cluster.kubeconfig());
    // Labs with needs: cluster get clusters of their own, processes as in the portal, in the run's folder.
    dedicatedClusters = await startDedicatedClusters({
      dir: join(dir, 'dedicated'),
      root: PROJECT_ROOT,
      hiddenPaths: [dir],
      limit: parsed.concurrency,
      log: createLogger({ level: 'silent' }),
      unsafeLocalShell: parsed.unsafeLocalShell,
      readyTimeoutMs: 120_000,
    });
    stopCluster = async () => {
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    };
    output.stderr.write(`labs test: embedded cluster at ${cluster.url}\n`);
  }

  // On a real cluster a lab with needs: cluster gets its cluster as a pod of the portal image, as in the portal.
  const ownClusters = dedicatedClusters ? { dedicatedClusters } : { podClusters: { limit: parsed.concurrency, ...(env['DEDICATED_CLUSTER_IMAGE'] ? { image: env['DEDICATED_CLUSTER_IMAGE'] } : {}) } };
  const sandboxes = new Sandboxes({ kubeConfig, catalog, warmPool: 0, workbenchReadyTimeoutMs: 120_000, ...ownClusters });
  try {
    const results = await testLabs({
      sandboxes,
      catalog,
      labIds: parsed.ids,
      concurrency: parsed.concurrency,
      onEvent(event) {
        if (event.type === 'lab-finished') output.stderr.write(`labs test: ${event.result.labId} ${event.result.passed ? 'passed' : 'FAILED'} in ${event.result.seconds.toFixed(1)} s\n`);
      },
    });
    output.stdout.write(table(results));
    const failed = results.filter((result) => !result.passed).length;
    output.stdout.write(`labs test: ${results.length} lab${results.length === 1 ? '' : 's'}, ${results.length - failed} passed, ${failed} failed\n`);
    return failed ? 1 : 0;
  } finally {
    await sandboxes.stop();
    await stopCluster?.();
  }
}
