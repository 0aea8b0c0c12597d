// The embedded cluster's memory while one learner stores as much as a sandbox allows: ConfigMaps
// and Secrets of about 1 MB until the quota or the namespace's storage budget refuses them, one
// ConfigMap rewritten 300 times (old versions for watches) while 20 watches of it never read,
// bodies past the request limit, and 30 LISTs of the full namespace at once. The cluster is
// `formicary cluster` in its own process, as the portal runs it (kubelet, controllers and one
// Node included), so what the clients here hold is not counted. Reported: its RSS before and
// after it all, and its peak RSS (the kernel's high-water mark, VmHWM). Run as root, as CI does
// (a normal user's `formicary cluster` runs rootless in a child of its own, which this does not follow).
// The goal is at most 512 MB for the whole cluster process.
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { Agent, request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { OBJECT_COUNTS } from '../src/server/sandboxes/index.ts';
import { startClusterProcess } from './cluster-process.ts';
import { round } from './stats.ts';

interface ClusterEndpoint {
  url: string;
  caPem: string;
}

interface Reply {
  status: number;
  body: string;
}

/** Requests as one user; `keep: false` throws the answer away as it arrives. */
function client(cluster: ClusterEndpoint, token: string, keepAlive = true) {
  const agent = new Agent({ ca: cluster.caPem, keepAlive });
  return (method: string, path: string, body?: unknown, keep = true): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const data = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request(
        `${cluster.url}${path}`,
        { method, agent, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...(data ? { 'content-length': data.length } : {}) } },
        (res) => {
          let text = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            if (keep) text += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        },
      );
      req.on('error', (error) => reject(Object.assign(error, { message: `${method} ${path}: ${error.message}` })));
      req.end(data);
    });
}

/** VmRSS or VmHWM of a process, in MB. */
function memoryMb(pid: number, field: 'VmRSS' | 'VmHWM'): number {
  const kilobytes = Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return round(kilobytes / 1024, 0);
}

export default async function apiserverMemoryBench(): Promise<Record<string, number>> {
  const dir = await mkdtemp(join(tmpdir(), 'formicary-bench-memory-'));
  const clusterProcess = await startClusterProcess(dir, ['--nodes', '1']);
  try {
    const kubeConfig = clusterProcess.kubeConfig;
    const cluster: ClusterEndpoint = { url: kubeConfig.getCurrentCluster()?.server ?? '', caPem: await readFile(join(dir, 'cluster', 'ca.crt'), 'utf8') };
    const admin = client(cluster, kubeConfig.getCurrentUser()?.token ?? '');
    const ns = 'lab-bench';
    await admin('POST', '/api/v1/namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } });
    await admin('POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'learner' } });
    await admin('POST', `/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name: 'learner-edit' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'edit' },
      subjects: [{ kind: 'ServiceAccount', name: 'learner', namespace: ns }],
    });
    await admin('POST', `/api/v1/namespaces/${ns}/resourcequotas`, { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: 'lab-budget' }, spec: { hard: { pods: '11', ...OBJECT_COUNTS } } });
    const issued = await admin('POST', `/api/v1/namespaces/${ns}/serviceaccounts/learner/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: {} });
    const token = (JSON.parse(issued.body) as { status: { token: string } }).status.token;
    const learner = client(cluster, token);
    // What the cluster settles at once its system pods run, before the learner starts.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const before = memoryMb(clusterProcess.pid, 'VmRSS');

    const blob = (i: number, bytes: number) => `${i}`.padEnd(bytes, 'x');
    let stored = 0;
    for (let i = 0; i < 200; i++) {
      const reply = await learner('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `cm-${i}` }, data: { blob: blob(i, 1_000_000) } });
      if (reply.status !== 201) break;
      stored++;
    }
    for (let i = 0; i < 200; i++) {
      const reply = await learner('POST', `/api/v1/namespaces/${ns}/secrets`, { apiVersion: 'v1', kind: 'Secret', metadata: { name: `secret-${i}` }, stringData: { blob: blob(i, 700_000) } });
      if (reply.status !== 201) break;
      stored++;
    }
    // Watches whose client never reads: what waits for them must stay bounded.
    const stalled: Agent[] = [];
    for (let i = 0; i < 20; i++) {
      const agent = new Agent({ ca: cluster.caPem });
      stalled.push(agent);
      // The cluster cuts such a watch off (its connection resets): expected, not a failure here.
      request(`${cluster.url}/api/v1/namespaces/${ns}/configmaps?watch=true`, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => res.pause())
        .on('error', () => undefined)
        .end();
    }
    // Room for one more after deleting one, then rewrite it again and again (an update never
    // creates a ConfigMap, as upstream: it is made again first).
    await learner('DELETE', `/api/v1/namespaces/${ns}/configmaps/cm-0`);
    await learner('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-0' }, data: { blob: blob(0, 1_000_000) } });
    let rewritten = 0;
    for (let i = 0; i < 300; i++) {
      const reply = await learner('PUT', `/api/v1/namespaces/${ns}/configmaps/cm-0`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm-0' }, data: { blob: blob(i, 1_000_000) } }, false);
      if (reply.status === 200) rewritten++;
    }
    // Refused with 413 unread, and the connection closed: a client still sending the rest may see
    // it reset first, and a connection kept for the next request may be the one closing.
    const oneShot = client(cluster, token, false);
    for (let i = 0; i < 20; i++) {
      await oneShot('POST', `/api/v1/namespaces/${ns}/configmaps`, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `huge-${i}` }, data: { blob: blob(i, 4 * 1024 * 1024) } }).catch(
        (error: NodeJS.ErrnoException) => {
          if (error.code !== 'ECONNRESET' && error.code !== 'EPIPE') throw error;
        },
      );
    }
    await Promise.all(Array.from({ length: 30 }, () => learner('GET', `/api/v1/namespaces/${ns}/configmaps`, undefined, false)));
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const rss = memoryMb(clusterProcess.pid, 'VmRSS');
    const peak = memoryMb(clusterProcess.pid, 'VmHWM');
    for (const agent of stalled) agent.destroy();
    return {
      apiserver_rss_mb_full_sandbox: rss,
      apiserver_peak_rss_mb_full_sandbox: peak,
      apiserver_rss_mb_before_full_sandbox: before,
      apiserver_objects_stored_full_sandbox: stored,
      apiserver_rewrites_full_sandbox: rewritten,
    };
  } finally {
    await clusterProcess.stop();
    await rm(dir, { recursive: true, force: true });
  }
}
