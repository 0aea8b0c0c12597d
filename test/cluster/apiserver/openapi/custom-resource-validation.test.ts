// CRD schema validation: defaults applied, and messages worded as kube-apiserver words them.
import { describe, expect, test } from 'vitest';
import { validateCustomResource } from '../../../../src/cluster/apiserver/openapi/index.ts';
import { cronTabSchema } from './served-resources.ts';

function cronTab(spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: 'stable.example.com/v1', kind: 'CronTab', metadata: { name: 'c' }, spec };
}

function messages(spec: Record<string, unknown>): string[] {
  return validateCustomResource(cronTab(spec), cronTabSchema).map((e) => `${e.field}: ${e.message}`);
}

describe('validateCustomResource', () => {
  test('a valid object passes and gets its defaults', () => {
    const object = cronTab({ cronSpec: '*/5 * * * *', image: 'busybox' });
    expect(validateCustomResource(object, cronTabSchema)).toEqual([]);
    expect(object.spec).toEqual({ cronSpec: '*/5 * * * *', image: 'busybox', replicas: 1 });
  });

  test('wrong types are reported with the value type, as upstream', () => {
    expect(validateCustomResource(cronTab({ cronSpec: '* * * * *', replicas: 'two' }), cronTabSchema)).toEqual([
      { field: 'spec.replicas', reason: 'FieldValueTypeInvalid', message: 'Invalid value: "string": spec.replicas in body must be of type integer: "string"' },
    ]);
    expect(messages({ cronSpec: 5 })).toEqual(['spec.cronSpec: Invalid value: "integer": spec.cronSpec in body must be of type string: "integer"']);
    expect(messages({ cronSpec: '* * * * *', replicas: 1.5 })).toEqual(['spec.replicas: Invalid value: "number": spec.replicas in body must be of type integer: "number"']);
  });

  test('required, enum, pattern, bounds and lengths', () => {
    expect(messages({})).toEqual(['spec.cronSpec: Required value']);
    expect(messages({ cronSpec: '* * * * *', mode: 'Medium' })).toEqual(['spec.mode: Unsupported value: "Medium": supported values: "Fast", "Slow"']);
    expect(messages({ cronSpec: 'every minute' })).toEqual([
      `spec.cronSpec: Invalid value: "every minute": spec.cronSpec in body should match '^(\\d+|\\*)(/\\d+)?(\\s+(\\d+|\\*)(/\\d+)?){4}$'`,
    ]);
    expect(messages({ cronSpec: '* * * * *', replicas: 0 })).toEqual(['spec.replicas: Invalid value: 0: spec.replicas in body should be greater than or equal to 1']);
    expect(messages({ cronSpec: '* * * * *', replicas: 11 })).toEqual(['spec.replicas: Invalid value: 11: spec.replicas in body should be less than or equal to 10']);
    expect(messages({ cronSpec: '* * * * *', image: 'x'.repeat(65) })).toEqual(['spec.image: Too long: may not be more than 64 bytes']);
    expect(messages({ cronSpec: '* * * * *', tags: ['a', 'b', 'c', 'd'] })).toEqual(['spec.tags: Too many: 4: must have at most 3 items']);
    expect(messages({ cronSpec: '* * * * *', tags: ['a', 7] })).toEqual(['spec.tags[1]: Invalid value: "integer": spec.tags[1] in body must be of type string: "integer"']);
  });

  test('minLength, minItems and minimum-exclusive wording', () => {
    const schema = {
      type: 'object',
      properties: {
        spec: {
          type: 'object',
          properties: {
            name: { type: 'string', minLength: 3 },
            items: { type: 'array', minItems: 2, items: { type: 'integer' } },
            ratio: { type: 'number', minimum: 0, exclusiveMinimum: true },
          },
        },
      },
    };
    const errors = validateCustomResource({ spec: { name: 'ab', items: [1], ratio: 0 } }, schema).map((e) => `${e.field}: ${e.message}`);
    expect(errors).toEqual([
      'spec.name: Invalid value: "ab": spec.name in body should be at least 3 chars long',
      'spec.items: Invalid value: 1: spec.items in body should have at least 2 items',
      'spec.ratio: Invalid value: 0: spec.ratio in body should be greater than 0',
    ]);
  });

  test('int-or-string, nullable and formats', () => {
    expect(messages({ cronSpec: '* * * * *', port: 8080 })).toEqual([]);
    expect(messages({ cronSpec: '* * * * *', port: 'http' })).toEqual([]);
    expect(messages({ cronSpec: '* * * * *', port: true })).toEqual(['spec.port: Invalid value: "boolean": spec.port in body must be of type integer,string: "boolean"']);
    expect(messages({ cronSpec: '* * * * *', note: null })).toEqual([]);
    expect(messages({ cronSpec: '* * * * *', when: '2024-05-01T12:00:00Z' })).toEqual([]);
    expect(messages({ cronSpec: '* * * * *', when: 'tomorrow' })).toEqual(['spec.when: Invalid value: "tomorrow": spec.when in body must be of type date-time: "tomorrow"']);
  });

  test('null in a non-nullable field is dropped (or defaulted) before validation, as upstream prunes it', () => {
    const object = cronTab({ cronSpec: '* * * * *', image: null, replicas: null });
    expect(validateCustomResource(object, cronTabSchema)).toEqual([]);
    expect(object.spec).toEqual({ cronSpec: '* * * * *', replicas: 1 });
  });

  test('required at the root names the missing field, apiVersion/kind/metadata are left alone', () => {
    const schema = { type: 'object', required: ['spec', 'metadata'], properties: { spec: { type: 'object' } } };
    expect(validateCustomResource({ apiVersion: 'x/v1', kind: 'X', metadata: 5 }, schema)).toEqual([{ field: 'spec', reason: 'FieldValueRequired', message: 'Required value' }]);
  });
});
