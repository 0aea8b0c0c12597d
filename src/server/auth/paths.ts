// Where the portal may send a browser back to after signing in or out: a path on this portal,
// never another site. Browsers are lenient with a Location header (they drop tabs and newlines
// anywhere, read `\` as `/`, and `//host` names another host), so `next=/%09/evil.example`
// would arrive as `/<tab>/evil.example` and leave as `//evil.example`. A value is kept only when
// it, and what it decodes to, is plainly a path here; anything else becomes `/`.

const BASE = 'http://portal.invalid';
/** Longer return paths are not addresses of this portal. */
const MAX_LENGTH = 2048;
/** C0 controls (tab, newline, …) and DEL: browsers drop or mangle them in URLs. */
const UNSAFE_CHARACTER = /[\u0000-\u001f\u007f]/;
/** Decoding twice covers values encoded once more by a proxy or a careless link. */
const DECODINGS = 2;

function plainPath(value: string): boolean {
  return value.startsWith('/') && !value.startsWith('//') && !value.includes('\\') && !UNSAFE_CHARACTER.test(value);
}

/** A path on this portal to return to; anything else (another site, `//host`, `/\host`, `/%09/host`) becomes `/`. */
export function safeReturnPath(value: unknown): string {
  if (typeof value !== 'string' || value.length > MAX_LENGTH || !plainPath(value)) return '/';
  let decoded = value;
  for (let round = 0; round < DECODINGS; round += 1) {
    let next: string;
    try {
      next = decodeURIComponent(decoded);
    } catch {
      return '/';
    }
    if (!plainPath(next)) return '/';
    if (next === decoded) break;
    decoded = next;
  }
  // What a browser makes of it, resolved against this portal, must still be this portal.
  return new URL(value, BASE).origin === BASE ? value : '/';
}
