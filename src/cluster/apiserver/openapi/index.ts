// /openapi/v3 for the embedded cluster, generated from the served resources, plus the field
// checks that ride on the same type knowledge: unknown fields (fieldValidation) and CRD schema
// validation.
import { createHash } from 'node:crypto';
import protobuf from 'protobufjs/minimal.js';
import type { ResourceDefinition } from '../../registry/index.ts';
import { buildDocument, groupVersionPath } from './documents.ts';

export { findUnknownFields } from './unknown-fields.ts';
export { findTypeError } from './type-errors.ts';
export { validateCustomResource, type SchemaFieldError } from './custom-resource-validation.ts';
export { groupVersionPath } from './documents.ts';

export interface OpenApiDocument {
  /** the JSON text of the document */
  body: string;
  /** content hash; also the `hash` query parameter of the document's URL. Send it as `ETag: "<etag>"`. */
  etag: string;
}

export interface OpenApi {
  /** The /openapi/v3 index: `{paths: {"api/v1": {serverRelativeURL: "/openapi/v3/api/v1?hash=…"}}}`. */
  index(): { paths: Record<string, { serverRelativeURL: string }> };
  /** The document at /openapi/v3/<gvPath> ("api/v1", "apis/apps/v1"), or undefined if nothing is served there. */
  document(gvPath: string): OpenApiDocument | undefined;
  /** Forget generated documents (the served resources changed, e.g. a CRD came or went). */
  invalidate(): void;
}

/**
 * Documents are generated on first request and kept; the index needs every document's hash, so
 * the first index request generates them all. After invalidate() only group-versions whose
 * resource definitions changed are generated again.
 */
export function createOpenApi(getResources: () => ResourceDefinition[]): OpenApi {
  const documents = new Map<string, { inputs: string; document: OpenApiDocument | undefined }>();
  let groupVersions: Map<string, ResourceDefinition[]> | undefined;

  function served(): Map<string, ResourceDefinition[]> {
    if (groupVersions) return groupVersions;
    groupVersions = new Map();
    for (const def of getResources()) {
      const path = groupVersionPath(def.group, def.version);
      groupVersions.set(path, [...(groupVersions.get(path) ?? []), def]);
    }
    return groupVersions;
  }

  function document(gvPath: string): OpenApiDocument | undefined {
    const defs = served().get(gvPath) ?? [];
    // What the document is generated from (functions such as field selectors do not matter).
    const inputs = JSON.stringify(defs);
    const cached = documents.get(gvPath);
    if (cached?.inputs === inputs) return cached.document;
    const built = buildDocument(defs);
    const generated = built === undefined ? undefined : serialize(built);
    documents.set(gvPath, { inputs, document: generated });
    return generated;
  }

  return {
    index() {
      const paths: Record<string, { serverRelativeURL: string }> = {};
      for (const gvPath of [...served().keys()].sort()) {
        const doc = document(gvPath);
        if (doc) paths[gvPath] = { serverRelativeURL: `/openapi/v3/${gvPath}?hash=${doc.etag}` };
      }
      return { paths };
    },
    document(gvPath) {
      return document(gvPath.replace(/^\/+|\/+$/g, ''));
    },
    invalidate() {
      groupVersions = undefined;
    },
  };
}

function serialize(doc: unknown): OpenApiDocument {
  const body = JSON.stringify(doc);
  return { body, etag: createHash('sha512').update(body).digest('hex').toUpperCase() };
}

/**
 * The Content-Type to answer /openapi/v2 with. kubectl asks for
 * application/com.github.proto-openapi.spec.v2@v1.0+protobuf, but Go's mime parser rejects that
 * name in a response ("unexpected content after media subtype").
 */
export const openApiV2ContentType = 'application/octet-stream';

/**
 * An empty OpenAPI v2 document in gnostic protobuf: {swagger: "2.0", info, paths: {}, definitions: {}}.
 * kubectl 1.27 and 1.28 fetch /openapi/v2 before apply, create -f and explain and give up when it
 * is missing; an empty document is enough, because the v3 documents then answer the questions
 * (server-side field validation is supported; explain reads v3).
 */
export function emptyOpenApiV2Document(): Uint8Array {
  const info = protobuf.Writer.create().uint32((1 << 3) | 2).string('Kubernetes').uint32((2 << 3) | 2).string('unversioned').finish();
  return protobuf.Writer.create()
    .uint32((1 << 3) | 2).string('2.0')
    .uint32((2 << 3) | 2).bytes(info)
    .uint32((8 << 3) | 2).bytes(new Uint8Array())
    .uint32((9 << 3) | 2).bytes(new Uint8Array())
    .finish();
}
