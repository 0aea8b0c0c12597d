// What the tutorial tests share: waiting for what the tutorial says to wait for (a Deployment
// settled, a StatefulSet's pods Ready), a client pod standing in for the learner's own machine
// (the tutorials curl a node's IP from their laptop; here nothing outside the cluster's network
// namespaces can reach a node, so the curl runs in a pod), and `kubectl proxy` as a second terminal.
import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import { type ConformanceCluster, type Sandbox, kubectlBinary } from '../conformance/harness.ts';
import { text } from '../conformance/output.ts';

export const KUBECTL = '1.33';

type Json = Record<string, any>;

export function podsOf(c: ConformanceCluster, s: Sandbox, label: string): Json[] {
  const [key = '', value] = label.split('=');
  return c.list('', 'v1', 'pods', s.namespace).filter((p) => p.metadata.labels?.[key] === value && !p.metadata.deletionTimestamp) as Json[];
}

export function isReady(pod: Json | undefined): boolean {
  return ((pod?.['status']?.conditions ?? []) as Json[]).some((condition) => condition['type'] === 'Ready' && condition['status'] === 'True');
}

/** A Deployment whose rollout is complete at `replicas`, and exactly that many pods of it left. */
export async function settled(c: ConformanceCluster, s: Sandbox, name: string, replicas: number): Promise<void> {
  await c.until(`deployment ${name} settled at ${replicas}`, () => {
    const d = c.get('apps', 'v1', 'deployments', s.namespace, name) as Json | undefined;
    const st = d?.['status'];
    return st && st.observedGeneration === d['metadata'].generation && (st.updatedReplicas ?? 0) === replicas && (st.availableReplicas ?? 0) === replicas && (st.replicas ?? 0) === replicas;
  });
  await c.until(`${replicas} pods of ${name}`, () => c.list('', 'v1', 'pods', s.namespace).filter((p) => p.metadata.name?.startsWith(`${name}-`)).length === replicas);
}

/** A long-running pod to type commands in, as the tutorials' "from within a pod". */
export async function clientPod(c: ConformanceCluster, s: Sandbox, name: string, image: string): Promise<void> {
  await s.must(['run', name, `--image=${image}`, '--restart=Never', '--command', '--', 'sleep', '3600']);
  await c.until(`${name} Ready`, () => isReady(c.get('', 'v1', 'pods', s.namespace, name) as Json | undefined));
}

/** `kubectl exec POD -- sh -c SCRIPT` with the tutorials' kubectl. */
export function inPod(s: Sandbox, pod: string, script: string) {
  return s.kubectl(KUBECTL, ['exec', pod, '--', 'sh', '-c', script], { timeoutMs: 60_000 });
}

export function nodeIPs(c: ConformanceCluster): string[] {
  return c.list('', 'v1', 'nodes').map((node) => ((node as Json)['status'].addresses as Json[]).find((a) => a['type'] === 'InternalIP')?.['address'] as string);
}

/** `kubectl proxy` in a second terminal: resolves with its address once it says it serves. */
export async function kubectlProxy(s: Sandbox): Promise<{ url: string; stop(): void }> {
  const child = spawn(kubectlBinary(KUBECTL), ['--kubeconfig', s.kubeconfig, 'proxy', '--port=0'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: s.dir } });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`kubectl proxy did not start: ${out}`)), 20_000);
    child.stdout.on('data', (chunk: Buffer) => {
      out += String(chunk);
      const serving = /Starting to serve on (127\.0\.0\.1:\d+)/.exec(out);
      if (serving) {
        clearTimeout(timer);
        resolve(`http://${serving[1]}`);
      }
    });
    child.once('exit', (code) => reject(new Error(`kubectl proxy exited (${code}): ${out}`)));
  });
  return { url, stop: () => child.kill('SIGINT') };
}

/** Lines of `kubectl get -w` in the order they came, as [name, ready, status]. */
export function watchRows(output: string): Array<[string, string, string]> {
  return output
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('NAME'))
    .map((line) => {
      const [name = '', ready = '', status = ''] = line.trim().split(/\s+/);
      return [name, ready, status];
    });
}

/** The index of the first row matching, failing the test with the whole watch when there is none. */
export function firstRow(rows: Array<[string, string, string]>, name: string, status: string, ready?: string): number {
  const at = rows.findIndex(([n, r, st]) => n === name && st === status && (ready === undefined || r === ready));
  expect(at, `${name} ${ready ?? ''} ${status} in:\n${rows.map((row) => row.join(' ')).join('\n')}`).toBeGreaterThanOrEqual(0);
  return at;
}

/** Asks again (kubectl, every 200 ms) until `check` answers, or fails naming `what`. */
export async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** `kubectl get ARGS -w` in a second terminal: what it printed so far, and a way to close it. */
export function watch(s: Sandbox, args: string[]): { output(): string; listed: Promise<void>; stop(): void } {
  const child = spawn(kubectlBinary(KUBECTL), ['--kubeconfig', s.kubeconfig, 'get', ...args, '-w'], { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: s.dir } });
  let out = '';
  const listed = new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      out += String(chunk);
      resolve();
    });
    // With nothing to list kubectl prints nothing until the first event.
    setTimeout(resolve, 1500);
  });
  return { output: () => out, listed, stop: () => child.kill('SIGINT') };
}

/** The page's run-my-nginx.yaml (Connecting Applications with Services), as a learner saves it. */
export const MY_NGINX = text`
  apiVersion: apps/v1
  kind: Deployment
  metadata:
    name: my-nginx
  spec:
    selector:
      matchLabels:
        run: my-nginx
    replicas: 2
    template:
      metadata:
        labels:
          run: my-nginx
      spec:
        containers:
        - name: my-nginx
          image: nginx
          ports:
          - containerPort: 80
`;
