import lunr from 'lunr';
import { z } from 'zod';
import { SEARCH_INDEX_VERSION, type SerializedSearchIndex } from './build.ts';
import { searchDocument, type SearchDocument } from './documents.ts';
import { escapeHtml, highlightSnippet, stem } from './snippet.ts';

export interface SearchResult {
  /** The lesson or path title. */
  title: string;
  path: string;
  pathTitle: string;
  lesson?: string;
  /** The heading the hit is under, when it is not the top of the page. */
  heading?: string;
  /** Deep link: `/paths/<path>/<lesson>#<heading-slug>`. */
  url: string;
  /** HTML: escaped text with matched words in <mark>. */
  snippet: string;
  score: number;
}

export interface SearchResponse {
  query: string;
  results: SearchResult[];
}

export const MAX_QUERY_LENGTH = 200;
const DEFAULT_LIMIT = 10;
/** A page's other matching sections add a little to its best one, so broad coverage ranks up. */
const OTHER_SECTIONS_WEIGHT = 0.25;

const serializedShape = z.object({
  version: z.literal(SEARCH_INDEX_VERSION),
  index: z.object({ version: z.string(), fields: z.array(z.string()) }).loose(),
  documents: z.array(searchDocument),
});

/** Query words as lunr indexed them: trimmed, lower-cased, stop words dropped (not yet stemmed). */
function queryTerms(query: string): string[] {
  return lunr
    .tokenizer(query)
    .map((token) => lunr.stopWordFilter(lunr.trimmer(token)))
    .filter((token): token is lunr.Token => token !== undefined)
    .map((token) => token.toString().replace(/\*/g, ''))
    .filter(Boolean);
}

export class SearchIndex {
  readonly #index: lunr.Index;
  readonly #documents: Map<string, SearchDocument>;

  private constructor(index: lunr.Index, documents: Map<string, SearchDocument>) {
    this.#index = index;
    this.#documents = documents;
  }

  static load(serialized: SerializedSearchIndex | unknown): SearchIndex {
    const parsed = serializedShape.safeParse(serialized);
    if (!parsed.success) {
      throw new Error(`search index: not a version ${SEARCH_INDEX_VERSION} index built by buildSearchIndex; rebuild the site (${parsed.error.issues[0]?.message})`);
    }
    const documents = parsed.data.documents;
    return new SearchIndex(lunr.Index.load(parsed.data.index), new Map(documents.map((document) => [document.url, document])));
  }

  get size(): number {
    return this.#documents.size;
  }

  search(rawQuery: string, options: { limit?: number } = {}): SearchResponse {
    const query = rawQuery.trim().slice(0, MAX_QUERY_LENGTH);
    const terms = queryTerms(query);
    if (terms.length === 0) return { query, results: [] };
    // Every word must appear (in any field); the last one may be unfinished, as in type-ahead.
    // Only when nothing has them all do pages with some of them count.
    let hits = this.#run(terms, lunr.Query.presence.REQUIRED);
    if (hits.length === 0 && terms.length > 1) hits = this.#run(terms, lunr.Query.presence.OPTIONAL);

    const pages = new Map<string, { best: lunr.Index.Result; others: number }>();
    for (const hit of hits) {
      const document = this.#documents.get(hit.ref);
      if (!document) continue;
      const key = document.lesson ? `${document.path}/${document.lesson}` : document.path;
      const page = pages.get(key);
      if (!page) pages.set(key, { best: hit, others: 0 });
      else page.others += hit.score;
    }

    const results = [...pages.values()]
      .map(({ best, others }) => this.#result(best, best.score + OTHER_SECTIONS_WEIGHT * others))
      .sort((a, b) => b.score - a.score || a.url.localeCompare(b.url))
      .slice(0, options.limit ?? DEFAULT_LIMIT);
    return { query, results };
  }

  #run(terms: string[], presence: lunr.Query.presence): lunr.Index.Result[] {
    return this.#index.query((builder) => {
      terms.forEach((term, position) => {
        if (position < terms.length - 1) {
          builder.term(term, { presence });
          return;
        }
        builder.term(stem(term), { presence, usePipeline: false, wildcard: lunr.Query.wildcard.TRAILING });
        builder.term(term, { boost: 2 });
      });
    });
  }

  #result(hit: lunr.Index.Result, score: number): SearchResult {
    const document = this.#documents.get(hit.ref)!;
    const matched = new Set(Object.keys(hit.matchData.metadata));
    return {
      title: document.title,
      path: document.path,
      pathTitle: document.pathTitle,
      ...(document.lesson ? { lesson: document.lesson } : {}),
      ...(document.heading ? { heading: document.heading } : {}),
      url: document.url,
      snippet: document.text ? highlightSnippet(document.text, matched) : escapeHtml(document.title),
      score: Math.round(score * 1000) / 1000,
    };
  }
}
