import { createPublicKey, verify } from 'node:crypto';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openServiceAccountTokens, type ServiceAccountTokens } from '../../../../src/cluster/apiserver/auth/tokens.ts';

const now = new Date('2025-06-01T12:00:00Z');
const nowSeconds = now.getTime() / 1000;
const learner = { namespace: 'lab', serviceAccountName: 'learner', serviceAccountUid: '3f1c2d4e-0000-4000-8000-000000000001' };

const decode = (part: string | undefined): Record<string, unknown> => JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8')) as Record<string, unknown>;
const later = (seconds: number): Date => new Date(now.getTime() + seconds * 1000);

let dir: string;
let tokens: ServiceAccountTokens;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'formicary-tokens-'));
  tokens = await openServiceAccountTokens(join(dir, 'data'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the signing key', () => {
  it('is created on first start in the data dir, readable only by the owner, and reused afterwards', async () => {
    const path = join(dir, 'data', 'sa.key');
    expect((await readFile(path, 'utf8')).startsWith('-----BEGIN PRIVATE KEY-----')).toBe(true);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const { token } = tokens.issueServiceAccountToken({ ...learner, now });
    const reopened = await openServiceAccountTokens(join(dir, 'data'));
    expect(reopened.keyId).toBe(tokens.keyId);
    expect(reopened.verifyServiceAccountToken(token, now)?.user.username).toBe('system:serviceaccount:lab:learner');
  });

  it('names the file when it is not a key', async () => {
    const path = join(dir, 'broken', 'sa.key');
    await openServiceAccountTokens(join(dir, 'broken'));
    await writeFile(path, 'not a key');
    await expect(openServiceAccountTokens(join(dir, 'broken'))).rejects.toThrow(`${path}: not a readable PEM private key`);
  });

  it('is published as a JWK Set whose key verifies the tokens', () => {
    const { keys } = tokens.jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig', kid: tokens.keyId });
    const [header, payload, signature] = tokens.issueServiceAccountToken({ ...learner, now }).token.split('.');
    const key = createPublicKey({ key: keys[0] as import('node:crypto').JsonWebKey, format: 'jwk' });
    expect(verify('sha256', Buffer.from(`${header}.${payload}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(signature ?? '', 'base64url'))).toBe(true);
  });
});

describe('bound tokens (TokenRequest, kubectl create token)', () => {
  it('carry the claims kube-apiserver issues, keys in sorted order', () => {
    const { token, expirationTimestamp } = tokens.issueServiceAccountToken({ ...learner, now });
    const [header, payload, signature] = token.split('.');
    expect(decode(header)).toEqual({ alg: 'ES256', kid: tokens.keyId });
    const claims = decode(payload);
    expect(claims).toEqual({
      aud: ['https://kubernetes.default.svc.cluster.local'],
      exp: nowSeconds + 3600,
      iat: nowSeconds,
      iss: 'https://kubernetes.default.svc.cluster.local',
      jti: expect.stringMatching(/^[0-9a-f-]{36}$/),
      'kubernetes.io': { namespace: 'lab', serviceaccount: { name: 'learner', uid: learner.serviceAccountUid } },
      nbf: nowSeconds,
      sub: 'system:serviceaccount:lab:learner',
    });
    expect(Object.keys(claims)).toEqual(['aud', 'exp', 'iat', 'iss', 'jti', 'kubernetes.io', 'nbf', 'sub']);
    expect(Buffer.from(signature ?? '', 'base64url')).toHaveLength(64);
    expect(expirationTimestamp).toBe('2025-06-01T13:00:00Z');
  });

  it('authenticate as the ServiceAccount with its groups', () => {
    const { token } = tokens.issueServiceAccountToken({ ...learner, now });
    const identity = tokens.verifyServiceAccountToken(token, later(10));
    expect(identity).toEqual({
      user: {
        username: 'system:serviceaccount:lab:learner',
        uid: learner.serviceAccountUid,
        groups: ['system:serviceaccounts', 'system:serviceaccounts:lab', 'system:authenticated'],
        extra: { 'authentication.kubernetes.io/credential-id': [expect.stringMatching(/^JTI=/)] },
      },
      serviceAccount: { namespace: 'lab', name: 'learner', uid: learner.serviceAccountUid },
      kind: 'bound',
      expirationTimestamp: '2025-06-01T13:00:00Z',
    });
  });

  it('honour audiences and expirationSeconds', () => {
    const { token, expirationTimestamp } = tokens.issueServiceAccountToken({ ...learner, audiences: ['vault'], expirationSeconds: 600, now });
    expect(decode(token.split('.')[1])).toMatchObject({ aud: ['vault'], exp: nowSeconds + 600 });
    expect(expirationTimestamp).toBe('2025-06-01T12:10:00Z');
    expect(tokens.verifyServiceAccountToken(token, now)).toBeNull();
    expect(tokens.verifyServiceAccountToken(token, now, ['vault'])?.user.username).toBe('system:serviceaccount:lab:learner');
  });

  it('bound to a pod name the pod and its node', () => {
    const { token } = tokens.issueServiceAccountToken({ ...learner, boundObject: { kind: 'Pod', name: 'workbench', uid: 'pod-uid', nodeName: 'lab-node', nodeUid: 'node-uid' }, now });
    expect(decode(token.split('.')[1])['kubernetes.io']).toEqual({
      namespace: 'lab',
      node: { name: 'lab-node', uid: 'node-uid' },
      pod: { name: 'workbench', uid: 'pod-uid' },
      serviceaccount: { name: 'learner', uid: learner.serviceAccountUid },
    });
    const identity = tokens.verifyServiceAccountToken(token, now);
    expect(identity?.boundObject).toEqual({ kind: 'Pod', name: 'workbench', uid: 'pod-uid' });
    expect(identity?.user.extra).toMatchObject({
      'authentication.kubernetes.io/pod-name': ['workbench'],
      'authentication.kubernetes.io/pod-uid': ['pod-uid'],
      'authentication.kubernetes.io/node-name': ['lab-node'],
      'authentication.kubernetes.io/node-uid': ['node-uid'],
    });
  });

  it('bound to a secret name the secret', () => {
    const { token } = tokens.issueServiceAccountToken({ ...learner, boundObject: { kind: 'Secret', name: 'ci-token', uid: 'secret-uid' }, now });
    expect(tokens.verifyServiceAccountToken(token, now)?.boundObject).toEqual({ kind: 'Secret', name: 'ci-token', uid: 'secret-uid' });
  });

  it('stop working after they expire, with a minute of leeway', () => {
    const { token } = tokens.issueServiceAccountToken({ ...learner, expirationSeconds: 600, now });
    expect(tokens.verifyServiceAccountToken(token, later(600 + 59))).not.toBeNull();
    expect(tokens.verifyServiceAccountToken(token, later(600 + 61))).toBeNull();
  });

  it('do not work before they were issued', () => {
    const { token } = tokens.issueServiceAccountToken({ ...learner, now });
    expect(tokens.verifyServiceAccountToken(token, later(-30))).not.toBeNull();
    expect(tokens.verifyServiceAccountToken(token, later(-120))).toBeNull();
  });
});

describe('legacy tokens (kubernetes.io/service-account-token Secrets)', () => {
  it('carry the legacy claims and never expire', () => {
    const token = tokens.issueLegacyServiceAccountToken({ ...learner, secretName: 'learner-token' });
    expect(decode(token.split('.')[1])).toEqual({
      iss: 'kubernetes/serviceaccount',
      'kubernetes.io/serviceaccount/namespace': 'lab',
      'kubernetes.io/serviceaccount/secret.name': 'learner-token',
      'kubernetes.io/serviceaccount/service-account.name': 'learner',
      'kubernetes.io/serviceaccount/service-account.uid': learner.serviceAccountUid,
      sub: 'system:serviceaccount:lab:learner',
    });
    const identity = tokens.verifyServiceAccountToken(token, new Date('2035-01-01T00:00:00Z'));
    expect(identity).toEqual({
      user: { username: 'system:serviceaccount:lab:learner', uid: learner.serviceAccountUid, groups: ['system:serviceaccounts', 'system:serviceaccounts:lab', 'system:authenticated'] },
      serviceAccount: { namespace: 'lab', name: 'learner', uid: learner.serviceAccountUid },
      kind: 'legacy',
      secretName: 'learner-token',
    });
  });
});

describe('verification refuses', () => {
  const forge = (token: string, change: (claims: Record<string, unknown>) => void): string => {
    const [header, payload, signature] = token.split('.');
    const claims = decode(payload);
    change(claims);
    return `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
  };

  it('a token with altered claims', () => {
    const { token } = tokens.issueServiceAccountToken({ ...learner, now });
    expect(tokens.verifyServiceAccountToken(forge(token, (c) => (c.sub = 'system:serviceaccount:kube-system:admin')), now)).toBeNull();
    expect(tokens.verifyServiceAccountToken(forge(token, (c) => (c.exp = nowSeconds + 1e6)), later(7200))).toBeNull();
  });

  it('a token signed by another cluster', async () => {
    const other = await openServiceAccountTokens(join(dir, 'other'));
    expect(tokens.verifyServiceAccountToken(other.issueServiceAccountToken({ ...learner, now }).token, now)).toBeNull();
    expect(tokens.verifyServiceAccountToken(other.issueLegacyServiceAccountToken({ ...learner, secretName: 's' }), now)).toBeNull();
  });

  it('an unsigned token and things that are not tokens', () => {
    const { token } = tokens.issueServiceAccountToken({ ...learner, now });
    const [, payload] = token.split('.');
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${payload}.`;
    for (const bad of [none, '', 'abc', 'a.b.c', `${token}x`, token.replace(/\.[^.]+$/, '.AAAA'), 'Bearer x.y.z']) {
      expect(tokens.verifyServiceAccountToken(bad, now)).toBeNull();
    }
  });

  it('a token from another issuer', async () => {
    const otherIssuer = await openServiceAccountTokens(join(dir, 'data'), { issuer: 'https://elsewhere.example' });
    const { token } = otherIssuer.issueServiceAccountToken({ ...learner, audiences: ['https://kubernetes.default.svc.cluster.local'], now });
    expect(tokens.verifyServiceAccountToken(token, now)).toBeNull();
  });
});
