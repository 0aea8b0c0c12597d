// The controllers' client: the registry's own write path (the same defaulting, validation and
// admission — NamespaceLifecycle, LimitRanger, ResourceQuota — as an API request), with each
// controller writing under its own identity as kube-controller-manager does with
// --use-service-account-credentials.
import type { DeleteOptions, ListOptions, Registry, ResourceDefinition, UserInfo } from '../registry/index.ts';
import { StatusError, type KubeObject } from '../types.ts';
import { copy } from './objects.ts';

export function isNotFound(error: unknown): boolean {
  return error instanceof StatusError && error.code === 404;
}

export function isConflict(error: unknown): boolean {
  return error instanceof StatusError && error.code === 409 && error.status.reason === 'Conflict';
}

export function isAlreadyExists(error: unknown): boolean {
  return error instanceof StatusError && error.code === 409 && error.status.reason === 'AlreadyExists';
}

/** The message a controller puts into its FailedCreate/FailedDelete events. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const CONFLICT_RETRIES = 5;

/**
 * The admission webhooks a controller's creates meet, as kube-controller-manager's requests meet
 * them in the API server: `write` is the registry create, run once as a dry run (`preview`) for
 * what the webhooks see and once for real.
 */
export interface ControllerWebhooks {
  create(definition: ResourceDefinition, namespace: string | undefined, object: KubeObject, user: UserInfo, write: (object: KubeObject, preview: boolean) => KubeObject): Promise<KubeObject>;
}

export class ResourceClient {
  readonly definition: ResourceDefinition;
  readonly #registry: Registry;
  readonly #user: UserInfo;
  readonly #webhooks: ControllerWebhooks | undefined;

  constructor(registry: Registry, definition: ResourceDefinition, user: UserInfo, webhooks?: ControllerWebhooks) {
    this.#registry = registry;
    this.#webhooks = webhooks;
    this.definition = definition;
    this.#user = user;
  }

  #ns(namespace: string | undefined): string | undefined {
    return this.definition.namespaced ? namespace : undefined;
  }

  /** The object, or undefined when it does not exist. */
  get(namespace: string | undefined, name: string): KubeObject | undefined {
    try {
      return this.#registry.get(this.definition, this.#ns(namespace), name);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  list(namespace?: string, options: Omit<ListOptions, 'namespace'> = {}): KubeObject[] {
    return this.#registry.list(this.definition, { ...options, ...(this.definition.namespaced && namespace ? { namespace } : {}) }).items;
  }

  create(namespace: string | undefined, object: KubeObject): KubeObject {
    return this.#registry.create(this.definition, this.#ns(namespace), object, { user: this.#user, fieldManager: this.#user.username.split(':').pop() });
  }

  /** A create that admission webhooks see (the pods workload controllers make: sidecars injected, policies enforced). */
  createAdmitted(namespace: string | undefined, object: KubeObject): Promise<KubeObject> | KubeObject {
    if (!this.#webhooks) return this.create(namespace, object);
    const options = { user: this.#user, fieldManager: this.#user.username.split(':').pop() };
    return this.#webhooks.create(this.definition, this.#ns(namespace), object, this.#user, (candidate, preview) =>
      this.#registry.create(this.definition, this.#ns(namespace), candidate, preview ? { ...options, dryRun: true } : options),
    );
  }

  /** PUT of the whole object; its metadata.resourceVersion guards against lost updates (409). */
  update(object: KubeObject): KubeObject {
    return this.#registry.update(this.definition, this.#ns(object.metadata.namespace), object.metadata.name ?? '', object, { user: this.#user });
  }

  updateStatus(object: KubeObject): KubeObject {
    return this.#registry.update(this.definition, this.#ns(object.metadata.namespace), object.metadata.name ?? '', object, { user: this.#user, subresource: 'status' });
  }

  /** The deleted (or now terminating) object, or undefined when it was already gone. */
  delete(namespace: string | undefined, name: string, options: Omit<DeleteOptions, 'user'> = {}): KubeObject | undefined {
    try {
      return this.#registry.delete(this.definition, this.#ns(namespace), name, { ...options, user: this.#user });
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  /**
   * Read-modify-write with retries on conflict (retry.RetryOnConflict): `change` edits a copy and
   * returns false when nothing needs writing. Undefined when the object does not exist.
   */
  mutate(namespace: string | undefined, name: string, change: (draft: KubeObject) => boolean | void, subresource?: 'status' | 'finalize' | 'binding'): KubeObject | undefined {
    for (let attempt = 0; ; attempt++) {
      const live = this.get(namespace, name);
      if (!live) return undefined;
      const draft = copy(live);
      if (change(draft) === false) return live;
      try {
        return this.#registry.update(this.definition, this.#ns(namespace), name, draft, { user: this.#user, ...(subresource ? { subresource } : {}) });
      } catch (error) {
        if (isNotFound(error)) return undefined;
        if (!isConflict(error) || attempt >= CONFLICT_RETRIES) throw error;
      }
    }
  }

  getScale(namespace: string | undefined, name: string): KubeObject {
    return this.#registry.getScale(this.definition, this.#ns(namespace), name);
  }

  updateScale(namespace: string | undefined, name: string, scale: KubeObject): KubeObject {
    return this.#registry.updateScale(this.definition, this.#ns(namespace), name, scale, { user: this.#user });
  }
}

/** Identity of a controller: system:serviceaccount:kube-system:<name>, as the controller manager uses. */
export function controllerUser(name: string): UserInfo {
  return {
    username: `system:serviceaccount:kube-system:${name}`,
    groups: ['system:serviceaccounts', 'system:serviceaccounts:kube-system', 'system:authenticated'],
  };
}

export const schedulerUser: UserInfo = { username: 'system:kube-scheduler', groups: ['system:authenticated'] };

export function nodeUser(nodeName: string): UserInfo {
  return { username: `system:node:${nodeName}`, groups: ['system:nodes', 'system:authenticated'] };
}

/** Typed access to the resources controllers read and write, all under one identity. */
export class ControllerClient {
  readonly registry: Registry;
  readonly user: UserInfo;
  readonly #webhooks: ControllerWebhooks | undefined;
  readonly #clients = new Map<string, ResourceClient>();

  constructor(registry: Registry, user: UserInfo, webhooks?: ControllerWebhooks) {
    this.registry = registry;
    this.user = user;
    this.#webhooks = webhooks;
  }

  /** undefined when the resource is not served (e.g. a CRD that went away). */
  resourceIfServed(group: string, version: string, resource: string): ResourceClient | undefined {
    const id = `${group}/${version}/${resource}`;
    let client = this.#clients.get(id);
    if (!client) {
      const definition = this.registry.lookup(group, version, resource);
      if (!definition) return undefined;
      client = new ResourceClient(this.registry, definition, this.user, this.#webhooks);
      this.#clients.set(id, client);
    }
    return client;
  }

  resource(group: string, version: string, resource: string): ResourceClient {
    const client = this.resourceIfServed(group, version, resource);
    if (!client) throw new Error(`resource ${group}/${version}/${resource} is not served`);
    return client;
  }

  forDefinition(definition: ResourceDefinition): ResourceClient {
    return this.resource(definition.group, definition.version, definition.resource);
  }

  /** The same client acting as someone else. */
  as(user: UserInfo): ControllerClient {
    return new ControllerClient(this.registry, user, this.#webhooks);
  }

  get pods(): ResourceClient {
    return this.resource('', 'v1', 'pods');
  }
  get nodes(): ResourceClient {
    return this.resource('', 'v1', 'nodes');
  }
  get namespaces(): ResourceClient {
    return this.resource('', 'v1', 'namespaces');
  }
  get services(): ResourceClient {
    return this.resource('', 'v1', 'services');
  }
  get endpoints(): ResourceClient {
    return this.resource('', 'v1', 'endpoints');
  }
  get events(): ResourceClient {
    return this.resource('', 'v1', 'events');
  }
  get configMaps(): ResourceClient {
    return this.resource('', 'v1', 'configmaps');
  }
  get serviceAccounts(): ResourceClient {
    return this.resource('', 'v1', 'serviceaccounts');
  }
  get persistentVolumeClaims(): ResourceClient {
    return this.resource('', 'v1', 'persistentvolumeclaims');
  }
  get persistentVolumes(): ResourceClient {
    return this.resource('', 'v1', 'persistentvolumes');
  }
  get deployments(): ResourceClient {
    return this.resource('apps', 'v1', 'deployments');
  }
  get replicaSets(): ResourceClient {
    return this.resource('apps', 'v1', 'replicasets');
  }
  get statefulSets(): ResourceClient {
    return this.resource('apps', 'v1', 'statefulsets');
  }
  get daemonSets(): ResourceClient {
    return this.resource('apps', 'v1', 'daemonsets');
  }
  get controllerRevisions(): ResourceClient {
    return this.resource('apps', 'v1', 'controllerrevisions');
  }
  get jobs(): ResourceClient {
    return this.resource('batch', 'v1', 'jobs');
  }
  get cronJobs(): ResourceClient {
    return this.resource('batch', 'v1', 'cronjobs');
  }
  get endpointSlices(): ResourceClient {
    return this.resource('discovery.k8s.io', 'v1', 'endpointslices');
  }
  get leases(): ResourceClient {
    return this.resource('coordination.k8s.io', 'v1', 'leases');
  }
  get storageClasses(): ResourceClient {
    return this.resource('storage.k8s.io', 'v1', 'storageclasses');
  }
  get podDisruptionBudgets(): ResourceClient {
    return this.resource('policy', 'v1', 'poddisruptionbudgets');
  }
  get horizontalPodAutoscalers(): ResourceClient {
    return this.resource('autoscaling', 'v2', 'horizontalpodautoscalers');
  }
}
