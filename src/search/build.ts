import lunr from 'lunr';
import type { SearchDocument } from './documents.ts';

// The index is built once (at site build time) and serialised; the server only loads it.
// Documents are kept beside the lunr index because results need their text for snippets.

export const SEARCH_INDEX_VERSION = 1;

export interface SerializedSearchIndex {
  version: typeof SEARCH_INDEX_VERSION;
  index: object;
  documents: SearchDocument[];
}

/** Field boosts: a word in a title says more about a page than the same word in a paragraph. */
export const FIELD_BOOSTS = { title: 8, heading: 4, text: 1 } as const;

export function buildSearchIndex(documents: readonly SearchDocument[]): SerializedSearchIndex {
  const index = lunr(function () {
    this.ref('url');
    this.field('title', { boost: FIELD_BOOSTS.title, extractor: (doc) => (doc as SearchDocument).titleField });
    this.field('heading', { boost: FIELD_BOOSTS.heading });
    this.field('text', { boost: FIELD_BOOSTS.text });
    for (const document of documents) this.add(document);
  });
  return { version: SEARCH_INDEX_VERSION, index: index.toJSON(), documents: [...documents] };
}
