// kube-system as a kubeadm cluster shows it. Two parts, as on a real cluster:
// - kubeadm's addons, installed once (a cluster without the `kubeadm-config` ConfigMap gets them;
//   one deleted afterwards stays deleted, as kubeadm never reinstalls it): the CoreDNS Deployment
//   behind the `kube-dns` Service on 10.96.0.10, and the kube-proxy DaemonSet;
// - the control plane's static pods on the first node, as the kubelet mirrors them into the API
//   (etcd-, kube-apiserver-, kube-controller-manager-, kube-scheduler-<node>): owned by their Node,
//   annotated `kubernetes.io/config.mirror`, recreated when deleted.
// They run in the simulated kubelet as service images (registry.k8s.io's, see the image catalog):
// the embedded cluster is its own control plane, and cluster DNS answers from the pod network.
import { createHash } from 'node:crypto';
import { serverVersion } from '../apiserver/index.ts';
import type { KubeObject } from '../types.ts';
import { isAlreadyExists, nodeUser } from './client.ts';
import type { ControllerContext } from './context.ts';
import { type RunningController, startController } from './runtime.ts';

const NAMESPACE = 'kube-system';
const KUBERNETES_VERSION = serverVersion.gitVersion.replace(/\+.*$/, '');
const ETCD_IMAGE = 'registry.k8s.io/etcd:3.5.21-0';
const COREDNS_IMAGE = 'registry.k8s.io/coredns/coredns:v1.12.0';
/** The cluster DNS Service's address (kubeadm: the 10th address of the Service range). */
export const CLUSTER_DNS_IP = '10.96.0.10';

const corefile = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30 {
       disable success cluster.local
       disable denial cluster.local
    }
    loop
    reload
    loadbalance
}
`;

function addons(): Array<[string, KubeObject]> {
  const dnsLabels = { 'k8s-app': 'kube-dns' };
  return [
    ['serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: NAMESPACE } }],
    ['serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'kube-proxy', namespace: NAMESPACE } }],
    ['configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'coredns', namespace: NAMESPACE }, data: { Corefile: corefile } }],
    [
      'configmaps',
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'kube-proxy', namespace: NAMESPACE, labels: { app: 'kube-proxy' } },
        data: { 'config.conf': 'apiVersion: kubeproxy.config.k8s.io/v1alpha1\nkind: KubeProxyConfiguration\nclusterCIDR: 10.244.0.0/16\nmode: iptables\n' },
      },
    ],
    [
      'deployments',
      {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'coredns', namespace: NAMESPACE, labels: dnsLabels },
        spec: {
          replicas: 2,
          selector: { matchLabels: dnsLabels },
          strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1 } },
          template: {
            metadata: { labels: dnsLabels },
            spec: {
              priorityClassName: 'system-cluster-critical',
              serviceAccountName: 'coredns',
              tolerations: [{ key: 'CriticalAddonsOnly', operator: 'Exists' }, { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' }],
              nodeSelector: { 'kubernetes.io/os': 'linux' },
              dnsPolicy: 'Default',
              containers: [
                {
                  name: 'coredns',
                  image: COREDNS_IMAGE,
                  args: ['-conf', '/etc/coredns/Corefile'],
                  resources: { limits: { memory: '170Mi' }, requests: { cpu: '100m', memory: '70Mi' } },
                  volumeMounts: [{ name: 'config-volume', mountPath: '/etc/coredns', readOnly: true }],
                  ports: [
                    { name: 'dns', containerPort: 53, protocol: 'UDP' },
                    { name: 'dns-tcp', containerPort: 53, protocol: 'TCP' },
                    { name: 'metrics', containerPort: 9153, protocol: 'TCP' },
                  ],
                  readinessProbe: { httpGet: { path: '/ready', port: 8181, scheme: 'HTTP' }, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 },
                  securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
                },
              ],
              volumes: [{ name: 'config-volume', configMap: { name: 'coredns', items: [{ key: 'Corefile', path: 'Corefile' }] } }],
            },
          },
        },
      },
    ],
    [
      'services',
      {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: {
          name: 'kube-dns',
          namespace: NAMESPACE,
          labels: { 'k8s-app': 'kube-dns', 'kubernetes.io/cluster-service': 'true', 'kubernetes.io/name': 'CoreDNS' },
          annotations: { 'prometheus.io/port': '9153', 'prometheus.io/scrape': 'true' },
        },
        spec: {
          clusterIP: CLUSTER_DNS_IP,
          selector: dnsLabels,
          ports: [
            { name: 'dns', port: 53, protocol: 'UDP', targetPort: 53 },
            { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 53 },
            { name: 'metrics', port: 9153, protocol: 'TCP', targetPort: 9153 },
          ],
        },
      },
    ],
    [
      'daemonsets',
      {
        apiVersion: 'apps/v1',
        kind: 'DaemonSet',
        metadata: { name: 'kube-proxy', namespace: NAMESPACE, labels: { 'k8s-app': 'kube-proxy' } },
        spec: {
          selector: { matchLabels: { 'k8s-app': 'kube-proxy' } },
          template: {
            metadata: { labels: { 'k8s-app': 'kube-proxy' } },
            spec: {
              priorityClassName: 'system-node-critical',
              serviceAccountName: 'kube-proxy',
              hostNetwork: true,
              nodeSelector: { 'kubernetes.io/os': 'linux' },
              tolerations: [{ operator: 'Exists' }],
              containers: [
                {
                  name: 'kube-proxy',
                  image: `registry.k8s.io/kube-proxy:${KUBERNETES_VERSION}`,
                  command: ['/usr/local/bin/kube-proxy', '--config=/var/lib/kube-proxy/config.conf', '--hostname-override=$(NODE_NAME)'],
                  env: [{ name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } }],
                  volumeMounts: [{ name: 'kube-proxy', mountPath: '/var/lib/kube-proxy' }],
                },
              ],
              volumes: [{ name: 'kube-proxy', configMap: { name: 'kube-proxy' } }],
            },
          },
        },
      },
    ],
    ['configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'kubeadm-config', namespace: NAMESPACE }, data: { ClusterConfiguration: clusterConfiguration() } }],
  ];
}

function clusterConfiguration(): string {
  return `apiServer: {}\napiVersion: kubeadm.k8s.io/v1beta4\ncertificatesDir: /etc/kubernetes/pki\nclusterName: kubernetes\ncontrollerManager: {}\ndns: {}\netcd:\n  local:\n    dataDir: /var/lib/etcd\nimageRepository: registry.k8s.io\nkind: ClusterConfiguration\nkubernetesVersion: ${KUBERNETES_VERSION}\nnetworking:\n  dnsDomain: cluster.local\n  podSubnet: 10.244.0.0/16\n  serviceSubnet: 10.96.0.0/12\nscheduler: {}\n`;
}

interface StaticPod {
  component: string;
  image: string;
  command: string[];
  cpu: string;
  memory?: string;
  healthPort: number;
  healthPath: string;
}

function staticPods(node: string, nodeIP: string): StaticPod[] {
  return [
    {
      component: 'etcd',
      image: ETCD_IMAGE,
      command: ['etcd', `--advertise-client-urls=https://${nodeIP}:2379`, '--cert-file=/etc/kubernetes/pki/etcd/server.crt', '--client-cert-auth=true', '--data-dir=/var/lib/etcd', `--listen-client-urls=https://127.0.0.1:2379,https://${nodeIP}:2379`, '--listen-metrics-urls=http://127.0.0.1:2381', `--name=${node}`],
      cpu: '100m',
      memory: '100Mi',
      healthPort: 2381,
      healthPath: '/readyz',
    },
    {
      component: 'kube-apiserver',
      image: `registry.k8s.io/kube-apiserver:${KUBERNETES_VERSION}`,
      command: ['kube-apiserver', `--advertise-address=${nodeIP}`, '--authorization-mode=Node,RBAC', '--enable-admission-plugins=NodeRestriction', '--etcd-servers=https://127.0.0.1:2379', '--secure-port=6443', '--service-cluster-ip-range=10.96.0.0/12'],
      cpu: '250m',
      healthPort: 6443,
      healthPath: '/readyz',
    },
    {
      component: 'kube-controller-manager',
      image: `registry.k8s.io/kube-controller-manager:${KUBERNETES_VERSION}`,
      command: ['kube-controller-manager', '--allocate-node-cidrs=true', '--cluster-cidr=10.244.0.0/16', '--controllers=*,bootstrapsigner,tokencleaner', '--leader-elect=true', '--service-cluster-ip-range=10.96.0.0/12', '--use-service-account-credentials=true'],
      cpu: '200m',
      healthPort: 10257,
      healthPath: '/healthz',
    },
    {
      component: 'kube-scheduler',
      image: `registry.k8s.io/kube-scheduler:${KUBERNETES_VERSION}`,
      command: ['kube-scheduler', '--authentication-kubeconfig=/etc/kubernetes/scheduler.conf', '--authorization-kubeconfig=/etc/kubernetes/scheduler.conf', '--bind-address=127.0.0.1', '--kubeconfig=/etc/kubernetes/scheduler.conf', '--leader-elect=true'],
      cpu: '100m',
      healthPort: 10259,
      healthPath: '/healthz',
    },
  ];
}

function mirrorPod(pod: StaticPod, node: KubeObject, seen: Date): KubeObject {
  const nodeName = node.metadata.name ?? '';
  const spec = {
    containers: [
      {
        name: pod.component,
        image: pod.image,
        imagePullPolicy: 'IfNotPresent',
        command: pod.command,
        resources: { requests: { cpu: pod.cpu, ...(pod.memory ? { memory: pod.memory } : {}) } },
        readinessProbe: { httpGet: { host: '127.0.0.1', path: pod.healthPath, port: pod.healthPort, scheme: pod.healthPort === 2381 ? 'HTTP' : 'HTTPS' }, periodSeconds: 1, timeoutSeconds: 15, failureThreshold: 3 },
      },
    ],
    hostNetwork: true,
    nodeName,
    priority: 2_000_001_000,
    priorityClassName: 'system-node-critical',
    securityContext: { seccompProfile: { type: 'RuntimeDefault' } },
    tolerations: [{ effect: 'NoExecute', operator: 'Exists' }],
  };
  // The kubelet names a static pod by the hash of its manifest.
  const hash = createHash('md5').update(JSON.stringify(spec)).digest('hex');
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: `${pod.component}-${nodeName}`,
      namespace: NAMESPACE,
      labels: { component: pod.component, tier: 'control-plane' },
      annotations: {
        'kubernetes.io/config.hash': hash,
        'kubernetes.io/config.mirror': hash,
        'kubernetes.io/config.seen': seen.toISOString().replace(/\.(\d{3})Z$/, '.$1000000Z'),
        'kubernetes.io/config.source': 'file',
      },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: node.metadata.uid ?? '', controller: true }],
    },
    spec,
  };
}

function nodeIPOf(node: KubeObject): string {
  const addresses = ((node.status as { addresses?: Array<{ type: string; address: string }> } | undefined)?.addresses ?? []);
  return addresses.find((a) => a.type === 'InternalIP')?.address ?? '';
}

/**
 * Installs kubeadm's addons once and keeps the control plane's mirror pods on `controlPlaneNode`.
 * Keys: `addons` and `<node>` (the static pods of that node).
 */
export function startSystemComponents(ctx: ControllerContext, controlPlaneNode: string): RunningController {
  const installer = ctx.clientFor('kubeadm');
  const kubelet = installer.as(nodeUser(controlPlaneNode));

  const installAddons = () => {
    if (installer.configMaps.get(NAMESPACE, 'kubeadm-config')) return;
    for (const [resource, object] of addons()) {
      const group = resource === 'deployments' || resource === 'daemonsets' ? 'apps' : '';
      try {
        installer.resource(group, 'v1', resource).create(NAMESPACE, object);
      } catch (error) {
        // The address or the name may already be someone's (a cluster from before kube-system had its components).
        if (!isAlreadyExists(error)) ctx.reportError('kubeadm', `${resource}/${object.metadata.name}`, error);
      }
    }
  };

  const mirror = (nodeName: string) => {
    const node = kubelet.nodes.get(undefined, nodeName);
    if (!node) return;
    for (const pod of staticPods(nodeName, nodeIPOf(node))) {
      if (kubelet.pods.get(NAMESPACE, `${pod.component}-${nodeName}`)) continue;
      try {
        kubelet.pods.create(NAMESPACE, mirrorPod(pod, node, ctx.clock.now()));
      } catch (error) {
        if (!isAlreadyExists(error)) throw error;
      }
    }
  };

  const controller = startController(ctx.registry, {
    name: 'system-components',
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError('system-components', key, error),
    sources: [
      { group: '', version: 'v1', resource: 'nodes', keys: (node, type) => (type !== 'DELETED' && node.metadata.name === controlPlaneNode ? [controlPlaneNode] : []) },
      {
        group: '',
        version: 'v1',
        resource: 'pods',
        keys: (pod, type) => (type === 'DELETED' && pod.metadata.namespace === NAMESPACE && pod.metadata.annotations?.['kubernetes.io/config.mirror'] ? [controlPlaneNode] : []),
      },
    ],
    reconcile(key) {
      if (key === 'addons') installAddons();
      else mirror(key);
    },
  });
  controller.enqueue('addons');
  controller.enqueue(controlPlaneNode);
  return controller;
}
