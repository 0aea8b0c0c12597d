import lunr from 'lunr';

// A short excerpt of a section around its first hit, with every matched word (as lunr
// located it) wrapped in <mark>.

const SNIPPET_LENGTH = 180;
const LEAD = 50;

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => escapes[char] ?? char);
}

/** A word as lunr indexes it: lower-cased and stemmed. */
export function stem(word: string): string {
  return lunr.stemmer(new lunr.Token(word.toLowerCase(), {})).toString();
}

/** [start, end) of a matched word in the text. */
export type Range = readonly [number, number];

/** lunr's positions cover the raw token ("Pods."); the mark covers the word, as lunr's trimmer does. */
function trimToWord(text: string, [start, end]: Range): Range {
  let from = start;
  let to = end;
  while (from < to && /\W/.test(text[from]!)) from += 1;
  while (to > from && /\W/.test(text[to - 1]!)) to -= 1;
  return [from, to];
}

/**
 * HTML for text[from, to) — shortened to a window that starts shortly before the first range
 * inside it — with the ranges marked.
 */
export function highlightSnippet(text: string, ranges: readonly Range[], from = 0, to = text.length): string {
  const inside = ranges
    .filter(([start, end]) => start >= from && end <= to)
    .map((range) => trimToWord(text, range))
    .sort((a, b) => a[0] - b[0]);
  let start = from;
  const first = inside[0];
  if (first && first[0] - from > LEAD) {
    const space = text.indexOf(' ', first[0] - LEAD);
    start = space >= 0 && space < first[0] ? space + 1 : first[0];
  }
  let end = Math.min(to, start + SNIPPET_LENGTH);
  if (end < to) {
    const space = text.lastIndexOf(' ', end);
    if (space > start) end = space;
  }
  let html = start > from ? '…' : '';
  let cursor = start;
  for (const [markFrom, markTo] of inside) {
    if (markFrom < cursor || markTo > end) continue;
    html += `${escapeHtml(text.slice(cursor, markFrom))}<mark>${escapeHtml(text.slice(markFrom, markTo))}</mark>`;
    cursor = markTo;
  }
  html += escapeHtml(text.slice(cursor, end).trimEnd());
  return end < to ? `${html}…` : html;
}
