// Decodes the Kubernetes protobuf request bodies that kubectl ≥ 1.32 sends from its typed
// clients (`kubectl create <generator>`, `auth can-i`, `create token`, …) into the JSON object the
// same kubectl would have sent with `Content-Type: application/json`. The result imitates Go's
// encoding/json of the decoded struct: struct fields always appear, zero Times are null,
// omitempty drops zero scalars and empty lists and maps, and lists without omitempty stay null.
import protobuf from 'protobufjs/minimal.js';
import { StatusError, statusErrors, type KubeObject } from '../../types.ts';
import { messages, type FieldSchema } from './messages.ts';

export const protobufMediaType = 'application/vnd.kubernetes.protobuf';

/** `k8s\0`: every Kubernetes protobuf body starts with it. */
const magic = [0x6b, 0x38, 0x73, 0x00] as const;

/** The top-level kinds the decoder accepts, by `apiVersion kind`. */
const kinds: Readonly<Record<string, string>> = Object.fromEntries(
  [
    ['v1', ['ConfigMap', 'Namespace', 'Pod', 'ResourceQuota', 'Secret', 'Service', 'ServiceAccount']],
    ['apps/v1', ['Deployment']],
    ['batch/v1', ['CronJob', 'Job']],
    ['autoscaling/v1', ['HorizontalPodAutoscaler']],
    ['autoscaling/v2', ['HorizontalPodAutoscaler']],
    ['networking.k8s.io/v1', ['Ingress']],
    ['policy/v1', ['Eviction', 'PodDisruptionBudget']],
    ['rbac.authorization.k8s.io/v1', ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']],
    ['scheduling.k8s.io/v1', ['PriorityClass']],
    ['authentication.k8s.io/v1', ['SelfSubjectReview', 'TokenRequest']],
    ['authorization.k8s.io/v1', ['SelfSubjectAccessReview', 'SelfSubjectRulesReview']],
    ['certificates.k8s.io/v1', ['CertificateSigningRequest']],
  ].flatMap(([apiVersion, names]) =>
    (names as string[]).map((kind) => [`${apiVersion as string} ${kind}`, `${messagePackage(apiVersion as string)}.${kind}`]),
  ),
);

/** "rbac.authorization.k8s.io/v1" → "rbac.v1", "v1" → "core.v1": how the schema table names packages. */
function messagePackage(apiVersion: string): string {
  const slash = apiVersion.indexOf('/');
  if (slash < 0) return `core.${apiVersion}`;
  return `${apiVersion.slice(0, slash).split('.')[0]}.${apiVersion.slice(slash + 1)}`;
}

/** The `apiVersion kind` pairs decodeProtobufObject accepts (DeleteOptions in any group-version too). */
export function protobufKinds(): string[] {
  return [...Object.keys(kinds), 'v1 DeleteOptions'];
}

/** A body that starts with the protobuf magic (clients sometimes mislabel content types). */
export function looksLikeProtobuf(body: Uint8Array): boolean {
  return magic.every((byte, i) => body[i] === byte);
}

/**
 * Decodes `k8s\0` + runtime.Unknown into the JSON form of the object it carries.
 * Throws StatusError 415 for kinds the schema table does not know, 400 for malformed bodies.
 */
export function decodeProtobufObject(body: Uint8Array): KubeObject {
  if (!looksLikeProtobuf(body)) {
    throw statusErrors.badRequest(`provided data does not appear to be a protobuf message, expected prefix [${magic.join(' ')}]`);
  }
  const envelope = readEnvelope(body.subarray(magic.length));
  const { apiVersion, kind } = envelope;
  if (!apiVersion || !kind) {
    throw statusErrors.badRequest('the protobuf envelope (runtime.Unknown) names no apiVersion and kind; send typeMeta with both');
  }
  if (envelope.contentEncoding !== '') {
    throw statusErrors.unsupportedMediaType(`the protobuf envelope declares contentEncoding "${envelope.contentEncoding}"; only unencoded objects are accepted`);
  }
  // Every group-version registers DeleteOptions (typed clients send it with DELETE, e.g. drain).
  const key = kind === 'DeleteOptions' ? 'meta.v1.DeleteOptions' : kinds[`${apiVersion} ${kind}`];
  if (key === undefined) {
    throw new StatusError({
      code: 415,
      reason: 'UnsupportedMediaType',
      message:
        `the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, ${protobufMediaType} ` +
        `(${kind} in ${apiVersion} cannot be decoded from protobuf here; send it as application/json)`,
    });
  }
  let object: unknown;
  try {
    object = decodeMessage(key, envelope.raw);
  } catch (error) {
    if (error instanceof StatusError) throw error;
    throw statusErrors.badRequest(`the object provided is unrecognized (must be of type ${kind}): ${describe(error)}`);
  }
  return { kind, apiVersion, ...(object as Record<string, unknown>) } as KubeObject;
}

interface Envelope {
  apiVersion: string;
  kind: string;
  raw: Uint8Array;
  contentEncoding: string;
}

function readEnvelope(bytes: Uint8Array): Envelope {
  const envelope: Envelope = { apiVersion: '', kind: '', raw: new Uint8Array(), contentEncoding: '' };
  try {
    const reader = protobuf.Reader.create(bytes);
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      const field = tag >>> 3;
      const wireType = tag & 7;
      if (field === 1 && wireType === 2) {
        const typeMeta = protobuf.Reader.create(reader.bytes());
        while (typeMeta.pos < typeMeta.len) {
          const inner = typeMeta.uint32();
          if (inner >>> 3 === 1 && (inner & 7) === 2) envelope.apiVersion = typeMeta.string();
          else if (inner >>> 3 === 2 && (inner & 7) === 2) envelope.kind = typeMeta.string();
          else typeMeta.skipType(inner & 7);
        }
      } else if (field === 2 && wireType === 2) envelope.raw = reader.bytes();
      else if (field === 3 && wireType === 2) envelope.contentEncoding = reader.string();
      else reader.skipType(wireType);
    }
  } catch (error) {
    throw statusErrors.badRequest(`the body of the request is not a valid protobuf envelope (runtime.Unknown): ${describe(error)}`);
  }
  return envelope;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const scalarTypes = new Set(['string', 'int32', 'int64', 'bool', 'bytes']);

/** Messages whose JSON form is not an object of their fields. */
const specialTypes = new Set(['meta.v1.Time', 'meta.v1.FieldsV1', 'resource.Quantity', 'intstr.IntOrString']);

type Reader = protobuf.Reader;

/** Values gathered for one field while reading a message: the last scalar, or every element. */
interface Collected {
  values: unknown[];
  map?: Map<string, unknown>;
}

function decodeMessage(key: string, bytes: Uint8Array): unknown {
  if (specialTypes.has(key)) return decodeSpecial(key, bytes);
  const schema = messages[key];
  if (schema === undefined) throw new Error(`no schema for message ${key}`);
  const reader = protobuf.Reader.create(bytes);
  if (schema === 'wrapper') {
    const items: string[] = [];
    while (reader.pos < reader.len) {
      const tag = reader.uint32();
      if (tag >>> 3 === 1 && (tag & 7) === 2) items.push(reader.string());
      else reader.skipType(tag & 7);
    }
    return items;
  }
  const byNumber = new Map<number, FieldSchema>();
  for (const field of schema) byNumber.set(field[0], field);
  const collected = new Map<number, Collected>();
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const number = tag >>> 3;
    const wireType = tag & 7;
    const field = byNumber.get(number);
    if (field === undefined) {
      reader.skipType(wireType);
      continue;
    }
    let entry = collected.get(number);
    if (entry === undefined) {
      entry = { values: [] };
      collected.set(number, entry);
    }
    readField(reader, field, wireType, entry);
  }
  const json: Record<string, unknown> = {};
  for (const field of schema) emitField(json, field, collected.get(field[0]));
  return json;
}

function readField(reader: Reader, field: FieldSchema, wireType: number, entry: Collected): void {
  const [, name, type] = field;
  if (type.startsWith('map:')) {
    expectWireType(name, wireType, 2);
    const [mapKey, value] = readMapEntry(protobuf.Reader.create(reader.bytes()), name, type.slice(4));
    entry.map ??= new Map();
    entry.map.set(mapKey, value);
    return;
  }
  if (scalarTypes.has(type)) {
    if (wireType === 2 && type !== 'string' && type !== 'bytes') {
      // A packed repeated scalar: one length-delimited run of values.
      const packed = protobuf.Reader.create(reader.bytes());
      while (packed.pos < packed.len) entry.values.push(readScalar(packed, type));
      return;
    }
    expectWireType(name, wireType, type === 'string' || type === 'bytes' ? 2 : 0);
    entry.values.push(readScalar(reader, type));
    return;
  }
  expectWireType(name, wireType, 2);
  entry.values.push(decodeMessage(type, reader.bytes()));
}

function expectWireType(name: string, actual: number, expected: number): void {
  if (actual !== expected) throw new Error(`field ${name || '(inline)'} has wire type ${actual}, expected ${expected}`);
}

function readScalar(reader: Reader, type: string): unknown {
  switch (type) {
    case 'string':
      return reader.string();
    case 'bytes':
      return Buffer.from(reader.bytes()).toString('base64');
    case 'bool':
      return reader.bool();
    case 'int32':
      return reader.int32();
    default:
      return toNumber(reader.int64());
  }
}

/** int64 as a JS number (exact up to 2^53, as kubectl's values are). */
function toNumber(value: number | protobuf.Long): number {
  return typeof value === 'number' ? value : value.high * 0x1_0000_0000 + (value.low >>> 0);
}

function readMapEntry(reader: Reader, name: string, valueType: string): [string, unknown] {
  let key = '';
  let value: unknown;
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const wireType = tag & 7;
    if (tag >>> 3 === 1) {
      expectWireType(name, wireType, 2);
      key = reader.string();
    } else if (tag >>> 3 === 2) {
      if (scalarTypes.has(valueType)) value = readScalar(reader, valueType);
      else {
        expectWireType(name, wireType, 2);
        value = decodeMessage(valueType, reader.bytes());
      }
    } else reader.skipType(wireType);
  }
  return [key, value ?? zeroValue(valueType)];
}

/** What Go's encoding/json prints for a field whose value was never set. */
function zeroValue(type: string): unknown {
  switch (type) {
    case 'string':
    case 'bytes':
      return '';
    case 'bool':
      return false;
    case 'int32':
    case 'int64':
      return 0;
    default:
      return decodeMessage(type, new Uint8Array());
  }
}

function isEmpty(value: unknown): boolean {
  if (value === '' || value === 0 || value === false || value === null) return true;
  if (Array.isArray(value)) return value.length === 0;
  return false;
}

function emitField(json: Record<string, unknown>, field: FieldSchema, entry: Collected | undefined): void {
  const [, name, type, flags] = field;
  const omitempty = flags.includes('o');
  if (type.startsWith('map:')) {
    if (entry?.map === undefined || entry.map.size === 0) {
      if (!omitempty) json[name] = null;
      return;
    }
    json[name] = Object.fromEntries(entry.map);
    return;
  }
  if (flags.includes('r')) {
    if (entry === undefined || entry.values.length === 0) {
      if (!omitempty) json[name] = null;
      return;
    }
    json[name] = entry.values;
    return;
  }
  const isMessage = !scalarTypes.has(type);
  if (entry === undefined && flags.includes('p')) {
    if (!omitempty) json[name] = null;
    return;
  }
  const value = entry === undefined ? zeroValue(type) : entry.values[entry.values.length - 1];
  if (flags.includes('i')) {
    Object.assign(json, value);
    return;
  }
  // encoding/json never omits a struct value, and a pointer that is set is printed even if zero.
  if (!isMessage && !flags.includes('p') && omitempty && isEmpty(value)) return;
  json[name] = value;
}

function decodeSpecial(key: string, bytes: Uint8Array): unknown {
  const reader = protobuf.Reader.create(bytes);
  const fields = new Map<number, unknown>();
  while (reader.pos < reader.len) {
    const tag = reader.uint32();
    const number = tag >>> 3;
    const wireType = tag & 7;
    if (wireType === 0) fields.set(number, toNumber(reader.int64()));
    else if (wireType === 2) fields.set(number, reader.bytes());
    else reader.skipType(wireType);
  }
  const int = (n: number): number => (typeof fields.get(n) === 'number' ? (fields.get(n) as number) : 0);
  const bytesOf = (n: number): Uint8Array | undefined => {
    const value = fields.get(n);
    return value instanceof Uint8Array ? value : undefined;
  };
  const text = (n: number): string => new TextDecoder().decode(bytesOf(n) ?? new Uint8Array());
  switch (key) {
    case 'meta.v1.Time': {
      const seconds = int(1);
      if (seconds === 0 && int(2) === 0) return null;
      // metav1.Time marshals to RFC 3339 with second precision.
      return `${new Date(seconds * 1000).toISOString().slice(0, 19)}Z`;
    }
    case 'resource.Quantity':
      return text(1) || '0';
    case 'intstr.IntOrString':
      return int(1) === 1 ? text(3) : int(2);
    default: {
      // FieldsV1 carries JSON as bytes; encoding/json prints it verbatim.
      const raw = bytesOf(1);
      if (raw === undefined || raw.length === 0) return null;
      try {
        return JSON.parse(new TextDecoder().decode(raw)) as unknown;
      } catch {
        throw new Error('managedFields fieldsV1 is not JSON');
      }
    }
  }
}
