// What the kubelet reads from the API besides its pods: ConfigMaps and Secrets for env and
// volumes, ServiceAccounts for tokens, Services for the service links, claims for volumes,
// Services, Endpoints, Namespaces and NetworkPolicies for the pod network.
// Reads go straight to the registry (in-process), so they are cheap and always current.
import type { Registry, ResourceDefinition } from '../registry/index.ts';
import { StatusError, type KubeObject } from '../types.ts';

const resources = {
  pods: ['', 'v1', 'pods'],
  nodes: ['', 'v1', 'nodes'],
  configmaps: ['', 'v1', 'configmaps'],
  secrets: ['', 'v1', 'secrets'],
  serviceaccounts: ['', 'v1', 'serviceaccounts'],
  services: ['', 'v1', 'services'],
  endpoints: ['', 'v1', 'endpoints'],
  persistentvolumeclaims: ['', 'v1', 'persistentvolumeclaims'],
  namespaces: ['', 'v1', 'namespaces'],
  networkpolicies: ['networking.k8s.io', 'v1', 'networkpolicies'],
} as const;

export type ViewedResource = keyof typeof resources;

export class ClusterView {
  readonly registry: Registry;
  readonly #definitions = new Map<ViewedResource, ResourceDefinition>();

  constructor(registry: Registry) {
    this.registry = registry;
  }

  definition(resource: ViewedResource): ResourceDefinition {
    let definition = this.#definitions.get(resource);
    if (!definition) {
      const [group, version, plural] = resources[resource];
      definition = this.registry.lookup(group, version, plural);
      if (!definition) throw new Error(`the registry does not serve ${plural}`);
      this.#definitions.set(resource, definition);
    }
    return definition;
  }

  get(resource: ViewedResource, namespace: string | undefined, name: string): KubeObject | undefined {
    try {
      return this.registry.get(this.definition(resource), namespace, name);
    } catch (error) {
      if (error instanceof StatusError && error.code === 404) return undefined;
      throw error;
    }
  }

  list(resource: ViewedResource, namespace?: string): KubeObject[] {
    return this.registry.list(this.definition(resource), namespace ? { namespace } : {}).items;
  }
}
