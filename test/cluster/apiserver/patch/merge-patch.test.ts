import { afterAll, describe, expect, it } from 'vitest';
import { applyMergePatch, PatchError } from '../../../../src/cluster/apiserver/patch/index.ts';
import { kubectlLocal } from './kubectl-local.ts';

const oracle = kubectlLocal();
afterAll(() => oracle.close());

const service = {
  apiVersion: 'v1',
  kind: 'Service',
  metadata: { name: 'web', labels: { app: 'web', tier: 'frontend' }, annotations: { note: 'x' } },
  spec: {
    selector: { app: 'web' },
    ports: [
      { name: 'http', port: 80, targetPort: 8080 },
      { name: 'https', port: 443, targetPort: 8443 },
    ],
  },
};

describe('applyMergePatch (RFC 7386)', () => {
  it.each<[string, unknown]>([
    ['kubectl label: adds a label', { metadata: { labels: { env: 'dev' } } }],
    ['kubectl label tier-: null removes a label', { metadata: { labels: { tier: null } } }],
    ['a list replaces the whole list', { spec: { ports: [{ name: 'http', port: 8080 }] } }],
    ['nulls inside a new object are dropped', { spec: { sessionAffinityConfig: { clientIP: { timeoutSeconds: 60, other: null } } } }],
    ['a scalar replaces an object', { metadata: { annotations: 'oops' } }],
    ['removing a whole map', { metadata: { annotations: null } }],
  ])('%s: same result as upstream', async (_name, patch) => {
    const expected = await oracle.patch(service, 'merge', patch);
    expect(expected.ok).toBe(true);
    expect(applyMergePatch(service, patch)).toEqual(expected.ok ? expected.object : undefined);
  });

  it('leaves its input untouched', () => {
    const doc = structuredClone(service);
    applyMergePatch(doc, { metadata: { labels: { app: null } } });
    expect(doc).toEqual(service);
  });

  it.each([null, 'text', 42])('rejects %j with 400 Invalid JSON Patch', (patch) => {
    try {
      applyMergePatch(service, patch);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(PatchError);
      expect((error as PatchError).code).toBe(400);
      expect((error as PatchError).message).toBe('Invalid JSON Patch');
    }
  });

  it('rejects a list body with 422: it would replace the whole object', () => {
    try {
      applyMergePatch(service, [1, 2]);
      expect.unreachable();
    } catch (error) {
      expect((error as PatchError).code).toBe(422);
      expect((error as PatchError).status.details?.causes?.[0]?.field).toBe('patch');
    }
  });
});
