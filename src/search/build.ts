import lunr from 'lunr';
import type { SearchDocument } from './documents.ts';

// The index is built once (at site build time) and serialised; the server only loads it.
// Documents are kept beside the lunr index because results need their text for snippets, and
// lunr keeps each match's position so a result can point at the section it is in.

export const SEARCH_INDEX_VERSION = 3;

/** [word as written (lower-cased), the stem lunr indexed it under], sorted by word. */
export type VocabularyEntry = [string, string];

export interface SerializedSearchIndex {
  version: typeof SEARCH_INDEX_VERSION;
  index: object;
  documents: SearchDocument[];
  vocabulary: VocabularyEntry[];
}

/** Field boosts: a word in a title says more about a page than the same word in a paragraph. */
export const FIELD_BOOSTS = { title: 8, headings: 4, text: 1 } as const;

/**
 * Every indexed word with its stem. Type-ahead completes what the learner typed against the
 * words as written, then searches their stems: a stem is not always a prefix of its words
 * ("annotations" is indexed as "annot"), so completing against stems alone misses them.
 */
function vocabularyOf(documents: readonly SearchDocument[]): VocabularyEntry[] {
  const stems = new Map<string, string>();
  for (const document of documents) {
    for (const text of [document.title, document.headings, document.text]) {
      for (const token of lunr.tokenizer(text)) {
        const trimmed = lunr.trimmer(token);
        const word = trimmed.toString();
        if (!word || stems.has(word) || !lunr.stopWordFilter(trimmed)) continue;
        stems.set(word, lunr.stemmer(new lunr.Token(word, {})).toString());
      }
    }
  }
  return [...stems].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

export function buildSearchIndex(documents: readonly SearchDocument[]): SerializedSearchIndex {
  const index = lunr(function () {
    this.ref('url');
    this.metadataWhitelist = ['position'];
    this.field('title', { boost: FIELD_BOOSTS.title });
    this.field('headings', { boost: FIELD_BOOSTS.headings });
    this.field('text', { boost: FIELD_BOOSTS.text });
    for (const document of documents) this.add(document);
  });
  return { version: SEARCH_INDEX_VERSION, index: index.toJSON(), documents: [...documents], vocabulary: vocabularyOf(documents) };
}
