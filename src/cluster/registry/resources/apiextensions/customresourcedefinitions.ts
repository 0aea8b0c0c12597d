// CustomResourceDefinitions: validated, accepted and established at once (there is no separate
// controller to wait for), and turned into served ResourceDefinitions with a generic strategy
// for their objects, which their follower serves in each registry (the apiextensions server's
// part). Validating objects against openAPIV3Schema is the API server's part.
import type { KubeObject } from '../../../types.ts';
import type { PrinterColumn, ResourceDefinition, SubresourceDefinition } from '../../interface.ts';
import { asArray, asObject, type Json, objects, str } from '../../../json.ts';
import { clone, ensureObject, getPath, setDefault } from '../../fields.ts';
import { formatTimestamp } from '../../meta.ts';
import {
  type AlternateVersion,
  type CommitEvent,
  defineResource,
  type FollowerStore,
  type ResourceStrategy,
  storageIdOf,
  type StrategyContext,
  subresource,
  type WriteFollower,
} from '../../strategy.ts';
import { type FieldError, fieldError, GoValue, immutableField, isDNS1035Label, isDNS1123Label, isDNS1123Subdomain } from '../../validation.ts';

export const CRD_GROUP = 'apiextensions.k8s.io';
const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';
const scopes = ['Cluster', 'Namespaced'];
const APPROVAL_ANNOTATION = 'api-approved.kubernetes.io';

function isCustomResourceDefinition(object: KubeObject): boolean {
  return object.kind === 'CustomResourceDefinition';
}

interface Names {
  plural: string;
  singular: string;
  kind: string;
  listKind: string;
  shortNames: string[];
  categories: string[];
}

function namesOf(crd: KubeObject): Names {
  const names = asObject(asObject(crd.spec)?.names) ?? {};
  const kind = str(names.kind) ?? '';
  return {
    plural: str(names.plural) ?? '',
    singular: str(names.singular) ?? kind.toLowerCase(),
    kind,
    listKind: str(names.listKind) ?? `${kind}List`,
    shortNames: asArray(names.shortNames).map(String),
    categories: asArray(names.categories).map(String),
  };
}

function condition(type: string, status: 'True' | 'False', reason: string, message: string, now: Date): Json {
  return { type, status, lastTransitionTime: formatTimestamp(now), reason, message };
}

/** The NamesAccepted check: no other resource of the group already uses these names. */
function nameConflict(crd: KubeObject, ctx: StrategyContext): string | undefined {
  const group = str(asObject(crd.spec)?.group) ?? '';
  const names = namesOf(crd);
  const ownStorage = `${group}/${names.plural}`;
  for (const def of ctx.registry.resources()) {
    if (def.group !== group || `${def.group}/${def.resource}` === ownStorage) continue;
    if (def.resource === names.plural || def.singular === names.plural) return `"${names.plural}" is already in use`;
    if (def.kind === names.kind) return `"${names.kind}" is already in use`;
    if (names.shortNames.some((s) => def.shortNames.includes(s))) return `"${names.shortNames.find((s) => def.shortNames.includes(s)) ?? ''}" is already in use`;
  }
  return undefined;
}

function acceptNames(crd: Json & KubeObject, ctx: StrategyContext): void {
  const status = ensureObject(crd, 'status');
  const names = namesOf(crd);
  const conflict = nameConflict(crd, ctx);
  const previous = objects(status.conditions);
  const keepTime = (next: Json) => {
    const old = previous.find((c) => c.type === next.type);
    if (old && old.status === next.status) next.lastTransitionTime = old.lastTransitionTime;
    return next;
  };
  if (conflict) {
    status.conditions = [
      keepTime(condition('NamesAccepted', 'False', 'PluralConflict', conflict, ctx.now)),
      keepTime(condition('Established', 'False', 'NotAccepted', 'not all names are accepted', ctx.now)),
    ];
    return;
  }
  const accepted: Json = { plural: names.plural, singular: names.singular, kind: names.kind, listKind: names.listKind };
  if (names.shortNames.length) accepted.shortNames = names.shortNames;
  if (names.categories.length) accepted.categories = names.categories;
  status.acceptedNames = accepted;
  const conditions = [
    keepTime(condition('NamesAccepted', 'True', 'NoConflicts', 'no conflicts found', ctx.now)),
    keepTime(condition('Established', 'True', 'InitialNamesAccepted', 'the initial names have been accepted', ctx.now)),
  ];
  if (crd.metadata.deletionTimestamp) conditions.push(keepTime(condition('Terminating', 'True', 'InstanceDeletionInProgress', 'CustomResource deletion is in progress', ctx.now)));
  status.conditions = conditions;
  const storage = objects(asObject(crd.spec)?.versions).find((v) => v.storage === true);
  const stored = asArray(status.storedVersions).map(String);
  if (storage && typeof storage.name === 'string' && !stored.includes(storage.name)) stored.push(storage.name);
  status.storedVersions = stored;
}

function validateSchemaRoot(schema: unknown, path: string): FieldError[] {
  const root = asObject(schema);
  if (!root) return [fieldError.required(path, 'schemas are required')];
  if (root.type === undefined) return [fieldError.required(`${path}.type`, 'must not be empty at the root')];
  if (root.type !== 'object') return [fieldError.invalid(`${path}.type`, root.type, 'must be object at the root')];
  return [];
}

function validateCRD(crd: KubeObject): FieldError[] {
  const spec = asObject(crd.spec);
  if (!spec) return [fieldError.required('spec')];
  const errs: FieldError[] = [];
  const group = str(spec.group) ?? '';
  const names = namesOf(crd);
  if (crd.metadata.name !== `${names.plural}.${group}`) errs.push(fieldError.invalid('metadata.name', crd.metadata.name ?? '', 'must be spec.names.plural+"."+spec.group'));
  if (group === '') errs.push(fieldError.required('spec.group'));
  else {
    for (const msg of isDNS1123Subdomain(group)) errs.push(fieldError.invalid('spec.group', group, msg));
    if (!group.includes('.')) errs.push(fieldError.invalid('spec.group', group, 'should be a domain with at least one dot'));
    const protectedGroup = /(^|\.)(k8s|kubernetes)\.io$/.test(group);
    if (protectedGroup && !crd.metadata.annotations?.[APPROVAL_ANNOTATION])
      errs.push(
        fieldError.required(
          `metadata.annotations[${APPROVAL_ANNOTATION}]`,
          `protected groups must have approval annotation "${APPROVAL_ANNOTATION}", see https://github.com/kubernetes/enhancements/pull/1111`,
        ),
      );
  }
  if (spec.scope === undefined || spec.scope === '') errs.push(fieldError.required('spec.scope'));
  else if (!scopes.includes(String(spec.scope))) errs.push(fieldError.notSupported('spec.scope', spec.scope, scopes));
  if (names.plural === '') errs.push(fieldError.required('spec.names.plural'));
  else for (const msg of isDNS1123Label(names.plural)) errs.push(fieldError.invalid('spec.names.plural', names.plural, msg));
  for (const msg of isDNS1123Label(names.singular)) errs.push(fieldError.invalid('spec.names.singular', names.singular, msg));
  if (names.kind === '') errs.push(fieldError.required('spec.names.kind'));
  else if (isDNS1035Label(names.kind.toLowerCase()).length) errs.push(fieldError.invalid('spec.names.kind', names.kind, 'may have mixed case, but should otherwise match: [a-z]([-a-z0-9]*[a-z0-9])?'));
  if (names.listKind === names.kind) errs.push(fieldError.invalid('spec.names.listKind', names.listKind, 'kind and listKind may not be the same'));
  names.shortNames.forEach((short, i) => {
    for (const msg of isDNS1123Label(short)) errs.push(fieldError.invalid(`spec.names.shortNames[${i}]`, short, msg));
  });

  const versions = asArray(spec.versions);
  if (versions.length === 0) errs.push(fieldError.required('spec.versions', 'must have exactly one version marked as storage version'));
  const seen = new Set<string>();
  let storageCount = 0;
  let servedCount = 0;
  versions.forEach((raw, i) => {
    const version = asObject(raw) ?? {};
    const path = `spec.versions[${i}]`;
    const name = str(version.name) ?? '';
    if (name === '') errs.push(fieldError.required(`${path}.name`));
    else {
      for (const msg of isDNS1035Label(name)) errs.push(fieldError.invalid(`${path}.name`, name, msg));
      if (seen.has(name)) errs.push(fieldError.duplicate(`${path}.name`, name));
      seen.add(name);
    }
    if (version.storage === true) storageCount++;
    if (version.served === true) servedCount++;
    if (typeof version.served !== 'boolean') errs.push(fieldError.required(`${path}.served`));
    if (typeof version.storage !== 'boolean') errs.push(fieldError.required(`${path}.storage`));
    errs.push(...validateSchemaRoot(getPath(version, 'schema.openAPIV3Schema'), `${path}.schema.openAPIV3Schema`));
    const scale = asObject(asObject(version.subresources)?.scale);
    if (scale) {
      const specPath = str(scale.specReplicasPath);
      const statusPath = str(scale.statusReplicasPath);
      if (!specPath) errs.push(fieldError.required(`${path}.subresources.scale.specReplicasPath`));
      else if (!specPath.startsWith('.spec.')) errs.push(fieldError.invalid(`${path}.subresources.scale.specReplicasPath`, specPath, 'should be a json path under .spec'));
      if (!statusPath) errs.push(fieldError.required(`${path}.subresources.scale.statusReplicasPath`));
      else if (!statusPath.startsWith('.status.')) errs.push(fieldError.invalid(`${path}.subresources.scale.statusReplicasPath`, statusPath, 'should be a json path under .status'));
    }
    objects(version.additionalPrinterColumns).forEach((column, j) => {
      const p = `${path}.additionalPrinterColumns[${j}]`;
      if (!str(column.name)) errs.push(fieldError.required(`${p}.name`));
      if (!str(column.type)) errs.push(fieldError.required(`${p}.type`));
      if (!str(column.jsonPath)) errs.push(fieldError.required(`${p}.JSONPath`));
    });
  });
  if (versions.length > 0 && storageCount !== 1)
    errs.push(fieldError.invalid('spec.versions', new GoValue(JSON.stringify(versions)), 'must have exactly one version marked as storage version'));
  if (versions.length > 0 && servedCount === 0) errs.push(fieldError.invalid('spec.versions', new GoValue(JSON.stringify(versions)), 'must have at least one version marked as served'));
  return errs;
}

/**
 * The CRDs of one registry as the apiextensions server serves them: an established CRD's versions
 * are served from one storage; a changed CRD is served anew, a deleted one no longer, and its
 * storage goes. A CRD being deleted first has every custom object deleted, then loses its
 * cleanup finalizer once the last is gone.
 */
function followWrites(store: FollowerStore): WriteFollower {
  const crds = storageIdOf(customresourcedefinitions.definition);
  const served = new Map<string, CustomResourceServing>();

  const unserve = (serving: CustomResourceServing, dropStorage: boolean): void => {
    store.unserve(serving.storageId, dropStorage);
    if (dropStorage) served.delete(serving.storageId);
  };

  const finishCleanup = (serving: CustomResourceServing): void => {
    const crd = store.get(crds, '', serving.crdName);
    if (!crd?.metadata.deletionTimestamp) return;
    const finalizers = asArray(crd.metadata.finalizers).filter((f) => f !== CRD_CLEANUP_FINALIZER);
    const draft = clone(crd);
    if (finalizers.length) draft.metadata.finalizers = finalizers as string[];
    else delete draft.metadata.finalizers;
    store.commit(crds, finalizers.length === 0 ? 'DELETED' : 'MODIFIED', draft, crd);
  };

  const cleanUp = (serving: CustomResourceServing): void => {
    const size = store.size(serving.storageId);
    if (size === undefined) return;
    if (size === 0) finishCleanup(serving);
    else store.deleteAll(serving.storageId);
  };

  const sync = (event: CommitEvent): void => {
    const crd = event.object;
    if (!isCustomResourceDefinition(crd)) return;
    const previous = [...served.values()].find((c) => c.crdName === crd.metadata.name);
    if (event.type === 'DELETED') {
      if (previous) unserve(previous, true);
      return;
    }
    const serving = customResourceServing(crd);
    if (previous && previous.storageId !== serving?.storageId) unserve(previous, true);
    if (previous && serving && previous.storageId === serving.storageId) unserve(previous, false);
    if (serving) {
      served.set(serving.storageId, serving);
      store.serve(serving.storageId, serving.strategy, serving.versions);
    }
    if (crd.metadata.deletionTimestamp && serving) cleanUp(serving);
  };

  return {
    written(storageId, event) {
      if (storageId === crds) sync(event);
      const custom = served.get(storageId);
      if (custom && event.type === 'DELETED' && store.size(storageId) === 0) finishCleanup(custom);
    },
    reopened() {
      for (const crd of store.objects(crds)) sync({ type: 'ADDED', object: crd });
    },
  };
}

export const customresourcedefinitions: ResourceStrategy = {
  definition: defineResource({
    group: CRD_GROUP,
    version: 'v1',
    resource: 'customresourcedefinitions',
    kind: 'CustomResourceDefinition',
    namespaced: false,
    shortNames: ['crd', 'crds'],
    categories: ['api-extensions'],
    subresources: [subresource.status(CRD_GROUP, 'v1', 'CustomResourceDefinition')],
  }),
  tracksGeneration: true,
  followWrites,

  defaults(crd) {
    const spec = asObject(crd.spec);
    if (!spec) return;
    const names = asObject(spec.names);
    if (names && typeof names.kind === 'string') {
      setDefault(names, 'singular', names.kind.toLowerCase());
      setDefault(names, 'listKind', `${names.kind}List`);
    }
    setDefault(spec, 'conversion', { strategy: 'None' });
  },

  prepareForCreate(crd, ctx) {
    const finalizers = asArray(crd.metadata.finalizers).map(String);
    if (!finalizers.includes(CRD_CLEANUP_FINALIZER)) crd.metadata.finalizers = [...finalizers, CRD_CLEANUP_FINALIZER];
    crd.status = {};
    acceptNames(crd, ctx);
  },

  validate: validateCRD,

  prepareForUpdate(crd, _old, ctx) {
    acceptNames(crd, ctx);
  },

  validateUpdate(crd, old) {
    const spec = asObject(crd.spec) ?? {};
    const oldSpec = asObject(old.spec) ?? {};
    return [
      ...validateCRD(crd),
      ...immutableField('spec.scope', spec.scope, oldSpec.scope),
      ...immutableField('spec.group', spec.group, oldSpec.group),
      ...immutableField('spec.names.plural', asObject(spec.names)?.plural, asObject(oldSpec.names)?.plural),
    ];
  },

  beginDeletion(crd, ctx) {
    const status = ensureObject(crd, 'status');
    const conditions = objects(status.conditions).filter((c) => c.type !== 'Terminating');
    conditions.push(condition('Terminating', 'True', 'InstanceDeletionInProgress', 'CustomResource deletion is in progress', ctx.now));
    status.conditions = conditions;
  },
};

interface CustomResourceServing {
  crdName: string;
  /** "<group>/<plural>" */
  storageId: string;
  strategy: ResourceStrategy;
  versions: { def: ResourceDefinition; conversion?: AlternateVersion }[];
}

function isEstablished(crd: KubeObject): boolean {
  return objects(asObject(crd.status)?.conditions).some((c) => c.type === 'Established' && c.status === 'True');
}

function printerColumns(version: Json): PrinterColumn[] | undefined {
  const columns = objects(version.additionalPrinterColumns);
  if (columns.length === 0) return undefined;
  return columns.map((c) => {
    const column: PrinterColumn = { name: String(c.name), type: String(c.type), jsonPath: String(c.jsonPath) };
    if (typeof c.description === 'string') column.description = c.description;
    if (typeof c.priority === 'number') column.priority = c.priority;
    if (typeof c.format === 'string') column.format = c.format;
    return column;
  });
}

/** What an established CRD serves: one definition per served version and a strategy for its objects. */
function customResourceServing(crd: KubeObject): CustomResourceServing | undefined {
  if (!isEstablished(crd)) return undefined;
  const spec = asObject(crd.spec) ?? {};
  const group = str(spec.group) ?? '';
  const names = namesOf(crd);
  const namespaced = spec.scope === 'Namespaced';
  const versions = objects(spec.versions);
  const storageVersion = versions.find((v) => v.storage === true);
  if (!storageVersion || !group || !names.plural) return undefined;
  const storageName = String(storageVersion.name);

  const definitionFor = (version: Json): ResourceDefinition => {
    const subresources: SubresourceDefinition[] = [];
    const declared = asObject(version.subresources) ?? {};
    if (declared.scale !== undefined) subresources.push(subresource.scale());
    if (declared.status !== undefined) subresources.push(subresource.status(group, String(version.name), names.kind));
    const def = defineResource({
      group,
      version: String(version.name),
      resource: names.plural,
      kind: names.kind,
      singular: names.singular,
      namespaced,
      shortNames: names.shortNames,
      categories: names.categories,
      subresources,
    });
    def.listKind = names.listKind;
    const crdInfo: NonNullable<ResourceDefinition['crd']> = {};
    const schema = asObject(getPath(version, 'schema.openAPIV3Schema'));
    if (schema) crdInfo.schema = schema;
    const columns = printerColumns(version);
    if (columns) crdInfo.printerColumns = columns;
    if (spec.preserveUnknownFields === true) crdInfo.preserveUnknownFields = true;
    def.crd = crdInfo;
    return def;
  };

  const apiVersionOf = (version: string) => `${group}/${version}`;
  const served = versions.filter((v) => v.served === true).map((version) => {
    const def = definitionFor(version);
    if (version.name === storageName) return { def };
    const conversion: AlternateVersion = {
      version: def.version,
      toStorage: (object) => ({ ...object, apiVersion: apiVersionOf(storageName) }),
      fromStorage: (object) => ({ ...object, apiVersion: apiVersionOf(def.version) }),
    };
    return { def, conversion };
  });

  const scale = asObject(asObject(storageVersion.subresources)?.scale);
  const strategy: ResourceStrategy = {
    definition: definitionFor(storageVersion),
    tracksGeneration: true,
    // metav1.ResetObjectMetaForStatus: a status write changes status (and managedFields) only
    prepareForStatusUpdate(object, old) {
      const meta: Record<string, unknown> = object.metadata;
      for (const field of ['labels', 'annotations', 'finalizers', 'ownerReferences'] as const) {
        if (old.metadata[field] === undefined) delete meta[field];
        else meta[field] = old.metadata[field];
      }
    },
  };
  if (scale) {
    const selectorPath = str(scale.labelSelectorPath);
    strategy.scale = {
      specReplicasPath: String(scale.specReplicasPath),
      statusReplicasPath: String(scale.statusReplicasPath),
      selector: selectorPath ? (object) => str(getPath(object, selectorPath.replace(/^\./, ''))) : undefined,
    };
  }
  return { crdName: crd.metadata.name ?? '', storageId: `${group}/${names.plural}`, strategy, versions: served };
}
