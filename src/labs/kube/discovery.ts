// Resource names as kubectl resolves them, from the server's discovery documents: plural
// (deployments), singular (deployment), short names (deploy), kind (Deployment), and the same
// qualified by group (deployments.apps) or version and group (deployments.v1.apps). Groups are
// tried in the server's preference order, core first, as kubectl's RESTMapper does.
import { UnknownResourceError } from '../errors.ts';
import type { RawObjectApi } from './api.ts';

export interface ApiResource {
  group: string;
  version: string;
  /** Plural, as in the URL: deployments. */
  resource: string;
  kind: string;
  namespaced: boolean;
  singular: string;
  shortNames: string[];
  verbs: string[];
}

interface ResourceList {
  groupVersion?: string;
  resources?: Array<{ name: string; singularName?: string; namespaced: boolean; kind: string; verbs?: string[]; shortNames?: string[] }>;
}

interface GroupList {
  groups?: Array<{ name: string; preferredVersion?: { version: string }; versions: Array<{ version: string }> }>;
}

/** Every served resource, preferred versions of each group first; subresources left out. */
async function discover(api: RawObjectApi): Promise<ApiResource[]> {
  const [core, groups] = await Promise.all([api.request<ResourceList>('GET', '/api/v1'), api.request<GroupList>('GET', '/apis')]);
  const versions: Array<{ group: string; version: string; preferred: boolean }> = [];
  for (const group of groups.groups ?? []) {
    const preferred = group.preferredVersion?.version ?? group.versions[0]?.version;
    for (const { version } of group.versions) versions.push({ group: group.name, version, preferred: version === preferred });
  }
  const lists = await Promise.all(
    versions.map(async (entry) => {
      try {
        return { ...entry, list: await api.request<ResourceList>('GET', `/apis/${entry.group}/${entry.version}`) };
      } catch {
        // A group whose server is down (an aggregated API) must not hide every other resource.
        return { ...entry, list: { resources: [] } as ResourceList };
      }
    }),
  );
  const toResources = (group: string, version: string, list: ResourceList): ApiResource[] =>
    (list.resources ?? [])
      .filter((resource) => !resource.name.includes('/'))
      .map((resource) => ({
        group,
        version,
        resource: resource.name,
        kind: resource.kind,
        namespaced: resource.namespaced,
        singular: resource.singularName || resource.kind.toLowerCase(),
        shortNames: resource.shortNames ?? [],
        verbs: resource.verbs ?? [],
      }));
  return [
    ...toResources('', 'v1', core),
    ...lists.filter((entry) => entry.preferred).flatMap((entry) => toResources(entry.group, entry.version, entry.list)),
    ...lists.filter((entry) => !entry.preferred).flatMap((entry) => toResources(entry.group, entry.version, entry.list)),
  ];
}

function matchesName(resource: ApiResource, name: string): boolean {
  const lower = name.toLowerCase();
  return resource.resource === lower || resource.singular === lower || resource.shortNames.includes(lower) || resource.kind.toLowerCase() === lower;
}

export function findResource(resources: ApiResource[], name: string): ApiResource | undefined {
  const direct = resources.find((resource) => matchesName(resource, name));
  if (direct) return direct;
  // name.group or name.version.group: the first dot separates the resource from the rest.
  const dot = name.indexOf('.');
  if (dot < 0) return undefined;
  const bare = name.slice(0, dot);
  const qualifier = name.slice(dot + 1).toLowerCase();
  return (
    resources.find((resource) => matchesName(resource, bare) && resource.group === qualifier) ??
    resources.find((resource) => matchesName(resource, bare) && `${resource.version}.${resource.group}` === qualifier)
  );
}

/** Discovery kept for a while: resources rarely change, and each check should cost one request. */
export class Discovery {
  readonly #api: RawObjectApi;
  readonly #ttlMs: number;
  #cached: { at: number; resources: Promise<ApiResource[]> } | undefined;

  constructor(api: RawObjectApi, ttlMs = 5 * 60_000) {
    this.#api = api;
    this.#ttlMs = ttlMs;
  }

  #resources(refresh: boolean): Promise<ApiResource[]> {
    const now = Date.now();
    if (refresh || !this.#cached || now - this.#cached.at > this.#ttlMs) {
      const resources = discover(this.#api);
      this.#cached = { at: now, resources };
      // A failed discovery is not remembered.
      resources.catch(() => {
        if (this.#cached?.resources === resources) this.#cached = undefined;
      });
    }
    return this.#cached.resources;
  }

  /** Throws UnknownResourceError when the server serves nothing by that name (after one fresh look). */
  async resolve(name: string): Promise<ApiResource> {
    const found = findResource(await this.#resources(false), name) ?? findResource(await this.#resources(true), name);
    if (!found) throw new UnknownResourceError(name);
    return found;
  }

  /** The resource serving objects of this apiVersion and kind (setup manifests). */
  async forKind(apiVersion: string, kind: string): Promise<ApiResource> {
    const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/', 2) as [string, string]) : ['', apiVersion];
    const match = (resources: ApiResource[]) => resources.find((r) => r.group === group && r.version === version && r.kind === kind);
    const found = match(await this.#resources(false)) ?? match(await this.#resources(true));
    if (!found) throw new UnknownResourceError(`${kind} (${apiVersion})`);
    return found;
  }
}

export function resourcePath(resource: ApiResource, namespace: string | undefined, name?: string): string {
  const base = resource.group === '' ? `/api/${resource.version}` : `/apis/${resource.group}/${resource.version}`;
  const scope = resource.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  return `${base}${scope}/${resource.resource}${name === undefined ? '' : `/${encodeURIComponent(name)}`}`;
}
