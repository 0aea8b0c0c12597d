// Discovery documents built from the registry's resource definitions: the legacy lists
// (APIVersions, APIGroupList, APIGroup, APIResourceList) and aggregated discovery
// (APIGroupDiscoveryList, apidiscovery.k8s.io v2 and v2beta1). Cached until CRDs change the set.
import { createHash } from 'node:crypto';
import type { ResourceDefinition } from '../registry/index.ts';

export interface GroupVersions {
  group: string;
  /** Preferred first, by Kubernetes' version priority. */
  versions: string[];
}

/** Kubernetes' version priority: GA before beta before alpha, higher numbers first; others last, alphabetically. */
function compareKubeVersions(a: string, b: string): number {
  const rank = (version: string): [number, number, number, string] => {
    const match = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(version);
    if (!match) return [3, 0, 0, version];
    const stability = match[2] === undefined ? 0 : match[2] === 'beta' ? 1 : 2;
    return [stability, -Number(match[1]), -Number(match[3] ?? 0), ''];
  };
  const [sa, ma, na, ta] = rank(a);
  const [sb, mb, nb, tb] = rank(b);
  return sa - sb || ma - mb || na - nb || ta.localeCompare(tb);
}

function storageVersionHash(def: ResourceDefinition): string {
  return createHash('sha256').update(`${def.group}/${def.version}/${def.kind}`).digest().subarray(0, 8).toString('base64');
}

function groupVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

export class Discovery {
  readonly #resources: () => ResourceDefinition[];
  #cache: Map<string, unknown> | undefined;
  #groups: GroupVersions[] | undefined;

  constructor(resources: () => ResourceDefinition[]) {
    this.#resources = resources;
  }

  /** Drop every cached document (the set of served resources changed). */
  invalidate(): void {
    this.#cache = undefined;
    this.#groups = undefined;
  }

  #cached<T>(key: string, build: () => T): T {
    this.#cache ??= new Map();
    if (!this.#cache.has(key)) this.#cache.set(key, build());
    return this.#cache.get(key) as T;
  }

  groups(): GroupVersions[] {
    if (this.#groups) return this.#groups;
    const byGroup = new Map<string, Set<string>>([['', new Set()]]);
    for (const def of this.#resources()) {
      let versions = byGroup.get(def.group);
      if (!versions) byGroup.set(def.group, (versions = new Set()));
      versions.add(def.version);
    }
    this.#groups = [...byGroup].filter(([, versions]) => versions.size > 0).map(([group, versions]) => ({ group, versions: [...versions].sort(compareKubeVersions) }));
    return this.#groups;
  }

  #resourcesOf(group: string, version: string): ResourceDefinition[] {
    return this.#resources().filter((def) => def.group === group && def.version === version);
  }

  servesGroupVersion(group: string, version: string): boolean {
    return this.groups().some((gv) => gv.group === group && gv.versions.includes(version));
  }

  apiVersions(serverAddress: string): unknown {
    return {
      kind: 'APIVersions',
      versions: this.groups().find((gv) => gv.group === '')?.versions ?? ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
    };
  }

  apiGroup(group: string): unknown {
    const gv = this.groups().find((candidate) => candidate.group === group && group !== '');
    if (!gv) return undefined;
    return { kind: 'APIGroup', apiVersion: 'v1', ...this.#groupEntry(gv) };
  }

  #groupEntry(gv: GroupVersions): { name: string; versions: Array<{ groupVersion: string; version: string }>; preferredVersion: unknown } {
    const versions = gv.versions.map((version) => ({ groupVersion: groupVersionOf(gv.group, version), version }));
    return { name: gv.group, versions, preferredVersion: versions[0] };
  }

  apiGroupList(): unknown {
    return this.#cached('groups', () => ({
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: this.groups().filter((gv) => gv.group !== '').map((gv) => this.#groupEntry(gv)),
    }));
  }

  apiResourceList(group: string, version: string): unknown {
    if (!this.servesGroupVersion(group, version)) return undefined;
    return this.#cached(`resources ${group}/${version}`, () => {
      const resources: unknown[] = [];
      for (const def of this.#resourcesOf(group, version)) {
        resources.push({
          name: def.resource,
          singularName: def.singular,
          namespaced: def.namespaced,
          kind: def.kind,
          verbs: def.verbs,
          ...(def.shortNames.length > 0 ? { shortNames: def.shortNames } : {}),
          ...(def.categories.length > 0 ? { categories: def.categories } : {}),
          storageVersionHash: storageVersionHash(def),
        });
        for (const sub of def.subresources) {
          resources.push({
            name: `${def.resource}/${sub.name}`,
            singularName: '',
            namespaced: def.namespaced,
            ...(sub.group !== def.group || sub.version !== def.version ? { group: sub.group, version: sub.version } : {}),
            kind: sub.kind,
            verbs: sub.verbs,
          });
        }
      }
      return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: groupVersionOf(group, version), resources };
    });
  }

  /** Aggregated discovery for /api (core: true) or /apis. */
  aggregated(core: boolean, version: 'v2' | 'v2beta1'): unknown {
    return this.#cached(`aggregated ${core} ${version}`, () => ({
      kind: 'APIGroupDiscoveryList',
      apiVersion: `apidiscovery.k8s.io/${version}`,
      metadata: {},
      items: this.groups()
        .filter((gv) => (gv.group === '') === core)
        .map((gv) => ({
          metadata: { ...(core ? {} : { name: gv.group }), creationTimestamp: null },
          versions: gv.versions.map((v) => ({
            version: v,
            resources: this.#resourcesOf(gv.group, v).map((def) => ({
              resource: def.resource,
              responseKind: { group: def.group, version: def.version, kind: def.kind },
              scope: def.namespaced ? 'Namespaced' : 'Cluster',
              singularResource: def.singular,
              verbs: def.verbs,
              ...(def.shortNames.length > 0 ? { shortNames: def.shortNames } : {}),
              ...(def.categories.length > 0 ? { categories: def.categories } : {}),
              ...(def.subresources.length > 0
                ? {
                    subresources: def.subresources.map((sub) => ({
                      subresource: sub.name,
                      responseKind: { group: sub.group, version: sub.version, kind: sub.kind },
                      verbs: sub.verbs,
                    })),
                  }
                : {}),
            })),
            freshness: 'Current',
          })),
        })),
    }));
  }
}

export const aggregatedDiscoveryContentType = (version: 'v2' | 'v2beta1') => `application/json;g=apidiscovery.k8s.io;v=${version};as=APIGroupDiscoveryList`;
