import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/server/config.ts';

// The sign-in settings of AUTH=oidc: which scopes, which claim lists the groups, which groups
// make instructors and admins; and which addresses may be plain http.

const oidc = {
  AUTH: 'oidc',
  OIDC_ISSUER: 'https://login.example.com/realms/staff',
  OIDC_CLIENT_ID: 'formicary',
  OIDC_CLIENT_SECRET: 'client-secret-value',
  OIDC_REDIRECT_URL: 'https://learn.example.com/auth/callback',
};

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env, '/srv');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}

describe('AUTH=oidc settings', () => {
  it('defaults to openid profile email, the groups claim and no roles from groups', () => {
    expect(parseConfig(oidc, '/srv').auth).toEqual({
      mode: 'oidc',
      issuer: 'https://login.example.com/realms/staff',
      clientId: 'formicary',
      clientSecret: 'client-secret-value',
      redirectUrl: 'https://learn.example.com/auth/callback',
      scopes: ['openid', 'profile', 'email'],
      groupsClaim: 'groups',
      instructorGroups: [],
      adminGroups: [],
    });
  });

  it('reads scopes, the groups claim and the groups that grant each role', () => {
    const auth = parseConfig(
      {
        ...oidc,
        OIDC_SCOPES: 'openid  profile email groups',
        OIDC_GROUPS_CLAIM: 'https://example.com/claims/teams',
        OIDC_INSTRUCTOR_GROUPS: 'trainers, workshop-hosts',
        OIDC_ADMIN_GROUPS: 'Learning & Development',
      },
      '/srv',
    ).auth;
    expect(auth).toMatchObject({
      scopes: ['openid', 'profile', 'email', 'groups'],
      groupsClaim: 'https://example.com/claims/teams',
      instructorGroups: ['trainers', 'workshop-hosts'],
      adminGroups: ['Learning & Development'],
    });
  });

  it('names each bad setting and says what would be right', () => {
    expect(
      problemsOf({ ...oidc, OIDC_SCOPES: 'profile email', OIDC_GROUPS_CLAIM: 'team names', OIDC_INSTRUCTOR_GROUPS: 'trainers,,hosts', OIDC_ADMIN_GROUPS: ',' }),
    ).toEqual([
      'OIDC_SCOPES: "profile email" must include openid',
      'OIDC_GROUPS_CLAIM: "team names" is not a claim name (letters, digits and . _ : / -)',
      'OIDC_INSTRUCTOR_GROUPS: "trainers,,hosts" has an empty entry; separate names with commas',
      'OIDC_ADMIN_GROUPS: "," has an empty entry; separate names with commas',
    ]);
  });

  it('allows plain http only on this machine', () => {
    expect(problemsOf({ ...oidc, OIDC_ISSUER: 'http://login.example.com', OIDC_REDIRECT_URL: 'http://learn.example.com/auth/callback' })).toEqual([
      'OIDC_ISSUER: "http://login.example.com" must use https (plain http is only allowed on 127.0.0.1 and localhost, not login.example.com)',
      'OIDC_REDIRECT_URL: "http://learn.example.com/auth/callback" must use https (plain http is only allowed on 127.0.0.1 and localhost, not learn.example.com)',
    ]);
    for (const host of ['127.0.0.1:8080', 'localhost:8080', '[::1]:8080']) {
      const auth = parseConfig({ ...oidc, OIDC_ISSUER: `http://${host}`, OIDC_REDIRECT_URL: `http://${host}/auth/callback` }, '/srv').auth;
      expect(auth).toMatchObject({ issuer: `http://${host}`, redirectUrl: `http://${host}/auth/callback` });
    }
  });

  it('needs the redirect address to end at the portal’s /auth/callback', () => {
    expect(problemsOf({ ...oidc, OIDC_REDIRECT_URL: 'https://learn.example.com/oauth2/callback' })).toEqual([
      'OIDC_REDIRECT_URL: "https://learn.example.com/oauth2/callback" must end in /auth/callback, where the portal finishes the sign-in',
    ]);
    expect(parseConfig({ ...oidc, OIDC_REDIRECT_URL: 'https://example.com/learn/auth/callback' }, '/srv').auth).toMatchObject({
      redirectUrl: 'https://example.com/learn/auth/callback',
    });
  });

  it('knows the new variables, so a FORMICARY_ prefix points at them', () => {
    expect(problemsOf({ FORMICARY_OIDC_ADMIN_GROUPS: 'x' })[0]).toMatch(/^FORMICARY_OIDC_ADMIN_GROUPS: unknown variable; .*did you mean OIDC_ADMIN_GROUPS\?$/);
  });
});
