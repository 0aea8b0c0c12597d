import lunr from 'lunr';

// A short excerpt around the first hit with every matched word wrapped in <mark>. Words are
// cut and normalised the way lunr indexes them (split on whitespace and hyphens, outer
// non-word characters trimmed, lower-cased, stemmed), so what is marked is what matched.

const SNIPPET_LENGTH = 180;
const LEAD = 50;

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => escapes[char] ?? char);
}

export function stem(word: string): string {
  return lunr.stemmer(new lunr.Token(word.toLowerCase(), {})).toString();
}

function matchedRanges(text: string, terms: ReadonlySet<string>): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const match of text.matchAll(/[^\s-]+/g)) {
    const lead = /^\W*/.exec(match[0])?.[0].length ?? 0;
    const trail = /\W*$/.exec(match[0])?.[0].length ?? 0;
    const core = match[0].slice(lead, match[0].length - trail);
    if (core && terms.has(stem(core))) ranges.push([match.index + lead, match.index + match[0].length - trail]);
  }
  return ranges;
}

export function highlightSnippet(text: string, terms: ReadonlySet<string>): string {
  const ranges = matchedRanges(text, terms);
  let start = 0;
  const first = ranges[0];
  if (first && first[0] > LEAD) {
    const space = text.indexOf(' ', first[0] - LEAD);
    start = space >= 0 && space < first[0] ? space + 1 : first[0];
  }
  let end = Math.min(text.length, start + SNIPPET_LENGTH);
  if (end < text.length) {
    const space = text.lastIndexOf(' ', end);
    if (space > start) end = space;
  }
  let html = start > 0 ? '…' : '';
  let cursor = start;
  for (const [from, to] of ranges) {
    if (to <= cursor || from >= end) continue;
    const markFrom = Math.max(from, cursor);
    const markTo = Math.min(to, end);
    html += `${escapeHtml(text.slice(cursor, markFrom))}<mark>${escapeHtml(text.slice(markFrom, markTo))}</mark>`;
    cursor = markTo;
  }
  html += escapeHtml(text.slice(cursor, end));
  return end < text.length ? `${html}…` : html;
}
