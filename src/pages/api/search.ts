import type { APIRoute } from 'astro';
import { siteSearchIndex } from '../../search/site.ts';

const MAX_LIMIT = 50;

/** GET /api/search?q=…[&limit=N] → {query, results: [{title, path, lesson?, url, snippet, score}]} */
export const GET: APIRoute = ({ url }) => {
  const query = url.searchParams.get('q') ?? '';
  const requested = Number(url.searchParams.get('limit') ?? '10');
  const limit = Number.isInteger(requested) && requested > 0 ? Math.min(requested, MAX_LIMIT) : 10;
  return Response.json(siteSearchIndex().search(query, { limit }), {
    // The index changes only with a new build.
    headers: { 'cache-control': 'public, max-age=300' },
  });
};
