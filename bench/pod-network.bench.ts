// Pod network figures (start delay 0): a pod from create to Ready with its network namespace on
// the bridge and its pod IP; a cluster DNS lookup from inside a pod; a TCP round trip through a
// Service's cluster IP from one pod to another. The probes run in the pods' network namespaces
// (nsenter into a pod's process), so they measure the network, not kubectl exec.
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCluster } from '../src/cluster/index.ts';
import type { Registry, ResourceDefinition } from '../src/cluster/registry/index.ts';
import type { KubeObject } from '../src/cluster/types.ts';
import { percentile } from './stats.ts';

const PODS = 40;
const LOOKUPS = 1000;
const ROUND_TRIPS = 2000;

function ready(registry: Registry, pods: ResourceDefinition, name: string): Promise<void> {
  return new Promise((resolve) => {
    const watch = registry.watch(pods, { namespace: 'default', fieldSelector: `metadata.name=${name}` }, (event) => {
      const status = (event.object.status ?? {}) as { podIP?: string; conditions?: Array<{ type: string; status: string }> };
      if (status.podIP && status.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) {
        watch.stop();
        resolve();
      }
    });
  });
}

function shellPod(name: string, marker: string, labels: Record<string, string> = {}): KubeObject {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'shell', image: 'busybox', command: ['sleep', marker] }] } };
}

/** The host pid of the process whose command line is `sleep <marker>` (a pod's container). */
async function pidOf(marker: string): Promise<number> {
  for (let tries = 0; tries < 400; tries++) {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        if (readFileSync(`/proc/${entry}/cmdline`, 'utf8') === `sleep\0${marker}\0`) return Number(entry);
      } catch {
        // Gone meanwhile.
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`no process sleep ${marker}`);
}

/** Runs a Node script inside the network namespace of `pid`; resolves with its last stdout line. */
function inPodNetwork(pid: number, script: string): { child: ChildProcess; output: Promise<string> } {
  const child = spawn('nsenter', [`--net=/proc/${pid}/ns/net`, '--', process.execPath, '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout?.on('data', (data: Buffer) => (out += data.toString('utf8')));
  const output = new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => (code === 0 || code === null ? resolve(out.trim().split('\n').at(-1) ?? '') : reject(new Error(`probe exited ${code}: ${out}`))));
  });
  return { child, output };
}

const dnsProbe = `
import { createSocket } from 'node:dgram';
const name = 'echo.default.svc.cluster.local';
const question = Buffer.concat([...name.split('.').map((l) => Buffer.concat([Buffer.from([l.length]), Buffer.from(l)])), Buffer.from([0, 0, 1, 0, 1])]);
const socket = createSocket('udp4');
const samples = [];
let id = 0;
const ask = () => new Promise((resolve) => {
  const head = Buffer.alloc(12); head.writeUInt16BE(++id & 0xffff, 0); head.writeUInt16BE(0x0100, 2); head.writeUInt16BE(1, 4);
  const started = performance.now();
  socket.once('message', () => { samples.push(performance.now() - started); resolve(); });
  socket.send(Buffer.concat([head, question]), 53, '10.96.0.10');
});
for (let i = 0; i < ${LOOKUPS}; i++) await ask();
socket.close();
console.log(JSON.stringify(samples));
`;

const echoServer = `
import { createServer } from 'node:net';
createServer((socket) => socket.pipe(socket)).listen(7000, '0.0.0.0', () => console.log('listening'));
`;

const tcpProbe = (ip: string) => `
import { connect } from 'node:net';
const socket = connect(7000, '${ip}');
await new Promise((resolve) => socket.once('connect', resolve));
socket.setNoDelay(true);
const samples = [];
for (let i = 0; i < ${ROUND_TRIPS}; i++) {
  const started = performance.now();
  await new Promise((resolve) => { socket.once('data', resolve); socket.write('x'); });
  samples.push(performance.now() - started);
}
socket.destroy();
console.log(JSON.stringify(samples));
`;

export default async function bench(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'formicary-bench-podnet-'));
  await chmod(dir, 0o711);
  const cluster = await startCluster({ dataDir: join(dir, 'data'), nodes: 2, kubelet: { kubeletDir: join(dir, 'kubelet'), timing: { startDelayScale: 0 } } });
  const probes: ChildProcess[] = [];
  try {
    const registry = cluster.registry;
    const pods = registry.lookup('', 'v1', 'pods') as ResourceDefinition;
    const services = registry.lookup('', 'v1', 'services') as ResourceDefinition;
    const endpoints = registry.lookup('', 'v1', 'endpoints') as ResourceDefinition;

    // The first pod starts the node network; the figures are for pods after it.
    registry.create(pods, 'default', shellPod('server', '3601', { app: 'echo' }));
    registry.create(pods, 'default', shellPod('client', '3602'));
    await Promise.all([ready(registry, pods, 'server'), ready(registry, pods, 'client')]);

    const creates: number[] = [];
    for (let i = 0; i < PODS; i++) {
      const started = performance.now();
      const done = ready(registry, pods, `web-${i}`);
      registry.create(pods, 'default', { apiVersion: 'v1', kind: 'Pod', metadata: { name: `web-${i}` }, spec: { containers: [{ name: 'web', image: 'nginx:1.27' }] } });
      await done;
      creates.push(performance.now() - started);
    }

    const server = inPodNetwork(await pidOf('3601'), echoServer);
    probes.push(server.child);
    await new Promise<void>((resolve) => server.child.stdout?.once('data', () => resolve()));
    registry.create(services, 'default', { apiVersion: 'v1', kind: 'Service', metadata: { name: 'echo' }, spec: { selector: { app: 'echo' }, ports: [{ port: 7000 }] } });
    for (let tries = 0; tries < 200; tries++) {
      const found = registry.list(endpoints, { namespace: 'default', fieldSelector: 'metadata.name=echo' }).items[0] as { subsets?: unknown[] } | undefined;
      if (found?.subsets && found.subsets.length > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    // kube-proxy's rules follow the Endpoints on the next sync.
    await new Promise((resolve) => setTimeout(resolve, 200));
    const clusterIP = String((registry.get(services, 'default', 'echo').spec as { clusterIP: string }).clusterIP);
    const clientPid = await pidOf('3602');
    const lookups = JSON.parse(await inPodNetwork(clientPid, dnsProbe).output) as number[];
    const trips = JSON.parse(await inPodNetwork(clientPid, tcpProbe(clusterIP)).output) as number[];
    return {
      pod_network_create_to_ready_ms_p95: percentile(creates, 95),
      pod_network_create_to_ready_ms_p50: percentile(creates, 50),
      cluster_dns_lookup_ms_p95: percentile(lookups, 95),
      service_tcp_round_trip_ms_p95: percentile(trips, 95),
    };
  } finally {
    for (const probe of probes) probe.kill('SIGKILL');
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
