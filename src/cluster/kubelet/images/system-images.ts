// The cluster's own components as images: what kubeadm puts in kube-system (the control plane's
// static pods, CoreDNS, kube-proxy). Service images: they answer their ports and probes and log
// their start; nothing of them runs (the embedded cluster is its own control plane).
import type { CatalogImage, ImageBehaviour } from './catalog-image.ts';

const mi = (n: number) => n * 1024 * 1024;
const kubernetesTags = 'v1\\.(2[7-9]|3[0-4])\\.[0-9]+';

function component(ports: number[], startLogs: string[], memory: number, health?: { port: number; paths: string[] }): ImageBehaviour {
  return {
    ports,
    ...(health ? { httpPort: health.port, http: Object.fromEntries(health.paths.map((path) => [path, { status: 200, body: 'ok' }])) } : {}),
    startLogs,
    stopExitCode: 0,
    usage: { cpuMillis: 5, memoryBytes: mi(memory) },
  };
}

export const systemImages: CatalogImage[] = [
  {
    repository: 'registry.k8s.io/etcd',
    tags: '3\\.[4-6]\\.[0-9]+-0',
    version: '3.5.21',
    sizeBytes: 58_938_593,
    kind: 'service',
    behaviour: component(
      [2379, 2380, 2381],
      ['{"level":"info","ts":"{{time:iso}}","caller":"etcdmain/etcd.go:73","msg":"Running: ","args":["etcd"]}', '{"level":"info","ts":"{{time:iso}}","caller":"etcdserver/server.go:2068","msg":"published local member to cluster through raft"}', '{"level":"info","ts":"{{time:iso}}","caller":"embed/serve.go:103","msg":"ready to serve client requests"}'],
      40,
      { port: 2381, paths: ['/health', '/readyz', '/livez'] },
    ),
  },
  {
    repository: 'registry.k8s.io/kube-apiserver',
    tags: kubernetesTags,
    version: '1.33.0',
    sizeBytes: 30_071_307,
    kind: 'service',
    behaviour: component([6443], ['I{{time:klog}}       1 options.go:249] external host was not specified, using {{podIP}}', 'I{{time:klog}}       1 server.go:160] Version: v{{version}}'], 250, { port: 6443, paths: ['/livez', '/readyz', '/healthz'] }),
  },
  {
    repository: 'registry.k8s.io/kube-controller-manager',
    tags: kubernetesTags,
    version: '1.33.0',
    sizeBytes: 27_646_507,
    kind: 'service',
    behaviour: component([10257], ['I{{time:klog}}       1 serving.go:386] Generated self-signed cert in-memory', 'I{{time:klog}}       1 controllermanager.go:202] "Starting" version="v{{version}}"', 'I{{time:klog}}       1 leaderelection.go:257] attempting to acquire leader lease kube-system/kube-controller-manager...'], 50, { port: 10257, paths: ['/healthz'] }),
  },
  {
    repository: 'registry.k8s.io/kube-scheduler',
    tags: kubernetesTags,
    version: '1.33.0',
    sizeBytes: 21_819_044,
    kind: 'service',
    behaviour: component([10259], ['I{{time:klog}}       1 serving.go:386] Generated self-signed cert in-memory', 'I{{time:klog}}       1 server.go:166] "Starting Kubernetes Scheduler" version="v{{version}}"', 'I{{time:klog}}       1 leaderelection.go:257] attempting to acquire leader lease kube-system/kube-scheduler...'], 20, { port: 10259, paths: ['/healthz', '/livez', '/readyz'] }),
  },
  {
    repository: 'registry.k8s.io/kube-proxy',
    tags: kubernetesTags,
    version: '1.33.0',
    sizeBytes: 31_238_291,
    kind: 'service',
    behaviour: component([10249, 10256], ['I{{time:klog}}       1 server_linux.go:66] "Using iptables proxy"', 'I{{time:klog}}       1 server.go:698] "Successfully retrieved node IP(s)" IPs=["172.18.0.2"]', 'I{{time:klog}}       1 shared_informer.go:320] Caches are synced for service config'], 15, { port: 10256, paths: ['/healthz', '/livez'] }),
  },
  {
    // CoreDNS's readiness answers on 8181 (the ready plugin); names are answered by the kubelet's
    // pod network, not by this simulated server.
    repository: 'registry.k8s.io/coredns/coredns',
    tags: 'v1\\.(9|1[0-2])\\.[0-9]+',
    version: '1.12.0',
    sizeBytes: 20_939_036,
    kind: 'service',
    behaviour: component([53, 8080, 8181, 9153], ['.:53', '[INFO] plugin/reload: Running configuration SHA512 = 591cf328cccc12bc490481273e738df59329c62c0b729d94e8b61db9961c2fa5f046dd37f1cf888b953814040d180f52594972691cd6ff41be96639138a43908', 'CoreDNS-{{version}}', 'linux/amd64, go1.23.3, 51e11f1'], 12, { port: 8181, paths: ['/ready'] }),
  },
];
