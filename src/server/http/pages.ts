// Route patterns of the site, read from src/pages file names the way Astro routes them
// (`paths/[path]/[lesson].astro` → `/paths/:path/:lesson`), so metrics and logs name a page's
// route without a list to keep in step with the pages.

import { readdir } from 'node:fs/promises';
import path from 'node:path';

const PAGE_FILE = /\.(astro|md|mdx|ts|js)$/;

export async function pageRoutePatterns(pagesDir: string): Promise<string[]> {
  const patterns: string[] = [];
  const visit = async (dir: string, segments: string[]): Promise<void> => {
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      // Astro ignores files and folders starting with an underscore.
      if (entry.name.startsWith('_')) continue;
      if (entry.isDirectory()) {
        await visit(path.join(dir, entry.name), [...segments, toSegment(entry.name)]);
      } else if (PAGE_FILE.test(entry.name)) {
        const name = entry.name.replace(PAGE_FILE, '');
        const route = name === 'index' ? segments : [...segments, toSegment(name)];
        patterns.push(`/${route.join('/')}`);
      }
    }
  };
  await visit(pagesDir, []);
  return patterns.sort();
}

function toSegment(name: string): string {
  const rest = /^\[\.\.\.(.+)\]$/.exec(name);
  if (rest) return '*';
  const param = /^\[(.+)\]$/.exec(name);
  return param ? `:${param[1]}` : name;
}
