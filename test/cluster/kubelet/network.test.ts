// The pod network as HTTP clients see it: from a shell in the cluster (a busybox pod, the
// workbench), curl and wget reach Services by name or cluster IP and pods by IP, through ready
// endpoints only; requests drive the CPU a load-generating lab expects.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type KubeletCluster, phase, startKubeletCluster } from './harness.ts';

let lab: KubeletCluster;
const ns = 'net';

beforeAll(async () => {
  lab = await startKubeletCluster();
  await lab.kubectl(['create', 'namespace', ns]);
  await lab.serviceAccountReady(ns);
  await lab.kubectl(['create', 'deployment', 'web', '-n', ns, '--image=nginx:1.27', '--replicas=2']);
  await lab.kubectl(['expose', 'deployment', 'web', '-n', ns, '--port=80']);
  // debian: the host's curl and wget (busybox has its own wget and no curl).
  await lab.kubectl(['run', 'client', '-n', ns, '--image=debian:12', '--', 'sh', '-c', 'exec sleep 3600']);
  await lab.until('client Running', () => phase(lab.pod(ns, 'client')) === 'Running');
  await lab.until('web ready', () =>
    lab.cluster.registry
      .list(lab.cluster.registry.lookup('', 'v1', 'pods')!, { namespace: ns, labelSelector: 'app=web' })
      .items.filter((pod) => ((pod.status as Record<string, any>)?.['conditions'] ?? []).some((c: Record<string, string>) => c['type'] === 'Ready' && c['status'] === 'True')).length === 2,
  );
});
afterAll(async () => {
  await lab?.stop();
});

function fromClient(script: string) {
  return lab.kubectl(['exec', '-n', ns, 'client', '--', 'sh', '-c', script]);
}

describe('the pod network', () => {
  it('reaches a Service by name, by its DNS name and by cluster IP', async () => {
    const byName = await fromClient('wget -qO- http://web');
    expect(byName.stdout).toContain('<title>Welcome to nginx!</title>');
    expect((await fromClient(`wget -qO- http://web.${ns}.svc.cluster.local/`)).stdout).toContain('Welcome to nginx!');
    const clusterIP = (lab.cluster.registry.get(lab.cluster.registry.lookup('', 'v1', 'services')!, ns, 'web').spec as Record<string, string>)['clusterIP'];
    expect((await fromClient(`curl -s http://${clusterIP}/`)).stdout).toContain('Welcome to nginx!');
  });

  it('reaches a pod by its IP, and its server logs the request', async () => {
    const web = lab.cluster.registry.list(lab.cluster.registry.lookup('', 'v1', 'pods')!, { namespace: ns, labelSelector: 'app=web' }).items[0];
    const ip = (web?.status as Record<string, string>)['podIP'];
    const result = await fromClient(`curl -s -o /dev/null -w '%{http_code}' http://${ip}/missing`);
    expect(result.stdout).toBe('404');
    const logs = await lab.kubectl(['logs', '-n', ns, web?.metadata.name ?? '']);
    expect(logs.stdout).toMatch(/"GET \/missing HTTP\/1\.1" 404 615 "-" "curl\//);
  });

  it('refuses names that do not resolve and Services without ready endpoints', async () => {
    // Every search domain answers NXDOMAIN: the name does not resolve, at once.
    expect((await fromClient('curl -sS http://nothing-here/')).stderr).toContain('Could not resolve host: nothing-here');
    await lab.kubectl(['create', 'service', 'clusterip', 'empty', '-n', ns, '--tcp=80:80']);
    // No endpoints: the cluster IP refuses the connection.
    expect((await fromClient('curl -sS http://empty/')).stderr).toMatch(/Failed to connect to empty port 80.*(Connection refused|Couldn't connect to server)/);
  });

  it('turns requests into the CPU use the HPA walkthrough expects', async () => {
    await lab.kubectl(['create', 'deployment', 'php-apache', '-n', ns, '--image=registry.k8s.io/hpa-example']);
    await lab.kubectl(['expose', 'deployment', 'php-apache', '-n', ns, '--port=80']);
    const pod = await lab.until('php-apache ready', () =>
      lab.cluster.registry
        .list(lab.cluster.registry.lookup('', 'v1', 'pods')!, { namespace: ns, labelSelector: 'app=php-apache' })
        .items.find((p) => ((p.status as Record<string, any>)?.['conditions'] ?? []).some((c: Record<string, string>) => c['type'] === 'Ready' && c['status'] === 'True')),
    );
    const cpuMillis = () => {
      const cpu = lab.cluster.kubelet?.podMetrics(ns, pod.metadata.name ?? '')?.containers[0]?.usage.cpu;
      return cpu === undefined ? undefined : Number(cpu.replace('m', ''));
    };
    // metrics-server's first window needs two scrapes.
    const idle = await lab.until('a usage window', cpuMillis, 45_000);
    await fromClient('i=0; while [ $i -lt 150 ]; do wget -q -O- http://php-apache >/dev/null; i=$((i+1)); done');
    await lab.until('the load in the usage window', () => (cpuMillis() ?? 0) > idle + 50, 45_000);
    // Two metrics windows of 15 s each and 150 requests: more than the default 30 s on a loaded machine.
  }, 120_000);
});
