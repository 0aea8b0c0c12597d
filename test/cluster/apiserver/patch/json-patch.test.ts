import { afterAll, describe, expect, it } from 'vitest';
import { applyJsonPatch, PatchError } from '../../../../src/cluster/apiserver/patch/index.ts';
import { kubectlLocal } from './kubectl-local.ts';

const oracle = kubectlLocal();
afterAll(() => oracle.close());

const deployment = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', labels: { app: 'web' } },
  spec: {
    replicas: 2,
    selector: { matchLabels: { app: 'web' } },
    template: {
      metadata: { labels: { app: 'web' } },
      spec: { containers: [{ name: 'web', image: 'nginx:1.27', args: ['-g', 'daemon off;'] }] },
    },
  },
};

function failure(run: () => unknown): PatchError {
  try {
    run();
  } catch (error) {
    if (error instanceof PatchError) return error;
    throw error;
  }
  throw new Error('expected a PatchError');
}

/** Cases that succeed: our result must equal what upstream's library produces. */
const agreeing: Array<[string, unknown]> = [
  ['replace an image by index', [{ op: 'replace', path: '/spec/template/spec/containers/0/image', value: 'nginx:1.29' }]],
  ['append to a list with -', [{ op: 'add', path: '/spec/template/spec/containers/0/args/-', value: '--debug' }]],
  ['insert into a list at an index', [{ op: 'add', path: '/spec/template/spec/containers/0/args/0', value: 'first' }]],
  ['negative index counts from the end', [{ op: 'remove', path: '/spec/template/spec/containers/0/args/-1' }]],
  ['escaped pointer tokens', [{ op: 'add', path: '/metadata/annotations', value: {} }, { op: 'add', path: '/metadata/annotations/example.com~1team', value: 'a~b' }]],
  ['replace of a missing object key adds it', [{ op: 'replace', path: '/metadata/labels/tier', value: 'frontend' }]],
  ['move and copy', [{ op: 'copy', from: '/metadata/labels/app', path: '/metadata/labels/copied' }, { op: 'move', from: '/spec/replicas', path: '/spec/minReadySeconds' }]],
  ['a passing test then a change', [{ op: 'test', path: '/spec/replicas', value: 2 }, { op: 'replace', path: '/spec/replicas', value: 5 }]],
  ['test of a missing value against null passes', [{ op: 'test', path: '/spec/paused', value: null }, { op: 'add', path: '/spec/paused', value: true }]],
];

describe('applyJsonPatch (RFC 6902)', () => {
  it.each(agreeing)('%s: same result as upstream', async (_name, patch) => {
    const expected = await oracle.patch(deployment, 'json', patch);
    expect(expected.ok).toBe(true);
    expect(applyJsonPatch(deployment, patch)).toEqual(expected.ok ? expected.object : undefined);
  });

  it('does not modify the document it was given', () => {
    const doc = structuredClone(deployment);
    applyJsonPatch(doc, [{ op: 'replace', path: '/spec/replicas', value: 9 }]);
    expect(doc).toEqual(deployment);
  });

  it('rejects a merge-style object body with 400 as the server does for client-node default patches', () => {
    const error = failure(() => applyJsonPatch(deployment, { metadata: { labels: { a: 'b' } } }));
    expect(error.code).toBe(400);
    expect(error.status.reason).toBe('BadRequest');
    expect(error.message).toBe('error decoding patch: json: cannot unmarshal object into Go value of type []handlers.jsonPatchOp');
  });

  it('names jsonpatch.Patch when field validation is Ignore, like kubectl', async () => {
    const error = failure(() => applyJsonPatch(deployment, { op: 'x' }, { fieldValidation: 'Ignore' }));
    expect(error.message).toBe('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    expect(await oracle.patch(deployment, 'json', { op: 'x' })).toEqual({ ok: false, error: error.message });
  });

  it('rejects an operation whose path is not a string while decoding', () => {
    const error = failure(() => applyJsonPatch(deployment, [{ op: 'add', path: 5, value: 1 }]));
    expect(error.code).toBe(400);
    expect(error.message).toBe('error decoding patch: json: cannot unmarshal number into Go struct field jsonPatchOp.path of type string');
  });

  it('treats null as an empty patch', () => {
    expect(applyJsonPatch(deployment, null)).toEqual(deployment);
  });

  it('answers a missing path with 422 and keeps the library message as detail', () => {
    const error = failure(() => applyJsonPatch(deployment, [{ op: 'add', path: '/spec/foo/bar', value: 1 }]));
    expect(error.code).toBe(422);
    expect(error.status.reason).toBe('Invalid');
    expect(error.message).toBe('the server rejected our request due to an error in our request');
    expect(error.detail).toBe('add operation does not apply: doc is missing path: "/spec/foo/bar": missing value');
  });

  it.each([
    ['remove a missing key', [{ op: 'remove', path: '/spec/foo' }]],
    ['a failed test', [{ op: 'test', path: '/spec/replicas', value: 3 }]],
    ['an index past the end', [{ op: 'add', path: '/spec/template/spec/containers/0/args/7', value: 'x' }]],
    ['a word as an index', [{ op: 'replace', path: '/spec/template/spec/containers/first/image', value: 'x' }]],
    ['an unknown operation', [{ op: 'merge', path: '/spec', value: {} }]],
    ['move from a missing key', [{ op: 'move', from: '/spec/nothing', path: '/spec/something' }]],
  ])('%s: 422 with the same detail as upstream', async (_name, patch) => {
    const error = failure(() => applyJsonPatch(deployment, patch));
    expect(error.code).toBe(422);
    const upstream = await oracle.patch(deployment, 'json', patch);
    expect(upstream).toEqual({ ok: false, error: error.detail });
  });

  it('limits a patch to 10000 operations', () => {
    const patch = Array.from({ length: 10_001 }, () => ({ op: 'test', path: '/spec/replicas', value: 2 }));
    const error = failure(() => applyJsonPatch(deployment, patch));
    expect(error.code).toBe(413);
    expect(error.message).toBe('Request entity too large: The allowed maximum operations in a JSON patch is 10000, got 10001');
  });
});
