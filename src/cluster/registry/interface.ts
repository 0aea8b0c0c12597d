// What the registry offers and how it is asked (k8s.io/apiserver/pkg/registry/rest, in spirit):
// resource definitions, the options of reads, writes and watches, the Registry itself, and the
// admission plugins it runs. Types only, so every part of the registry can name them without
// importing the store.
import type { KubeObject } from '../types.ts';

export interface SubresourceDefinition {
  /** 'status' | 'scale' | 'log' | 'exec' | 'attach' | 'binding' | 'eviction' | 'token' | 'portforward' | 'proxy' */
  name: string;
  /** response kind in discovery: Pod for status, Scale for scale, PodExecOptions for exec, TokenRequest for token, ... */
  kind: string;
  /** '' | 'autoscaling' (Scale) | 'policy' (Eviction) | 'authentication.k8s.io' (TokenRequest) */
  group: string;
  version: string;
  /** ['get','patch','update'] for status/scale; ['create','get'] for exec; ['get'] for log; ['create'] for binding/eviction/token */
  verbs: string[];
}

export interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export interface ResourceDefinition {
  group: string;
  version: string;
  resource: string;
  kind: string;
  listKind: string;
  singular: string;
  namespaced: boolean;
  shortNames: string[];
  categories: string[];
  /** discovery verbs */
  verbs: string[];
  subresources: SubresourceDefinition[];
  /** field selectors this resource supports besides metadata.name/metadata.namespace */
  fieldSelectors: Record<string, (obj: KubeObject) => string | undefined>;
  /** The Warning every request to the resource gets once it is deprecated (upstream's text, e.g. v1 Endpoints). */
  deprecation?: string;
  /** openAPIV3Schema for CRD-defined resources; additionalPrinterColumns likewise */
  crd?: { schema?: Record<string, unknown>; printerColumns?: PrinterColumn[]; preserveUnknownFields?: boolean };
}

export interface ListOptions {
  /** undefined = all namespaces (for namespaced resources) */
  namespace?: string;
  /** Kubernetes label-selector syntax: a=b, a!=b, a in (x,y), a notin (x), a, !a */
  labelSelector?: string;
  /** a=b, a==b, a!=b, comma-separated */
  fieldSelector?: string;
  limit?: number;
  /** opaque token from a previous page; expired → 410 Expired, malformed → 400 */
  continue?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
}
export interface ListResult {
  items: KubeObject[];
  resourceVersion: string;
  continue?: string;
  remainingItemCount?: number;
}

export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}
export interface WriteOptions {
  dryRun?: boolean;
  fieldManager?: string;
  user?: UserInfo;
  /** Where admission's warnings go (the API server sends them as Warning headers). */
  warnings?: string[];
}

export interface DeleteOptions extends WriteOptions {
  propagationPolicy?: 'Orphan' | 'Background' | 'Foreground';
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
  /** The object's serialized size as stored, on the changes a watch hears of as they happen. */
  bytes?: number;
}
export interface WatchOptions extends Omit<ListOptions, 'limit' | 'continue'> {
  /** with resourceVersionMatch=NotOlderThan: replay current state then a BOOKMARK with k8s.io/initial-events-end */
  sendInitialEvents?: boolean;
  allowBookmarks?: boolean;
  /** Called when the registry ends the watch itself: its resource went away (CRD deleted) or the registry closed. */
  onClose?: () => void;
}
export interface Watch {
  stop(): void;
  /** Sends a BOOKMARK now (if the watch allows them), e.g. just before a timeout ends the stream. */
  bookmark(): void;
}

export interface Registry {
  /** Every served resource, built-ins plus those CRDs define; changes when CRDs change. */
  resources(): ResourceDefinition[];
  lookup(group: string, version: string, resource: string): ResourceDefinition | undefined;
  lookupKind(group: string, version: string, kind: string): ResourceDefinition | undefined;
  /** Fires after the set of served resources changes (CRD established or removed). */
  onResourcesChanged(listener: () => void): () => void;

  /** 404 StatusError if absent */
  get(def: ResourceDefinition, namespace: string | undefined, name: string): KubeObject;
  list(def: ResourceDefinition, options: ListOptions): ListResult;
  create(def: ResourceDefinition, namespace: string | undefined, object: KubeObject, options?: WriteOptions): KubeObject;
  /**
   * PUT semantics: metadata.resourceVersion if present must match (409 Conflict). subresource
   * 'status' only changes status; main resource update ignores status changes, as upstream.
   * 'finalize' (namespaces) only changes spec.finalizers. 'binding' (pods) sets spec.nodeName once,
   * as pods/binding does: object carries the node in spec.nodeName and the binding's annotations.
   */
  update(def: ResourceDefinition, namespace: string | undefined, name: string, object: KubeObject, options?: UpdateOptions): KubeObject;
  /** Returns the object (graceful/finalizers: still present with deletionTimestamp) or the deleted object. */
  delete(def: ResourceDefinition, namespace: string | undefined, name: string, options?: DeleteOptions): KubeObject;
  deleteCollection(def: ResourceDefinition, options: ListOptions & DeleteOptions): KubeObject[];
  /** Throws a 410 Expired StatusError if resourceVersion is older than the kept history. */
  watch(def: ResourceDefinition, options: WatchOptions, onEvent: (event: WatchEvent) => void): Watch;
  currentResourceVersion(): string;
  /**
   * The resourceVersion of the last change to this resource (in any of its versions): a cache of
   * one resource's objects stays valid while this does not move, whatever else is written.
   */
  lastChangeOf(def: ResourceDefinition): string;
  close(): Promise<void>;

  /** true when the data dir held no state: the built-in namespaces were just created. */
  readonly firstStart: boolean;
  /** autoscaling/v1 Scale of a resource with a scale subresource (deployments, replicasets, statefulsets, CRDs). */
  getScale(def: ResourceDefinition, namespace: string | undefined, name: string): KubeObject;
  /** Writes spec.replicas from a Scale; metadata.resourceVersion of the Scale is honoured like an update's. */
  updateScale(def: ResourceDefinition, namespace: string | undefined, name: string, scale: KubeObject, options?: WriteOptions): KubeObject;
}

export interface UpdateOptions extends WriteOptions {
  subresource?: 'status' | 'finalize' | 'binding' | 'ephemeralcontainers' | 'approval';
  createIfMissing?: boolean;
}

export type AdmissionOperation = 'CREATE' | 'UPDATE' | 'DELETE';

/** What an admission plugin sees: the object after defaulting (mutable in `mutate`, frozen in `validate`). */
export interface AdmissionRequest {
  operation: AdmissionOperation;
  definition: ResourceDefinition;
  namespace: string | undefined;
  name: string;
  object: KubeObject | undefined;
  oldObject: KubeObject | undefined;
  subresource: string | undefined;
  user: UserInfo | undefined;
  dryRun: boolean;
  registry: Registry;
  /** Warnings for the client (PodSecurity's "would violate …"); dropped when the write has no one to tell. */
  warnings: string[];
}

/** Admission as the registry runs it: mutate after defaulting, validate after the strategy validated. */
export interface AdmissionPlugin {
  name: string;
  mutate?(request: AdmissionRequest): void;
  validate?(request: AdmissionRequest): void;
}

export interface RegistryLogger {
  warn(details: Record<string, unknown>, message: string): void;
}

/** What the embedded cluster's storage holds at most (storage-limits.ts has the defaults). */
export interface StorageLimits {
  /** Serialized bytes of every object in one namespace together; 0 turns the budget off. */
  namespaceBytes: number;
  /** Serialized bytes of the old versions every resource's history keeps together. */
  historyBytes: number;
}

export interface RegistryOptions {
  /** where snapshot + log live; without it the registry is memory-only */
  dataDir?: string;
  clock?: () => Date;
  admission?: AdmissionPlugin[];
  /** events kept per resource for watch resume; default 10,000 */
  historySize?: number;
  /** how often watchers that allow bookmarks get one; default 60 s */
  bookmarkIntervalMs?: number;
  /** what storage holds at most: each namespace's objects, old versions for watches */
  limits?: Partial<StorageLimits>;
  logger?: RegistryLogger;
}
