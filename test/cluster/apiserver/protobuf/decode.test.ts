// Bodies kubectl would never send: what the decoder answers for them.
import protobuf from 'protobufjs/minimal.js';
import { describe, expect, test } from 'vitest';
import { decodeProtobufObject, looksLikeProtobuf, protobufKinds } from '../../../../src/cluster/apiserver/protobuf/index.ts';
import { StatusError } from '../../../../src/cluster/types.ts';

function envelope(apiVersion: string, kind: string, raw: Uint8Array, contentEncoding = ''): Uint8Array {
  const typeMeta = protobuf.Writer.create().uint32((1 << 3) | 2).string(apiVersion).uint32((2 << 3) | 2).string(kind).finish();
  const unknown = protobuf.Writer.create().uint32((1 << 3) | 2).bytes(typeMeta).uint32((2 << 3) | 2).bytes(raw);
  if (contentEncoding) unknown.uint32((3 << 3) | 2).string(contentEncoding);
  return Buffer.concat([Buffer.from('k8s\0', 'latin1'), unknown.finish()]);
}

/** metadata {name, creationTimestamp {seconds}} as a Namespace body. */
function namespaceBody(name: string, seconds: number): Uint8Array {
  const time = protobuf.Writer.create().uint32((1 << 3) | 0).int64(seconds).finish();
  const meta = protobuf.Writer.create().uint32((1 << 3) | 2).string(name).uint32((8 << 3) | 2).bytes(time).finish();
  return protobuf.Writer.create().uint32((1 << 3) | 2).bytes(meta).finish();
}

function statusOf(run: () => unknown): { code: number; reason?: string; message?: string } {
  try {
    run();
  } catch (error) {
    if (error instanceof StatusError) return error.status;
    throw error;
  }
  throw new Error('expected a StatusError');
}

describe('decodeProtobufObject', () => {
  test('decodes a hand-made Namespace with a timestamp and leaves absent fields as Go would print them', () => {
    expect(decodeProtobufObject(envelope('v1', 'Namespace', namespaceBody('team-a', 1_700_000_000)))).toStrictEqual({
      kind: 'Namespace',
      apiVersion: 'v1',
      metadata: { name: 'team-a', creationTimestamp: '2023-11-14T22:13:20Z' },
      spec: {},
      status: {},
    });
  });

  test('skips fields the schema does not know, as Go does', () => {
    const extra = protobuf.Writer.create().uint32((99 << 3) | 2).string('from a newer client').finish();
    const body = Buffer.concat([namespaceBody('team-b', 0), extra]);
    expect(decodeProtobufObject(envelope('v1', 'Namespace', body)).metadata).toStrictEqual({ name: 'team-b', creationTimestamp: null });
  });

  test('a kind the schema table does not know is 415 and names the kind', () => {
    const status = statusOf(() => decodeProtobufObject(envelope('storage.k8s.io/v1', 'StorageClass', new Uint8Array())));
    expect(status.code).toBe(415);
    expect(status.reason).toBe('UnsupportedMediaType');
    expect(status.message).toContain('the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf');
    expect(status.message).toContain('StorageClass in storage.k8s.io/v1');
  });

  test('a nested type is not accepted as a top-level kind', () => {
    expect(statusOf(() => decodeProtobufObject(envelope('v1', 'PodSpec', new Uint8Array()))).code).toBe(415);
  });

  test('a body without the k8s magic is 400 with upstream wording', () => {
    const status = statusOf(() => decodeProtobufObject(Buffer.from('{"kind":"Namespace"}')));
    expect(status.code).toBe(400);
    expect(status.message).toBe('provided data does not appear to be a protobuf message, expected prefix [107 56 115 0]');
  });

  test('a truncated envelope is 400', () => {
    const body = envelope('v1', 'Namespace', namespaceBody('team-c', 5));
    const status = statusOf(() => decodeProtobufObject(body.subarray(0, body.length - 3)));
    expect(status.code).toBe(400);
    expect(status.reason).toBe('BadRequest');
  });

  test('an object whose field has the wrong wire type is 400 naming the kind', () => {
    const raw = protobuf.Writer.create().uint32((1 << 3) | 0).int32(7).finish();
    const status = statusOf(() => decodeProtobufObject(envelope('v1', 'Namespace', raw)));
    expect(status.code).toBe(400);
    expect(status.message).toMatch(/^the object provided is unrecognized \(must be of type Namespace\): field metadata has wire type 0/);
  });

  test('an envelope without typeMeta is 400', () => {
    const raw = protobuf.Writer.create().uint32((2 << 3) | 2).bytes(new Uint8Array()).finish();
    expect(statusOf(() => decodeProtobufObject(Buffer.concat([Buffer.from('k8s\0', 'latin1'), raw]))).code).toBe(400);
  });

  test('a compressed envelope is refused as an unsupported media type', () => {
    expect(statusOf(() => decodeProtobufObject(envelope('v1', 'Namespace', new Uint8Array(), 'gzip'))).code).toBe(415);
  });

  test('the kinds list covers every kubectl create generator and the auth reviews', () => {
    expect(protobufKinds()).toEqual(
      expect.arrayContaining([
        'apps/v1 Deployment',
        'v1 Service',
        'v1 Secret',
        'batch/v1 CronJob',
        'policy/v1 PodDisruptionBudget',
        'authentication.k8s.io/v1 TokenRequest',
        'authorization.k8s.io/v1 SelfSubjectRulesReview',
      ]),
    );
    expect(looksLikeProtobuf(Buffer.from('k8s\0x', 'latin1'))).toBe(true);
    expect(looksLikeProtobuf(Buffer.from('{}'))).toBe(false);
  });
});
