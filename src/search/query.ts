import lunr from 'lunr';
import { z } from 'zod';
import { SEARCH_INDEX_VERSION, type SerializedSearchIndex, type VocabularyEntry } from './build.ts';
import { searchDocument, type SearchDocument, type SearchSection } from './documents.ts';
import { highlightSnippet, stem, type Range } from './snippet.ts';

export interface SearchResult {
  /** The lesson or path title. */
  title: string;
  path: string;
  pathTitle: string;
  lesson?: string;
  /** The heading of the section the result links to, when it is not the top of the page. */
  heading?: string;
  /** Deep link: `/paths/<path>/<lesson>#<heading-slug>`, or the page itself. */
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
/** The shortest unfinished last word that is completed (type-ahead); shorter ones must match whole. */
const MIN_PREFIX_LENGTH = 3;
/** Completions of one unfinished word, at most: "con" should not turn into the whole vocabulary. */
const MAX_COMPLETIONS = 40;
/** How much a match in a section's heading counts against one in its text. */
const HEADING_WEIGHT = 4;

const serializedShape = z.object({
  version: z.literal(SEARCH_INDEX_VERSION),
  index: z.object({ version: z.string(), fields: z.array(z.string()) }).loose(),
  documents: z.array(searchDocument),
  vocabulary: z.array(z.tuple([z.string(), z.string()])),
});

/** lunr's match data: term → field → {position: [start, length][]}. */
const matchMetadata = z.record(z.string(), z.record(z.string(), z.object({ position: z.array(z.tuple([z.number(), z.number()])).optional() })));

/** Query words as lunr indexed them: trimmed, lower-cased, stop words dropped (not yet stemmed). */
function queryTerms(query: string): string[] {
  return lunr
    .tokenizer(query)
    .map((token) => lunr.stopWordFilter(lunr.trimmer(token)))
    .filter((token): token is lunr.Token => token !== undefined)
    .map((token) => token.toString().replace(/\*/g, ''))
    .filter(Boolean);
}

interface Matches {
  title: boolean;
  headings: Range[];
  text: Range[];
}

function matchesOf(hit: lunr.Index.Result): Matches {
  const matches: Matches = { title: false, headings: [], text: [] };
  const metadata = matchMetadata.parse(hit.matchData.metadata);
  for (const fields of Object.values(metadata)) {
    for (const [field, { position = [] }] of Object.entries(fields)) {
      if (field === 'title') matches.title = true;
      const ranges = field === 'headings' ? matches.headings : field === 'text' ? matches.text : null;
      for (const [start, length] of position) ranges?.push([start, start + length]);
    }
  }
  return matches;
}

/**
 * Where a result should lead: the top of the page when its title matched (the page is about
 * the words), otherwise the section whose heading and text hold the most matches.
 */
function bestSection(document: SearchDocument, matches: Matches): number {
  if (matches.title) return 0;
  const { sections } = document;
  const sectionAt = (offset: number, startOf: (section: SearchSection) => number) => {
    let index = 0;
    for (let candidate = 1; candidate < sections.length; candidate += 1) {
      if (startOf(sections[candidate]!) <= offset) index = candidate;
    }
    return index;
  };
  const scores = new Array<number>(sections.length).fill(0);
  for (const [start] of matches.text) scores[sectionAt(start, (section) => section.start)]! += 1;
  for (const [start] of matches.headings) scores[sectionAt(start, (section) => section.headingStart)]! += HEADING_WEIGHT;
  let best = 0;
  scores.forEach((score, index) => {
    if (score > scores[best]!) best = index;
  });
  return best;
}

export class SearchIndex {
  readonly #index: lunr.Index;
  readonly #documents: Map<string, SearchDocument>;
  readonly #vocabulary: VocabularyEntry[];

  private constructor(index: lunr.Index, documents: Map<string, SearchDocument>, vocabulary: VocabularyEntry[]) {
    this.#index = index;
    this.#documents = documents;
    this.#vocabulary = vocabulary;
  }

  static load(serialized: SerializedSearchIndex | unknown): SearchIndex {
    const parsed = serializedShape.safeParse(serialized);
    if (!parsed.success) {
      throw new Error(`search index: not a version ${SEARCH_INDEX_VERSION} index built by buildSearchIndex; rebuild the site (${parsed.error.issues[0]?.message})`);
    }
    const { documents, vocabulary } = parsed.data;
    return new SearchIndex(lunr.Index.load(parsed.data.index), new Map(documents.map((document) => [document.url, document])), vocabulary);
  }

  /** Pages in the index. */
  get size(): number {
    return this.#documents.size;
  }

  search(rawQuery: string, options: { limit?: number } = {}): SearchResponse {
    const query = rawQuery.trim().slice(0, MAX_QUERY_LENGTH);
    const terms = queryTerms(query);
    if (terms.length === 0) return { query, results: [] };
    // Every word must appear (in any field). The last one may be unfinished, as in type-ahead:
    // it stands for the stems of the indexed words it begins, any of which will do. Only when
    // no page has every word do pages with some of them count.
    const last = terms.at(-1)!;
    const completions = this.#completions(last);
    let hits = this.#run(terms.slice(0, -1), completions, lunr.Query.presence.REQUIRED);
    if (hits.length === 0 && terms.length > 1) hits = this.#run(terms.slice(0, -1), completions, lunr.Query.presence.OPTIONAL);
    const results = hits.slice(0, options.limit ?? DEFAULT_LIMIT).map((hit) => this.#result(hit));
    return { query, results };
  }

  /** Stems to search for an unfinished word: its own, then those of the words it begins. */
  #completions(word: string): string[] {
    const stems = new Set([stem(word)]);
    if (word.length < MIN_PREFIX_LENGTH) return [...stems];
    let low = 0;
    let high = this.#vocabulary.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (this.#vocabulary[middle]![0] < word) low = middle + 1;
      else high = middle;
    }
    for (let index = low; index < this.#vocabulary.length && stems.size < MAX_COMPLETIONS; index += 1) {
      const [written, stemmed] = this.#vocabulary[index]!;
      if (!written.startsWith(word)) break;
      stems.add(stemmed);
    }
    return [...stems];
  }

  /**
   * `words` are whole words with `presence`; at least one of `completions` must match too
   * (lunr has no "one of these" clause, so they are optional terms and the hits are filtered).
   */
  #run(words: string[], completions: string[], presence: lunr.Query.presence): lunr.Index.Result[] {
    const hits = this.#index.query((builder) => {
      for (const word of words) builder.term(word, { presence });
      completions.forEach((completion, position) => builder.term(completion, { usePipeline: false, boost: position === 0 ? 2 : 1 }));
    });
    if (presence !== lunr.Query.presence.REQUIRED || words.length === 0) return hits;
    const wanted = new Set(completions);
    return hits.filter((hit) => Object.keys(hit.matchData.metadata).some((term) => wanted.has(term)));
  }

  #result(hit: lunr.Index.Result): SearchResult {
    const document = this.#documents.get(hit.ref)!;
    const matches = matchesOf(hit);
    const index = bestSection(document, matches);
    const section = document.sections[index]!;
    const end = document.sections[index + 1]?.start ?? document.text.length;
    return {
      title: document.title,
      path: document.path,
      pathTitle: document.pathTitle,
      ...(document.lesson ? { lesson: document.lesson } : {}),
      ...(section.heading ? { heading: section.heading } : {}),
      url: section.slug ? `${document.url}#${section.slug}` : document.url,
      snippet: highlightSnippet(document.text, matches.text, section.start, end),
      score: Math.round(hit.score * 1000) / 1000,
    };
  }
}
