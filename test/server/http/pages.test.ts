import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pageRoutePatterns, RouteTable } from '../../../src/server/http/index.ts';

describe('pageRoutePatterns', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'formicary-pages-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('names routes the way Astro routes src/pages', async () => {
    const files = [
      'index.astro',
      '404.astro',
      'search.astro',
      '_http.ts',
      'api/search.ts',
      'api/openapi.json.ts',
      'paths/[path]/index.astro',
      'paths/[path]/[lesson].astro',
      'docs/[...slug].astro',
      '_drafts/secret.astro',
      'styles.css',
    ];
    for (const file of files) {
      await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
      await writeFile(path.join(dir, file), '');
    }
    expect(await pageRoutePatterns(dir)).toEqual([
      '/',
      '/404',
      '/api/openapi.json',
      '/api/search',
      '/docs/*',
      '/paths/:path',
      '/paths/:path/:lesson',
      '/search',
    ]);
  });

  it('finds nothing where there are no pages', async () => {
    expect(await pageRoutePatterns(path.join(dir, 'absent'))).toEqual([]);
  });
});

describe('RouteTable', () => {
  const table = new RouteTable<string>();
  table.add('/api/search', 'search');
  table.add('/api/:endpoint', 'api');
  table.add('/paths/:path/:lesson', 'lesson');
  table.add('/_astro/*', 'asset');

  it('prefers literal segments to parameters and decodes parameters', () => {
    expect(table.match('/api/search')).toEqual({ pattern: '/api/search', params: {}, value: 'search' });
    expect(table.match('/api/progress')?.value).toBe('api');
    expect(table.match('/paths/k8s%20basics/02-pods/')).toEqual({
      pattern: '/paths/:path/:lesson',
      params: { path: 'k8s basics', lesson: '02-pods' },
      value: 'lesson',
    });
  });

  it('matches everything below a `*` and nothing else', () => {
    expect(table.match('/_astro/a/b.js')?.value).toBe('asset');
    expect(table.match('/_astro')).toBeNull();
    expect(table.match('/paths/only-one-more/x/y')).toBeNull();
    expect(table.match('/api/bad%zz')).toBeNull();
  });

  it('refuses the same pattern twice', () => {
    expect(() => table.add('/api/search', 'again')).toThrow('route /api/search: already registered');
  });
});
