// The house rules of src/, as the import graph (test/architecture/imports.ts) shows them:
// - the browser's code (components, layouts) never imports the server: both import src/contracts;
// - pages reach the server only through a room's face (src/server/<room>/index.ts);
// - the lab format (src/labs) never imports the server: the server uses it, not the other way;
// - src/contracts imports nothing of ours: it is what everyone else shares; nor does src/jsonpath,
//   the one JSONPath evaluator lab checks and the cluster's printer columns share;
// - no import circles in src/server; a room of src/server reaches another only through its
//   index.ts;
// - tracking (src/server/tracking: the learning record, lesson progress, lab sessions,
//   certificates) is one room that depends on no room that acts on labs, workshops or reports:
//   they use it, not the other way; and only it writes and reads its tables (one transactional
//   writer), but for reports, which read its summaries;
// - the browser's scripts take types only from src/contracts: zod in a page would compile its
//   parsers with new Function, which the portal's Content-Security-Policy refuses.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { circles, importGraph, type ImportGraph } from './imports.ts';

const ROOT = path.join(import.meta.dirname, '..', '..');
let graph: ImportGraph;

beforeAll(async () => {
  graph = await importGraph(ROOT);
});

/** Every `from → to` edge whose `from` matches the first test and `to` the second. */
function imports(from: (file: string) => boolean, to: (file: string) => boolean): string[] {
  return [...graph.edges].flatMap(([file, targets]) => (from(file) ? [...targets].filter(to).map((target) => `${file} → ${target}`) : []));
}

const under = (dir: string) => (file: string) => file.startsWith(`${dir}/`);
const ROOM_FACE = /^src\/server\/[a-z-]+\/index\.ts$/;

describe('imports in src/', () => {
  it('reads the graph: the portal’s main module imports rooms through their faces', () => {
    expect(graph.edges.get('src/server/main.ts')).toContain('src/server/labs/index.ts');
  });

  it('keeps the browser’s code (components, layouts) away from the server', () => {
    expect(imports((file) => under('src/components')(file) || under('src/layouts')(file), under('src/server'))).toEqual([]);
  });

  it('lets pages reach the server only through a room’s index.ts', () => {
    expect(imports(under('src/pages'), (file) => under('src/server')(file) && !ROOM_FACE.test(file))).toEqual([]);
  });

  it('keeps the lab format and the contracts free of the server', () => {
    expect(imports(under('src/labs'), under('src/server'))).toEqual([]);
    expect(imports(under('src/contracts'), (file) => !under('src/contracts')(file))).toEqual([]);
  });

  it('keeps one JSONPath evaluator, shared by lab checks and the cluster, free of both', () => {
    expect(imports(under('src/jsonpath'), (file) => !under('src/jsonpath')(file))).toEqual([]);
    expect([...graph.edges.keys()].filter((file) => /jsonpath/i.test(file) && !under('src/jsonpath')(file))).toEqual([]);
    expect(imports(under('src/labs'), under('src/jsonpath'))).not.toEqual([]);
    expect(imports(under('src/cluster'), under('src/jsonpath'))).not.toEqual([]);
  });

  it('lets the browser’s scripts take only types from the contracts', async () => {
    const scripts = (await readdir(path.join(ROOT, 'src', 'components'), { recursive: true })).filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'));
    const valueImports: string[] = [];
    for (const file of scripts) {
      const source = await readFile(path.join(ROOT, 'src', 'components', file), 'utf8');
      for (const match of source.matchAll(/^import\s+(?!type\b)[^;]*?from\s+'([^']*contracts[^']*)'/gm)) valueImports.push(`src/components/${file} → ${match[1]}`);
    }
    expect(scripts.length).toBeGreaterThan(0);
    expect(valueImports).toEqual([]);
  });

  it('has no import circles in src/server', () => {
    expect(circles(graph, under('src/server'))).toEqual([]);
  });

  it('lets a room of src/server reach another only through its index.ts', () => {
    const room = (file: string) => /^src\/server\/([a-z-]+)\//.exec(file)?.[1] ?? null;
    const across = [...graph.edges].flatMap(([file, targets]) =>
      room(file) === null ? [] : [...targets].filter((target) => room(target) !== null && room(target) !== room(file) && !ROOM_FACE.test(target)).map((target) => `${file} → ${target}`),
    );
    expect(across).toEqual([]);
  });

  it('keeps tracking one room that the rooms acting on labs, workshops and reports use, never the other way', () => {
    expect([...graph.edges.keys()].filter((file) => /^src\/server\/(learners|learning)\//.test(file))).toEqual([]);
    const used = new Set(imports(under('src/server/tracking'), (file) => under('src/server')(file) && !under('src/server/tracking')(file)).map((edge) => edge.split(' → ')[1]));
    expect([...used].sort()).toEqual(['src/server/auth/index.ts', 'src/server/db/index.ts']);
  });

  it('lets only tracking write and read its tables; reports read its summaries, never the events', async () => {
    const TABLES = /\b(?:FROM|JOIN|INTO|UPDATE)\s+(lab_sessions|lab_checks|lab_reveals|lesson_progress|learning_[a-z_]+|certificates)\b/g;
    const SUMMARIES = new Set(['learning_paths', 'learning_labs', 'learning_lessons', 'learning_step_days', 'learning_check_failures']);
    const found: string[] = [];
    for (const file of [...graph.edges.keys()].filter((file) => under('src')(file) && !under('src/server/tracking')(file) && file.endsWith('.ts'))) {
      const source = await readFile(path.join(ROOT, file), 'utf8');
      for (const match of source.matchAll(TABLES)) {
        const table = match[1] ?? '';
        const reportRead = under('src/server/reports')(file) && SUMMARIES.has(table) && !/^(INTO|UPDATE)/.test(match[0]);
        if (!reportRead) found.push(`${file}: ${match[0]}`);
      }
    }
    expect(found).toEqual([]);
  });
});
