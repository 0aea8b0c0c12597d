import { describe, expect, it } from 'vitest';
import { requireLearner, requireRole } from '../../../src/pages/_access.ts';
import type { Refusal } from '../../../src/server/auth/index.ts';
import type { Learner, Role } from '../../../src/server/services.ts';

// The checks a page or API route can add beyond its access rule: what they answer, given what
// Astro gives a page (locals, url, rewrite).

function context(pathname: string, learner: Learner | null) {
  const locals: { learner: Learner | null; refusal?: Refusal | null } = { learner };
  const rewrites: string[] = [];
  return {
    locals: locals as never,
    seen: locals,
    rewrites,
    url: new URL(`http://portal${pathname}`),
    rewrite: async (to: unknown) => {
      rewrites.push(String(to));
      return new Response('the refusal page', { status: 403 });
    },
  };
}

const learner = (roles: Role[]): Learner => ({ id: 'l-1', name: 'Ada', email: null, groups: [], roles });

describe('requireLearner and requireRole', () => {
  it('let the request go on when the learner qualifies', async () => {
    expect(await requireLearner(context('/workshops/join', learner([])))).toBeNull();
    expect(await requireRole(context('/instructor', learner(['instructor'])), 'instructor')).toBeNull();
    expect(await requireRole(context('/instructor', learner(['admin'])), 'instructor')).toBeNull();
  });

  it('send an anonymous visitor of a page to sign in and back, and answer an API with 401', async () => {
    const page = await requireLearner(context('/workshops/join?code=K8S', null));
    expect(page?.status).toBe(303);
    expect(page?.headers.get('location')).toBe('/signin?next=%2Fworkshops%2Fjoin%3Fcode%3DK8S');
    const api = await requireRole(context('/api/workshops/w-1/reset', null), 'instructor');
    expect(api?.status).toBe(401);
    expect(await api?.json()).toEqual({ error: 'sign in first' });
  });

  it('show the refusal page for a missing role, and answer an API with 403', async () => {
    const page = context('/workshops/w-1/manage', learner([]));
    const answer = await requireRole(page, 'instructor');
    expect(answer?.status).toBe(403);
    expect(page.rewrites).toEqual(['/auth/refused']);
    expect(page.seen.refusal).toEqual({ status: 403, message: 'this needs the instructor role, and Ada does not have it', required: 'instructor' });
    const api = await requireRole(context('/api/reports/labs', learner(['instructor'])), 'admin');
    expect(api?.status).toBe(403);
    expect(await api?.json()).toEqual({ error: 'this needs the admin role, and Ada does not have it' });
  });
});
