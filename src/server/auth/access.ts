// Who may open which address: one table for every page, API route, event stream and WebSocket
// upgrade, applied by main.ts before a request reaches its handler. A route that no rule names is
// refused to everyone (and test/server/auth/access.test.ts fails for every page without a rule),
// so a new route is private until someone decides otherwise here.
//
// Paths: `/search` (that address), `/labs/:lab` (one segment for the parameter), `/paths/**` (the
// address and everything below it). The most specific rule wins: `/api/workshops/join` over
// `/api/workshops/**`.

import { RouteTable } from '../http/index.ts';
import type { Access } from './roles.ts';

export interface AccessRule {
  path: string;
  access: Access;
}

export const ACCESS_RULES: readonly AccessRule[] = [
  // Reading is open to everyone: the catalog, paths and lessons, search, what a lab is about.
  { path: '/', access: 'public' },
  { path: '/404', access: 'public' },
  { path: '/paths/**', access: 'public' },
  { path: '/search', access: 'public' },
  { path: '/api/search', access: 'public' },
  { path: '/labs/**', access: 'public' },
  { path: '/api/openapi.json', access: 'public' },
  { path: '/_astro/**', access: 'public' },

  // Signing in and out, and the page that explains a refusal.
  { path: '/signin', access: 'public' },
  { path: '/signout', access: 'public' },
  { path: '/auth/**', access: 'public' },
  { path: '/api/session', access: 'public' },

  // The portal's own health and metrics, for probes and Prometheus.
  { path: '/api/health', access: 'public' },
  { path: '/api/ready', access: 'public' },
  { path: '/metrics', access: 'public' },

  // A learner's own progress, labs (sandboxes, terminals, checks) and workshops joined.
  { path: '/api/progress', access: 'learner' },
  { path: '/api/labs/**', access: 'learner' },
  { path: '/workshops/**', access: 'learner' },
  { path: '/api/workshops/join', access: 'learner' },
  { path: '/api/workshops/current/**', access: 'learner' },
  // My learning and a learner's own xAPI statements (admins may ask for anyone's); a certificate's
  // verification page is for anyone signed in, i.e. anyone in the company.
  { path: '/me/**', access: 'learner' },
  { path: '/api/me/**', access: 'learner' },
  { path: '/api/xapi/**', access: 'learner' },
  { path: '/certificates/**', access: 'learner' },

  // Instructors run workshops.
  { path: '/instructor/**', access: 'instructor' },
  { path: '/api/workshops/**', access: 'instructor' },

  // Training owners see every learner's records.
  { path: '/admin/**', access: 'admin' },
  { path: '/api/reports/**', access: 'admin' },
];

const SUBTREE = '/**';

export class AccessPolicy {
  readonly #table = new RouteTable<AccessRule>();

  constructor(rules: readonly AccessRule[] = ACCESS_RULES) {
    for (const rule of rules) {
      const patterns = rule.path.endsWith(SUBTREE)
        ? [rule.path.slice(0, -SUBTREE.length) || '/', `${rule.path.slice(0, -SUBTREE.length)}/*`]
        : [rule.path];
      for (const pattern of patterns) {
        try {
          this.#table.add(pattern, rule);
        } catch (error) {
          throw new Error(`access rule ${rule.path}: ${(error as Error).message}; each address needs exactly one rule`);
        }
      }
    }
  }

  /** The rule for a request's path, or null when no rule names it. */
  ruleFor(pathname: string): AccessRule | null {
    return this.#table.match(pathname)?.value ?? null;
  }

  /**
   * The rule every address of a route pattern (`/paths/:path/:lesson`, `/_astro/*`) falls under.
   * Parameters stand for values no literal rule can equal, so `/api/workshops/:id` is judged by
   * `/api/workshops/**`, not by `/api/workshops/join`.
   */
  ruleForRoute(pattern: string): AccessRule | null {
    const sample = pattern
      .split('/')
      .map((segment) => (segment.startsWith(':') ? `{${segment.slice(1)}}` : segment === '*' ? '{rest}/{more}' : segment))
      .join('/');
    return this.ruleFor(sample);
  }
}
