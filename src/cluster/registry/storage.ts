// One resource's objects (all versions share it): namespace → name → frozen object, kept sorted on
// demand for LIST paging, with its change history and its watchers.
import type { KubeObject } from '../types.ts';
import { History, type HistoryBudget, type HistoryEvent } from './history.ts';
import type { ResourceStrategy } from './strategy.ts';

export interface StorageWatcher {
  deliver(event: HistoryEvent): void;
  bookmark(rv: number): void;
  close(): void;
}

export class Storage {
  /** "<group>/<resource>", e.g. "apps/deployments", "/pods" */
  readonly id: string;
  strategy: ResourceStrategy | undefined;
  readonly history: History;
  readonly watchers = new Set<StorageWatcher>();
  private readonly byNamespace = new Map<string, Map<string, KubeObject>>();
  /** Serialized size of each object, and of each namespace's objects together. */
  private readonly sizes = new Map<string, Map<string, number>>();
  private readonly bytesByNamespace = new Map<string, number>();
  private sortedKeys: string[] | undefined;
  private readonly sortedNamesByNamespace = new Map<string, string[]>();
  private count = 0;

  constructor(id: string, strategy: ResourceStrategy | undefined, historySize: number, startRV: number, historyBudget?: HistoryBudget) {
    this.id = id;
    this.strategy = strategy;
    this.history = new History(historySize, startRV, historyBudget);
  }

  get size(): number {
    return this.count;
  }

  get(namespace: string, name: string): KubeObject | undefined {
    return this.byNamespace.get(namespace)?.get(name);
  }

  getByKey(key: string): KubeObject | undefined {
    const slash = key.indexOf('/');
    return this.get(key.slice(0, slash), key.slice(slash + 1));
  }

  /** Serialized bytes of one stored object (0 when there is none). */
  sizeOf(namespace: string, name: string): number {
    return this.sizes.get(namespace)?.get(name) ?? 0;
  }

  /** Serialized bytes of one namespace's objects. */
  bytesIn(namespace: string): number {
    return this.bytesByNamespace.get(namespace) ?? 0;
  }

  put(namespace: string, name: string, object: KubeObject, bytes: number): void {
    let names = this.byNamespace.get(namespace);
    if (!names) {
      names = new Map();
      this.byNamespace.set(namespace, names);
    }
    let sizes = this.sizes.get(namespace);
    if (!sizes) {
      sizes = new Map();
      this.sizes.set(namespace, sizes);
    }
    this.bytesByNamespace.set(namespace, this.bytesIn(namespace) - (sizes.get(name) ?? 0) + bytes);
    sizes.set(name, bytes);
    if (!names.has(name)) {
      this.count++;
      this.sortedKeys = undefined;
      this.sortedNamesByNamespace.delete(namespace);
    }
    names.set(name, object);
  }

  remove(namespace: string, name: string): void {
    const names = this.byNamespace.get(namespace);
    if (!names?.delete(name)) return;
    const sizes = this.sizes.get(namespace);
    const bytes = this.bytesIn(namespace) - (sizes?.get(name) ?? 0);
    sizes?.delete(name);
    if (sizes?.size === 0) {
      this.sizes.delete(namespace);
      this.bytesByNamespace.delete(namespace);
    } else {
      this.bytesByNamespace.set(namespace, bytes);
    }
    this.count--;
    this.sortedKeys = undefined;
    this.sortedNamesByNamespace.delete(namespace);
    if (names.size === 0) this.byNamespace.delete(namespace);
  }

  countIn(namespace: string): number {
    return this.byNamespace.get(namespace)?.size ?? 0;
  }

  /** Objects of one namespace ('' = cluster-scoped), unordered. */
  valuesIn(namespace: string): Iterable<KubeObject> {
    return this.byNamespace.get(namespace)?.values() ?? [];
  }

  *values(): Iterable<KubeObject> {
    for (const names of this.byNamespace.values()) yield* names.values();
  }

  *entries(): Iterable<[string, KubeObject]> {
    for (const [namespace, names] of this.byNamespace) for (const [name, object] of names) yield [`${namespace}/${name}`, object];
  }

  /** Storage keys ("ns/name") in etcd order, for one namespace or all. */
  keys(namespace: string | undefined): readonly string[] {
    if (namespace !== undefined) {
      let names = this.sortedNamesByNamespace.get(namespace);
      if (!names) {
        names = [...(this.byNamespace.get(namespace)?.keys() ?? [])].sort().map((name) => `${namespace}/${name}`);
        this.sortedNamesByNamespace.set(namespace, names);
      }
      return names;
    }
    if (!this.sortedKeys) {
      const keys: string[] = [];
      for (const [ns, names] of this.byNamespace) for (const name of names.keys()) keys.push(`${ns}/${name}`);
      this.sortedKeys = keys.sort();
    }
    return this.sortedKeys;
  }
}

export function storageKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}
