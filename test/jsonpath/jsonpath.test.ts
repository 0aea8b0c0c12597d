import { describe, expect, it } from 'vitest';
import { evaluateJsonPath, JsonPathError, parseJsonPath, renderJsonPathValues } from '../../src/jsonpath/index.ts';

const deployment = {
  metadata: { name: 'web', labels: { app: 'web', 'app.kubernetes.io/name': 'shop' } },
  spec: {
    replicas: 3,
    template: {
      spec: {
        containers: [
          { name: 'web', image: 'nginx:1.27', ports: [{ containerPort: 80 }] },
          { name: 'log', image: 'busybox:1.36' },
        ],
      },
    },
  },
  status: {
    readyReplicas: 2,
    conditions: [
      { type: 'Available', status: 'False', reason: 'MinimumReplicasUnavailable' },
      { type: 'Progressing', status: 'True', reason: 'ReplicaSetUpdated' },
    ],
  },
};

const read = (path: string) => renderJsonPathValues(evaluateJsonPath(parseJsonPath(path), deployment));

describe('JSONPath as client-go reads it', () => {
  it('reads fields with and without braces or $', () => {
    expect(read('{.spec.replicas}')).toBe('3');
    expect(read('.status.readyReplicas')).toBe('2');
    expect(read('$.metadata.name')).toBe('web');
    expect(read('{.spec.paused}')).toBe('');
  });

  it('reads label keys with dots and slashes, escaped or quoted', () => {
    expect(read('{.metadata.labels.app\\.kubernetes\\.io/name}')).toBe('shop');
    expect(read("{.metadata.labels['app.kubernetes.io/name']}")).toBe('shop');
  });

  it('indexes, slices, wildcards and recursive descent', () => {
    expect(read('{.spec.template.spec.containers[0].image}')).toBe('nginx:1.27');
    expect(read('{.spec.template.spec.containers[-1].name}')).toBe('log');
    expect(read('{.spec.template.spec.containers[*].name}')).toBe('web log');
    expect(read('{.spec.template.spec.containers[0:1].name}')).toBe('web');
    expect(read('{..image}')).toBe('nginx:1.27 busybox:1.36');
    expect(read('{.metadata.labels.*}')).toBe('web shop');
  });

  it('filters lists', () => {
    expect(read('{.status.conditions[?(@.type=="Available")].status}')).toBe('False');
    expect(read("{.status.conditions[?(@.type!='Available')].reason}")).toBe('ReplicaSetUpdated');
    expect(read('{.spec.template.spec.containers[?(@.ports)].name}')).toBe('web');
    expect(read('{.spec.template.spec.containers[?(@.ports[0].containerPort > 79)].name}')).toBe('web');
  });

  it('prints objects as JSON, as kubectl does', () => {
    expect(read('{.metadata.labels}')).toBe('{"app":"web","app.kubernetes.io/name":"shop"}');
  });

  it('rejects what kubectl would not understand, saying where', () => {
    expect(() => parseJsonPath('spec.replicas')).toThrow(/a path starts with a dot at character 1/);
    expect(() => parseJsonPath('{.spec[}')).toThrow(/a \[ is never closed/);
    expect(() => parseJsonPath('{.a[x y]}')).toThrow(/\[x y\] is neither an index/);
    expect(() => parseJsonPath('{}')).toThrow(/the path is empty/);
  });

  it('filters as upstream does: presence is being there, a comparison needs one value of the same type each side', () => {
    const pods = { items: [{ name: 'a', ready: false, restarts: 0 }, { name: 'b', ready: true, restarts: 3 }, { name: 'c' }] };
    const names = (path: string) => renderJsonPathValues(evaluateJsonPath(parseJsonPath(path), pods));
    expect(names('{.items[?(@.ready)].name}')).toBe('a b');
    expect(names('{.items[?(@.restarts == 0)].name}')).toBe('a');
    expect(names('{.items[?(@.restarts == "0")].name}')).toBe('');
    expect(names('{.items[?(@.ready == true)].name}')).toBe('b');
    expect(names('{.items[?(@.restarts != 0)].name}')).toBe('b');
    // Upstream filters lists only.
    expect(renderJsonPathValues(evaluateJsonPath(parseJsonPath('{.metadata.labels[?(@ == "web")]}'), deployment))).toBe('');
  });

  it('reads an object’s own fields only', () => {
    expect(read('{.metadata.constructor}')).toBe('');
    expect(read('{.spec.replicas.toString}')).toBe('');
  });

  it('reads the paths of CRD printer columns', () => {
    expect(evaluateJsonPath(parseJsonPath('.status.conditions[?(@.type=="Progressing")].status'), deployment)).toEqual(['True']);
    expect(evaluateJsonPath(parseJsonPath(".metadata['name']"), deployment)).toEqual(['web']);
    expect(evaluateJsonPath(parseJsonPath('.spec.missing.deeper'), deployment)).toEqual([]);
    expect(() => parseJsonPath('.spec[')).toThrow(JsonPathError);
  });
});
