// What a resource strategy is: the per-resource knowledge the generic store consults, in the
// manner of k8s.io/apiserver's rest.RESTCreateStrategy / RESTUpdateStrategy. The store knows
// nothing about any resource; a strategy knows nothing about storage.
import type { KubeObject } from '../types.ts';
import type { DeleteOptions, Registry, ResourceDefinition, SubresourceDefinition, UserInfo } from './interface.ts';
import type { Json } from '../json.ts';
import type { FieldError } from './validation.ts';
import type { Allocators } from './allocators.ts';

export interface StrategyContext {
  now: Date;
  dryRun: boolean;
  user?: UserInfo;
  /** read access to other objects (a strategy never writes through it) */
  registry: Registry;
  allocators: Allocators;
}

export type NameValidator = (name: string, prefix: boolean) => string[];

/** A served version that is not the storage version, with conversions to and from storage. */
export interface AlternateVersion {
  /** Another group over the same storage (events.k8s.io's Events are core Events); default the strategy's own. */
  group?: string;
  version: string;
  toStorage(object: KubeObject): KubeObject;
  fromStorage(object: KubeObject): KubeObject;
  /** Rules only writes through this version must pass (on the storage form), besides the strategy's own. */
  validate?(object: KubeObject, ctx: StrategyContext): FieldError[];
  validateUpdate?(object: KubeObject, old: KubeObject, ctx: StrategyContext): FieldError[];
}

/** Where the scale subresource reads and writes replicas (as CRD scale subresources declare). */
export interface ScalePaths {
  specReplicasPath: string;
  statusReplicasPath: string;
  /** status.selector of the Scale, in label-selector string form */
  selector?(object: KubeObject): string | undefined;
}

export interface CommitEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  old?: KubeObject;
}

/** The storage of a resource: one per group and resource, whatever versions serve it. */
export function storageIdOf(definition: { group: string; resource: string }): string {
  return `${definition.group}/${definition.resource}`;
}

/**
 * The store as a resource that follows every write sees it: CustomResourceDefinitions serve and
 * retire resources, ResourceQuotas recount their namespace. Writes through it are the cluster's
 * own bookkeeping, stored as given: no admission, no validation.
 */
export interface FollowerStore {
  /** Read access to every served resource. */
  readonly registry: Registry;
  /** How many objects a storage holds; undefined when there is no such storage. */
  size(storageId: string): number | undefined;
  /** The stored objects of a storage, all namespaces or one. */
  objects(storageId: string, namespace?: string): KubeObject[];
  get(storageId: string, namespace: string, name: string): KubeObject | undefined;
  /** Stores a new version of a stored object, or removes it ('DELETED'). */
  commit(storageId: string, type: 'MODIFIED' | 'DELETED', draft: KubeObject, old: KubeObject): void;
  /** Deletes every object of a storage not yet being deleted, as a DELETE request would (finalizers, grace). */
  deleteAll(storageId: string): void;
  /** Serves a storage (made if new) under these versions. */
  serve(storageId: string, strategy: ResourceStrategy, versions: { def: ResourceDefinition; conversion?: AlternateVersion }[]): void;
  /** Stops serving a storage; with dropStorage its objects are forgotten too and its watches end. */
  unserve(storageId: string, dropStorage: boolean): void;
}

/** One registry's follower of every write, made once per registry from a strategy's followWrites. */
export interface WriteFollower {
  /** A write was stored (in storageId), before watchers hear of it. */
  written(storageId: string, event: CommitEvent): void;
  /** The registry reopened from its data dir: every stored object is back. */
  reopened?(): void;
}

export interface ResourceStrategy {
  /** the storage (and preferred) version */
  definition: ResourceDefinition;
  alternateVersions?: AlternateVersion[];
  /** DNS-1123 subdomain unless said otherwise */
  validateName?: NameValidator;
  /** metadata.generation is kept and bumped on spec changes */
  tracksGeneration?: boolean;
  /** Deployments: annotation changes bump generation too (they are copied to ReplicaSets) */
  annotationsBumpGeneration?: boolean;
  allowCreateOnUpdate?: boolean;
  /** false: updates must carry metadata.resourceVersion */
  allowUnconditionalUpdate?: boolean;
  scale?: ScalePaths;
  /**
   * Reviews (SelfSubjectAccessReview, TokenReview…): a create is validated and answered, never
   * stored; the API server fills in status.
   */
  virtual?: boolean;
  /**
   * Status fields upstream's Go struct writes even when zero (no `omitempty`): a create answers
   * with them, and a status write that leaves them out still stores them (clients read
   * `status.currentNumberScheduled` straight after create).
   */
  statusZeroValues?: Readonly<Record<string, number>>;
  /** Nodes: a create may carry status (kubelets register with it). */
  keepStatusOnCreate?: boolean;

  /** Scheme defaulting: runs on every create and update body, before admission. */
  defaults?(object: Json & KubeObject, ctx: StrategyContext): void;
  /** defaults and clearing of user-unsettable fields on create (status is already cleared) */
  prepareForCreate?(object: Json & KubeObject, ctx: StrategyContext): void;
  validate?(object: KubeObject, ctx: StrategyContext): FieldError[];
  /** defaults on update; status is already carried over from the old object */
  prepareForUpdate?(object: Json & KubeObject, old: KubeObject, ctx: StrategyContext): void;
  validateUpdate?(object: KubeObject, old: KubeObject, ctx: StrategyContext): FieldError[];
  /** status subresource: the store has already taken everything but status from old */
  prepareForStatusUpdate?(object: Json & KubeObject, old: KubeObject, ctx: StrategyContext): void;
  validateStatusUpdate?(object: KubeObject, old: KubeObject, ctx: StrategyContext): FieldError[];
  /** Pods' binding subresource: object is a copy of old, input carries spec.nodeName; no spec validation. */
  prepareForBinding?(object: Json & KubeObject, input: KubeObject, ctx: StrategyContext): void;
  /** Pods' ephemeralcontainers subresource: object is a copy of old; only spec.ephemeralContainers comes from input. */
  prepareForEphemeralContainers?(object: Json & KubeObject, input: KubeObject, ctx: StrategyContext): void;
  validateEphemeralContainersUpdate?(object: KubeObject, old: KubeObject, ctx: StrategyContext): FieldError[];
  /** Namespaces' finalize subresource: object is a copy of old, input what the client sent. */
  prepareForFinalize?(object: Json & KubeObject, input: KubeObject, ctx: StrategyContext): void;
  /** The approval subresource (CertificateSigningRequests): `object` starts as the stored one, `input` is what was sent. */
  prepareForApproval?(object: Json & KubeObject, input: KubeObject, ctx: StrategyContext): void;
  validateApprovalUpdate?(object: KubeObject, old: KubeObject, ctx: StrategyContext): FieldError[];
  /** Takes scarce things (cluster IPs, node ports) once validation passed; honours ctx.dryRun. */
  allocate?(object: Json & KubeObject, old: KubeObject | undefined, ctx: StrategyContext): void;
  /** Gives them back after the object is gone (or an update dropped them). */
  release?(object: KubeObject, replacement: KubeObject | undefined, ctx: StrategyContext): void;
  /** Re-takes what a stored object holds when the registry reopens. */
  restore?(object: KubeObject, allocators: Allocators): void;
  /** A resource whose objects depend on every write (CRDs, ResourceQuotas): its follower in one registry. */
  followWrites?(store: FollowerStore): WriteFollower;

  /** Pods: how long a graceful delete waits; 0 deletes at once. */
  gracePeriodSeconds?(object: KubeObject, options: DeleteOptions): number;
  /** Namespaces: spec.finalizers keep the object after metadata.finalizers are gone. */
  deletionBlocked?(object: KubeObject): boolean;
  /** Namespaces: what changes when deletion starts (status.phase Terminating). */
  beginDeletion?(object: Json & KubeObject, ctx: StrategyContext): void;
}

export const standardVerbs = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
export const createOnlyVerbs = ['create'];

export interface DefinitionInput {
  group: string;
  version: string;
  resource: string;
  kind: string;
  singular?: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs?: string[];
  subresources?: SubresourceDefinition[];
  fieldSelectors?: ResourceDefinition['fieldSelectors'];
  deprecation?: string;
}

export function defineResource(input: DefinitionInput): ResourceDefinition {
  return {
    group: input.group,
    version: input.version,
    resource: input.resource,
    kind: input.kind,
    listKind: `${input.kind}List`,
    singular: input.singular ?? input.kind.toLowerCase(),
    namespaced: input.namespaced,
    shortNames: input.shortNames ?? [],
    categories: input.categories ?? [],
    verbs: input.verbs ?? standardVerbs,
    subresources: input.subresources ?? [],
    fieldSelectors: input.fieldSelectors ?? {},
    ...(input.deprecation ? { deprecation: input.deprecation } : {}),
  };
}

export const subresource = {
  status(group: string, version: string, kind: string): SubresourceDefinition {
    return { name: 'status', kind, group, version, verbs: ['get', 'patch', 'update'] };
  },
  scale(): SubresourceDefinition {
    return { name: 'scale', kind: 'Scale', group: 'autoscaling', version: 'v1', verbs: ['get', 'patch', 'update'] };
  },
};

export function hasSubresource(definition: ResourceDefinition, name: string): boolean {
  return definition.subresources.some((s) => s.name === name);
}
