// Malformed and random patches must end in a PatchError (a 4xx Status), never in anything the
// API server would turn into a 500.
import { describe, expect, it } from 'vitest';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError, serverSideApply, shapeFromOpenAPISchema, updateManagedFields } from '../../../../src/cluster/apiserver/patch/index.ts';
import type { KubeObject } from '../../../../src/cluster/types.ts';

/** A small seeded generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const keys = ['metadata', 'labels', 'finalizers', 'spec', 'template', 'containers', 'name', 'image', 'env', 'ports', 'containerPort', 'value', '$patch', '$retainKeys', '$setElementOrder/containers', '$deleteFromPrimitiveList/finalizers', '$setElementOrder/env', 'op', 'path', 'from', 'replicas'];
const scalars: unknown[] = [null, true, 0, 1.5, 80, 'web', 'delete', 'replace', 'merge', '/spec/replicas', '/metadata/labels/app', '-', 'add', 'remove', 'test', 'move', 'copy'];

function value(next: () => number, depth: number): unknown {
  const roll = next();
  if (depth <= 0 || roll < 0.4) return scalars[Math.floor(next() * scalars.length)];
  if (roll < 0.7) return Array.from({ length: Math.floor(next() * 4) }, () => value(next, depth - 1));
  return Object.fromEntries(Array.from({ length: Math.floor(next() * 5) }, () => [keys[Math.floor(next() * keys.length)]!, value(next, depth - 1)]));
}

const live: KubeObject = {
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'web', uid: 'u', labels: { app: 'web' }, finalizers: ['a'] },
  spec: { replicas: 1, template: { spec: { containers: [{ name: 'web', image: 'x', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80 }] }] } } },
};
const now = new Date('2024-01-01T00:00:00Z');
const gvk = { group: 'apps', version: 'v1', kind: 'Deployment' };

function settles(run: () => unknown): 'ok' | 'rejected' {
  try {
    JSON.stringify(run());
    return 'ok';
  } catch (error) {
    if (error instanceof PatchError && error.code >= 400 && error.code < 500) return 'rejected';
    throw error;
  }
}

describe('robustness against generated patches', () => {
  it('1000 random bodies per patch type end in a result or a 4xx PatchError', () => {
    const next = random(20240601);
    const outcomes = { ok: 0, rejected: 0 };
    for (let i = 0; i < 1000; i++) {
      const body = value(next, 5);
      outcomes[settles(() => applyJsonPatch(live, body))]++;
      outcomes[settles(() => applyMergePatch(live, body))]++;
      outcomes[settles(() => applyStrategicMergePatch(live, body, gvk))]++;
      const config = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web' }, spec: value(next, 4) } as KubeObject;
      outcomes[settles(() => serverSideApply(live, config, { manager: 'fuzz', force: next() < 0.5, ...gvk, now }))]++;
      outcomes[settles(() => updateManagedFields(live, { ...live, spec: value(next, 4) } as KubeObject, { manager: 'fuzz', operation: 'Update', apiVersion: 'apps/v1', now }))]++;
    }
    expect(outcomes.ok).toBeGreaterThan(1000);
    expect(outcomes.rejected).toBeGreaterThan(100);
  });

  it('turns a pathologically deep document into a 400, not a crash', () => {
    let deep: unknown = 'leaf';
    for (let i = 0; i < 200_000; i++) deep = { spec: deep };
    expect(settles(() => applyMergePatch(live, deep))).toBe('rejected');
    expect(settles(() => applyStrategicMergePatch(live, deep, gvk))).toBe('rejected');
  });

  it('tolerates corrupt stored managedFields by starting over', () => {
    const corrupt = { ...live, metadata: { ...live.metadata, managedFields: [{ manager: 'x', operation: 'Sideways' }] } } as unknown as KubeObject;
    const next = updateManagedFields(corrupt, { ...corrupt, spec: { replicas: 2 } }, { manager: 'edit', operation: 'Update', apiVersion: 'apps/v1', now });
    expect(next.metadata.managedFields).toBeUndefined();
  });
});

describe('custom resources with a structural schema', () => {
  const schema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          ports: {
            type: 'array',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['port', 'protocol'],
            items: { type: 'object', properties: { port: { type: 'integer' }, protocol: { type: 'string', default: 'TCP' }, name: { type: 'string' } } },
          },
          tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
          selector: { type: 'object', 'x-kubernetes-map-type': 'atomic', additionalProperties: { type: 'string' } },
        },
      },
    },
  };
  const crd = { group: 'example.com', version: 'v1', kind: 'Widget', schema: shapeFromOpenAPISchema(schema) };
  const widget = (spec: Record<string, unknown>): KubeObject => ({ apiVersion: 'example.com/v1', kind: 'Widget', metadata: { name: 'w' }, spec });

  it('merges list-type map items by their keys (with defaults) and sets by value', () => {
    const first = serverSideApply(undefined, widget({ ports: [{ port: 80, name: 'http' }], tags: ['a'] }), { manager: 'one', force: false, ...crd, now }).object;
    expect(first.metadata.managedFields![0]!.fieldsV1).toEqual({ 'f:spec': { 'f:ports': { 'k:{"port":80,"protocol":"TCP"}': { '.': {}, 'f:name': {}, 'f:port': {} } }, 'f:tags': { 'v:"a"': {} } } });
    const second = serverSideApply({ ...first, metadata: { ...first.metadata, uid: 'w1' } }, widget({ ports: [{ port: 443, name: 'https' }], tags: ['b'] }), { manager: 'two', force: false, ...crd, now });
    expect(second.conflicts).toEqual([]);
    expect(second.object.spec).toEqual({ ports: [{ port: 80, name: 'http' }, { port: 443, name: 'https' }], tags: ['a', 'b'] });
  });

  it('owns an atomic map as one field', () => {
    const first = serverSideApply(undefined, widget({ selector: { app: 'a' } }), { manager: 'one', force: false, ...crd, now }).object;
    const second = serverSideApply(first, widget({ selector: { tier: 'b' } }), { manager: 'two', force: false, ...crd, now });
    expect(second.conflicts.map((c) => c.field)).toEqual(['.spec.selector']);
  });
});
