import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkComponent, mdxComponentNames } from '../../src/content-model/index.ts';

const mdxDir = join(import.meta.dirname, '..', '..', 'src', 'components', 'mdx');

describe('lesson components', () => {
  it('are the same set for the checker and for the pages', () => {
    const source = readFileSync(join(mdxDir, 'index.ts'), 'utf8');
    const mapped = /export const mdxComponents = \{([^}]*)\}/.exec(source)?.[1]?.split(',').map((name) => name.trim()).filter(Boolean);
    expect(mapped?.sort()).toEqual([...mdxComponentNames].sort());
    for (const name of mdxComponentNames) expect(existsSync(join(mdxDir, `${name}.astro`)), name).toBe(true);
  });

  it('pass HTML elements through and name the components an unknown one could be', () => {
    expect(checkComponent({ name: 'kbd', line: 3, attributes: new Map() })).toEqual([]);
    expect(checkComponent({ name: 'Callot', line: 3, attributes: new Map() })).toEqual([
      { field: '<Callot>', problem: 'is not a lesson component; use one of Callout, Command, Tabs, Tab, Quiz, Figure' },
    ]);
  });

  it('accept a complete quiz and a callout without a kind', () => {
    const quiz = new Map<string, string | { expression: string }>([
      ['question', 'Which object keeps replicas running?'],
      ['options', { expression: "['a Pod', 'a ReplicaSet']" }],
      ['answer', { expression: '1' }],
    ]);
    expect(checkComponent({ name: 'Quiz', line: 1, attributes: quiz })).toEqual([]);
    expect(checkComponent({ name: 'Callout', line: 1, attributes: new Map() })).toEqual([]);
  });

  it('require a command and tab labels', () => {
    expect(checkComponent({ name: 'Command', line: 1, attributes: new Map() })).toEqual([
      { field: '<Command command>', problem: 'is required: a non-empty string, such as command="kubectl get pods"' },
    ]);
    expect(checkComponent({ name: 'Tabs', line: 1, attributes: new Map([['labels', { expression: '[]' }]]) })).toEqual([
      { field: '<Tabs labels>', problem: 'is required: a list of tab names, such as labels={["YAML", "kubectl"]}' },
    ]);
  });
});
