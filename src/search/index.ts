// Search over paths and lessons: documents from the content tree, a lunr index built at site
// build time, and the query that the search page and /api/search share. The built site reads
// its index through ./site.ts.
export { buildSearchIndex, FIELD_BOOSTS, SEARCH_INDEX_VERSION, type SerializedSearchIndex } from './build.ts';
export { lessonUrl, pathUrl, searchDocuments, type SearchDocument, type SearchSection } from './documents.ts';
export { MAX_QUERY_LENGTH, SearchIndex, type SearchResponse, type SearchResult } from './query.ts';
export { escapeHtml, highlightSnippet, type Range } from './snippet.ts';
export { SEARCH_INDEX_MODULE, searchIndexIntegration, searchIndexModuleSource } from './integration.ts';
