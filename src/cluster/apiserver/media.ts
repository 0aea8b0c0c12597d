// Media types in Accept and Content-Type, parsed exactly: Kubernetes encodes the requested
// representation in parameters (as=Table;v=v1;g=meta.k8s.io), and a prefix match on
// "v=v2" would confuse v2 with v2beta1 (see the kubectl wire reference, §0.5).

export interface MediaRange {
  type: string;
  subtype: string;
  params: Record<string, string>;
  q: number;
}

function parseMediaType(text: string): MediaRange | undefined {
  const [essence, ...rawParams] = text.split(';');
  const match = /^\s*([\w.+*-]+)\/([\w.+*-]+)\s*$/.exec(essence ?? '');
  if (!match) return undefined;
  const params: Record<string, string> = {};
  let q = 1;
  for (const raw of rawParams) {
    const eq = raw.indexOf('=');
    if (eq < 0) continue;
    const key = raw.slice(0, eq).trim().toLowerCase();
    const value = raw.slice(eq + 1).trim().replace(/^"(.*)"$/, '$1');
    if (key === 'q') {
      const parsed = Number(value);
      q = Number.isFinite(parsed) ? parsed : 0;
    } else {
      params[key] = value;
    }
  }
  return { type: match[1]!.toLowerCase(), subtype: match[2]!.toLowerCase(), params, q };
}

/** Accept ranges best first: by q, the order the client wrote them breaking ties. */
export function parseAccept(header: string | undefined): MediaRange[] {
  if (!header || header.trim() === '') return [{ type: '*', subtype: '*', params: {}, q: 1 }];
  return header
    .split(',')
    .map((part) => parseMediaType(part))
    .filter((range): range is MediaRange => range !== undefined && range.q > 0)
    .sort((a, b) => b.q - a.q);
}

function isJson(range: MediaRange): boolean {
  return (
    (range.type === 'application' && (range.subtype === 'json' || range.subtype === '*')) || (range.type === '*' && range.subtype === '*')
  );
}

function isYaml(range: MediaRange): boolean {
  return range.type === 'application' && range.subtype === 'yaml';
}

export type ObjectRepresentation =
  | { as: 'Object'; encoding: 'json' | 'yaml' }
  | { as: 'Table'; version: 'v1' | 'v1beta1'; encoding: 'json' | 'yaml' }
  | { as: 'PartialObjectMetadata'; version: 'v1' | 'v1beta1'; list: boolean; encoding: 'json' | 'yaml' };

/** What a GET/LIST/WATCH answers with; undefined means 406 Not Acceptable. */
export function negotiateObjectRepresentation(accept: string | undefined): ObjectRepresentation | undefined {
  for (const range of parseAccept(accept)) {
    const encoding = isJson(range) ? 'json' : isYaml(range) ? 'yaml' : undefined;
    if (!encoding) continue;
    const as = range.params['as'];
    if (as === undefined) return { as: 'Object', encoding };
    const version = range.params['v'];
    if (range.params['g'] !== 'meta.k8s.io' || (version !== 'v1' && version !== 'v1beta1')) continue;
    if (as === 'Table') return { as: 'Table', version, encoding };
    if (as === 'PartialObjectMetadata' || as === 'PartialObjectMetadataList') {
      return { as: 'PartialObjectMetadata', version, list: as === 'PartialObjectMetadataList', encoding };
    }
  }
  return undefined;
}

export type DiscoveryRepresentation = { aggregated: false } | { aggregated: true; version: 'v2' | 'v2beta1' };

/** /api and /apis: aggregated discovery when asked for it exactly, the legacy lists otherwise. */
export function negotiateDiscovery(accept: string | undefined): DiscoveryRepresentation | undefined {
  for (const range of parseAccept(accept)) {
    if (!isJson(range)) continue;
    const { as, g, v } = range.params;
    if (as === undefined) return { aggregated: false };
    if (as === 'APIGroupDiscoveryList' && g === 'apidiscovery.k8s.io' && (v === 'v2' || v === 'v2beta1')) {
      return { aggregated: true, version: v };
    }
  }
  return undefined;
}

export type BodyEncoding = 'json' | 'yaml' | 'protobuf';

export const patchTypes = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;
export type PatchType = keyof typeof patchTypes;

/** The essence of a Content-Type header ("application/json"), lower-case; '' when absent. */
export function contentTypeEssence(header: string | undefined): string {
  if (!header) return '';
  return (header.split(';')[0] ?? '').trim().toLowerCase();
}

export function bodyEncodingFor(essence: string): BodyEncoding | undefined {
  switch (essence) {
    case 'application/json':
    case '':
      return 'json';
    case 'application/yaml':
      return 'yaml';
    case 'application/vnd.kubernetes.protobuf':
      return 'protobuf';
    default:
      return undefined;
  }
}

export function patchTypeFor(essence: string): PatchType | undefined {
  for (const [type, mediaType] of Object.entries(patchTypes)) {
    if (mediaType === essence) return type as PatchType;
  }
  return undefined;
}
