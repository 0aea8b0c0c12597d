// What the registry serves: every served version of every resource, found by resource or by
// kind, with the storage behind it and, for a version that is not the storage version, its
// conversion. Built-in resources are served once; CRDs add and remove theirs as they change.
import type { ResourceDefinition } from './interface.ts';
import type { Storage } from './storage.ts';
import type { AlternateVersion } from './strategy.ts';

export interface Served {
  def: ResourceDefinition;
  storage: Storage;
  /** set when this version is not the storage version */
  conversion?: AlternateVersion;
}

export class ServedResources {
  readonly #byResource = new Map<string, Served>();
  readonly #byKind = new Map<string, Served>();
  #definitions: ResourceDefinition[] | undefined;

  add(served: Served): void {
    const { def } = served;
    this.#byResource.set(`${def.group}/${def.version}/${def.resource}`, served);
    this.#byKind.set(`${def.group}/${def.version}/${def.kind}`, served);
    this.#definitions = undefined;
  }

  /** Every served version, in the order they were served. */
  definitions(): ResourceDefinition[] {
    this.#definitions ??= [...this.#byResource.values()].map((s) => s.def);
    return this.#definitions;
  }

  get(group: string, version: string, resource: string): Served | undefined {
    return this.#byResource.get(`${group}/${version}/${resource}`);
  }

  getKind(group: string, version: string, kind: string): Served | undefined {
    return this.#byKind.get(`${group}/${version}/${kind}`);
  }

  /** The version that serves a storage as it is stored (no conversion). */
  storageVersionOf(storage: Storage): Served | undefined {
    return [...this.#byResource.values()].find((s) => s.storage === storage && !s.conversion);
  }

  /** Stops serving every version of one storage. */
  removeStorage(id: string): void {
    for (const [key, served] of this.#byResource) {
      if (served.storage.id === id) {
        this.#byResource.delete(key);
        this.#byKind.delete(`${served.def.group}/${served.def.version}/${served.def.kind}`);
      }
    }
    this.#definitions = undefined;
  }
}
