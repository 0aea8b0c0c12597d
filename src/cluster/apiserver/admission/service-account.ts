// ServiceAccount admission (plugin/pkg/admission/serviceaccount): a pod's ServiceAccount must
// exist, and unless automounting is off every container gets the `kube-api-access-<id>`
// projected volume (token, cluster CA, namespace) at /var/run/secrets/kubernetes.io/serviceaccount,
// which is what `kubectl get pod -o yaml` and `kubectl describe pod` show on a real cluster.
import { StatusError, type KubeObject } from '../../types.ts';
import { generateName, type AdmissionPlugin, type AdmissionRequest } from '../../registry/index.ts';
import { forbidden } from './forbidden.ts';

const mountPath = '/var/run/secrets/kubernetes.io/serviceaccount';
const volumePrefix = 'kube-api-access-';
/** An hour, plus the 7 s upstream adds so that kubelets can tell projected tokens apart. */
const tokenExpirationSeconds = 3607;

type Json = Record<string, unknown>;
const objects = (value: unknown): Json[] => (Array.isArray(value) ? value.filter((v): v is Json => typeof v === 'object' && v !== null) : []);

function serviceAccountOf(request: AdmissionRequest, name: string): KubeObject | undefined {
  const definition = request.registry.lookup('', 'v1', 'serviceaccounts');
  if (!definition) return undefined;
  try {
    return request.registry.get(definition, request.namespace, name);
  } catch (error) {
    if (error instanceof StatusError && error.code === 404) return undefined;
    throw error;
  }
}

function apiAccessVolume(name: string): Json {
  return {
    name,
    projected: {
      defaultMode: 0o644,
      sources: [
        { serviceAccountToken: { expirationSeconds: tokenExpirationSeconds, path: 'token' } },
        { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
        { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
      ],
    },
  };
}

export const serviceAccount: AdmissionPlugin = {
  name: 'ServiceAccount',
  mutate(request) {
    const { definition, object } = request;
    if (request.operation !== 'CREATE' || request.subresource || definition.group !== '' || definition.resource !== 'pods' || !object) return;
    // Mirror pods come from a kubelet's static manifests and are left as they are.
    if (object.metadata.annotations?.['kubernetes.io/config.mirror'] !== undefined) return;
    const spec = (object.spec ?? {}) as Json;
    const accountName = typeof spec['serviceAccountName'] === 'string' && spec['serviceAccountName'] !== '' ? spec['serviceAccountName'] : 'default';
    const account = serviceAccountOf(request, accountName);
    // A missing `default` account is let through: without the controllers nothing creates it.
    if (!account && accountName !== 'default') {
      throw forbidden(request, `error looking up service account ${request.namespace}/${accountName}: serviceaccount "${accountName}" not found`);
    }
    const automount = typeof spec['automountServiceAccountToken'] === 'boolean' ? spec['automountServiceAccountToken'] : account?.['automountServiceAccountToken'] !== false;
    if (!automount) return;
    const containers = [...objects(spec['initContainers']), ...objects(spec['containers'])];
    const volumes = objects(spec['volumes']);
    const existing = volumes.find((v) => typeof v['name'] === 'string' && v['name'].startsWith(volumePrefix) && v['projected'] !== undefined);
    const volumeName = typeof existing?.['name'] === 'string' ? existing['name'] : generateName(volumePrefix);
    let mounted = false;
    for (const container of containers) {
      const mounts = objects(container['volumeMounts']);
      if (mounts.some((m) => m['mountPath'] === mountPath)) continue;
      container['volumeMounts'] = [...mounts, { name: volumeName, readOnly: true, mountPath }];
      mounted = true;
    }
    if (mounted && !existing) spec['volumes'] = [...volumes, apiAccessVolume(volumeName)];
  },
};
