// kubectl top against the resource metrics API: metrics-server's windows over the kubelet's
// cgroup counters (a real busy loop) and simulated servers, the tables kubectl prints, its
// messages before the first window, sorting and selectors, the raw API, and who may read it.
import { availableParallelism } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { containerStatus, type KubeletCluster, phase, startKubeletCluster, versionedKubectl } from '../kubelet/harness.ts';

let lab: KubeletCluster;
const ns = 'observe-top';

const pods = `apiVersion: v1
kind: Pod
metadata: {name: burner, labels: {app: burner}}
spec:
  containers:
  - name: loop
    image: busybox
    command: [sh, -c, 'while :; do :; done']
    resources: {limits: {cpu: 300m, memory: 64Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}, annotations: {formicary.dev/simulate-cpu: 20m, formicary.dev/simulate-memory: 300Mi}}
spec:
  containers:
  - {name: nginx, image: 'nginx:1.27'}
  - {name: sidecar, image: busybox, command: [sh, -c, 'exec sleep 3600']}
`;

/** kubectl's table as rows of cells (its columns are separated by runs of spaces). */
function rows(stdout: string): string[][] {
  return stdout
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s{2,}|\s+(?=\S)/));
}

/** A CPU quantity as metrics-server writes it ("300m", "301234567n", "27u") in millicores. */
function millicores(quantity: string): number {
  const match = /^(\d+)(n|u|m)?$/.exec(quantity);
  if (!match) throw new Error(`not a CPU quantity: ${quantity}`);
  const perMillicore = match[2] === 'n' ? 1e6 : match[2] === 'u' ? 1e3 : match[2] === 'm' ? 1 : 1e-3;
  return Number(match[1]) / perMillicore;
}

/** A window as Go's time.Duration prints it ("300ms", "0.3s", "1.25s") in milliseconds. */
function durationMs(duration: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s)$/.exec(duration);
  if (!match) throw new Error(`not a window: ${duration}`);
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}

beforeAll(async () => {
  lab = await startKubeletCluster();
  await lab.kubectl(['create', 'namespace', ns]);
  await lab.apply(pods, ns);
  await lab.until('both pods Running', () => phase(lab.pod(ns, 'burner')) === 'Running' && phase(lab.pod(ns, 'web')) === 'Running');
  // The first window needs two scrapes; the busy loop needs a window in which it ran.
  await lab.until('metrics for both', () => lab.cluster.kubelet?.podMetrics(ns, 'burner') && lab.cluster.kubelet.podMetrics(ns, 'web') && lab.cluster.kubelet.nodeMetrics('node-1'));
}, 120_000);

afterAll(async () => {
  await lab?.stop();
});

describe('kubectl top pod', () => {
  it.each(['1.27', '1.33'])('prints each pod once with its CPU and memory (kubectl %s)', async (version) => {
    const result = await lab.kubectl(['top', 'pod', '-n', ns], { binary: versionedKubectl(version) });
    expect(result.stderr).toBe('');
    const [header, ...body] = rows(result.stdout);
    expect(header).toEqual(['NAME', 'CPU(cores)', 'MEMORY(bytes)']);
    expect(body.map((row) => row[0]).sort()).toEqual(['burner', 'web']);
    const web = body.find((row) => row[0] === 'web');
    // The simulated server's annotation plus the sidecar's sleep (a real process, next to nothing).
    expect(Number(web?.[1]?.replace('m', ''))).toBeGreaterThanOrEqual(20);
    expect(Number(web?.[2]?.replace('Mi', ''))).toBeGreaterThanOrEqual(300);
  });

  it('measures a busy loop from its cgroup, bounded by its CPU limit', async () => {
    // The raw answer is what kubectl top prints, with the window it was measured over.
    const raw = JSON.parse((await lab.kubectl(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods/burner`])).stdout);
    const cpu = millicores(raw.containers[0].usage.cpu);
    const windowMs = durationMs(raw.window);
    expect(cpu).toBeGreaterThan(50);
    // The kernel enforces 300m as 30 ms of CPU in every 100 ms period (cpu.max), spent whenever the
    // loop gets a CPU in it. A window of W ms meets at most ceil(W/100)+1 periods, those at its ends
    // in part (466 ms starting late in a period: 4 whole ones and a part at each end, 6), and on a
    // loaded machine each end can hold a whole period's 30 ms (300 ms: 4 periods, 120 ms, 400m; CI
    // read 395m over 466 ms, which 6 periods allow and 5 do not). The kernel also hands quota to a
    // CPU in 5 ms slices (sched_cfs_bandwidth_slice_us), and what a CPU has left carries into the
    // next period. metrics-server's 15 s windows allow 304m by the same count; this cluster's are 50
    // times shorter. A loop without a limit uses a free core: 1000m.
    const periods = Math.ceil(windowMs / 100) + 1;
    expect(cpu).toBeLessThanOrEqual(((periods * 30 + 5) / windowMs) * 1000);
  });

  it('sorts by CPU or memory, largest first', async () => {
    const byCpu = rows((await lab.kubectl(['top', 'pod', '-n', ns, '--sort-by=cpu', '--no-headers'])).stdout).map((row) => row[0]);
    expect(byCpu).toEqual(['burner', 'web']);
    const byMemory = rows((await lab.kubectl(['top', 'pod', '-n', ns, '--sort-by=memory', '--no-headers'])).stdout).map((row) => row[0]);
    expect(byMemory).toEqual(['web', 'burner']);
    const wrong = await lab.kubectl(['top', 'pod', '-n', ns, '--sort-by=disk']);
    expect(wrong.stderr.trim()).toBe('error: --sort-by accepts only cpu or memory');
  });

  it('shows containers with --containers, namespaces with -A, and filters with -l', async () => {
    const containers = rows((await lab.kubectl(['top', 'pod', 'web', '-n', ns, '--containers'])).stdout);
    expect(containers[0]).toEqual(['POD', 'NAME', 'CPU(cores)', 'MEMORY(bytes)']);
    expect(containers.slice(1).map((row) => `${row[0]}/${row[1]}`)).toEqual(['web/nginx', 'web/sidecar']);
    const all = rows((await lab.kubectl(['top', 'pod', '-A'])).stdout);
    expect(all[0]).toEqual(['NAMESPACE', 'NAME', 'CPU(cores)', 'MEMORY(bytes)']);
    expect(all.filter((row) => row[0] === ns).map((row) => row[1])).toEqual(['burner', 'web']);
    const selected = rows((await lab.kubectl(['top', 'pod', '-n', ns, '-l', 'app=web', '--no-headers'])).stdout);
    expect(selected.map((row) => row[0])).toEqual(['web']);
  });

  it('says metrics are not available yet for a pod that has just been created', async () => {
    await lab.kubectl(['create', 'namespace', 'observe-young']);
    // Never scheduled: it stays young and without a window.
    await lab.apply(`apiVersion: v1\nkind: Pod\nmetadata: {name: waiting}\nspec:\n  nodeSelector: {disk: none}\n  containers:\n  - {name: app, image: nginx}\n`, 'observe-young');
    const list = await lab.kubectl(['top', 'pod', '-n', 'observe-young']);
    expect(list.code).toBe(1);
    expect(list.stderr.trim()).toBe('error: metrics not available yet');
    const named = await lab.kubectl(['top', 'pod', 'waiting', '-n', 'observe-young']);
    expect(named.stderr.trim()).toBe('Error from server (NotFound): podmetrics.metrics.k8s.io "observe-young/waiting" not found');
    const missing = await lab.kubectl(['top', 'pod', 'nosuch', '-n', 'observe-young']);
    expect(missing.stderr.trim()).toBe('Error from server (NotFound): pods "nosuch" not found');
    const empty = await lab.kubectl(['top', 'pod', '-n', 'default']);
    expect(empty.code).toBe(0);
    expect(empty.stderr.trim()).toBe('No resources found in default namespace.');
  });
});

describe('kubectl top pod after a restart', () => {
  it('counts a restarted container\'s CPU from its new start, bounded by its limit', async () => {
    const restartNs = 'observe-restart';
    await lab.kubectl(['create', 'namespace', restartNs]);
    // Each run is a busy loop held to 100m that ends after a second; restartPolicy Always brings
    // it back (after 0.2, 0.4, 0.8, 1.6 s here). Three pods, for more first windows: a restarted
    // container's first window is one counted from its start only when a scrape finds it between
    // freshContainerMinMetricsResolution and the resolution old (about one start in three).
    const names = ['again-1', 'again-2', 'again-3'];
    const pod = (name: string) => `apiVersion: v1
kind: Pod
metadata: {name: ${name}}
spec:
  restartPolicy: Always
  containers:
  - name: loop
    image: busybox
    command: [sh, -c, 'while :; do :; done & sleep 1; exit 1']
    resources: {limits: {cpu: 100m, memory: 32Mi}}
`;
    await lab.apply(names.map(pod).join('---\n'), restartNs);
    // Every window metrics.k8s.io serves while they crash-loop (the raw API's answer, read in the
    // process: a window lasts 300 ms here, shorter than a kubectl call takes to catch it).
    const seen = new Map<string, { restarts: number; cpu: number; windowMs: number }>();
    const restarts = (name: string) => Number(containerStatus(lab.pod(restartNs, name))?.['restartCount'] ?? 0);
    await lab.until(
      'four restarts of each pod, and a window after the last',
      () => {
        for (const name of names) {
          const metrics = lab.cluster.kubelet?.podMetrics(restartNs, name);
          const usage = metrics?.containers[0]?.usage;
          if (metrics && usage) seen.set(`${name} ${metrics.timestamp} ${metrics.window}`, { restarts: restarts(name), cpu: millicores(usage.cpu), windowMs: durationMs(metrics.window) });
        }
        return names.every((name) => [...seen].some(([key, window]) => key.startsWith(`${name} `) && window.restarts >= 4));
      },
      60_000,
    );
    await lab.kubectl(['delete', 'namespace', restartNs, '--wait=false']);
    const windows = [...seen.values()];
    expect(windows.filter((window) => window.restarts > 0).length).toBeGreaterThan(0);
    // The kernel's bound (see the busy loop above) for 100m: 10 ms of CPU a 100 ms period, plus a
    // 5 ms slice a CPU may hold. A counter that kept the earlier runs (about 100 ms of CPU each)
    // would read at least 333m over a first window, which is at most 300 ms long (where the bound
    // is 166m).
    const slack = 5 * availableParallelism();
    for (const window of windows) {
      const periods = Math.ceil(window.windowMs / 100) + 1;
      expect(window.cpu, JSON.stringify(window)).toBeLessThanOrEqual(((periods * 10 + slack) / window.windowMs) * 1000);
    }
  });

  it('reports a restarted container\'s working set as its own, not the page cache its last run left', async () => {
    const memoryNs = 'observe-restart-memory';
    await lab.kubectl(['create', 'namespace', memoryNs]);
    // The first run writes 48 MiB to its emptyDir and reads it twice (active page cache, charged to
    // the container), then fails; the next finds the file there and only sleeps.
    await lab.apply(
      `apiVersion: v1
kind: Pod
metadata: {name: writer}
spec:
  volumes: [{name: data, emptyDir: {}}]
  containers:
  - name: app
    image: busybox
    command: [sh, -c, 'if [ -e /data/done ]; then exec sleep 3600; fi; dd if=/dev/zero of=/data/big bs=1M count=48; cat /data/big /data/big > /dev/null; touch /data/done; exit 1']
    volumeMounts: [{name: data, mountPath: /data}]
    resources: {limits: {cpu: 200m, memory: 128Mi}}
`,
      memoryNs,
    );
    await lab.until('the second run Running', () => Number(containerStatus(lab.pod(memoryNs, 'writer'))?.['restartCount'] ?? 0) >= 1 && containerStatus(lab.pod(memoryNs, 'writer'))?.['state']?.['running'], 60_000);
    // Windows change with each scrape (every 300 ms here): the first seen now may be the last run's,
    // a second one is from a scrape that found this run, and so is every later one kubectl reads.
    const windows = new Set<string>();
    await lab.until('a window of the second run', () => {
      const metrics = lab.cluster.kubelet?.podMetrics(memoryNs, 'writer');
      if (metrics) windows.add(`${metrics.timestamp} ${metrics.window}`);
      return windows.size >= 2;
    }, 30_000);
    const top = rows((await lab.kubectl(['top', 'pod', 'writer', '-n', memoryNs, '--no-headers'])).stdout);
    await lab.kubectl(['delete', 'namespace', memoryNs, '--wait=false']);
    // A sleep uses well under a MiB, as a container that never wrote anything (the burner's sidecar)
    // reads; on a node its cgroup would be new. The file's 48 MiB in cache belong to the last run.
    expect(top[0]?.[2]).toMatch(/^\d+Mi$/);
    expect(Number(top[0]?.[2]?.replace('Mi', ''))).toBeLessThan(16);
  });
});

describe('kubectl top node', () => {
  // kubectl 1.27 heads the shares CPU% and MEMORY%; later releases CPU(%) and MEMORY(%).
  it.each([
    ['1.27', 'CPU%', 'MEMORY%'],
    ['1.33', 'CPU(%)', 'MEMORY(%)'],
  ])('prints every node with usage and its share of allocatable (kubectl %s)', async (version, cpuShare, memoryShare) => {
    await lab.until('metrics for both nodes', () => lab.cluster.kubelet?.nodeMetrics('node-2'));
    const result = await lab.kubectl(['top', 'node'], { binary: versionedKubectl(version) });
    expect(result.stderr).toBe('');
    const [header, ...body] = rows(result.stdout);
    expect(header).toEqual(['NAME', 'CPU(cores)', cpuShare, 'MEMORY(bytes)', memoryShare]);
    expect(body.map((row) => row[0])).toEqual(['node-1', 'node-2']);
    for (const row of body) {
      expect(row[1]).toMatch(/^\d+m$/);
      expect(row[2]).toMatch(/^\d+%$/);
      expect(row[3]).toMatch(/^\d+Mi$/);
    }
  });
});

describe('the metrics.k8s.io API', () => {
  it('is discovered and answers get --raw as metrics-server does', async () => {
    const resources = await lab.kubectl(['api-resources', '--api-group=metrics.k8s.io', '--no-headers']);
    expect(rows(resources.stdout).map((row) => row[0]).sort()).toEqual(['nodes', 'pods']);
    const raw = JSON.parse((await lab.kubectl(['get', '--raw', `/apis/metrics.k8s.io/v1beta1/namespaces/${ns}/pods/web`])).stdout);
    expect(raw).toMatchObject({ kind: 'PodMetrics', apiVersion: 'metrics.k8s.io/v1beta1', metadata: { name: 'web', namespace: ns, labels: { app: 'web' } } });
    expect(raw.window).toMatch(/^\d+(\.\d+)?m?s$/);
    expect(raw.containers.map((c: { name: string }) => c.name)).toEqual(['nginx', 'sidecar']);
    expect(raw.containers[0].usage).toEqual({ cpu: '20m', memory: '300Mi' });
    const list = JSON.parse((await lab.kubectl(['get', '--raw', '/apis/metrics.k8s.io/v1beta1/nodes'])).stdout);
    expect(list.kind).toBe('NodeMetricsList');
    expect(list.items.map((n: { metadata: { name: string } }) => n.metadata.name)).toEqual(['node-1', 'node-2']);
  });

  it('prints metrics-server\'s table for kubectl get', async () => {
    const table = rows((await lab.kubectl(['get', 'pods.metrics.k8s.io', '-n', ns])).stdout);
    expect(table[0]).toEqual(['NAME', 'CPU', 'MEMORY', 'WINDOW']);
    expect(table.slice(1).map((row) => row[0])).toEqual(['burner', 'web']);
  });

  it('is readable by whoever has view, edit or admin in a namespace, but nodes stay cluster-wide', async () => {
    await lab.kubectl(['create', 'serviceaccount', 'learner', '-n', ns]);
    await lab.kubectl(['create', 'rolebinding', 'learner-edit', '-n', ns, '--clusterrole=edit', `--serviceaccount=${ns}:learner`]);
    const as = ['--as', `system:serviceaccount:${ns}:learner`];
    await lab.eventually('edit aggregates metrics reading', async () => (await lab.kubectl(['auth', 'can-i', 'list', 'pods.metrics.k8s.io', '-n', ns, ...as])).stdout.trim() === 'yes');
    expect((await lab.kubectl(['auth', 'can-i', 'list', 'nodes.metrics.k8s.io', ...as])).stdout.trim()).toBe('no');
    const top = await lab.kubectl(['top', 'pod', '-n', ns, ...as]);
    expect(top.code).toBe(0);
    const node = await lab.kubectl(['top', 'node', ...as]);
    expect(node.stderr).toContain(`nodes.metrics.k8s.io is forbidden: User "system:serviceaccount:${ns}:learner" cannot list resource "nodes" in API group "metrics.k8s.io" at the cluster scope`);
  });
});

describe('APIServices', () => {
  it('lists the local group/versions and metrics-server\'s, all Available', async () => {
    const table = rows((await lab.kubectl(['get', 'apiservices'])).stdout);
    expect(table[0]).toEqual(['NAME', 'SERVICE', 'AVAILABLE', 'AGE']);
    const byName = new Map(table.slice(1).map((row) => [row[0], row]));
    expect(byName.get('v1.')?.slice(1, 3)).toEqual(['Local', 'True']);
    expect(byName.get('v1.apps')?.slice(1, 3)).toEqual(['Local', 'True']);
    expect(byName.get('v2.autoscaling')?.slice(1, 3)).toEqual(['Local', 'True']);
    expect(byName.get('v1beta1.metrics.k8s.io')?.slice(1, 3)).toEqual(['kube-system/metrics-server', 'True']);
    const metrics = JSON.parse((await lab.kubectl(['get', 'apiservice', 'v1beta1.metrics.k8s.io', '-o', 'json'])).stdout);
    expect(metrics.spec).toMatchObject({ group: 'metrics.k8s.io', version: 'v1beta1', groupPriorityMinimum: 100, versionPriority: 100 });
    expect(metrics.status.conditions[0]).toMatchObject({ type: 'Available', status: 'True', reason: 'Passed', message: 'all checks passed' });
  });

  it('refuses a name that is not version.group, with kube-aggregator\'s message', async () => {
    const result = await lab.kubectl(['apply', '-f', '-'], {
      stdin: 'apiVersion: apiregistration.k8s.io/v1\nkind: APIService\nmetadata: {name: v1.wrong.example.com}\nspec: {group: example.com, version: v1, groupPriorityMinimum: 1000, versionPriority: 15}\n',
    });
    expect(result.stderr.trim()).toBe(
      'The APIService "v1.wrong.example.com" is invalid: metadata.name: Invalid value: "v1.wrong.example.com": must be `spec.version+"."+spec.group`: "v1.example.com"',
    );
  });

  it('serves metrics.k8s.io only while its APIService is there and Available', async () => {
    const manifest = JSON.parse((await lab.kubectl(['get', 'apiservice', 'v1beta1.metrics.k8s.io', '-o', 'json'])).stdout);
    await lab.kubectl(['delete', 'apiservice', 'v1beta1.metrics.k8s.io']);
    const gone = await lab.kubectl(['top', 'pod', '-n', ns]);
    expect(gone.stderr.trim()).toBe('error: Metrics API not available');
    // One pointing at a Service that is not there is not Available, and routes nothing.
    const elsewhere = { apiVersion: 'apiregistration.k8s.io/v1', kind: 'APIService', metadata: { name: 'v1beta1.metrics.k8s.io' }, spec: { ...manifest.spec, service: { name: 'other-metrics', namespace: 'kube-system', port: 443 } } };
    await lab.kubectl(['create', '-f', '-'], { stdin: JSON.stringify(elsewhere) });
    await lab.eventually('ServiceNotFound', async () => (await lab.kubectl(['get', 'apiservice', 'v1beta1.metrics.k8s.io', '--no-headers'])).stdout.includes('False (ServiceNotFound)'));
    const status = JSON.parse((await lab.kubectl(['get', 'apiservice', 'v1beta1.metrics.k8s.io', '-o', 'json'])).stdout).status.conditions[0];
    expect(status).toMatchObject({ type: 'Available', status: 'False', reason: 'ServiceNotFound', message: 'service/other-metrics in "kube-system" is not present' });
    expect((await lab.kubectl(['top', 'pod', '-n', ns])).stderr.trim()).toBe('error: Metrics API not available');
    // metrics-server's own registration brings the API back.
    await lab.kubectl(['replace', '-f', '-'], { stdin: JSON.stringify({ ...elsewhere, spec: manifest.spec }) });
    await lab.eventually('metrics back', async () => (await lab.kubectl(['top', 'pod', '-n', ns])).code === 0);
  });
});
