import serialized from 'virtual:formicary/search-index';
import { SearchIndex } from './query.ts';

// The built site's index, for pages and API routes (only Astro's bundler can resolve the
// virtual module). Loaded on the first search, then kept.

let index: SearchIndex | undefined;

export function siteSearchIndex(): SearchIndex {
  index ??= SearchIndex.load(serialized);
  return index;
}
