// Search figures: build an index over 500 generated lessons, then time 100 queries (after 20
// warm-up queries, as a running portal is warm) the way /api/search runs them.
import { buildSearchIndex, SearchIndex, searchDocuments } from '../src/search/index.ts';
import { generatedContentTree, sampleQueries } from '../test/search/corpus.ts';
import { percentile, round, time } from './stats.ts';

export default async function searchBench(): Promise<Record<string, number>> {
  const tree = generatedContentTree(500);
  let serialized = '';
  const buildMs = await time(() => {
    serialized = JSON.stringify(buildSearchIndex(searchDocuments(tree)));
  });
  let index: SearchIndex | undefined;
  const loadMs = await time(() => {
    index = SearchIndex.load(JSON.parse(serialized));
  });
  const queries = sampleQueries(100);
  for (const query of queries.slice(0, 20)) index!.search(query);
  const times: number[] = [];
  for (const query of queries) times.push(await time(() => index!.search(query)));
  return {
    search_index_lessons: 500,
    search_index_build_s: round(buildMs / 1000),
    search_index_load_ms: round(loadMs),
    search_index_mb: round(serialized.length / 1024 / 1024),
    search_ms_p50: percentile(times, 50),
    search_ms_p95: percentile(times, 95),
  };
}
