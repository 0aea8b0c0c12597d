// The generated /openapi/v3 index and documents, read as kubectl and server-side apply read them.
import { describe, expect, test } from 'vitest';
import { createOpenApi } from '../../../../src/cluster/apiserver/openapi/index.ts';
import type { ResourceDefinition } from '../../../../src/cluster/registry/index.ts';
import { cronTabs, definition, servedResources } from './served-resources.ts';

type Json = Record<string, any>;

function documentOf(resources: ResourceDefinition[], gv: string): Json {
  const document = createOpenApi(() => resources).document(gv);
  if (document === undefined) throw new Error(`no document for ${gv}`);
  return JSON.parse(document.body) as Json;
}

describe('the /openapi/v3 index', () => {
  test('lists every served group-version with a hash URL', () => {
    const { paths } = createOpenApi(() => [...servedResources, cronTabs]).index();
    expect(Object.keys(paths)).toEqual(expect.arrayContaining(['api/v1', 'apis/apps/v1', 'apis/batch/v1', 'apis/rbac.authorization.k8s.io/v1', 'apis/stable.example.com/v1']));
    expect(paths['apis/apps/v1']?.serverRelativeURL).toMatch(/^\/openapi\/v3\/apis\/apps\/v1\?hash=[0-9A-F]{128}$/);
  });

  test('hashes are stable for the same resources and change only where the resources changed', () => {
    const resources = [...servedResources];
    const openApi = createOpenApi(() => resources);
    const first = openApi.index().paths;
    expect(createOpenApi(() => [...servedResources]).index().paths).toEqual(first);
    resources.push(cronTabs);
    expect(openApi.index().paths).toEqual(first);
    openApi.invalidate();
    const second = openApi.index().paths;
    expect(second['apis/stable.example.com/v1']).toBeDefined();
    expect(second['apis/apps/v1']).toEqual(first['apis/apps/v1']);
    expect(openApi.document('apis/apps/v1')?.etag).toBe(/hash=(\w+)/.exec(first['apis/apps/v1']?.serverRelativeURL ?? '')?.[1]);
  });

  test('a group-version nobody serves has no document', () => {
    expect(createOpenApi(() => servedResources).document('apis/nothing.example.com/v1')).toBeUndefined();
  });
});

describe('a group-version document', () => {
  const apps = documentOf(servedResources, 'apis/apps/v1');

  test('every PATCH names its kind and accepts fieldValidation, so kubectl validates on the server', () => {
    const patches = Object.entries(apps.paths as Json).filter(([, item]) => item.patch);
    expect(patches.map(([path]) => path)).toEqual(expect.arrayContaining(['/apis/apps/v1/namespaces/{namespace}/deployments/{name}', '/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale']));
    for (const [, item] of patches) {
      expect(item.patch['x-kubernetes-group-version-kind']).toBeDefined();
      expect(item.patch.parameters.map((p: Json) => p.name)).toContain('fieldValidation');
    }
    expect(apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments/{name}/scale'].patch['x-kubernetes-group-version-kind']).toEqual({ group: 'autoscaling', version: 'v1', kind: 'Scale' });
  });

  test('collections list, create and delete; namespaced resources are also listed across namespaces', () => {
    const collection = apps.paths['/apis/apps/v1/namespaces/{namespace}/deployments'];
    expect(Object.keys(collection)).toEqual(expect.arrayContaining(['get', 'post', 'delete', 'parameters']));
    expect(collection.get['x-kubernetes-action']).toBe('list');
    expect(apps.paths['/apis/apps/v1/deployments'].get.operationId).toBe('listAppsV1DeploymentForAllNamespaces');
  });

  test('kinds carry their group-version-kind, upstream schema names, descriptions and required fields', () => {
    const schemas = apps.components.schemas as Json;
    expect(schemas['io.k8s.api.apps.v1.Deployment']['x-kubernetes-group-version-kind']).toEqual([{ group: 'apps', kind: 'Deployment', version: 'v1' }]);
    expect(schemas['io.k8s.api.apps.v1.DeploymentList']['x-kubernetes-group-version-kind']).toEqual([{ group: 'apps', kind: 'DeploymentList', version: 'v1' }]);
    expect(schemas['io.k8s.api.autoscaling.v1.Scale']).toBeDefined();
    expect(schemas['io.k8s.api.apps.v1.DeploymentSpec'].required).toEqual(['selector', 'template']);
    expect(schemas['io.k8s.api.apps.v1.DeploymentSpec'].properties.template).toEqual(expect.objectContaining({ $ref: '#/components/schemas/io.k8s.api.core.v1.PodTemplateSpec' }));
    expect(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta'].properties.creationTimestamp.$ref).toBe('#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time');
  });

  test('merge keys, list types and map types come with the fields kubectl and apply merge by', () => {
    const schemas = apps.components.schemas as Json;
    expect(schemas['io.k8s.api.core.v1.PodSpec'].properties.containers).toEqual(
      expect.objectContaining({
        type: 'array',
        'x-kubernetes-patch-merge-key': 'name',
        'x-kubernetes-patch-strategy': 'merge',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
    );
    expect(schemas['io.k8s.api.core.v1.PodSpec'].properties.volumes['x-kubernetes-patch-strategy']).toBe('merge,retainKeys');
    expect(schemas['io.k8s.api.core.v1.PodSpec'].properties.tolerations['x-kubernetes-list-type']).toBe('atomic');
    expect(schemas['io.k8s.api.core.v1.Container'].properties.ports['x-kubernetes-list-map-keys']).toEqual(['containerPort', 'protocol']);
    expect(schemas['io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector']['x-kubernetes-map-type']).toBe('atomic');
    expect(schemas['io.k8s.api.core.v1.ResourceRequirements'].properties.limits.additionalProperties.$ref).toBe('#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity');
  });

  test('create-only kinds (access reviews) are described by their POST', () => {
    const authorization = documentOf(servedResources, 'apis/authorization.k8s.io/v1');
    const post = authorization.paths['/apis/authorization.k8s.io/v1/selfsubjectaccessreviews'].post;
    expect(post['x-kubernetes-group-version-kind']).toEqual({ group: 'authorization.k8s.io', version: 'v1', kind: 'SelfSubjectAccessReview' });
    expect(authorization.components.schemas['io.k8s.api.authorization.v1.SelfSubjectAccessReview']).toBeDefined();
  });

  test('core kinds that client-node prefixes (Event) get their upstream names', () => {
    const core = documentOf(servedResources, 'api/v1');
    expect(core.components.schemas['io.k8s.api.core.v1.Event']['x-kubernetes-group-version-kind']).toEqual([{ group: '', kind: 'Event', version: 'v1' }]);
  });

  test('a custom resource is described by its CRD schema with metadata as ObjectMeta', () => {
    const doc = documentOf([cronTabs], 'apis/stable.example.com/v1');
    const schema = doc.components.schemas['com.example.stable.v1.CronTab'];
    expect(schema['x-kubernetes-group-version-kind']).toEqual([{ group: 'stable.example.com', version: 'v1', kind: 'CronTab' }]);
    expect(schema.properties.spec.properties.cronSpec.description).toBe('When to run, in cron syntax.');
    expect(schema.properties.metadata.allOf[0].$ref).toBe('#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta');
    expect(doc.components.schemas['io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta']).toBeDefined();
    expect(doc.paths['/apis/stable.example.com/v1/namespaces/{namespace}/crontabs/{name}/status'].patch.parameters.map((p: Json) => p.name)).toContain('fieldValidation');
  });

  test('a resource without a model still gets paths (explain then says the GVK has no schema)', () => {
    const doc = documentOf([definition('example.com', 'v1', 'widgets', 'Widget', true)], 'apis/example.com/v1');
    expect(doc.paths['/apis/example.com/v1/namespaces/{namespace}/widgets/{name}'].patch['x-kubernetes-group-version-kind'].kind).toBe('Widget');
  });
});

test('generates a document for every group-version of the issue-3 resource set', () => {
  const openApi = createOpenApi(() => [...servedResources, cronTabs]);
  const { paths } = openApi.index();
  const missing = Object.keys(paths).filter((gv) => !openApi.document(gv)?.body.length);
  expect(Object.keys(paths).length).toBeGreaterThan(10);
  expect(missing).toEqual([]);
});
