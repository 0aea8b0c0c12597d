// Interim: the NamespaceLifecycle admission plugin only, until the admission library lands.
import { StatusError, statusErrors } from '../../types.ts';
import type { AdmissionPlugin } from '../../registry/index.ts';

/** Namespaces kube-apiserver refuses to delete. */
const immortal = new Set(['default', 'kube-system', 'kube-public']);

export function admissionPlugins(): AdmissionPlugin[] {
  return [
    {
      name: 'NamespaceLifecycle',
      validate(request) {
        const { definition } = request;
        if (request.operation === 'DELETE' && definition.group === '' && definition.resource === 'namespaces' && immortal.has(request.name)) {
          throw statusErrors.forbidden(`namespaces "${request.name}" is forbidden: this namespace may not be deleted`, { group: '', resource: 'namespaces' }, request.name);
        }
        if (request.operation !== 'CREATE' || !request.definition.namespaced || !request.namespace) return;
        const namespaces = request.registry.lookup('', 'v1', 'namespaces');
        if (!namespaces) return;
        let namespace;
        try {
          namespace = request.registry.get(namespaces, undefined, request.namespace);
        } catch (error) {
          if (error instanceof StatusError && error.code === 404) throw statusErrors.notFound({ group: '', resource: 'namespaces' }, request.namespace);
          throw error;
        }
        if (namespace.metadata.deletionTimestamp) {
          const gr = { group: request.definition.group, resource: request.definition.resource };
          const subject = request.name ? `${request.definition.resource}${gr.group ? `.${gr.group}` : ''} "${request.name}"` : request.definition.resource;
          throw statusErrors.forbidden(`${subject} is forbidden: unable to create new content in namespace ${request.namespace} because it is being terminated`, gr, request.name);
        }
      },
    },
  ];
}
