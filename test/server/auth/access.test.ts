import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACCESS_RULES, AccessPolicy, allows, hasRole, rolesOfGroups } from '../../../src/server/auth/index.ts';
import { pageRoutePatterns } from '../../../src/server/http/index.ts';
import { PROJECT_ROOT } from '../../../src/server/main.ts';
import type { Learner, Role } from '../../../src/server/services.ts';

const learner = (roles: Role[]): Learner => ({ id: 'l-1', name: 'Ada', email: null, groups: [], roles });

describe('every route under src/pages', () => {
  it('has an access rule (a new page or API route without one fails here, and the portal refuses it to everyone)', async () => {
    const routes = await pageRoutePatterns(path.join(PROJECT_ROOT, 'src', 'pages'));
    expect(routes.length).toBeGreaterThan(5);
    const policy = new AccessPolicy();
    const uncovered = routes.filter((route) => policy.ruleForRoute(route) === null);
    expect(uncovered, `add rules for these routes to src/server/auth/access.ts`).toEqual([]);
  });

  it('keeps the sign-in pages open and the learner’s own data behind sign-in', async () => {
    const policy = new AccessPolicy();
    const access = (route: string) => policy.ruleForRoute(route)?.access;
    expect(access('/signin')).toBe('public');
    expect(access('/auth/login')).toBe('public');
    expect(access('/auth/callback')).toBe('public');
    expect(access('/api/session')).toBe('public');
    expect(access('/paths/:path/:lesson')).toBe('public');
    expect(access('/api/progress')).toBe('learner');
  });
});

describe('the access table', () => {
  const policy = new AccessPolicy();
  const access = (pathname: string) => policy.ruleFor(pathname)?.access ?? null;

  it('gives workshops to instructors, reports to admins, labs to signed-in learners', () => {
    expect(access('/instructor')).toBe('instructor');
    expect(access('/instructor/workshops/w-1/grid')).toBe('instructor');
    expect(access('/api/workshops/w-1/events')).toBe('instructor');
    expect(access('/admin')).toBe('admin');
    expect(access('/api/reports/completions.csv')).toBe('admin');
    expect(access('/api/labs/pods-101/terminal')).toBe('learner');
    expect(access('/api/labs/pods-101/check')).toBe('learner');
  });

  it('names no rule for an address nobody serves', () => {
    expect(access('/nowhere')).toBeNull();
    expect(access('/api/nothing-here')).toBeNull();
  });

  it('lets the most specific rule win, and judges a route’s parameters by the rule that covers every value', () => {
    const table = new AccessPolicy([
      { path: '/api/workshops/**', access: 'instructor' },
      { path: '/api/workshops/join', access: 'learner' },
      { path: '/api/workshops/:id/messages', access: 'learner' },
    ]);
    expect(table.ruleFor('/api/workshops/join')?.access).toBe('learner');
    expect(table.ruleFor('/api/workshops/w-1/messages')?.access).toBe('learner');
    expect(table.ruleFor('/api/workshops/w-1/reset')?.access).toBe('instructor');
    expect(table.ruleForRoute('/api/workshops/:id')?.access).toBe('instructor');
  });

  it('refuses two rules for one address', () => {
    expect(() => new AccessPolicy([{ path: '/admin/**', access: 'admin' }, { path: '/admin', access: 'public' }])).toThrow(
      /^access rule \/admin: .*already registered; each address needs exactly one rule$/,
    );
  });

  it('is the table the portal applies by default', () => {
    expect(ACCESS_RULES.some((rule) => rule.path === '/admin/**' && rule.access === 'admin')).toBe(true);
  });
});

describe('roles', () => {
  it('lets an admin do what an instructor does, not the other way round', () => {
    expect(hasRole(learner(['admin']), 'instructor')).toBe(true);
    expect(hasRole(learner(['instructor']), 'admin')).toBe(false);
    expect(hasRole(learner([]), 'instructor')).toBe(false);
    expect(hasRole(null, 'instructor')).toBe(false);
  });

  it('opens public addresses to everyone and learner addresses to anyone signed in', () => {
    expect(allows('public', null)).toBe(true);
    expect(allows('learner', null)).toBe(false);
    expect(allows('learner', learner([]))).toBe(true);
    expect(allows('admin', learner(['instructor']))).toBe(false);
  });

  it('maps groups to roles by exact name', () => {
    const mapping = { instructorGroups: ['trainers'], adminGroups: ['learning-ops'] };
    expect(rolesOfGroups(['engineering', 'trainers'], mapping)).toEqual(['instructor']);
    expect(rolesOfGroups(['learning-ops', 'trainers'], mapping)).toEqual(['instructor', 'admin']);
    expect(rolesOfGroups(['Trainers', '/trainers'], mapping)).toEqual([]);
    expect(rolesOfGroups([], mapping)).toEqual([]);
  });
});
