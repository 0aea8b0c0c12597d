// One OpenAPI 3.0 document per group-version, as kube-apiserver serves at /openapi/v3/<gv>:
// paths for every resource and subresource (each PATCH lists `fieldValidation`, which is what
// makes kubectl leave field validation to the server) and components.schemas for every kind
// and the types it uses (what `kubectl explain` reads).
import type { ResourceDefinition, SubresourceDefinition } from '../../registry/index.ts';
import { listMetaSchema, modelNameFor, objectMetaSchema, patchSchema, ref, schemaNameOf, schemasFor, type GroupVersionKind, type Schema } from './schemas.ts';

/** "api/v1", "apis/apps/v1": the key of a group-version in the /openapi/v3 index. */
export function groupVersionPath(group: string, version: string): string {
  return group === '' ? `api/${version}` : `apis/${group}/${version}`;
}

/** stable.example.com/v1 CronTab → com.example.stable.v1.CronTab, as upstream names CRD schemas. */
export function customResourceSchemaName(gvk: GroupVersionKind): string {
  return `${gvk.group.split('.').reverse().join('.')}.${gvk.version}.${gvk.kind}`;
}

const apiVersionDescription =
  'APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources';
const kindDescription =
  'Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';
const metadataDescription = "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
const listMetadataDescription = 'Standard list metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds';

function query(name: string, description: string, type: 'string' | 'boolean' | 'integer' = 'string'): Schema {
  return { name, in: 'query', description, schema: { type, uniqueItems: true } };
}

const parameters = {
  pretty: query('pretty', "If 'true', then the output is pretty printed. Defaults to 'false' unless the user-agent indicates a browser or command-line HTTP tool (curl and wget)."),
  name: (kind: string): Schema => ({ name: 'name', in: 'path', description: `name of the ${kind}`, required: true, schema: { type: 'string', uniqueItems: true } }),
  namespace: { name: 'namespace', in: 'path', description: 'object name and auth scope, such as for teams and projects', required: true, schema: { type: 'string', uniqueItems: true } },
  dryRun: query('dryRun', 'When present, indicates that modifications should not be persisted. The only valid value is All: all dry run stages are processed.'),
  fieldManager: query('fieldManager', 'fieldManager is a name associated with the actor or entity that is making these changes. At most 128 printable characters.'),
  fieldValidation: query(
    'fieldValidation',
    'fieldValidation instructs the server on how to handle objects in the request (POST/PUT/PATCH) containing unknown or duplicate fields. Valid values are: Ignore (drop unknown fields silently), Warn (drop them and send a warning header for each, the default), Strict (fail the request with BadRequest naming every unknown field).',
  ),
  force: query('force', 'Force is going to "force" Apply requests: the caller re-acquires conflicting fields owned by other managers. Must be unset for non-apply patches.', 'boolean'),
  list: [
    query('allowWatchBookmarks', 'allowWatchBookmarks requests watch events with type "BOOKMARK".', 'boolean'),
    query('continue', 'The continue option should be set when retrieving more results from the server: the token of the previous page.'),
    query('fieldSelector', 'A selector to restrict the list of returned objects by their fields. Defaults to everything.'),
    query('labelSelector', 'A selector to restrict the list of returned objects by their labels. Defaults to everything.'),
    query('limit', 'limit is a maximum number of responses to return for a list call; a continue token follows when there are more.', 'integer'),
    query('resourceVersion', 'resourceVersion sets a constraint on what resource versions a request may be served from. Defaults to unset.'),
    query('resourceVersionMatch', 'resourceVersionMatch determines how resourceVersion is applied to list calls.'),
    query('sendInitialEvents', 'sendInitialEvents=true may be set together with watch=true: the stream begins with synthetic events for the current state.', 'boolean'),
    query('timeoutSeconds', 'Timeout for the list/watch call, regardless of any activity or inactivity.', 'integer'),
    query('watch', 'Watch for changes to the described resources and return them as a stream of add, update, and remove notifications.', 'boolean'),
  ],
  delete: [
    query('gracePeriodSeconds', 'The duration in seconds before the object should be deleted. Zero means delete immediately.', 'integer'),
    query('propagationPolicy', "Whether and how garbage collection will be performed: 'Orphan', 'Background' or 'Foreground'."),
  ],
};

function jsonContent(schema: Schema): Schema {
  return { 'application/json': { schema }, 'application/yaml': { schema } };
}

function response(code: string, schema: Schema | undefined): Schema {
  return {
    [code]: schema ? { description: code === '201' ? 'Created' : code === '202' ? 'Accepted' : 'OK', content: jsonContent(schema) } : { description: 'OK' },
    '401': { description: 'Unauthorized' },
  };
}

interface OperationInput {
  action: string;
  verb: string;
  operationId: string;
  gvk: GroupVersionKind;
  tag: string;
  parameters: Schema[];
  body?: Schema;
  bodyContent?: Schema;
  responses: Schema;
}

function operation(input: OperationInput): Schema {
  const op: Schema = {
    tags: [input.tag],
    description: `${input.verb} ${input.gvk.kind}`,
    operationId: input.operationId,
  };
  if (input.parameters.length > 0) op.parameters = input.parameters;
  if (input.bodyContent) op.requestBody = { content: input.bodyContent, required: true };
  else if (input.body) op.requestBody = { content: jsonContent(input.body), required: true };
  op.responses = input.responses;
  op['x-kubernetes-action'] = input.action;
  op['x-kubernetes-group-version-kind'] = { group: input.gvk.group, version: input.gvk.version, kind: input.gvk.kind };
  return op;
}

const patchContentOf = (types: string[]): Schema => Object.fromEntries(types.map((type) => [type, { schema: ref(patchSchema) }]));
const mergePatchTypes = ['application/apply-patch+yaml', 'application/json-patch+json', 'application/merge-patch+json'];
/** kubectl apply sends a strategic merge patch only where the PATCH operation lists it: never for custom resources (the server answers 415). */
const patchContentFor = (def: ResourceDefinition): Schema => patchContentOf(def.crd ? mergePatchTypes : [...mergePatchTypes, 'application/strategic-merge-patch+json']);

function operationName(verb: string, def: ResourceDefinition, scope: string, suffix = ''): string {
  const group = def.group === '' ? 'core' : (def.group.split('.')[0] ?? '');
  const camel = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
  return `${verb}${camel(group)}${camel(def.version)}${scope}${def.kind}${suffix}`;
}

interface Built {
  paths: Record<string, Schema>;
  /** models whose schemas the document must carry, with the GVKs they are */
  kinds: Map<string, GroupVersionKind[]>;
  customSchemas: Record<string, Schema>;
}

function schemaRefFor(gvk: GroupVersionKind, def: ResourceDefinition, built: Built): Schema | undefined {
  if (def.crd && gvk.kind === def.kind && gvk.group === def.group) return ref(customResourceSchemaName(gvk));
  const model = modelNameFor(gvk);
  if (model === undefined) return undefined;
  const known = built.kinds.get(model) ?? [];
  if (!known.some((k) => k.group === gvk.group && k.version === gvk.version && k.kind === gvk.kind)) known.push(gvk);
  built.kinds.set(model, known);
  return ref(schemaNameOf(model));
}

function addResource(def: ResourceDefinition, built: Built): void {
  const gv = groupVersionPath(def.group, def.version);
  const gvk: GroupVersionKind = { group: def.group, version: def.version, kind: def.kind };
  const objectRef = schemaRefFor(gvk, def, built);
  const listRef = def.crd ? ref(customResourceSchemaName({ ...gvk, kind: def.listKind })) : schemaRefFor({ ...gvk, kind: def.listKind }, def, built);
  const statusRef = schemaRefFor({ group: '', version: 'v1', kind: 'Status' }, def, built);
  const deleteOptionsRef = schemaRefFor({ group: '', version: 'v1', kind: 'DeleteOptions' }, def, built);
  const tag = `${def.group === '' ? 'core' : def.group.split('.')[0]}_${def.version}`;
  const verbs = new Set(def.verbs);
  const scopedBase = def.namespaced ? `/${gv}/namespaces/{namespace}/${def.resource}` : `/${gv}/${def.resource}`;
  const scope = def.namespaced ? 'Namespaced' : '';
  const scopeParams = def.namespaced ? [parameters.namespace] : [];
  const writeParams = [parameters.dryRun, parameters.fieldManager, parameters.fieldValidation];

  const collection: Schema = {};
  if (verbs.has('list')) {
    collection.get = operation({ action: 'list', verb: 'list or watch objects of kind', operationId: operationName('list', def, scope), gvk, tag, parameters: parameters.list, responses: response('200', listRef) });
  }
  if (verbs.has('create')) {
    collection.post = operation({ action: 'post', verb: 'create a', operationId: operationName('create', def, scope), gvk, tag, parameters: writeParams, body: objectRef, responses: { ...response('200', objectRef), ...response('201', objectRef) } });
  }
  if (verbs.has('deletecollection')) {
    collection.delete = operation({ action: 'deletecollection', verb: 'delete collection of', operationId: operationName('deleteCollection', def, scope), gvk, tag, parameters: [...parameters.list, ...parameters.delete, parameters.dryRun], body: deleteOptionsRef, responses: response('200', statusRef) });
  }
  if (Object.keys(collection).length > 0) built.paths[scopedBase] = { ...collection, parameters: [...scopeParams, parameters.pretty] };

  const item: Schema = {};
  if (verbs.has('get')) item.get = operation({ action: 'get', verb: 'read the specified', operationId: operationName('read', def, scope), gvk, tag, parameters: [], responses: response('200', objectRef) });
  if (verbs.has('update')) item.put = operation({ action: 'put', verb: 'replace the specified', operationId: operationName('replace', def, scope), gvk, tag, parameters: writeParams, body: objectRef, responses: { ...response('200', objectRef), ...response('201', objectRef) } });
  if (verbs.has('patch')) item.patch = operation({ action: 'patch', verb: 'partially update the specified', operationId: operationName('patch', def, scope), gvk, tag, parameters: [...writeParams, parameters.force], bodyContent: patchContentFor(def), responses: { ...response('200', objectRef), ...response('201', objectRef) } });
  if (verbs.has('delete')) item.delete = operation({ action: 'delete', verb: 'delete a', operationId: operationName('delete', def, scope), gvk, tag, parameters: [...parameters.delete, parameters.dryRun], body: deleteOptionsRef, responses: { ...response('200', objectRef), ...response('202', objectRef) } });
  if (Object.keys(item).length > 0) built.paths[`${scopedBase}/{name}`] = { ...item, parameters: [parameters.name(def.kind), ...scopeParams, parameters.pretty] };

  if (def.namespaced && verbs.has('list')) {
    built.paths[`/${gv}/${def.resource}`] = {
      get: operation({ action: 'list', verb: 'list or watch objects of kind', operationId: operationName('list', def, '', 'ForAllNamespaces'), gvk, tag, parameters: parameters.list, responses: response('200', listRef) }),
      parameters: [parameters.pretty],
    };
  }
  for (const sub of def.subresources) addSubresource(def, sub, `${scopedBase}/{name}/${sub.name}`, scope, scopeParams, built, tag);
}

function addSubresource(def: ResourceDefinition, sub: SubresourceDefinition, path: string, scope: string, scopeParams: Schema[], built: Built, tag: string): void {
  const gvk: GroupVersionKind = { group: sub.group, version: sub.version, kind: sub.kind };
  const schema = schemaRefFor(gvk, def, built);
  const suffix = sub.name.charAt(0).toUpperCase() + sub.name.slice(1);
  const writeParams = [parameters.dryRun, parameters.fieldManager, parameters.fieldValidation];
  const ops: Schema = {};
  for (const verb of sub.verbs) {
    if (verb === 'get') ops.get = operation({ action: 'get', verb: `read ${sub.name} of the specified`, operationId: operationName('read', def, scope, suffix), gvk, tag, parameters: [], responses: response('200', schema) });
    if (verb === 'update') ops.put = operation({ action: 'put', verb: `replace ${sub.name} of the specified`, operationId: operationName('replace', def, scope, suffix), gvk, tag, parameters: writeParams, body: schema, responses: response('200', schema) });
    if (verb === 'patch') ops.patch = operation({ action: 'patch', verb: `partially update ${sub.name} of the specified`, operationId: operationName('patch', def, scope, suffix), gvk, tag, parameters: [...writeParams, parameters.force], bodyContent: patchContentFor(def), responses: response('200', schema) });
    if (verb === 'create') ops.post = operation({ action: 'post', verb: `create ${sub.name} of a`, operationId: operationName('create', def, scope, suffix), gvk, tag, parameters: writeParams, body: schema, responses: { ...response('200', schema), ...response('201', schema) } });
  }
  if (Object.keys(ops).length > 0) built.paths[path] = { ...ops, parameters: [parameters.name(def.kind), ...scopeParams, parameters.pretty] };
}

/** A CRD's openAPIV3Schema as a component: apiVersion, kind and metadata described as built-ins are. */
function customResourceSchemas(def: ResourceDefinition, schema: Record<string, unknown>): Record<string, Schema> {
  const gvk = { group: def.group, version: def.version, kind: def.kind };
  const name = customResourceSchemaName(gvk);
  const properties = { ...((schema.properties as Record<string, Schema> | undefined) ?? {}) };
  properties.apiVersion = { type: 'string', description: apiVersionDescription };
  properties.kind = { type: 'string', description: kindDescription };
  properties.metadata = { allOf: [ref(objectMetaSchema)], description: metadataDescription };
  const object: Schema = { ...structuredClone(schema), type: 'object', properties, 'x-kubernetes-group-version-kind': [gvk] };
  const list: Schema = {
    description: `${def.listKind} is a list of ${def.kind}`,
    type: 'object',
    properties: {
      apiVersion: { type: 'string', description: apiVersionDescription },
      items: { type: 'array', description: `List of ${def.resource}. More info: https://kubernetes.io/docs/reference/using-api/api-concepts/#collections`, items: ref(name) },
      kind: { type: 'string', description: kindDescription },
      metadata: { allOf: [ref(listMetaSchema)], description: listMetadataDescription },
    },
    required: ['items'],
    'x-kubernetes-group-version-kind': [{ ...gvk, kind: def.listKind }],
  };
  return { [name]: object, [customResourceSchemaName({ ...gvk, kind: def.listKind })]: list };
}

/** The OpenAPI document of one group-version, or undefined when nothing is served there. */
export function buildDocument(defs: ResourceDefinition[]): Schema | undefined {
  if (defs.length === 0) return undefined;
  const built: Built = { paths: {}, kinds: new Map(), customSchemas: {} };
  for (const def of [...defs].sort((a, b) => a.resource.localeCompare(b.resource))) {
    addResource(def, built);
    if (def.crd) Object.assign(built.customSchemas, customResourceSchemas(def, def.crd.schema ?? { type: 'object', 'x-kubernetes-preserve-unknown-fields': true }));
  }
  const models = new Set(built.kinds.keys());
  if (defs.some((def) => def.crd)) {
    models.add('V1ObjectMeta');
    models.add('V1ListMeta');
  }
  const schemas = { ...schemasFor(models, built.kinds), ...built.customSchemas };
  const sorted = Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b)));
  return {
    openapi: '3.0.0',
    info: { title: 'Kubernetes', version: 'unversioned' },
    paths: built.paths,
    components: { schemas: sorted },
  };
}
