// Reading an object that may not be there, which the API server asks more often than not
// (is this an update or a create? does the token's ServiceAccount still exist?).
import { StatusError, type KubeObject } from '../types.ts';
import type { Registry, ResourceDefinition } from '../registry/index.ts';

/** The object, or undefined where the registry answers 404; other failures still throw. */
export function findObject(registry: Registry, def: ResourceDefinition, namespace: string | undefined, name: string): KubeObject | undefined {
  try {
    return registry.get(def, namespace, name);
  } catch (error) {
    if (error instanceof StatusError && error.code === 404) return undefined;
    throw error;
  }
}
