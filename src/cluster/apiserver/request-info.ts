// What a request is about, derived from method, path and query the way Kubernetes'
// RequestInfoFactory does it: authorization, admission and routing all read this one record.

export interface RequestInfo {
  /** The URL path, unescaped segments joined again; what non-resource RBAC rules match. */
  path: string;
  isResourceRequest: boolean;
  /** get, list, watch, create, update, patch, delete, deletecollection; for non-resource requests the lower-case HTTP method. */
  verb: string;
  apiPrefix: 'api' | 'apis' | '';
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** resource/name/subresource/... after the namespace part. */
  parts: string[];
}

const namespaceSubresources = new Set(['status', 'finalize']);

export function requestInfoFor(method: string, url: URL): RequestInfo {
  const segments = url.pathname.split('/').filter((segment) => segment !== '').map(decodeSegment);
  const info: RequestInfo = {
    path: url.pathname,
    isResourceRequest: false,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
  };
  const [prefix] = segments;
  if (segments.length < 3 || (prefix !== 'api' && prefix !== 'apis')) return info;
  let rest = segments.slice(1);
  if (prefix === 'apis') {
    if (rest.length < 3) return info;
    info.apiGroup = rest[0]!;
    rest = rest.slice(1);
  }
  info.apiPrefix = prefix;
  info.isResourceRequest = true;
  info.apiVersion = rest[0]!;
  rest = rest.slice(1);

  // The legacy /watch/ path prefix, still honoured by the API server.
  let watchByPath = false;
  if (rest[0] === 'watch' && rest.length >= 2) {
    watchByPath = true;
    rest = rest.slice(1);
  }
  info.verb = verbForMethod(method);

  if (rest[0] === 'namespaces') {
    if (rest.length > 1) {
      info.namespace = rest[1]!;
      if (rest.length > 2 && !namespaceSubresources.has(rest[2]!)) rest = rest.slice(2);
    }
  }
  info.parts = rest;
  info.resource = rest[0] ?? '';
  info.name = rest[1] ?? '';
  info.subresource = rest[2] ?? '';

  if (info.name === '' && (info.verb === 'get' || watchByPath)) {
    info.verb = watchByPath || isWatchQuery(url.searchParams) ? 'watch' : 'list';
    // A list or watch pinned to one name is authorised like a get of that name (resourceNames rules).
    const pinned = exactNameFromFieldSelector(url.searchParams.get('fieldSelector'));
    if (pinned !== undefined) info.name = pinned;
  } else if (watchByPath) {
    info.verb = 'watch';
  }
  if (info.name === '' && info.verb === 'delete') info.verb = 'deletecollection';
  return info;
}

function verbForMethod(method: string): string {
  switch (method) {
    case 'POST':
      return 'create';
    case 'GET':
    case 'HEAD':
      return 'get';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return 'delete';
    default:
      return '';
  }
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

function isWatchQuery(query: URLSearchParams): boolean {
  const watch = query.get('watch');
  if (watch === null) return false;
  return !['false', '0'].includes(watch.toLowerCase());
}

/** "metadata.name=web" or "metadata.name==web" (alone or among other terms) pins a name. */
function exactNameFromFieldSelector(selector: string | null): string | undefined {
  if (!selector) return undefined;
  for (const term of selector.split(',')) {
    const match = /^\s*metadata\.name\s*==?\s*(.*?)\s*$/.exec(term);
    if (match && match[1] && !/[/%]/.test(match[1]) && match[1] !== '.' && match[1] !== '..') return match[1];
  }
  return undefined;
}
