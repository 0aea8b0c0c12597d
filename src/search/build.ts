import lunr from 'lunr';
import type { SearchDocument } from './documents.ts';

// The index is built once (at site build time) and serialised; the server only loads it.
// Documents are kept beside the lunr index because results need their text for snippets, and
// lunr keeps each match's position so a result can point at the section it is in.

export const SEARCH_INDEX_VERSION = 2;

export interface SerializedSearchIndex {
  version: typeof SEARCH_INDEX_VERSION;
  index: object;
  documents: SearchDocument[];
}

/** Field boosts: a word in a title says more about a page than the same word in a paragraph. */
export const FIELD_BOOSTS = { title: 8, headings: 4, text: 1 } as const;

export function buildSearchIndex(documents: readonly SearchDocument[]): SerializedSearchIndex {
  const index = lunr(function () {
    this.ref('url');
    this.metadataWhitelist = ['position'];
    this.field('title', { boost: FIELD_BOOSTS.title });
    this.field('headings', { boost: FIELD_BOOSTS.headings });
    this.field('text', { boost: FIELD_BOOSTS.text });
    for (const document of documents) this.add(document);
  });
  return { version: SEARCH_INDEX_VERSION, index: index.toJSON(), documents: [...documents] };
}
