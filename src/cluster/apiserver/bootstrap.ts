// What a cluster has before anyone asks: the default RBAC policy, Nodes to schedule onto, and
// the token controller's work of filling `kubernetes.io/service-account-token` Secrets.
import { StatusError, type KubeObject } from '../types.ts';
import type { Registry, WatchEvent } from '../registry/index.ts';
import {
  bootstrapClusterRoleBindings,
  bootstrapClusterRoles,
  bootstrapControllerRoleBindings,
  bootstrapControllerRoles,
  reconcileClusterRole,
  reconcileClusterRoleBinding,
  type Reconciliation,
  type ServiceAccountTokens,
} from './auth/index.ts';
import { registerAPIServices } from './api-services.ts';
import { findObject } from './find.ts';

export interface BootstrapOptions {
  registry: Registry;
  tokens: ServiceAccountTokens;
  caPem: string;
  nodes: number;
  clock: () => Date;
  /** The resource metrics API is served: metrics-server's APIService and ClusterRole are installed. */
  metricsServed?: boolean;
}

/** Starts the bootstrap work; returns what stops its watches. */
export function bootstrapCluster(options: BootstrapOptions): () => void {
  reconcilePolicy(options.registry);
  registerNodes(options);
  const stopAPIServices = registerAPIServices({ registry: options.registry, clock: options.clock, metricsServed: options.metricsServed ?? false });
  const stopTokens = populateTokenSecrets(options);
  return () => {
    stopAPIServices();
    stopTokens();
  };
}

function ignoreAlreadyExists(action: () => void): void {
  try {
    action();
  } catch (error) {
    if (!(error instanceof StatusError && error.code === 409)) throw error;
  }
}

/**
 * kube-apiserver's RBAC post-start hook: every default ClusterRole and ClusterRoleBinding (the
 * controllers' included) exists and holds at least its defaults, on every start.
 */
function reconcilePolicy(registry: Registry): void {
  const policy: Array<[string, KubeObject[], (live: KubeObject, wanted: KubeObject) => Reconciliation]> = [
    ['clusterroles', [...bootstrapClusterRoles(), ...bootstrapControllerRoles()], reconcileClusterRole],
    ['clusterrolebindings', [...bootstrapClusterRoleBindings(), ...bootstrapControllerRoleBindings()], reconcileClusterRoleBinding],
  ];
  for (const [resource, objects, reconcile] of policy) {
    const def = registry.lookup('rbac.authorization.k8s.io', 'v1', resource);
    if (!def) continue;
    for (const wanted of objects) {
      const name = wanted.metadata.name ?? '';
      const live = findObject(registry, def, undefined, name);
      if (!live) {
        registry.create(def, undefined, wanted);
        continue;
      }
      const result = reconcile(live, wanted);
      if (result.operation === 'update') registry.update(def, undefined, name, result.object);
      if (result.operation === 'recreate') {
        registry.delete(def, undefined, name);
        const { resourceVersion: _resourceVersion, uid: _uid, creationTimestamp: _created, ...metadata } = result.object.metadata;
        registry.create(def, undefined, { ...result.object, metadata });
      }
    }
  }
}

/** Node objects the kubelet (part 2) keeps alive; registered here so `kubectl get nodes` has them from the start. */
function registerNodes({ registry, nodes, clock }: BootstrapOptions): void {
  const def = registry.lookup('', 'v1', 'nodes');
  if (!def) return;
  for (let i = 1; i <= nodes; i++) {
    const name = nodes === 1 ? 'formicary' : `formicary-${i}`;
    ignoreAlreadyExists(() => {
      const now = clock().toISOString().replace(/\.\d{3}Z$/, 'Z');
      const node = registry.create(def, undefined, {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: {
          name,
          labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', ...(i === 1 ? { 'node-role.kubernetes.io/control-plane': '' } : {}) },
        },
        spec: {},
      });
      registry.update(def, undefined, name, {
        ...node,
        status: {
          capacity: { cpu: '4', memory: '8Gi', pods: '110' },
          allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
          conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }],
          addresses: [
            { type: 'InternalIP', address: '127.0.0.1' },
            { type: 'Hostname', address: name },
          ],
          nodeInfo: { kubeletVersion: 'v1.33.0+formicary', operatingSystem: 'linux', architecture: 'amd64', containerRuntimeVersion: 'formicary://0.1.0', osImage: 'Formicary', kernelVersion: '', kubeProxyVersion: '', machineID: '', systemUUID: '', bootID: '' },
        },
      }, { subresource: 'status' });
    });
  }
}

const tokenSecretType = 'kubernetes.io/service-account-token';
const accountNameAnnotation = 'kubernetes.io/service-account.name';
const accountUidAnnotation = 'kubernetes.io/service-account.uid';

/** The token controller: a legacy token Secret gets token, ca.crt and namespace once its ServiceAccount exists. */
function populateTokenSecrets({ registry, tokens, caPem }: BootstrapOptions): () => void {
  const secrets = registry.lookup('', 'v1', 'secrets');
  const serviceAccounts = registry.lookup('', 'v1', 'serviceaccounts');
  if (!secrets || !serviceAccounts) return () => {};
  const pending = new Set<string>();
  let stopped = false;
  const populate = (namespace: string, name: string) => {
    pending.delete(`${namespace}/${name}`);
    if (stopped) return;
    const secret = findObject(registry, secrets, namespace, name);
    const account = secret && findObject(registry, serviceAccounts, namespace, secret.metadata.annotations?.[accountNameAnnotation] ?? '');
    if (!secret || !account || !needsToken(secret)) return;
    const accountName = account.metadata.name ?? '';
    const token = tokens.issueLegacyServiceAccountToken({ namespace, serviceAccountName: accountName, serviceAccountUid: account.metadata.uid ?? '', secretName: name });
    const data = { ...(secret['data'] as Record<string, string> | undefined) };
    data['token'] = Buffer.from(token).toString('base64');
    data['ca.crt'] = Buffer.from(caPem).toString('base64');
    data['namespace'] = Buffer.from(namespace).toString('base64');
    try {
      registry.update(secrets, namespace, name, {
        ...secret,
        metadata: { ...secret.metadata, annotations: { ...secret.metadata.annotations, [accountUidAnnotation]: account.metadata.uid ?? '' } },
        data,
      });
    } catch (error) {
      // Changed or deleted meanwhile: the watch brings the next version here again.
      if (!(error instanceof StatusError && (error.code === 409 || error.code === 404))) throw error;
    }
  };
  const onEvent = (event: WatchEvent) => {
    if (event.type !== 'ADDED' && event.type !== 'MODIFIED') return;
    if (!needsToken(event.object)) return;
    const key = `${event.object.metadata.namespace}/${event.object.metadata.name}`;
    if (pending.has(key)) return;
    pending.add(key);
    // Never write from inside the registry's event delivery.
    setImmediate(() => populate(event.object.metadata.namespace ?? '', event.object.metadata.name ?? ''));
  };
  const watches = [
    registry.watch(secrets, {}, onEvent),
    // A Secret created before its ServiceAccount is filled once the account appears.
    registry.watch(serviceAccounts, {}, (event) => {
      if (event.type !== 'ADDED') return;
      const namespace = event.object.metadata.namespace ?? '';
      for (const secret of registry.list(secrets, { namespace }).items) onEvent({ type: 'MODIFIED', object: secret });
    }),
  ];
  return () => {
    stopped = true;
    for (const watch of watches) watch.stop();
  };
}

function needsToken(secret: KubeObject): boolean {
  if (secret['type'] !== tokenSecretType || !secret.metadata.annotations?.[accountNameAnnotation]) return false;
  const data = secret['data'] as Record<string, unknown> | undefined;
  return typeof data?.['token'] !== 'string' || data['token'] === '';
}
