import { describe, expect, it } from 'vitest';
import { labelSelectorFromObject, parseFieldSelector, parseLabelSelector } from '../../../src/cluster/registry/index.ts';
import { statusOf } from './helpers.ts';

describe('label selectors', () => {
  const matches = (selector: string, labels: Record<string, string>) => parseLabelSelector(selector).matches(labels);

  it('implements every operator of the selector syntax', () => {
    const labels = { app: 'web', tier: 'front', version: '3' };
    expect(matches('', labels)).toBe(true);
    expect(matches('app=web', labels)).toBe(true);
    expect(matches('app = web , tier == front', labels)).toBe(true);
    expect(matches('app!=web', labels)).toBe(false);
    expect(matches('missing!=x', labels)).toBe(true);
    expect(matches('tier in (back,front)', labels)).toBe(true);
    expect(matches('tier notin (back,front)', labels)).toBe(false);
    expect(matches('missing notin (x)', labels)).toBe(true);
    expect(matches('app', labels)).toBe(true);
    expect(matches('!app', labels)).toBe(false);
    expect(matches('version>2', labels)).toBe(true);
    expect(matches('version<3', labels)).toBe(false);
    expect(matches('example.com/role=db', { 'example.com/role': 'db' })).toBe(true);
    expect(matches('empty=', { empty: '' })).toBe(true);
  });

  it('answers malformed selectors with 400 BadRequest', () => {
    for (const bad of ['app in (a', 'app in a', 'a b', '=x', 'app=,', '!', 'a/b/c=x', 'app=bad value'])
      expect(statusOf(() => parseLabelSelector(bad)).code, bad).toBe(400);
    expect(statusOf(() => parseLabelSelector('tier in front')).message).toBe("unable to parse requirement: found 'front', expected: '('");
  });

  it('turns metav1.LabelSelector objects into selectors: null matches nothing, {} everything', () => {
    expect(labelSelectorFromObject(null).matches({ a: 'b' })).toBe(false);
    expect(labelSelectorFromObject({}).matches({ a: 'b' })).toBe(true);
    const selector = labelSelectorFromObject({ matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['front'] }, { key: 'legacy', operator: 'DoesNotExist' }] });
    expect(selector.matches({ app: 'web', tier: 'front' })).toBe(true);
    expect(selector.matches({ app: 'web', tier: 'front', legacy: 'y' })).toBe(false);
    expect(selector.toString()).toBe('app=web,tier in (front),!legacy');
  });
});

describe('field selectors', () => {
  const supported = (field: string) => ['metadata.name', 'spec.nodeName'].includes(field);

  it('parses =, == and != with escapes', () => {
    const selector = parseFieldSelector('metadata.name==a\\,b,spec.nodeName!=', supported);
    expect(selector.requirements).toEqual([
      { field: 'metadata.name', operator: '=', value: 'a,b' },
      { field: 'spec.nodeName', operator: '!=', value: '' },
    ]);
    expect(selector.exactName).toBe('a,b');
  });

  it('names the unsupported field label', () => {
    expect(statusOf(() => parseFieldSelector('status.phase=Running', supported))).toMatchObject({ code: 400, reason: 'BadRequest', message: 'field label not supported: status.phase' });
  });
});
