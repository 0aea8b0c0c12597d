// Kubelet figures (start delay 0): a 3-replica Deployment from create to Available; a keystroke to
// its echo through exec into a terminal; and the goal, 500 pods with networks on this
// machine: 5 nginx Deployments of 100 replicas, each pod a pod sandbox (pause process, namespaces,
// cgroup, identity) with its own pod IP on its node's bridge, its nginx listening there, and Ready
// through the kubelet's httpGet readiness and liveness probes. Reported: create → Ready for each
// pod (p50, p95) and for all 500; the cluster process's CPU and RSS at steady state; what its
// child processes hold (PSS: the pods' pause, user-namespace holder and forwarder processes, about
// five a pod, and the node network's agent); the keystroke echo while the 500 start and after.
// A sample of the pods is then fetched over the pod network from the terminal pod (busybox wget
// to the pod IP), so the figures are those of a network that answers. nginx without a command is
// the image's simulated server: the kubelet answers its probes from data (no connection per
// probe), as it answers its requests. Every wait has a deadline: a run that cannot get there
// fails with what it saw, never hangs. The load average is reported beside the figures: on a
// shared machine they move with it.
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { Exec, KubeConfig } from '@kubernetes/client-node';
import { startCluster } from '../src/cluster/index.ts';
import type { Registry, ResourceDefinition } from '../src/cluster/registry/index.ts';
import type { KubeObject } from '../src/cluster/types.ts';
import { percentile, round } from './stats.ts';

const LOAD_DEPLOYMENTS = 5;
const LOAD_REPLICAS = 100;
const LOAD_PODS = LOAD_DEPLOYMENTS * LOAD_REPLICAS;
const LOAD_READY_DEADLINE_MS = 5 * 60_000;
const STEADY_SETTLE_MS = 15_000;
const STEADY_WINDOW_MS = 30_000;
const NETWORK_SAMPLE = 25;

function deployment(name: string, replicas: number, probes: boolean): KubeObject {
  const probe = { httpGet: { path: '/', port: 80 } };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'web', image: 'nginx:1.27', ...(probes ? { readinessProbe: probe, livenessProbe: probe } : {}) }] },
      },
    },
  };
}

type PodStatus = { phase?: string; podIP?: string; conditions?: Array<{ type: string; status: string }> };
const statusOf = (pod: KubeObject) => (pod.status ?? {}) as PodStatus;
const isReady = (pod: KubeObject) => statusOf(pod).conditions?.some((c) => c.type === 'Ready' && c.status === 'True') === true;

function within<T>(ms: number, what: () => string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`kubelet bench: ${what()}`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function available(registry: Registry, def: ResourceDefinition, namespace: string, name: string, replicas: number): Promise<void> {
  return new Promise((resolve) => {
    const watch = registry.watch(def, { namespace, fieldSelector: `metadata.name=${name}` }, (event) => {
      const status = (event.object.status ?? {}) as { availableReplicas?: number; conditions?: Array<{ type: string; status: string }> };
      if (status.availableReplicas === replicas && status.conditions?.some((c) => c.type === 'Available' && c.status === 'True')) {
        watch.stop();
        resolve();
      }
    });
  });
}

/** How long each pod of the namespace took from its first sight to Ready; resolves once `count` are Ready. */
function readiness(registry: Registry, pods: ResourceDefinition, namespace: string, count: number): { done: Promise<number[]>; seen(): { pods: number; withIP: number; ready: number; sample: string } } {
  const firstSeen = new Map<string, number>();
  const readyAfter = new Map<string, number>();
  const last = new Map<string, KubeObject>();
  let finish: (samples: number[]) => void = () => {};
  const done = new Promise<number[]>((resolve) => (finish = resolve));
  const watch = registry.watch(pods, { namespace }, (event) => {
    if (event.type !== 'ADDED' && event.type !== 'MODIFIED') return;
    const uid = event.object.metadata.uid ?? '';
    const now = performance.now();
    if (!firstSeen.has(uid)) firstSeen.set(uid, now);
    last.set(uid, event.object);
    if (!readyAfter.has(uid) && isReady(event.object)) {
      readyAfter.set(uid, now - (firstSeen.get(uid) ?? now));
      if (readyAfter.size === count) {
        watch.stop();
        finish([...readyAfter.values()]);
      }
    }
  });
  return {
    done,
    seen() {
      const all = [...last.values()];
      const waiting = all.find((pod) => !isReady(pod));
      return {
        pods: all.length,
        withIP: all.filter((pod) => statusOf(pod).podIP).length,
        ready: readyAfter.size,
        sample: waiting ? `${waiting.metadata.name}: ${JSON.stringify(waiting.status)}` : 'none',
      };
    },
  };
}

async function openTerminal(kubeconfig: string, namespace: string, pod: string, command: string[]): Promise<{ send(text: string): void; output(): string; clear(): void; waitFor(marker: string, ms: number): Promise<void>; close(): void }> {
  const config = new KubeConfig();
  config.loadFromString(kubeconfig);
  const stdout = new PassThrough();
  const stdin = new PassThrough();
  let received = '';
  let waiter: (() => void) | undefined;
  stdout.on('data', (chunk: Buffer) => {
    received += chunk.toString();
    waiter?.();
  });
  const socket = await new Exec(config).exec(namespace, pod, 'shell', command, stdout, null, stdin, true, () => {});
  return {
    send: (text) => stdin.write(text),
    output: () => received,
    clear: () => (received = ''),
    waitFor: (marker, ms) =>
      within(
        ms,
        () => `no ${JSON.stringify(marker)} from the terminal within ${ms} ms (got ${JSON.stringify(received.slice(-200))})`,
        new Promise<void>((resolve) => {
          waiter = () => {
            if (received.includes(marker)) resolve();
          };
          waiter();
        }),
      ),
    close: () => socket.close(),
  };
}

/** Keystroke → echo times through exec into the terminal pod: `count` of them, or as many as come before `until` resolves. */
async function keystrokeEchoes(kubeconfig: string, namespace: string, pod: string, count: number, until?: Promise<unknown>): Promise<number[]> {
  const terminal = await openTerminal(kubeconfig, namespace, pod, ['sh', '-c', 'stty -icanon; exec cat']);
  await new Promise((resolve) => setTimeout(resolve, 500));
  let stop = false;
  void until?.finally(() => (stop = true));
  const samples: number[] = [];
  try {
    for (let i = 0; until ? !stop : i < count; i++) {
      const key = String.fromCharCode(97 + (i % 26));
      terminal.clear();
      const started = performance.now();
      const echoed = terminal.waitFor(key, 10_000);
      terminal.send(key);
      await echoed;
      samples.push(performance.now() - started);
      // While pods start, a learner types a few keys a second, not a flood.
      if (until) await new Promise((resolve) => setTimeout(resolve, 50));
    }
  } finally {
    terminal.close();
  }
  return samples;
}

/**
 * Fetches http://<ip>/ from inside the terminal pod for each address; throws unless every one
 * answered as nginx. No `wget -T`: Debian's busybox-static 1.35 (the busybox image's applets here)
 * crashes with it (SIGSEGV, also on the host); the terminal's deadline bounds the wait instead.
 */
async function answeringOverPodNetwork(kubeconfig: string, namespace: string, pod: string, ips: string[]): Promise<string[]> {
  const script = `for ip in ${ips.join(' ')}; do if wget -q -O - "http://$ip/" | grep -q 'Welcome to nginx'; then echo "ok $ip"; fi; done; echo fetched-all`;
  const terminal = await openTerminal(kubeconfig, namespace, pod, ['sh', '-c', script]);
  try {
    await terminal.waitFor('fetched-all', ips.length * 4_000 + 5_000);
  } finally {
    terminal.close();
  }
  const answered = [...terminal.output().matchAll(/ok (\S+)/g)].map((match) => match[1] ?? '');
  if (answered.length !== ips.length) throw new Error(`kubelet bench: ${ips.length - answered.length} of ${ips.length} sampled pods did not answer on their pod IP over the pod network: ${ips.filter((ip) => !answered.includes(ip)).join(' ')}; the terminal said ${JSON.stringify(terminal.output().slice(-400))}`);
  return answered;
}

/** Pids of the processes below `root` (the pods' pause, holder and forwarder processes, the node network's agent). */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(parent, [...(children.get(parent) ?? []), Number(entry)]);
    } catch {
      // Gone meanwhile.
    }
  }
  const found: number[] = [];
  const queue = [root];
  while (queue.length > 0) {
    for (const child of children.get(queue.pop() ?? -1) ?? []) {
      found.push(child);
      queue.push(child);
    }
  }
  return found;
}

/** Proportional set size of the processes, in MiB (shared pages split among their users). */
function pssMb(pids: number[]): number {
  let kb = 0;
  for (const pid of pids) {
    try {
      kb += Number(/^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // Gone meanwhile.
    }
  }
  return kb / 1024;
}

export default async function bench(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'formicary-bench-kubelet-'));
  // The sandbox user must pass through to the kubelet's folder.
  await chmod(dir, 0o711);
  const cluster = await startCluster({
    dataDir: join(dir, 'data'),
    nodes: 10,
    controllers: { nodes: { capacity: { pods: '250' } } },
    kubelet: { kubeletDir: join(dir, 'kubelet'), timing: { startDelayScale: 0 } },
  });
  try {
    const registry = cluster.registry;
    const deployments = registry.lookup('apps', 'v1', 'deployments') as ResourceDefinition;
    const namespaces = registry.lookup('', 'v1', 'namespaces') as ResourceDefinition;
    const pods = registry.lookup('', 'v1', 'pods') as ResourceDefinition;

    const singles: number[] = [];
    for (let i = 0; i < 10; i++) {
      const started = performance.now();
      const done = available(registry, deployments, 'default', `single-${i}`, 3);
      registry.create(deployments, 'default', deployment(`single-${i}`, 3, false));
      await within(60_000, () => `Deployment single-${i} not Available within 60 s`, done);
      singles.push(performance.now() - started);
    }

    registry.create(pods, 'default', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'terminal' },
      spec: { containers: [{ name: 'shell', image: 'busybox', command: ['sh', '-c', 'exec sleep 3600'] }] },
    });
    await within(
      60_000,
      () => `the terminal pod is not Running within 60 s: ${JSON.stringify(registry.get(pods, 'default', 'terminal').status)}`,
      (async () => {
        while (statusOf(registry.get(pods, 'default', 'terminal')).phase !== 'Running') await new Promise((resolve) => setTimeout(resolve, 50));
      })(),
    );
    const idleEchoes = await keystrokeEchoes(cluster.kubeconfig(), 'default', 'terminal', 300);

    registry.create(namespaces, undefined, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'load' } });
    const load = readiness(registry, pods, 'load', LOAD_PODS);
    const loadStarted = performance.now();
    for (let i = 0; i < LOAD_DEPLOYMENTS; i++) registry.create(deployments, 'load', deployment(`load-${i}`, LOAD_REPLICAS, true));
    const startingEchoes = keystrokeEchoes(cluster.kubeconfig(), 'default', 'terminal', 0, load.done);
    const readyAfter = await within(
      LOAD_READY_DEADLINE_MS,
      () => {
        const seen = load.seen();
        return `${LOAD_PODS} pods not Ready within ${LOAD_READY_DEADLINE_MS / 1000} s: ${seen.pods} created, ${seen.withIP} with a pod IP, ${seen.ready} Ready; one waiting: ${seen.sample}`;
      },
      load.done,
    );
    const allReadyMs = performance.now() - loadStarted;
    const echoesWhileStarting = await startingEchoes;
    const loadAtReady = loadavg()[0] ?? 0;
    const loadPods = registry.list(pods, { namespace: 'load' }).items;
    const ips = new Set(loadPods.map((pod) => statusOf(pod).podIP));
    if (ips.size !== LOAD_PODS || ips.has(undefined)) throw new Error(`kubelet bench: ${LOAD_PODS} Ready pods have ${ips.size} distinct pod IPs`);

    // Let start-up settle and the probes spread over their period.
    await new Promise((resolve) => setTimeout(resolve, STEADY_SETTLE_MS));
    const before = process.cpuUsage();
    const wallStarted = performance.now();
    await new Promise((resolve) => setTimeout(resolve, STEADY_WINDOW_MS));
    const used = process.cpuUsage(before);
    const cpuFraction = (used.user + used.system) / 1000 / (performance.now() - wallStarted);
    const loadAtSteady = loadavg()[0] ?? 0;
    (globalThis as { gc?: () => void }).gc?.();
    const rssMb = process.memoryUsage().rss / 1024 / 1024;
    const childProcesses = descendants(process.pid);
    const childProcessesMb = pssMb(childProcesses);
    const loadedEchoes = await keystrokeEchoes(cluster.kubeconfig(), 'default', 'terminal', 300);

    const sample = loadPods.filter((_, i) => i % Math.floor(LOAD_PODS / NETWORK_SAMPLE) === 0).map((pod) => statusOf(pod).podIP ?? '');
    const answered = await answeringOverPodNetwork(cluster.kubeconfig(), 'default', 'terminal', sample);

    return {
      deployment_available_ms: round(percentile(singles, 50)),
      exec_roundtrip_ms_p50: round(percentile(idleEchoes, 50)),
      exec_roundtrip_ms_p99: round(percentile(idleEchoes, 99)),
      pods_500_all_ready_s: round(allReadyMs / 1000),
      pods_500_ready_ms_p50: round(percentile(readyAfter, 50)),
      pods_500_ready_ms_p95: round(percentile(readyAfter, 95)),
      pods_500_loadavg_at_ready: round(loadAtReady),
      pods_500_starting_exec_roundtrip_ms_p50: round(percentile(echoesWhileStarting, 50)),
      pods_500_starting_exec_roundtrip_ms_p99: round(percentile(echoesWhileStarting, 99)),
      pods_500_steady_cluster_cpu_percent: round(cpuFraction * 100),
      pods_500_cluster_rss_mb: round(rssMb),
      pods_500_child_processes: childProcesses.length,
      pods_500_child_processes_pss_mb: round(childProcessesMb),
      pods_500_loadavg_at_steady: round(loadAtSteady),
      pods_500_exec_roundtrip_ms_p50: round(percentile(loadedEchoes, 50)),
      pods_500_exec_roundtrip_ms_p99: round(percentile(loadedEchoes, 99)),
      pods_500_sampled_answering_on_pod_ip: answered.length,
    };
  } finally {
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
