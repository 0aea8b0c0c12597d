// Turning a request body into the object a handler works on, with the checks the API server's
// decoder makes: media type, syntax, kind and apiVersion against the endpoint, and the shape of
// metadata (wrong types there are a 400, as Go's typed decoding makes them).
import { z } from 'zod';
import { StatusError, statusErrors, type KubeObject } from '../types.ts';
import { isPlainObject, summarizeBody } from './body.ts';
import { libraries, yaml } from './libraries.ts';
import { bodyEncodingFor, contentTypeEssence } from './media.ts';

export interface ExpectedKind {
  group: string;
  version: string;
  kind: string;
}

export function apiVersionOf(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`;
}

const acceptedBodyTypes = 'application/json, application/yaml, application/vnd.kubernetes.protobuf';

function unsupportedBodyType(): StatusError {
  return statusErrors.unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: ${acceptedBodyTypes}`);
}

/** Any JSON or YAML body (DeleteOptions, patches): syntax only. */
export function decodeDocument(body: Buffer, contentType: string | undefined, describeError: (message: string) => StatusError): unknown {
  const essence = contentTypeEssence(contentType);
  const text = body.toString('utf8');
  if (essence === 'application/yaml' || essence === 'application/apply-patch+yaml') return firstYamlDocument(text, describeError);
  try {
    return JSON.parse(text);
  } catch (error) {
    throw describeError(error instanceof Error ? error.message : String(error));
  }
}

function firstYamlDocument(text: string, describeError: (message: string) => StatusError): unknown {
  let documents;
  try {
    documents = yaml().parseAllDocuments(text, { uniqueKeys: false });
  } catch (error) {
    throw describeError(`error converting YAML to JSON: yaml: ${error instanceof Error ? error.message : String(error)}`);
  }
  const list = Array.isArray(documents) ? documents : [documents];
  const first = list[0];
  if (!first) return null;
  const [problem] = first.errors;
  if (problem) throw describeError(`error converting YAML to JSON: yaml: ${problem.message}`);
  try {
    return first.toJS({ maxAliasCount: 100 });
  } catch (error) {
    throw describeError(`error converting YAML to JSON: yaml: ${error instanceof Error ? error.message : String(error)}`);
  }
}

const labelMap = z.record(z.string(), z.string());
const objectMetaShape = z.looseObject({
  name: z.string().optional(),
  generateName: z.string().optional(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.number().int().optional(),
  creationTimestamp: z.string().nullable().optional(),
  deletionTimestamp: z.string().nullable().optional(),
  deletionGracePeriodSeconds: z.number().int().nullable().optional(),
  labels: labelMap.nullable().optional(),
  annotations: labelMap.nullable().optional(),
  finalizers: z.array(z.string()).nullable().optional(),
  ownerReferences: z
    .array(
      z.looseObject({
        apiVersion: z.string(),
        kind: z.string(),
        name: z.string(),
        uid: z.string(),
        controller: z.boolean().nullable().optional(),
        blockOwnerDeletion: z.boolean().nullable().optional(),
      }),
    )
    .nullable()
    .optional(),
  managedFields: z.array(z.looseObject({})).nullable().optional(),
});

/** The value `object` decodes to, checked against what the endpoint serves (create and update bodies). */
export async function decodeObject(body: Buffer, contentType: string | undefined, expected: ExpectedKind): Promise<KubeObject> {
  const encoding = bodyEncodingFor(contentTypeEssence(contentType));
  if (!encoding) throw unsupportedBodyType();
  const unrecognized = (message: string) =>
    statusErrors.badRequest(`the object provided is unrecognized (must be of type ${expected.kind}): couldn't get version/kind; json parse error: ${message} (${summarizeBody(body)})`);
  let value: unknown;
  if (encoding === 'protobuf') value = (await libraries.protobuf()).decodeProtobufObject(body);
  else if (body.length === 0) throw unrecognized('unexpected end of JSON input');
  else if (encoding === 'yaml') value = firstYamlDocument(body.toString('utf8'), unrecognized);
  else value = decodeDocument(body, 'application/json', unrecognized);
  return checkObject(value, expected, unrecognized);
}

/** An already parsed value as an object of the expected kind (also used for patch results). */
export function checkObject(value: unknown, expected: ExpectedKind, unrecognized: (message: string) => StatusError): KubeObject {
  if (!isPlainObject(value)) {
    throw unrecognized(`json: cannot unmarshal ${value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value} into Go value of type struct { APIVersion string; Kind string }`);
  }
  const { apiVersion, kind } = value;
  if ((apiVersion !== undefined && typeof apiVersion !== 'string') || (kind !== undefined && typeof kind !== 'string')) {
    throw unrecognized('json: cannot unmarshal non-string into Go struct field .apiVersion/.kind of type string');
  }
  const expectedApiVersion = apiVersionOf(expected.group, expected.version);
  const actualKind = kind || expected.kind;
  const actualApiVersion = apiVersion || expectedApiVersion;
  const cannotHandle = (why: string) => {
    const version = actualApiVersion.includes('/') ? actualApiVersion.slice(actualApiVersion.indexOf('/') + 1) : actualApiVersion;
    return statusErrors.badRequest(`${actualKind} in version "${version}" cannot be handled as a ${expected.kind}: ${why}`);
  };
  if (actualKind !== expected.kind) {
    throw cannotHandle(`no kind "${actualKind}" is registered for version "${actualApiVersion}" at this endpoint (it serves ${expected.kind} in ${expectedApiVersion})`);
  }
  if (actualApiVersion !== expectedApiVersion) {
    throw statusErrors.badRequest(`the API version in the data (${actualApiVersion}) does not match the expected API version (${expectedApiVersion})`);
  }
  const metadata = value['metadata'] ?? {};
  const parsed = objectMetaShape.safeParse(metadata);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const field = ['metadata', ...(issue?.path ?? [])].map(String).join('.');
    throw cannotHandle(`json: cannot unmarshal ${describeValue(metadata, issue?.path ?? [])} into Go struct field ${expected.kind}.${field} (${issue?.message ?? 'invalid'})`);
  }
  const object = { ...value, apiVersion: actualApiVersion, kind: actualKind, metadata: dropNulls(parsed.data) } as KubeObject;
  return object;
}

function describeValue(root: unknown, path: PropertyKey[]): string {
  let value = root;
  for (const key of path) value = isPlainObject(value) || Array.isArray(value) ? (value as Record<PropertyKey, unknown>)[key] : undefined;
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value === 'object' ? 'object' : typeof value;
}

/** Go decodes `"labels": null` as an absent map; so do we, so later code sees one form. */
function dropNulls(metadata: Record<string, unknown>): KubeObject['metadata'] {
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(metadata)) if (value !== null) result[key] = value;
  return result as KubeObject['metadata'];
}
