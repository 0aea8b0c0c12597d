// "Start lab" to the first prompt through the in-cluster path (LAB_CLUSTER=kubernetes), as on the
// company's Kubernetes: a `formicary cluster` process stands for that cluster, with deploy/base
// applied; the portal runs as in a pod (bubblewrap, the formicary-portal ServiceAccount's token,
// CA and namespace at /var/run/secrets/kubernetes.io/serviceaccount, KUBERNETES_SERVICE_HOST/PORT,
// no kubeconfig, `npm start`'s script), and Chromium clicks Start lab in a lesson until the
// terminal shows the workbench's prompt. Warm: the lab's SANDBOX_WARM_POOL full before each start;
// cold: no pool, so each start makes its sandbox.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import type { Browser } from 'playwright-core';
import { parse } from 'yaml';
import { PROJECT_ROOT } from '../src/server/main.ts';
import { launchBrowser, LESSON_LAB, poolFull, startToPrompt } from './browser.ts';
import { startClusterProcess } from './cluster-process.ts';
import { percentile, round } from './stats.ts';

const run = promisify(execFile);
const WARM_STARTS = 10;
const COLD_STARTS = 4;
const POOL = 2;

interface CompanyCluster {
  kubeconfigFile: string;
  /** The formicary-portal ServiceAccount as a pod mounts it: token, ca.crt, namespace. */
  account: string;
  server: URL;
}

/** deploy/base applied to the stand-in cluster, and a token of the portal's ServiceAccount. */
async function portalAccount(dir: string): Promise<CompanyCluster> {
  const kubeconfigFile = join(dir, 'kubeconfig');
  const kubectl = async (...args: string[]) => (await run('kubectl', ['--kubeconfig', kubeconfigFile, ...args], { timeout: 60_000, env: { ...process.env, HOME: dir } })).stdout;
  await kubectl('apply', '-k', join(PROJECT_ROOT, 'deploy', 'base'));
  // No portal pods on the stand-in: the portal under test runs beside it.
  await kubectl('-n', 'formicary', 'scale', 'deployment/formicary-portal', '--replicas=0');
  const token = (await kubectl('-n', 'formicary', 'create', 'token', 'formicary-portal', '--duration=2h')).trim();
  const admin = parse(await readFile(kubeconfigFile, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[] };
  const cluster = admin.clusters[0]?.cluster;
  if (!cluster) throw new Error(`${kubeconfigFile} names no cluster`);
  const account = join(dir, 'serviceaccount');
  await mkdir(account);
  await writeFile(join(account, 'token'), token);
  await writeFile(join(account, 'ca.crt'), Buffer.from(cluster['certificate-authority-data'], 'base64'));
  await writeFile(join(account, 'namespace'), 'formicary');
  return { kubeconfigFile, account, server: new URL(cluster.server) };
}

/** The portal as in a pod, with `npm start`'s script; resolves with its address once it listens. */
async function portalInPod(company: CompanyCluster, dataDir: string, pool: number): Promise<{ url: string; stop(): Promise<void> }> {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env['PATH'],
    HOME: dataDir,
    LAB_CLUSTER: 'kubernetes',
    KUBERNETES_SERVICE_HOST: company.server.hostname,
    KUBERNETES_SERVICE_PORT: company.server.port,
    DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: '0',
    AUTH: 'dev',
    SESSION_SECRET: 's'.repeat(32),
    LOG_LEVEL: process.env['BENCH_LOG_LEVEL'] ?? 'error',
    SANDBOX_WARM_POOL: pool > 0 ? `${LESSON_LAB}=${pool},default=0` : '0',
  };
  const child: ChildProcess = spawn(
    'bwrap',
    ['--dev-bind', '/', '/', '--tmpfs', '/run', '--ro-bind', company.account, '/run/secrets/kubernetes.io/serviceaccount', '--die-with-parent', process.execPath, join(PROJECT_ROOT, 'scripts', 'start.ts')],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the portal did not listen within 120 s')), 120_000);
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const address = /running at (http:\/\/\S+)/.exec(line)?.[1];
      if (!address) process.stderr.write(`portal: ${line}\n`);
      else {
        clearTimeout(timer);
        resolve(address.replace('localhost', '127.0.0.1'));
      }
    });
    child.once('exit', (code) => reject(new Error(`the portal exited with ${code}`)));
  });
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function starts(browser: Browser, company: CompanyCluster, kubeConfig: Parameters<typeof poolFull>[0], dir: string, pool: number, count: number): Promise<number[]> {
  const dataDir = await mkdtemp(join(dir, `portal-${pool}-`));
  await chmod(dataDir, 0o711);
  const portal = await portalInPod(company, dataDir, pool);
  try {
    // The first start pulls the workbench image onto the nodes; learners after it do not wait for that.
    await startToPrompt(browser, portal.url, `bench-warmup-${pool}`);
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      if (pool > 0) await poolFull(kubeConfig, LESSON_LAB, pool);
      samples.push(await startToPrompt(browser, portal.url, `bench-learner-${pool}-${i}`));
    }
    return samples;
  } finally {
    await portal.stop();
  }
}

export default async function bench(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'formicary-bench-in-cluster-'));
  await chmod(dir, 0o711);
  const cluster = await startClusterProcess(dir);
  const browser = await launchBrowser();
  try {
    const company = await portalAccount(dir);
    const warm = await starts(browser, company, cluster.kubeConfig, dir, POOL, WARM_STARTS);
    const cold = await starts(browser, company, cluster.kubeConfig, dir, 0, COLD_STARTS);
    return {
      in_cluster_start_to_prompt_ms_warm_p50: round(percentile(warm, 50), 0),
      in_cluster_start_to_prompt_ms_warm_p95: round(percentile(warm, 95), 0),
      in_cluster_start_to_prompt_ms_cold_p50: round(percentile(cold, 50), 0),
      in_cluster_start_to_prompt_ms_cold_max: round(Math.max(...cold), 0),
    };
  } finally {
    await browser.close();
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
