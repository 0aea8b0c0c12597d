import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readContentTree } from '../../src/content-model/index.ts';
import { buildSearchIndex, highlightSnippet, SearchIndex, searchDocuments } from '../../src/search/index.ts';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'portal');
let index: SearchIndex;

beforeAll(async () => {
  // Through JSON, as the built site stores and loads it.
  const serialized = JSON.parse(JSON.stringify(buildSearchIndex(searchDocuments(await readContentTree(fixture))))) as unknown;
  index = SearchIndex.load(serialized);
});

const urls = (query: string) => index.search(query).results.map((result) => result.url);

describe('ranking', () => {
  it('puts a page whose title has the word above pages that only mention it', () => {
    const [first, ...rest] = index.search('pod').results;
    expect(first).toMatchObject({ title: 'Your first Pod', url: '/paths/container-basics/first-pod' });
    expect(rest.length).toBeGreaterThan(0);
    for (const result of rest) expect(result.score).toBeLessThanOrEqual(first!.score);
  });

  it('requires every word, then falls back to any of them when no page has all', () => {
    expect(urls('digest registry')).toEqual(['/paths/container-basics/images']);
    const either = urls('kubelet rollback');
    expect(either).toContain('/paths/container-basics/first-pod#watch-it-start');
    expect(either.some((url) => url.startsWith('/paths/cluster-operations/rollouts'))).toBe(true);
  });

  it('completes the last, unfinished word as the learner types', () => {
    expect(urls('kubel')).toEqual(['/paths/container-basics/first-pod#watch-it-start']);
    expect(urls('rollb').some((url) => url.startsWith('/paths/cluster-operations/rollouts'))).toBe(true);
  });

  it('completes words whose stem is shorter than what was typed', () => {
    // "Deployment" is indexed under the stem "deploy", which "deploym" does not begin.
    expect(urls('deploym')).toEqual(urls('deployment'));
    expect(urls('deploym').some((url) => url.startsWith('/paths/cluster-operations/rollouts'))).toBe(true);
  });

  it('matches word forms through stemming', () => {
    expect(urls('digests')).toEqual(urls('digest'));
  });

  it('finds nothing for stop words, blanks or unknown words, without throwing on query syntax', () => {
    expect(index.search('the and of').results).toEqual([]);
    expect(index.search('   ').results).toEqual([]);
    expect(index.search('zzzzzz').results).toEqual([]);
    expect(() => index.search('pod: ^2 ~1 +- *')).not.toThrow();
  });

  it('returns at most the requested number of results', () => {
    expect(index.search('pod', { limit: 2 }).results).toHaveLength(2);
  });
});

describe('deep links', () => {
  it('links to the heading of the section the words are in', () => {
    expect(index.search('kubelet').results[0]).toMatchObject({
      title: 'Your first Pod',
      path: 'container-basics',
      pathTitle: 'Container basics',
      lesson: 'first-pod',
      heading: 'Watch it start',
      url: '/paths/container-basics/first-pod#watch-it-start',
    });
  });

  it('prefers the section whose heading has the word', () => {
    expect(index.search('tags').results[0]).toMatchObject({ url: '/paths/container-basics/images#tags-and-digests', heading: 'Tags and digests' });
  });

  it('links to the top of the page when its title has the words', () => {
    expect(index.search('rolling').results[0]).toMatchObject({ url: '/paths/cluster-operations/rollouts' });
    expect(index.search('rolling').results[0]?.heading).toBeUndefined();
  });

  it('links paths to the path page', () => {
    expect(index.search('application developers').results[0]).toMatchObject({ url: '/paths/container-basics', title: 'Container basics' });
    expect(index.search('application developers').results[0]?.lesson).toBeUndefined();
  });
});

describe('snippets', () => {
  it('mark every matched word form in the linked section', () => {
    const snippet = index.search('kubelet').results[0]?.snippet ?? '';
    expect(snippet).toContain('the <mark>kubelet</mark> pulls the image');
    expect(index.search('digests').results[0]?.snippet).toMatch(/<mark>digest<\/mark>/);
    expect(index.search('pod').results[0]?.snippet).toContain('<mark>Pod</mark> from a manifest');
  });

  it('start shortly before the first match and mark whole words, not punctuation', () => {
    expect(index.search('pods').results.find((result) => result.path === 'cluster-operations' && !result.lesson)?.snippet).toBe(
      '…and rollbacks. Developers who already run <mark>Pods</mark>. Roll out a new version without downtime. Operating a workload means changing it safely.',
    );
  });

  it('escape the text around the marks', () => {
    const text = 'Use <b>kubectl</b> & "friends"';
    expect(highlightSnippet(text, [[7, 14]])).toBe('Use &lt;b&gt;<mark>kubectl</mark>&lt;/b&gt; &amp; &quot;friends&quot;');
  });
});

describe('loading', () => {
  it('refuses an index from another version with a message saying what to do', () => {
    expect(() => SearchIndex.load({ version: 1, index: {}, documents: [] })).toThrowError(/rebuild the site/);
  });
});
