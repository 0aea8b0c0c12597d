// NamespaceLifecycle: nothing is created in a namespace that does not exist or is being
// deleted, and the namespaces a cluster needs cannot be deleted.
import { StatusError, statusErrors } from '../../types.ts';
import type { AdmissionPlugin } from '../../registry/index.ts';
import { forbidden } from './forbidden.ts';

const immortalNamespaces = new Set(['default', 'kube-system', 'kube-public']);

export const namespaceLifecycle: AdmissionPlugin = {
  name: 'NamespaceLifecycle',
  mutate(request) {
    const { definition, registry } = request;
    if (request.operation !== 'CREATE' || !definition.namespaced || !request.namespace) return;
    const namespaces = registry.lookup('', 'v1', 'namespaces');
    if (!namespaces) return;
    let namespace;
    try {
      namespace = registry.get(namespaces, undefined, request.namespace);
    } catch (error) {
      if (error instanceof StatusError && error.code === 404) throw statusErrors.notFound({ group: '', resource: 'namespaces' }, request.namespace);
      throw error;
    }
    const phase = (namespace.status as { phase?: unknown } | undefined)?.phase;
    if (namespace.metadata.deletionTimestamp || phase === 'Terminating')
      throw forbidden(request, `unable to create new content in namespace ${request.namespace} because it is being terminated`);
  },
  validate(request) {
    const { definition } = request;
    if (request.operation === 'DELETE' && definition.group === '' && definition.resource === 'namespaces' && immortalNamespaces.has(request.name))
      throw forbidden(request, 'this namespace may not be deleted');
  },
};
