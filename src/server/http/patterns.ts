// Address patterns: `/paths/:path/:lesson`, or `/_astro/*` for everything below a folder. Used to
// find the handler for a request and to name its route in metrics and logs — a label must come
// from a small, fixed set, so `/paths/x/y` is counted as `/paths/:path/:lesson`.

export interface RouteMatch<T> {
  pattern: string;
  params: Record<string, string>;
  value: T;
}

interface Entry<T> {
  pattern: string;
  segments: string[];
  score: number;
  value: T;
}

export class RouteTable<T> {
  readonly #entries: Entry<T>[] = [];

  add(pattern: string, value: T): void {
    if (!pattern.startsWith('/')) throw new Error(`route ${JSON.stringify(pattern)}: must start with /`);
    if (this.#entries.some((entry) => entry.pattern === pattern)) {
      throw new Error(`route ${pattern}: already registered`);
    }
    const segments = pattern.split('/');
    this.#entries.push({ pattern, segments, score: specificity(segments), value });
    // Literal segments beat parameters, parameters beat `*`: `/api/search` before `/api/:name`.
    this.#entries.sort((a, b) => b.score - a.score);
  }

  get patterns(): string[] {
    return this.#entries.map((entry) => entry.pattern);
  }

  match(pathname: string): RouteMatch<T> | null {
    const segments = pathname.split('/');
    if (segments.length > 2 && segments.at(-1) === '') segments.pop();
    for (const entry of this.#entries) {
      const params = matchSegments(entry.segments, segments);
      if (params) return { pattern: entry.pattern, params, value: entry.value };
    }
    return null;
  }
}

function matchSegments(pattern: readonly string[], segments: readonly string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i += 1) {
    const expected = pattern[i]!;
    if (expected === '*' && i === pattern.length - 1) return segments.length > i ? params : null;
    const actual = segments[i];
    if (actual === undefined) return null;
    if (expected.startsWith(':')) {
      if (actual === '') return null;
      try {
        params[expected.slice(1)] = decodeURIComponent(actual);
      } catch {
        return null;
      }
    } else if (expected !== actual) return null;
  }
  return pattern.length === segments.length ? params : null;
}

function specificity(segments: readonly string[]): number {
  return segments.reduce((score, segment) => score * 3 + (segment === '*' ? 0 : segment.startsWith(':') ? 1 : 2), 1);
}
