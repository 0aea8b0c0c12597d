// /api/openapi.json describes every API route there is, and nothing that is not there: the JSON
// endpoints (src/pages/api, each exported method), the event streams the server serves beside
// Astro, and the portal's own /api/health and /api/ready. Adding a route without describing it
// in src/server/openapi/operations.ts fails here.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PortalRoutes } from '../../../src/server/http/index.ts';
import { openApiDocument, PORTAL_OPERATIONS } from '../../../src/server/openapi/index.ts';
import { registerWorkshopRoutes, type Workshops } from '../../../src/server/workshops/index.ts';

const API_DIR = path.join(import.meta.dirname, '..', '..', '..', 'src', 'pages', 'api');
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;

/** `workshops/[id]/results.csv.ts` → `/api/workshops/{id}/results.csv`, as OpenAPI writes paths. */
function openApiPath(file: string): string {
  const segments = path
    .relative(API_DIR, file)
    .replace(/\.ts$/, '')
    .split(path.sep)
    .filter((segment, index, all) => !(segment === 'index' && index === all.length - 1))
    .map((segment) => segment.replace(/^\[(.+)\]$/, '{$1}'));
  return ['/api', ...segments].join('/');
}

async function pageRoutes(dir = API_DIR): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    // Astro ignores names starting with an underscore: helpers, not routes.
    if (entry.name.startsWith('_')) continue;
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...(await pageRoutes(file)));
    else if (entry.name.endsWith('.ts')) {
      const source = await readFile(file, 'utf8');
      const methods = METHODS.filter((method) => new RegExp(`^export const ${method}\\b`, 'm').test(source));
      expect(methods, `${path.relative(API_DIR, file)} exports no GET, POST, PUT, PATCH or DELETE`).not.toEqual([]);
      for (const method of methods) found.push(`${method.toLowerCase()} ${openApiPath(file)}`);
    }
  }
  return found;
}

/** The routes served beside Astro (event streams): registered on a fresh table, never called. */
function serverRoutes(): string[] {
  const routes = new PortalRoutes();
  registerWorkshopRoutes(routes, {} as Workshops);
  return routes.requests.patterns.flatMap((pattern) => {
    const sample = pattern.replace(/:([a-z]+)/gi, 'x');
    const methods = [...(routes.requests.match(sample)?.value.keys() ?? [])];
    return methods.map((method) => `${method.toLowerCase()} ${pattern.replace(/:([a-z]+)/gi, '{$1}')}`);
  });
}

describe('the OpenAPI document', () => {
  it('describes every API route, and only routes that exist', async () => {
    const routes = new Set([...(await pageRoutes()), ...serverRoutes(), 'get /api/health', 'get /api/ready']);
    const described = new Set(PORTAL_OPERATIONS.map((operation) => `${operation.method} ${operation.path}`));
    expect([...routes].filter((route) => !described.has(route)).sort(), 'API routes missing from src/server/openapi/operations.ts').toEqual([]);
    expect([...described].filter((operation) => !routes.has(operation)).sort(), 'operations described without a route').toEqual([]);
    expect(routes.has('post /api/workshops/{id}/learners/{learner}/reset')).toBe(true);
  });

  it('renders as OpenAPI 3.1 with the workshop API, its streams and its refusals', () => {
    const document = openApiDocument({ title: 't', version: '0', description: 'd' }, PORTAL_OPERATIONS) as {
      paths: Record<string, Record<string, { responses: Record<string, { content?: Record<string, unknown> }>; requestBody?: { content: Record<string, { schema: { required?: string[] } }> } }>>;
    };
    const create = document.paths['/api/workshops']?.post;
    expect(create?.requestBody?.content['application/json']?.schema.required).toEqual(['title', 'startsAt', 'endsAt', 'seats']);
    expect(Object.keys(create?.responses ?? {})).toEqual(expect.arrayContaining(['201', '400', '401', '403', '413']));
    expect(Object.keys(document.paths['/api/workshops/{id}/events']?.get?.responses['200']?.content ?? {})).toEqual(['text/event-stream']);
    expect(Object.keys(document.paths['/api/workshops/{id}/results.csv']?.get?.responses['200']?.content ?? {})).toEqual(['text/csv']);
  });
});
