// The generic store (k8s.io/apiserver/pkg/registry/generic/registry.Store, in spirit): every
// resource goes through the same create/update/delete/list/watch code, and asks its strategy
// only the resource-specific questions; it names no resource. One resourceVersion counter for
// everything. Its parts: what is served (serving.ts), lists (list.ts), watches (watcher.ts),
// graceful deletion (deletion.ts), storage limits, the scale view (scale.ts), and the followers
// of every write that strategies bring (CRDs, ResourceQuotas).
import { randomUUID } from 'node:crypto';
import { type KubeObject, StatusError, statusErrors } from '../types.ts';
import type {
  AdmissionOperation,
  AdmissionPlugin,
  DeleteOptions,
  ListOptions,
  ListResult,
  Registry,
  RegistryLogger,
  RegistryOptions,
  ResourceDefinition,
  UpdateOptions,
  Watch,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from './interface.ts';
import { createAllocators, type Allocators } from './allocators.ts';
import { beforeDelete, readyToRemove } from './deletion.ts';
import { asObject, type Json } from '../json.ts';
import { clone, deepEqual, deepFreeze, getPath, omitEmptyMetadata, pruneUndefined, setPath } from './fields.ts';
import { HistoryBudget, type HistoryEvent } from './history.ts';
import { formatTimestamp, generateName, nameIsDNSSubdomain, specChanged, validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import { Persistence, type PersistedRecord } from './persistence.ts';
import { listStorage, matcherOf, parseResourceVersion, selectorsOf, tooLargeResourceVersion } from './list.ts';
import { toScale } from './scale.ts';
import { type Served, ServedResources } from './serving.ts';
import { Storage } from './storage.ts';
import { checkStorageLimits, DEFAULT_HISTORY_BYTES, DEFAULT_NAMESPACE_BYTES, serializedBytes } from './storage-limits.ts';
import { type AlternateVersion, type CommitEvent, type FollowerStore, hasSubresource, type ResourceStrategy, storageIdOf, type StrategyContext, type WriteFollower } from './strategy.ts';
import { type FieldError, fieldError, GoValue, invalidObject } from './validation.ts';
import { Watcher } from './watcher.ts';
import { builtinStrategies } from './resources/index.ts';
import { bootstrapObjects } from './bootstrap.ts';

const DEFAULT_HISTORY = 10_000;
/** What a status update may change in metadata besides status itself (unless the strategy resets it). */
const statusWritableMetadata = ['labels', 'annotations', 'finalizers', 'ownerReferences', 'managedFields'] as const;
const GENERATE_NAME_ATTEMPTS = 8;

export class ClusterRegistry implements Registry {
  readonly firstStart: boolean;
  private rv: number;
  private readonly clock: () => Date;
  private readonly admission: AdmissionPlugin[];
  private readonly historySize: number;
  private readonly historyBudget: HistoryBudget;
  private readonly namespaceBytes: number;
  private readonly logger: RegistryLogger;
  private readonly persistence: Persistence | undefined;
  private readonly allocators: Allocators = createAllocators();
  private readonly storages = new Map<string, Storage>();
  private readonly served = new ServedResources();
  /** What follows every write (strategies' followWrites), in the order their strategies were registered. */
  private readonly followers: WriteFollower[] = [];
  private readonly resourceListeners = new Set<() => void>();
  private readonly pending: { storage: Storage; event: HistoryEvent }[] = [];
  private dispatching = false;
  private readonly afterDispatch: (() => void)[] = [];
  private bookmarkTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private resourcesChanged = false;

  private constructor(options: RegistryOptions, logger: RegistryLogger, persistence: Persistence | undefined, firstStart: boolean) {
    this.clock = options.clock ?? (() => new Date());
    this.admission = options.admission ?? [];
    this.historySize = options.historySize ?? DEFAULT_HISTORY;
    this.historyBudget = new HistoryBudget(options.limits?.historyBytes ?? DEFAULT_HISTORY_BYTES);
    this.namespaceBytes = options.limits?.namespaceBytes ?? DEFAULT_NAMESPACE_BYTES;
    this.logger = logger;
    this.persistence = persistence;
    this.firstStart = firstStart;
    this.rv = 0;
    const bookmarkEvery = options.bookmarkIntervalMs ?? 60_000;
    this.bookmarkTimer = setInterval(() => this.sendBookmarks(), bookmarkEvery);
    this.bookmarkTimer.unref();
  }

  static async open(options: RegistryOptions): Promise<ClusterRegistry> {
    // pino loads only when nobody passed a logger: start-up time matters for the playground
    const logger = options.logger ?? (await defaultLogger());
    let persistence: Persistence | undefined;
    let records: PersistedRecord[] = [];
    let firstStart = true;
    let logRecords = 0;
    if (options.dataDir) {
      persistence = new Persistence({ dataDir: options.dataDir, warn: (message, details) => logger.warn(details, message) });
      const loaded = persistence.load();
      records = loaded.records;
      firstStart = loaded.empty;
      logRecords = loaded.logRecords;
    }
    const registry = new ClusterRegistry(options, logger, persistence, firstStart);
    registry.replay(records);
    if (persistence) {
      persistence.startLog();
      if (logRecords > 0) registry.compact();
    }
    if (firstStart) registry.bootstrap();
    return registry;
  }

  // ---- resources -------------------------------------------------------------------------

  private registerStrategy(strategy: ResourceStrategy): void {
    const def = strategy.definition;
    const id = storageIdOf(def);
    let storage = this.storages.get(id);
    if (!storage) {
      storage = new Storage(id, strategy, this.historySize, this.rv, this.historyBudget);
      this.storages.set(id, storage);
    }
    storage.strategy = strategy;
    if (strategy.followWrites) this.followers.push(strategy.followWrites(this.followerStore()));
    this.served.add({ def, storage });
    for (const alternate of strategy.alternateVersions ?? []) {
      this.served.add({ def: { ...def, group: alternate.group ?? def.group, version: alternate.version }, storage, conversion: alternate });
    }
  }

  resources(): ResourceDefinition[] {
    return this.served.definitions();
  }

  lookup(group: string, version: string, resource: string): ResourceDefinition | undefined {
    return this.served.get(group, version, resource)?.def;
  }

  lookupKind(group: string, version: string, kind: string): ResourceDefinition | undefined {
    return this.served.getKind(group, version, kind)?.def;
  }

  onResourcesChanged(listener: () => void): () => void {
    this.resourceListeners.add(listener);
    return () => this.resourceListeners.delete(listener);
  }

  private resolve(def: ResourceDefinition, verb = 'create'): Served & { strategy: ResourceStrategy } {
    const served = this.served.get(def.group, def.version, def.resource);
    const strategy = served?.storage.strategy;
    if (!served || !strategy) {
      throw new StatusError({ code: 404, reason: 'NotFound', message: 'the server could not find the requested resource', details: { group: def.group, kind: def.resource } });
    }
    if (!served.def.verbs.includes(verb)) throw statusErrors.methodNotSupported(this.gr(def), verb);
    return { ...served, strategy };
  }

  private fromStorage(served: Served, object: KubeObject): KubeObject {
    if (!served.conversion) return object;
    return deepFreeze(served.conversion.fromStorage(object));
  }

  private gr(def: ResourceDefinition) {
    return { group: def.group, resource: def.resource };
  }

  // ---- reads -----------------------------------------------------------------------------

  get(def: ResourceDefinition, namespace: string | undefined, name: string): KubeObject {
    const served = this.resolve(def, 'get');
    const object = served.storage.get(def.namespaced ? (namespace ?? '') : '', name);
    if (!object) throw statusErrors.notFound(this.gr(def), name);
    return this.fromStorage(served, object);
  }

  currentResourceVersion(): string {
    return String(this.rv);
  }

  lastChangeOf(def: ResourceDefinition): string {
    return String(this.resolve(def, 'list').storage.history.latestRV);
  }

  list(def: ResourceDefinition, options: ListOptions): ListResult {
    const served = this.resolve(def, 'list');
    return listStorage(served.storage, def, options, this.rv, (object) => this.fromStorage(served, object));
  }

  // ---- writes ----------------------------------------------------------------------------

  private context(options: WriteOptions | undefined): StrategyContext {
    return { now: this.clock(), dryRun: options?.dryRun === true, user: options?.user, registry: this, allocators: this.allocators };
  }

  /** A mutable copy in the storage version, with apiVersion/kind set as the definition says. */
  private draft(served: Served, object: KubeObject): Json & KubeObject {
    if (!asObject(object)) throw statusErrors.badRequest('the request body must be a JSON object');
    let draft = clone(object);
    const def = served.def;
    draft.apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
    draft.kind = def.kind;
    if (!asObject(draft.metadata)) draft.metadata = {};
    if (served.conversion) draft = served.conversion.toStorage(draft);
    const storageDef = served.storage.strategy?.definition ?? def;
    draft.apiVersion = storageDef.group ? `${storageDef.group}/${storageDef.version}` : storageDef.version;
    return draft as Json & KubeObject;
  }

  private applyNamespace(def: ResourceDefinition, namespace: string | undefined, draft: KubeObject): void {
    if (!def.namespaced) {
      delete draft.metadata.namespace;
      return;
    }
    const own = draft.metadata.namespace;
    if (namespace) {
      if (own && own !== namespace) throw statusErrors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      draft.metadata.namespace = namespace;
    }
  }

  private runAdmission(phase: 'mutate' | 'validate', operation: AdmissionOperation, served: Served, draft: KubeObject | undefined, old: KubeObject | undefined, name: string, options: UpdateOptions | DeleteOptions | undefined, subresource?: string): void {
    if (this.admission.length === 0) return;
    const request = {
      operation,
      definition: served.def,
      namespace: served.def.namespaced ? (draft?.metadata.namespace ?? old?.metadata.namespace) : undefined,
      name,
      object: draft,
      oldObject: old,
      subresource,
      user: options?.user,
      dryRun: options?.dryRun === true,
      registry: this as Registry,
      warnings: options?.warnings ?? [],
    };
    for (const plugin of this.admission) plugin[phase]?.(request);
  }

  private invalid(def: ResourceDefinition, name: string, errors: FieldError[]): void {
    if (errors.length) throw invalidObject(def.kind, def.group, name, errors);
  }

  create(def: ResourceDefinition, namespace: string | undefined, object: KubeObject, options: WriteOptions = {}): KubeObject {
    const served = this.resolve(def);
    const draft = this.draft(served, object);
    this.applyNamespace(def, namespace, draft);
    return this.fromStorage(served, this.createDraft(served, served.strategy, draft, options));
  }

  private createDraft(served: Served, strategy: ResourceStrategy, draft: Json & KubeObject, options: WriteOptions): KubeObject {
    const def = strategy.definition;
    const ctx = this.context(options);
    const meta = draft.metadata;
    if (meta.resourceVersion) throw statusErrors.badRequest('resourceVersion should not be set on objects to be created');
    const generated = !meta.name && typeof meta.generateName === 'string' && meta.generateName !== '';
    if (generated) meta.name = generateName(meta.generateName as string);
    strategy.defaults?.(draft, ctx);
    this.runAdmission('mutate', 'CREATE', served, draft, undefined, meta.name ?? '', options);
    if (strategy.virtual) {
      this.invalid(def, meta.name ?? '', strategy.validate?.(draft, ctx) ?? []);
      this.runAdmission('validate', 'CREATE', served, draft, undefined, meta.name ?? '', options);
      return deepFreeze(draft);
    }

    meta.uid = randomUUID();
    meta.creationTimestamp = formatTimestamp(ctx.now);
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    if (strategy.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    // built-in status structs serialise as {} when empty; custom resources drop status entirely
    if (hasSubresource(def, 'status') && !strategy.keepStatusOnCreate) {
      if (def.crd) delete draft.status;
      else draft.status = { ...strategy.statusZeroValues };
    }
    strategy.prepareForCreate?.(draft, ctx);

    const name = meta.name ?? '';
    this.invalid(def, name || String(meta.generateName ?? ''), [
      ...validateObjectMeta(meta, { namespaced: def.namespaced, validateName: strategy.validateName ?? nameIsDNSSubdomain }),
      ...(strategy.validate?.(draft, ctx) ?? []),
      ...(served.conversion?.validate?.(draft, ctx) ?? []),
    ]);
    pruneUndefined(draft);
    omitEmptyMetadata(draft.metadata);
    this.runAdmission('validate', 'CREATE', served, draft, undefined, name, options);

    const storage = served.storage;
    const ns = def.namespaced ? (meta.namespace ?? '') : '';
    if (storage.get(ns, name)) {
      if (!generated) throw statusErrors.alreadyExists(this.gr(def), name);
      let attempt = 0;
      while (storage.get(ns, meta.name ?? '')) {
        if (++attempt > GENERATE_NAME_ATTEMPTS) throw statusErrors.alreadyExists(this.gr(def), meta.name ?? '');
        meta.name = generateName(meta.generateName as string);
      }
    }
    if (!ctx.dryRun) checkStorageLimits({ storage, storages: this.storages.values(), def, draft, user: options.user, subresource: undefined, namespaceBytes: this.namespaceBytes });
    strategy.allocate?.(draft, undefined, ctx);
    if (ctx.dryRun) return deepFreeze(draft);
    return this.commit(storage, 'ADDED', draft, undefined);
  }

  update(def: ResourceDefinition, namespace: string | undefined, name: string, object: KubeObject, options: UpdateOptions = {}): KubeObject {
    const served = this.resolve(def, options.subresource ? 'get' : 'update');
    const { storage, strategy } = served;
    const ns = def.namespaced ? (namespace ?? object.metadata?.namespace ?? '') : '';
    const draft = this.draft(served, object);
    if (draft.metadata.name && draft.metadata.name !== name)
      throw statusErrors.badRequest(`the name of the object (${String(draft.metadata.name)}) does not match the name on the URL (${name})`);
    draft.metadata.name = name;
    this.applyNamespace(def, namespace, draft);
    const old = storage.get(ns, name);
    if (!old) {
      if (options.createIfMissing && strategy.allowCreateOnUpdate && !options.subresource) {
        if (draft.metadata.resourceVersion) throw statusErrors.notFound(this.gr(def), name);
        return this.fromStorage(served, this.createDraft(served, strategy, draft, options));
      }
      throw statusErrors.notFound(this.gr(def), name);
    }
    return this.fromStorage(served, this.updateDraft(served, strategy, draft, old, options));
  }

  private updateDraft(served: Served, strategy: ResourceStrategy, input: Json & KubeObject, old: KubeObject, options: UpdateOptions): KubeObject {
    const def = strategy.definition;
    const ctx = this.context(options);
    const gr = this.gr(def);
    const name = old.metadata.name ?? '';
    const requestedRV = input.metadata.resourceVersion;
    if (requestedRV) {
      if (requestedRV !== old.metadata.resourceVersion)
        throw statusErrors.conflict(gr, name, 'the object has been modified; please apply your changes to the latest version and try again');
    } else if (strategy.allowUnconditionalUpdate === false) {
      throw invalidObject(def.kind, def.group, name, [fieldError.invalid('metadata.resourceVersion', new GoValue('0x0'), 'must be specified for an update')]);
    }
    if (input.metadata.uid && input.metadata.uid !== old.metadata.uid)
      throw statusErrors.conflict(gr, name, `Precondition failed: UID in precondition: ${String(input.metadata.uid)}, UID in object meta: ${String(old.metadata.uid)}`);

    let draft: Json & KubeObject;
    const subresource = options.subresource;
    if (subresource === 'status' && !hasSubresource(def, 'status')) throw statusErrors.notFound(gr, name);
    if (subresource === 'status') {
      // Everything but status and the user-facing metadata comes from the stored object; a
      // strategy may reset more (custom resources keep all metadata, as upstream).
      draft = clone(old) as Json & KubeObject;
      if (input.status === undefined) delete draft.status;
      else draft.status = input.status;
      const meta: Record<string, unknown> = draft.metadata;
      for (const field of statusWritableMetadata) {
        if (input.metadata[field] === undefined) delete meta[field];
        else meta[field] = input.metadata[field];
      }
      if (strategy.statusZeroValues) draft.status = { ...strategy.statusZeroValues, ...asObject(draft.status) };
      strategy.prepareForStatusUpdate?.(draft, old, ctx);
    } else if (subresource === 'binding') {
      if (!strategy.prepareForBinding) throw statusErrors.methodNotSupported(gr, 'binding');
      draft = clone(old) as Json & KubeObject;
      strategy.prepareForBinding(draft, input, ctx);
    } else if (subresource === 'ephemeralcontainers') {
      if (!strategy.prepareForEphemeralContainers) throw statusErrors.methodNotSupported(gr, 'ephemeralcontainers');
      draft = clone(old) as Json & KubeObject;
      strategy.prepareForEphemeralContainers(draft, input, ctx);
    } else if (subresource === 'approval') {
      if (!strategy.prepareForApproval) throw statusErrors.methodNotSupported(gr, 'approval');
      draft = clone(old) as Json & KubeObject;
      strategy.prepareForApproval(draft, input, ctx);
    } else if (subresource === 'finalize') {
      if (!strategy.prepareForFinalize) throw statusErrors.methodNotSupported(gr, 'finalize');
      draft = clone(old) as Json & KubeObject;
      strategy.prepareForFinalize(draft, input, ctx);
    } else {
      draft = input;
      strategy.defaults?.(draft, ctx);
      this.runAdmission('mutate', 'UPDATE', served, draft, old, name, options);
      const meta = draft.metadata;
      meta.uid = old.metadata.uid;
      meta.creationTimestamp = old.metadata.creationTimestamp;
      meta.namespace = old.metadata.namespace;
      meta.deletionTimestamp = old.metadata.deletionTimestamp;
      meta.deletionGracePeriodSeconds = old.metadata.deletionGracePeriodSeconds;
      delete meta.selfLink;
      if (meta.generateName === undefined && old.metadata.generateName !== undefined) meta.generateName = old.metadata.generateName;
      const hasStatus = hasSubresource(def, 'status');
      if (hasStatus) {
        if (old.status === undefined) delete draft.status;
        else draft.status = clone(old.status);
      }
      strategy.prepareForUpdate?.(draft, old, ctx);
      if (strategy.tracksGeneration) {
        const previous = typeof old.metadata.generation === 'number' ? old.metadata.generation : 1;
        const bump = specChanged(draft, old, hasStatus) || (strategy.annotationsBumpGeneration === true && !deepEqual(meta.annotations ?? {}, old.metadata.annotations ?? {}));
        meta.generation = bump ? previous + 1 : previous;
      } else {
        delete meta.generation;
      }
    }
    draft.metadata.resourceVersion = old.metadata.resourceVersion;
    pruneUndefined(draft);
    omitEmptyMetadata(draft.metadata);

    const errors = [...validateObjectMeta(draft.metadata, { namespaced: def.namespaced, validateName: () => [] }), ...validateObjectMetaUpdate(draft.metadata, old.metadata)];
    if (subresource === 'status') errors.push(...(strategy.validateStatusUpdate?.(draft, old, ctx) ?? []));
    else if (subresource === 'ephemeralcontainers') errors.push(...(strategy.validateEphemeralContainersUpdate?.(draft, old, ctx) ?? []));
    else if (subresource === 'approval') errors.push(...(strategy.validateApprovalUpdate?.(draft, old, ctx) ?? []));
    else if (subresource !== 'finalize' && subresource !== 'binding') {
      errors.push(...(strategy.validateUpdate?.(draft, old, ctx) ?? []));
      if (subresource === undefined) errors.push(...(served.conversion?.validateUpdate?.(draft, old, ctx) ?? []));
    }
    this.invalid(def, name, errors);
    this.runAdmission('validate', 'UPDATE', served, draft, old, name, options, subresource);
    if (!ctx.dryRun) checkStorageLimits({ storage: served.storage, storages: this.storages.values(), def, draft, user: options.user, subresource, namespaceBytes: this.namespaceBytes });
    if (subresource === undefined) strategy.allocate?.(draft, old, ctx);

    if (deepEqual(draft, old)) return old;
    if (ctx.dryRun) return deepFreeze(draft);
    const storage = served.storage;
    if (draft.metadata.deletionTimestamp && readyToRemove(strategy, draft)) return this.commit(storage, 'DELETED', draft, old);
    const stored = this.commit(storage, 'MODIFIED', draft, old);
    strategy.release?.(old, stored, ctx);
    return stored;
  }

  delete(def: ResourceDefinition, namespace: string | undefined, name: string, options: DeleteOptions = {}): KubeObject {
    const served = this.resolve(def, 'delete');
    const { storage, strategy } = served;
    const gr = this.gr(def);
    const old = storage.get(def.namespaced ? (namespace ?? '') : '', name);
    if (!old) throw statusErrors.notFound(gr, name);
    const pre = options.preconditions;
    if (pre?.uid && pre.uid !== old.metadata.uid)
      throw statusErrors.conflict(gr, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${String(old.metadata.uid)}`);
    if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion)
      throw statusErrors.conflict(
        gr,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${String(old.metadata.resourceVersion)}`,
      );
    this.runAdmission('validate', 'DELETE', served, undefined, old, name, options);
    return this.fromStorage(served, this.deleteObject(served, strategy, old, options));
  }

  private deleteObject(served: Served, strategy: ResourceStrategy, old: KubeObject, options: DeleteOptions): KubeObject {
    const ctx = this.context(options);
    const { draft, now } = beforeDelete(strategy, old, options, ctx);
    if (ctx.dryRun) return deepFreeze(draft);
    if (now || readyToRemove(strategy, draft)) return this.commit(served.storage, 'DELETED', draft, old);
    if (deepEqual(draft, old)) return old;
    return this.commit(served.storage, 'MODIFIED', draft, old);
  }

  deleteCollection(def: ResourceDefinition, options: ListOptions & DeleteOptions): KubeObject[] {
    const { items } = this.list(def, { ...options, limit: undefined, continue: undefined });
    const out: KubeObject[] = [];
    for (const item of items) {
      try {
        out.push(this.delete(def, item.metadata.namespace, item.metadata.name ?? '', options));
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 404)) throw error;
      }
    }
    return out;
  }

  // ---- scale -----------------------------------------------------------------------------

  getScale(def: ResourceDefinition, namespace: string | undefined, name: string): KubeObject {
    const { strategy } = this.resolve(def, 'get');
    if (!strategy.scale) throw statusErrors.notFound(this.gr(def), name);
    return toScale(this.get(def, namespace, name), strategy, def);
  }

  updateScale(def: ResourceDefinition, namespace: string | undefined, name: string, scale: KubeObject, options: WriteOptions = {}): KubeObject {
    const { strategy } = this.resolve(def, 'get');
    const paths = strategy.scale;
    if (!paths) throw statusErrors.notFound(this.gr(def), name);
    const replicas = getPath(scale, 'spec.replicas');
    if (replicas !== undefined && (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0))
      throw invalidObject('Scale', 'autoscaling', name, [fieldError.invalid('spec.replicas', replicas, 'must be greater than or equal to 0')]);
    const current = clone(this.get(def, namespace, name)) as Json & KubeObject;
    if (scale.metadata?.resourceVersion) current.metadata.resourceVersion = scale.metadata.resourceVersion;
    setPath(current, paths.specReplicasPath.replace(/^\./, ''), replicas ?? 0);
    const updated = this.update(def, namespace, name, current, options);
    return toScale(updated, strategy, def);
  }

  // ---- commit, hooks and watch dispatch --------------------------------------------------

  private commit(storage: Storage, type: HistoryEvent['type'], draft: KubeObject, old: KubeObject | undefined): KubeObject {
    const rv = ++this.rv;
    draft.metadata.resourceVersion = String(rv);
    const object = deepFreeze(draft);
    const ns = object.metadata.namespace ?? '';
    const name = object.metadata.name ?? '';
    const key = `${ns}/${name}`;
    const json = JSON.stringify(object);
    const bytes = Buffer.byteLength(json);
    if (type === 'DELETED') storage.remove(ns, name);
    else storage.put(ns, name, object, bytes);
    const event: HistoryEvent = { rv, type, key, object, prev: old, bytes };
    storage.history.push(event);
    this.persistence?.append(type === 'DELETED' ? { t: 'del', s: storage.id, k: key, rv } : { t: 'put', s: storage.id, k: key, rv, o: object }, json);
    this.pending.push({ storage, event });
    this.afterCommit(storage, { type, object, old });
    this.dispatch();
    if (this.persistence?.needsCompaction) this.compact();
    return object;
  }

  private afterCommit(storage: Storage, event: CommitEvent): void {
    const strategy = storage.strategy;
    if (event.type === 'DELETED' && strategy?.release) strategy.release(event.object, undefined, this.context(undefined));
    for (const follower of this.followers) follower.written(storage.id, event);
  }

  // ---- what resources that follow every write may do -------------------------------------

  private followerStore(): FollowerStore {
    return {
      registry: this,
      size: (id) => this.storages.get(id)?.size,
      objects: (id, namespace) => {
        const storage = this.storages.get(id);
        if (!storage) return [];
        return [...(namespace === undefined ? storage.values() : storage.valuesIn(namespace))];
      },
      get: (id, namespace, name) => this.storages.get(id)?.get(namespace, name),
      commit: (id, type, draft, old) => {
        const storage = this.storages.get(id);
        if (storage) this.commit(storage, type, draft, old);
      },
      deleteAll: (id) => this.deleteAll(id),
      serve: (id, strategy, versions) => this.serveStorage(id, strategy, versions),
      unserve: (id, dropStorage) => this.unserveStorage(id, dropStorage),
    };
  }

  private serveStorage(id: string, strategy: ResourceStrategy, versions: { def: ResourceDefinition; conversion?: AlternateVersion }[]): void {
    let storage = this.storages.get(id);
    if (!storage) {
      storage = new Storage(id, strategy, this.historySize, this.rv, this.historyBudget);
      this.storages.set(id, storage);
    }
    storage.strategy = strategy;
    for (const version of versions) this.served.add({ def: version.def, storage, conversion: version.conversion });
    this.resourcesChanged = true;
  }

  private unserveStorage(id: string, dropStorage: boolean): void {
    this.served.removeStorage(id);
    this.resourcesChanged = true;
    if (!dropStorage) return;
    const storage = this.storages.get(id);
    if (storage) {
      this.storages.delete(id);
      storage.history.detach();
      // watchers still get the DELETED events already queued, then their stream ends
      this.afterDispatch.push(() => {
        for (const watcher of [...storage.watchers]) watcher.close();
      });
    }
  }

  private deleteAll(id: string): void {
    const storage = this.storages.get(id);
    const served = storage && this.served.storageVersionOf(storage);
    if (!storage || !served?.storage.strategy) return;
    for (const object of [...storage.values()]) {
      if (object.metadata.deletionTimestamp) continue;
      this.deleteObject(served, served.storage.strategy, object, {});
    }
  }

  private dispatch(): void {
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      for (let i = 0; i < this.pending.length; i++) {
        const { storage, event } = this.pending[i] as { storage: Storage; event: HistoryEvent };
        for (const watcher of storage.watchers) watcher.deliver(event);
      }
    } finally {
      this.pending.length = 0;
      this.dispatching = false;
    }
    for (const task of this.afterDispatch.splice(0)) task();
    if (this.resourcesChanged) {
      this.resourcesChanged = false;
      for (const listener of [...this.resourceListeners]) {
        try {
          listener();
        } catch (error) {
          this.logger.warn({ error: String(error) }, 'a resources-changed listener failed');
        }
      }
    }
  }

  private sendBookmarks(): void {
    for (const storage of this.storages.values()) for (const watcher of storage.watchers) watcher.bookmark(this.rv);
  }

  watch(def: ResourceDefinition, options: WatchOptions, onEvent: (event: WatchEvent) => void): Watch {
    const served = this.resolve(def, 'watch');
    const { storage } = served;
    const namespace = def.namespaced && options.namespace ? options.namespace : undefined;
    const { labels, fields } = selectorsOf(def, options);
    const matches = matcherOf(def, namespace, labels, fields);
    const causes: { field: string; message: string }[] = [];
    if (options.sendInitialEvents !== undefined && options.resourceVersionMatch !== 'NotOlderThan')
      causes.push({ field: 'resourceVersionMatch', message: 'Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan' });
    if (options.sendInitialEvents === undefined && options.resourceVersionMatch)
      causes.push({ field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided' });
    if (options.sendInitialEvents && !options.allowBookmarks)
      causes.push({ field: 'allowWatchBookmarks', message: 'Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true' });
    if (causes.length) throw statusErrors.invalid('ListOptions', 'meta.k8s.io', '', causes.map((c) => ({ ...c, reason: 'FieldValueForbidden' })));

    const requested = parseResourceVersion(options.resourceVersion);
    if (requested !== undefined && requested > this.rv) throw tooLargeResourceVersion(requested, this.rv);
    const fromNow = requested === undefined || requested === 0;
    const initial = options.sendInitialEvents ?? fromNow;
    if (!initial && !fromNow && requested < storage.history.compactedRV) {
      throw statusErrors.gone(`too old resource version: ${requested} (${storage.history.compactedRV})`);
    }
    const watcher = new Watcher(served.def, matches, onEvent, options.allowBookmarks === true, () => storage.watchers.delete(watcher), this.logger, (o) => this.fromStorage(served, o), options.onClose);
    // Writes the consumer makes while catching up are queued and reach it (and everyone) after.
    const wasDispatching = this.dispatching;
    this.dispatching = true;
    try {
      if (initial) {
        const startRV = this.rv;
        for (const key of storage.keys(namespace)) {
          const object = storage.getByKey(key);
          if (object && matches(object)) watcher.emit('ADDED', object);
        }
        watcher.lastRV = startRV;
        if (options.sendInitialEvents) watcher.emitBookmark(startRV, true);
      } else {
        watcher.lastRV = fromNow ? this.rv : requested;
        for (const event of storage.history.since(watcher.lastRV)) watcher.deliver(event);
      }
      if (!watcher.stopped) storage.watchers.add(watcher);
    } finally {
      this.dispatching = wasDispatching;
    }
    if (!wasDispatching) this.dispatch();
    return watcher;
  }

  // ---- persistence -----------------------------------------------------------------------

  private replay(records: PersistedRecord[]): void {
    for (const strategy of builtinStrategies()) this.registerStrategy(strategy);
    for (const record of records) {
      if (record.t === 'snap') {
        this.rv = Math.max(this.rv, record.rv);
        continue;
      }
      let storage = this.storages.get(record.s);
      if (!storage) {
        storage = new Storage(record.s, undefined, this.historySize, 0, this.historyBudget);
        this.storages.set(record.s, storage);
      }
      const slash = record.k.indexOf('/');
      const ns = record.k.slice(0, slash);
      const name = record.k.slice(slash + 1);
      if (record.t === 'put') storage.put(ns, name, deepFreeze(record.o), serializedBytes(record.o));
      else storage.remove(ns, name);
      this.rv = Math.max(this.rv, record.rv);
    }
    for (const storage of this.storages.values()) storage.history.compactedRV = this.rv;
    for (const follower of this.followers) follower.reopened?.();
    this.resourcesChanged = false;
    for (const [id, storage] of this.storages) {
      if (!storage.strategy && storage.size === 0) {
        this.storages.delete(id);
        storage.history.detach();
      }
    }
    for (const storage of this.storages.values()) {
      const restore = storage.strategy?.restore;
      if (restore) for (const object of storage.values()) restore(object, this.allocators);
    }
  }

  private compact(): void {
    if (!this.persistence) return;
    const storages = this.storages;
    const rv = this.rv;
    this.persistence.compact(rv, (function* () {
      for (const storage of storages.values()) for (const [k, o] of storage.entries()) yield { s: storage.id, k, o };
    })());
  }

  private bootstrap(): void {
    for (const { resource, object } of bootstrapObjects()) {
      const def = this.lookup(resource.group, resource.version, resource.resource);
      if (!def) continue;
      try {
        this.create(def, object.metadata.namespace, object);
      } catch (error) {
        if (!(error instanceof StatusError && error.code === 409)) throw error;
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.bookmarkTimer) clearInterval(this.bookmarkTimer);
    for (const storage of this.storages.values()) for (const watcher of [...storage.watchers]) watcher.close();
    if (this.persistence) {
      if (this.persistence.logSize > 8 * 1024 * 1024) this.compact();
      this.persistence.close();
    }
  }
}

async function defaultLogger(): Promise<RegistryLogger> {
  const { default: pino } = await import('pino');
  const logger = pino({ name: 'registry' }, pino.destination(2));
  return { warn: (details, message) => logger.warn(details, message) };
}
