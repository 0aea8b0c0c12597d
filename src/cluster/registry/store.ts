// The generic store (k8s.io/apiserver/pkg/registry/generic/registry.Store, in spirit): every
// resource goes through the same create/update/delete/list/watch code, and asks its strategy
// only the resource-specific questions. One resourceVersion counter for everything.
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
  UserInfo,
  Watch,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from './interface.ts';
import { createAllocators, type Allocators } from './allocators.ts';
import { asArray, asObject, clone, deepEqual, deepFreeze, getPath, type JsonObject, omitEmptyMetadata, pruneUndefined, setPath } from './fields.ts';
import { HistoryBudget, type HistoryEvent } from './history.ts';
import { formatTimestamp, generateName, nameIsDNSSubdomain, specChanged, validateObjectMeta, validateObjectMetaUpdate } from './meta.ts';
import { Persistence, type PersistedRecord } from './persistence.ts';
import { everythingSelector, type FieldSelector, fieldSelectorMatches, type LabelSelector, parseFieldSelector, parseLabelSelector } from './selectors.ts';
import { Storage, storageKey, type StorageWatcher } from './storage.ts';
import { bypassesNamespaceBudget, DEFAULT_HISTORY_BYTES, DEFAULT_NAMESPACE_BYTES, MAX_OBJECT_BYTES, namespaceBudgetExceeded, requestTooLarge } from './storage-limits.ts';
import { type AlternateVersion, type CommitEvent, type FollowerStore, hasSubresource, type ResourceStrategy, type StrategyContext, type WriteFollower } from './strategy.ts';
import { type FieldError, fieldError, GoValue, invalidObject } from './validation.ts';
import { builtinStrategies } from './resources/index.ts';
import { bootstrapObjects } from './bootstrap.ts';

interface Served {
  def: ResourceDefinition;
  storage: Storage;
  /** set when this version is not the storage version */
  conversion?: AlternateVersion;
}

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
  private readonly served = new Map<string, Served>();
  private readonly servedByKind = new Map<string, Served>();
  /** What follows every write (strategies' followWrites), in the order their strategies were registered. */
  private readonly followers: WriteFollower[] = [];
  private readonly resourceListeners = new Set<() => void>();
  private resourcesSnapshot: ResourceDefinition[] | undefined;
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
    const id = `${def.group}/${def.resource}`;
    let storage = this.storages.get(id);
    if (!storage) {
      storage = new Storage(id, strategy, this.historySize, this.rv, this.historyBudget);
      this.storages.set(id, storage);
    }
    storage.strategy = strategy;
    if (strategy.followWrites) this.followers.push(strategy.followWrites(this.followerStore()));
    this.serve({ def, storage });
    for (const alternate of strategy.alternateVersions ?? []) {
      this.serve({ def: { ...def, group: alternate.group ?? def.group, version: alternate.version }, storage, conversion: alternate });
    }
  }

  private serve(served: Served): void {
    const { def } = served;
    this.served.set(`${def.group}/${def.version}/${def.resource}`, served);
    this.servedByKind.set(`${def.group}/${def.version}/${def.kind}`, served);
    this.resourcesSnapshot = undefined;
  }

  resources(): ResourceDefinition[] {
    this.resourcesSnapshot ??= [...this.served.values()].map((s) => s.def);
    return this.resourcesSnapshot;
  }

  lookup(group: string, version: string, resource: string): ResourceDefinition | undefined {
    return this.served.get(`${group}/${version}/${resource}`)?.def;
  }

  lookupKind(group: string, version: string, kind: string): ResourceDefinition | undefined {
    return this.servedByKind.get(`${group}/${version}/${kind}`)?.def;
  }

  onResourcesChanged(listener: () => void): () => void {
    this.resourceListeners.add(listener);
    return () => this.resourceListeners.delete(listener);
  }

  private resolve(def: ResourceDefinition, verb = 'create'): Served & { strategy: ResourceStrategy } {
    const served = this.served.get(`${def.group}/${def.version}/${def.resource}`);
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

  private parseRV(value: string | undefined): number | undefined {
    if (value === undefined || value === '') return undefined;
    if (!/^[0-9]+$/.test(value)) throw statusErrors.badRequest(`invalid resource version: ${JSON.stringify(value)}`);
    return Number(value);
  }

  private tooLarge(rv: number): StatusError {
    return new StatusError({
      code: 504,
      reason: 'Timeout',
      message: `Too large resource version: ${rv}, current: ${this.rv}`,
      details: { causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }], retryAfterSeconds: 1 },
    });
  }

  private selectors(def: ResourceDefinition, options: { labelSelector?: string; fieldSelector?: string }): { labels: LabelSelector; fields: FieldSelector } {
    const labels = parseLabelSelector(options.labelSelector);
    const fields = parseFieldSelector(options.fieldSelector, (field) => field === 'metadata.name' || field === 'metadata.namespace' || Object.hasOwn(def.fieldSelectors, field));
    return { labels, fields };
  }

  private matcher(def: ResourceDefinition, namespace: string | undefined, labels: LabelSelector, fields: FieldSelector): (object: KubeObject) => boolean {
    const scoped = def.namespaced && namespace !== undefined && namespace !== '';
    return (object) => {
      if (scoped && object.metadata.namespace !== namespace) return false;
      if (labels !== everythingSelector && !labels.matches(object.metadata.labels)) return false;
      if (fields.requirements.length === 0) return true;
      return fieldSelectorMatches(fields, (field) => {
        if (field === 'metadata.name') return object.metadata.name;
        if (field === 'metadata.namespace') return object.metadata.namespace;
        return def.fieldSelectors[field]?.(object);
      });
    };
  }

  list(def: ResourceDefinition, options: ListOptions): ListResult {
    const served = this.resolve(def, 'list');
    const { storage } = served;
    const namespace = def.namespaced && options.namespace ? options.namespace : undefined;
    const { labels, fields } = this.selectors(def, options);
    const matches = this.matcher(def, namespace, labels, fields);
    const limit = options.limit && options.limit > 0 ? Math.floor(options.limit) : undefined;

    let atRV = this.rv;
    let startAfter: string | undefined;
    if (options.continue) {
      if (options.resourceVersion && options.resourceVersion !== '0') throw statusErrors.badRequest('specifying resource version is not allowed when using continue');
      const token = decodeContinue(options.continue);
      atRV = token.rv;
      startAfter = token.start;
      if (atRV < storage.history.compactedRV && storage.history.latestRV > atRV) {
        const error = statusErrors.gone(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
        );
        error.status.metadata = { continue: encodeContinue(this.rv, startAfter) };
        throw error;
      }
    } else {
      const requested = this.parseRV(options.resourceVersion);
      if (requested !== undefined && requested > this.rv) throw this.tooLarge(requested);
      if (requested !== undefined && options.resourceVersionMatch === 'Exact') {
        if (requested < storage.history.compactedRV && storage.history.latestRV > requested) throw statusErrors.gone('The resourceVersion for the provided list is too old.');
        atRV = requested;
      }
    }

    const view = this.viewAt(storage, atRV, namespace);
    const items: KubeObject[] = [];
    let continueKey: string | undefined;
    let remaining = 0;
    const countRemaining = labels === everythingSelector && fields.requirements.length === 0;
    const single = fields.exactName !== undefined && !startAfter ? this.singleKey(def, namespace, fields) : undefined;
    const keys = single ?? view.keys;
    let index = startAfter ? upperBound(keys, startAfter) : 0;
    for (; index < keys.length; index++) {
      const key = keys[index] as string;
      const object = view.get(key);
      if (!object || !matches(object)) continue;
      if (limit !== undefined && items.length >= limit) {
        continueKey = (items.length ? keyOf(items[items.length - 1] as KubeObject) : key);
        break;
      }
      items.push(this.fromStorage(served, object));
    }
    if (continueKey !== undefined && countRemaining) {
      for (; index < keys.length; index++) if (view.get(keys[index] as string)) remaining++;
    }
    const result: ListResult = { items, resourceVersion: String(atRV) };
    if (continueKey !== undefined) {
      result.continue = encodeContinue(atRV, continueKey);
      if (countRemaining) result.remainingItemCount = remaining;
    }
    return result;
  }

  private singleKey(def: ResourceDefinition, namespace: string | undefined, fields: FieldSelector): string[] | undefined {
    const name = fields.exactName as string;
    if (!def.namespaced) return [`/${name}`];
    const ns = namespace ?? fields.exactNamespace;
    return ns === undefined ? undefined : [`${ns}/${name}`];
  }

  /** The storage as it was at rv, rebuilt from history when anything changed since. */
  private viewAt(storage: Storage, rv: number, namespace: string | undefined): { keys: readonly string[]; get(key: string): KubeObject | undefined } {
    const current = { keys: storage.keys(namespace), get: (key: string) => storage.getByKey(key) };
    if (rv >= storage.history.latestRV) return current;
    const changes = new Map<string, KubeObject | undefined>();
    const events = storage.history.since(rv);
    for (let i = events.length - 1; i >= 0; i--) {
      const event = events[i] as HistoryEvent;
      changes.set(event.key, event.type === 'ADDED' ? undefined : event.prev);
    }
    const prefix = namespace === undefined ? undefined : `${namespace}/`;
    const keys = new Set(current.keys);
    for (const key of changes.keys()) if (prefix === undefined || key.startsWith(prefix)) keys.add(key);
    return {
      keys: [...keys].sort(),
      get: (key) => (changes.has(key) ? changes.get(key) : storage.getByKey(key)),
    };
  }

  // ---- writes ----------------------------------------------------------------------------

  private context(options: WriteOptions | undefined): StrategyContext {
    return { now: this.clock(), dryRun: options?.dryRun === true, user: options?.user, registry: this, allocators: this.allocators };
  }

  /** A mutable copy in the storage version, with apiVersion/kind set as the definition says. */
  private draft(served: Served, object: KubeObject): JsonObject & KubeObject {
    if (!asObject(object)) throw statusErrors.badRequest('the request body must be a JSON object');
    let draft = clone(object);
    const def = served.def;
    draft.apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
    draft.kind = def.kind;
    if (!asObject(draft.metadata)) draft.metadata = {};
    if (served.conversion) draft = served.conversion.toStorage(draft);
    const storageDef = served.storage.strategy?.definition ?? def;
    draft.apiVersion = storageDef.group ? `${storageDef.group}/${storageDef.version}` : storageDef.version;
    return draft as JsonObject & KubeObject;
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

  private createDraft(served: Served, strategy: ResourceStrategy, draft: JsonObject & KubeObject, options: WriteOptions): KubeObject {
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
    if (!ctx.dryRun) this.checkStorageLimits(storage, def, draft, options.user, undefined);
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

  private updateDraft(served: Served, strategy: ResourceStrategy, input: JsonObject & KubeObject, old: KubeObject, options: UpdateOptions): KubeObject {
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

    let draft: JsonObject & KubeObject;
    const subresource = options.subresource;
    if (subresource === 'status' && !hasSubresource(def, 'status')) throw statusErrors.notFound(gr, name);
    if (subresource === 'status') {
      // Everything but status and the user-facing metadata comes from the stored object; a
      // strategy may reset more (custom resources keep all metadata, as upstream).
      draft = clone(old) as JsonObject & KubeObject;
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
      draft = clone(old) as JsonObject & KubeObject;
      strategy.prepareForBinding(draft, input, ctx);
    } else if (subresource === 'ephemeralcontainers') {
      if (!strategy.prepareForEphemeralContainers) throw statusErrors.methodNotSupported(gr, 'ephemeralcontainers');
      draft = clone(old) as JsonObject & KubeObject;
      strategy.prepareForEphemeralContainers(draft, input, ctx);
    } else if (subresource === 'finalize') {
      if (!strategy.prepareForFinalize) throw statusErrors.methodNotSupported(gr, 'finalize');
      draft = clone(old) as JsonObject & KubeObject;
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
    else if (subresource !== 'finalize' && subresource !== 'binding') {
      errors.push(...(strategy.validateUpdate?.(draft, old, ctx) ?? []));
      if (subresource === undefined) errors.push(...(served.conversion?.validateUpdate?.(draft, old, ctx) ?? []));
    }
    this.invalid(def, name, errors);
    this.runAdmission('validate', 'UPDATE', served, draft, old, name, options, subresource);
    if (!ctx.dryRun) this.checkStorageLimits(served.storage, def, draft, options.user, subresource);
    if (subresource === undefined) strategy.allocate?.(draft, old, ctx);

    if (deepEqual(draft, old)) return old;
    if (ctx.dryRun) return deepFreeze(draft);
    const storage = served.storage;
    if (draft.metadata.deletionTimestamp && this.readyToRemove(strategy, draft)) return this.commit(storage, 'DELETED', draft, old);
    const stored = this.commit(storage, 'MODIFIED', draft, old);
    strategy.release?.(old, stored, ctx);
    return stored;
  }

  private readyToRemove(strategy: ResourceStrategy, object: KubeObject): boolean {
    if (asArray(object.metadata.finalizers).length > 0) return false;
    if (strategy.deletionBlocked?.(object)) return false;
    const grace = object.metadata.deletionGracePeriodSeconds;
    if (typeof grace === 'number' && grace > 0) return false;
    return true;
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
    const draft = clone(old) as JsonObject & KubeObject;
    const meta = draft.metadata;
    const finalizers = new Set(asArray(meta.finalizers).filter((f): f is string => typeof f === 'string'));
    switch (options.propagationPolicy) {
      case 'Orphan':
        finalizers.add('orphan');
        finalizers.delete('foregroundDeletion');
        break;
      case 'Foreground':
        finalizers.add('foregroundDeletion');
        finalizers.delete('orphan');
        break;
      case 'Background':
        finalizers.delete('orphan');
        finalizers.delete('foregroundDeletion');
        break;
    }
    if (finalizers.size) meta.finalizers = [...finalizers];
    else delete meta.finalizers;

    const grace = strategy.gracePeriodSeconds?.(old, options) ?? 0;
    const now = ctx.now.getTime();
    if (!meta.deletionTimestamp) {
      if (grace === 0 && finalizers.size === 0 && !strategy.deletionBlocked?.(draft)) {
        if (ctx.dryRun) return deepFreeze(draft);
        return this.commit(served.storage, 'DELETED', draft, old);
      }
      meta.deletionTimestamp = formatTimestamp(new Date(now + grace * 1000));
      meta.deletionGracePeriodSeconds = grace;
      strategy.beginDeletion?.(draft, ctx);
    } else {
      const currentGrace = typeof meta.deletionGracePeriodSeconds === 'number' ? meta.deletionGracePeriodSeconds : 0;
      if (grace < currentGrace) {
        meta.deletionGracePeriodSeconds = grace;
        meta.deletionTimestamp = formatTimestamp(new Date(now + grace * 1000));
      }
    }
    pruneUndefined(draft);
    omitEmptyMetadata(draft.metadata);
    if (ctx.dryRun) return deepFreeze(draft);
    if (this.readyToRemove(strategy, draft)) return this.commit(served.storage, 'DELETED', draft, old);
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
    const current = clone(this.get(def, namespace, name)) as JsonObject & KubeObject;
    if (scale.metadata?.resourceVersion) current.metadata.resourceVersion = scale.metadata.resourceVersion;
    setPath(current, paths.specReplicasPath.replace(/^\./, ''), replicas ?? 0);
    const updated = this.update(def, namespace, name, current, options);
    return toScale(updated, strategy, def);
  }

  // ---- commit, hooks and watch dispatch --------------------------------------------------

  /**
   * etcd's limit on one write, and the namespace's storage budget for a write that grows it (not
   * for status and other subresources: the cluster's own reports must always land).
   */
  private checkStorageLimits(storage: Storage, def: ResourceDefinition, draft: KubeObject, user: UserInfo | undefined, subresource: string | undefined): void {
    const bytes = serializedBytes(draft);
    if (bytes > MAX_OBJECT_BYTES) throw requestTooLarge();
    const ns = def.namespaced ? (draft.metadata.namespace ?? '') : '';
    if (ns === '' || this.namespaceBytes <= 0 || subresource !== undefined || bypassesNamespaceBudget(user)) return;
    const requested = bytes - storage.sizeOf(ns, draft.metadata.name ?? '');
    if (requested <= 0) return;
    let used = 0;
    for (const each of this.storages.values()) used += each.bytesIn(ns);
    if (used + requested > this.namespaceBytes) throw namespaceBudgetExceeded(this.gr(def), draft.metadata.name ?? '', ns, { requested, used, limit: this.namespaceBytes });
  }

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
    for (const version of versions) this.serve({ def: version.def, storage, conversion: version.conversion });
    this.resourcesChanged = true;
  }

  private unserveStorage(id: string, dropStorage: boolean): void {
    for (const [key, served] of this.served) {
      if (served.storage.id === id) {
        this.served.delete(key);
        this.servedByKind.delete(`${served.def.group}/${served.def.version}/${served.def.kind}`);
      }
    }
    this.resourcesSnapshot = undefined;
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
    const served = [...this.served.values()].find((s) => s.storage === storage && !s.conversion);
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
    const { labels, fields } = this.selectors(def, options);
    const matches = this.matcher(def, namespace, labels, fields);
    const causes: { field: string; message: string }[] = [];
    if (options.sendInitialEvents !== undefined && options.resourceVersionMatch !== 'NotOlderThan')
      causes.push({ field: 'resourceVersionMatch', message: 'Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan' });
    if (options.sendInitialEvents === undefined && options.resourceVersionMatch)
      causes.push({ field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided' });
    if (options.sendInitialEvents && !options.allowBookmarks)
      causes.push({ field: 'allowWatchBookmarks', message: 'Forbidden: sendInitialEvents requires setting allowWatchBookmarks to true' });
    if (causes.length) throw statusErrors.invalid('ListOptions', 'meta.k8s.io', '', causes.map((c) => ({ ...c, reason: 'FieldValueForbidden' })));

    const requested = this.parseRV(options.resourceVersion);
    if (requested !== undefined && requested > this.rv) throw this.tooLarge(requested);
    const fromNow = requested === undefined || requested === 0;
    const initial = options.sendInitialEvents ?? fromNow;
    if (!initial && !fromNow && requested < storage.history.compactedRV) {
      throw statusErrors.gone(`too old resource version: ${requested} (${storage.history.compactedRV})`);
    }
    const watcher = new Watcher(served, matches, onEvent, options.allowBookmarks === true, () => storage.watchers.delete(watcher), this.logger, (o) => this.fromStorage(served, o), options.onClose);
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

class Watcher implements Watch, StorageWatcher {
  lastRV = 0;
  stopped = false;
  private readonly served: Served;
  private readonly matches: (object: KubeObject) => boolean;
  private readonly onEvent: (event: WatchEvent) => void;
  private readonly allowBookmarks: boolean;
  private readonly detach: () => void;
  private readonly logger: RegistryLogger;
  private readonly present: (object: KubeObject) => KubeObject;
  private readonly onClose: (() => void) | undefined;

  constructor(
    served: Served,
    matches: (object: KubeObject) => boolean,
    onEvent: (event: WatchEvent) => void,
    allowBookmarks: boolean,
    detach: () => void,
    logger: RegistryLogger,
    present: (object: KubeObject) => KubeObject,
    onClose: (() => void) | undefined,
  ) {
    this.onClose = onClose;
    this.served = served;
    this.matches = matches;
    this.onEvent = onEvent;
    this.allowBookmarks = allowBookmarks;
    this.detach = detach;
    this.logger = logger;
    this.present = present;
  }

  /** The watch cache's rule: an object that stops matching is DELETED, one that starts is ADDED. */
  deliver(event: HistoryEvent): void {
    if (this.stopped || event.rv <= this.lastRV) return;
    this.lastRV = event.rv;
    const now = event.type !== 'DELETED' && this.matches(event.object);
    const before = event.type === 'MODIFIED' && event.prev !== undefined && this.matches(event.prev);
    switch (event.type) {
      case 'ADDED':
        if (now) this.emit('ADDED', event.object);
        break;
      case 'MODIFIED':
        if (now && before) this.emit('MODIFIED', event.object);
        else if (now) this.emit('ADDED', event.object);
        else if (before) this.emit('DELETED', event.object);
        break;
      case 'DELETED':
        if (this.matches(event.prev ?? event.object)) this.emit('DELETED', event.object);
        break;
    }
  }

  emit(type: WatchEvent['type'], object: KubeObject): void {
    if (this.stopped) return;
    try {
      this.onEvent({ type, object: this.present(object) });
    } catch (error) {
      this.logger.warn({ error: String(error), resource: this.served.def.resource }, 'a watch consumer failed; the watch is stopped');
      this.stop();
    }
  }

  emitBookmark(rv: number, initialEventsEnd = false): void {
    const def = this.served.def;
    const metadata: KubeObject['metadata'] = { resourceVersion: String(rv) };
    if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
    this.emit('BOOKMARK', { apiVersion: def.group ? `${def.group}/${def.version}` : def.version, kind: def.kind, metadata });
  }

  bookmark(rv?: number): void {
    if (!this.allowBookmarks || this.stopped) return;
    const at = Math.max(rv ?? this.lastRV, this.lastRV);
    this.emitBookmark(at);
  }

  close(): void {
    if (this.stopped) return;
    this.stop();
    this.onClose?.();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.detach();
  }
}

async function defaultLogger(): Promise<RegistryLogger> {
  const { default: pino } = await import('pino');
  const logger = pino({ name: 'registry' }, pino.destination(2));
  return { warn: (details, message) => logger.warn(details, message) };
}

function serializedBytes(object: KubeObject): number {
  return Buffer.byteLength(JSON.stringify(object));
}

function keyOf(object: KubeObject): string {
  return storageKey(object.metadata.namespace, object.metadata.name ?? '');
}

function upperBound(keys: readonly string[], after: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function encodeContinue(rv: number, start: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv, start })).toString('base64');
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8')) as { v?: unknown; rv?: unknown; start?: unknown };
    if (parsed.v !== 'meta.k8s.io/v1' || typeof parsed.rv !== 'number' || typeof parsed.start !== 'string') throw new Error('bad token');
    return { rv: parsed.rv, start: parsed.start };
  } catch {
    throw statusErrors.badRequest('invalid continue token: continue key is not valid');
  }
}

function toScale(object: KubeObject, strategy: ResourceStrategy, def: ResourceDefinition): KubeObject {
  const paths = strategy.scale as NonNullable<ResourceStrategy['scale']>;
  const strip = (p: string) => p.replace(/^\./, '');
  const selector = paths.selector?.(object);
  const status: JsonObject = { replicas: getPath(object, strip(paths.statusReplicasPath)) ?? 0 };
  if (selector) status.selector = selector;
  return deepFreeze({
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata: {
      name: object.metadata.name,
      namespace: def.namespaced ? object.metadata.namespace : undefined,
      uid: object.metadata.uid,
      resourceVersion: object.metadata.resourceVersion,
      creationTimestamp: object.metadata.creationTimestamp,
    },
    spec: { replicas: getPath(object, strip(paths.specReplicasPath)) ?? 0 },
    status,
  } as KubeObject);
}
