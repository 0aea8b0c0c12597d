// The import graph of src/: every static import and re-export (type-only ones included: a
// circle of types is still a circle a reader has to hold in their head) and dynamic
// `import('…')`, from .ts files and the frontmatter and scripts of .astro files. Relative
// specifiers resolved to files; packages and node: builtins left out.

import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export interface ImportGraph {
  /** Files relative to the root (`src/server/main.ts`), each with the files it imports. */
  edges: Map<string, Set<string>>;
}

const SOURCE = /\.(ts|astro|mjs)$/;
const SPECIFIER = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\sfrom\s+)?['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

async function files(dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await files(full)));
    else if (SOURCE.test(entry.name) && !entry.name.endsWith('.d.ts')) found.push(full);
  }
  return found;
}

/** Comments hold examples of imports that are not imports. */
function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

export async function importGraph(root: string, dir = 'src'): Promise<ImportGraph> {
  const edges = new Map<string, Set<string>>();
  for (const file of await files(path.join(root, dir))) {
    const from = path.relative(root, file);
    const targets = new Set<string>();
    for (const match of withoutComments(await readFile(file, 'utf8')).matchAll(SPECIFIER)) {
      const specifier = match[1] ?? match[2];
      if (!specifier?.startsWith('.')) continue;
      targets.add(path.relative(root, path.resolve(path.dirname(file), specifier)));
    }
    edges.set(from, targets);
  }
  return { edges };
}

/** Strongly connected components of more than one file (or a file importing itself): the circles. */
export function circles(graph: ImportGraph, within: (file: string) => boolean): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const visit = (file: string): void => {
    index.set(file, counter);
    low.set(file, counter);
    counter += 1;
    stack.push(file);
    onStack.add(file);
    for (const next of graph.edges.get(file) ?? []) {
      if (!within(next) || !graph.edges.has(next)) continue;
      if (!index.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) {
        low.set(file, Math.min(low.get(file)!, index.get(next)!));
      }
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== file);
      if (component.length > 1 || graph.edges.get(file)?.has(file)) found.push(component.sort());
    }
  };
  for (const file of [...graph.edges.keys()].filter(within).sort()) if (!index.has(file)) visit(file);
  return found;
}
