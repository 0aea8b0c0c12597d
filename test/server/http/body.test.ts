// The one body reader of the API routes: the limit is counted while the body streams in (the rest
// is never pulled), a declared length over it is refused before reading, and a body the schema
// refuses is answered naming each field by its path.
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { bodyRefusal, readBody, RequestBodyError } from '../../../src/server/http/index.ts';

const schema = z.object({ title: z.string().min(1, 'give it a title'), labs: z.array(z.string().regex(/^[a-z-]+$/, 'a lab id')).default([]) });

/** A body of `count` chunks that counts how many were pulled. */
function streamed(count: number, chunk = new Uint8Array(4096).fill(0x61)) {
  const seen = { pulled: 0 };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      seen.pulled += 1;
      if (seen.pulled > count) controller.close();
      else controller.enqueue(chunk);
    },
  });
  return { seen, source: { headers: new Headers({ 'content-type': 'application/json' }), body } };
}

async function refusal(work: Promise<unknown>): Promise<RequestBodyError> {
  const error = await work.then(
    () => null,
    (thrown: unknown) => thrown,
  );
  expect(error).toBeInstanceOf(RequestBodyError);
  return error as RequestBodyError;
}

describe('readBody', () => {
  it('stops reading a body without a length as soon as it passes the limit', async () => {
    const { seen, source } = streamed(10_000);
    const error = await refusal(readBody(source, schema, { limit: 16 * 1024 }));
    expect(error).toMatchObject({ status: 413, message: 'the request body is larger than this endpoint takes: at most 16 KiB (16384 bytes)' });
    // Five 4 KiB chunks pass 16 KiB; a few more may be buffered by the stream, never the 40 MB.
    expect(seen.pulled).toBeLessThan(10);
    const answer = bodyRefusal(error);
    expect(answer.headers.get('connection')).toBe('close');
  });

  it('refuses a declared length over the limit before reading a byte', async () => {
    const { seen, source } = streamed(10_000);
    source.headers.set('content-length', String(1024 * 1024));
    expect(await refusal(readBody(source, schema, { limit: 1000 }))).toMatchObject({ status: 413, message: 'the request body is larger than this endpoint takes: at most 1000 bytes' });
    // A stream fills its queue with one chunk on its own; the reader took none.
    expect(seen.pulled).toBeLessThanOrEqual(1);
  });

  it('names every wrong field by its path, and the first one as `field`', async () => {
    const request = new Request('http://portal/api', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: '', labs: ['ok', 'Not OK'] }) });
    const error = await refusal(readBody(request, schema));
    expect(error.message).toBe('title: give it a title; labs.1: a lab id');
    expect(await bodyRefusal(error).json()).toEqual({
      error: 'title: give it a title; labs.1: a lab id',
      field: 'title',
      issues: [
        { field: 'title', message: 'give it a title' },
        { field: 'labs.1', message: 'a lab id' },
      ],
    });
  });

  it('takes forms only where the route says so, without their CSRF field', async () => {
    const form = () => new Request('http://portal/api', { method: 'POST', body: new URLSearchParams({ title: 'Pods', _csrf: 'token' }) });
    expect(await refusal(readBody(form(), schema))).toMatchObject({ status: 415 });
    expect(await readBody(form(), z.strictObject({ title: z.string() }), { forms: true })).toEqual({ title: 'Pods' });
  });

  it('refuses what is not JSON or not UTF-8, and reads an empty body as {}', async () => {
    const send = (body: BodyInit) => new Request('http://portal/api', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect((await refusal(readBody(send('{"title": '), schema))).message).toMatch(/^the request body is not JSON: /);
    expect((await refusal(readBody(send(new Uint8Array([0x7b, 0xff, 0x7d])), schema))).message).toBe('the request body is not UTF-8 text');
    expect(await readBody(send(''), z.object({ session: z.string().optional() }))).toEqual({});
  });
});
