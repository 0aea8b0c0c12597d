// Interim: the smallest /openapi/v3 that makes kubectl validate on the server (reference §0.3).
import type { KubeObject } from '../../types.ts';
import type { ResourceDefinition } from '../../registry/index.ts';

export function findUnknownFields(_object: KubeObject, _gvk: { group: string; version: string; kind: string }): string[] {
  return [];
}

export interface OpenApi {
  /** undefined when the path is not an OpenAPI document */
  serve(path: string): { body: unknown; etag: string } | undefined;
}

export function createOpenApi(resources: () => ResourceDefinition[]): OpenApi {
  const groupVersionPath = (def: ResourceDefinition) => (def.group === '' ? `api/${def.version}` : `apis/${def.group}/${def.version}`);
  return {
    serve(path) {
      const defs = resources();
      if (path === '/openapi/v3') {
        const paths: Record<string, unknown> = {};
        for (const def of defs) paths[groupVersionPath(def)] = { serverRelativeURL: `/openapi/v3/${groupVersionPath(def)}?hash=interim` };
        return { body: { paths }, etag: 'interim' };
      }
      const gv = path.replace(/^\/openapi\/v3\//, '');
      const matching = defs.filter((def) => groupVersionPath(def) === gv);
      if (matching.length === 0) return undefined;
      const paths: Record<string, unknown> = {};
      for (const def of matching) {
        const prefix = `/${gv}${def.namespaced ? '/namespaces/{namespace}' : ''}/${def.resource}/{name}`;
        paths[prefix] = {
          patch: {
            'x-kubernetes-group-version-kind': { group: def.group, version: def.version, kind: def.kind },
            parameters: [{ name: 'fieldValidation', in: 'query', schema: { type: 'string', uniqueItems: true } }],
            responses: {},
          },
        };
      }
      return { body: { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.33.0' }, paths, components: { schemas: {} } }, etag: 'interim' };
    },
  };
}
