// Interim: ServiceAccount tokens as HS256 JWTs signed with one key from the data dir.
import { createHmac, timingSafeEqual } from 'node:crypto';

export interface ServiceAccountClaims {
  namespace: string;
  serviceAccountName: string;
  serviceAccountUid: string;
  secretName?: string;
  podName?: string;
  podUid?: string;
  audiences: string[];
  /** seconds since epoch; absent for legacy Secret tokens */
  expiresAt?: number;
  issuedAt: number;
}

export interface TokenIssuer {
  issue(claims: ServiceAccountClaims): string;
  verify(token: string, now: Date): ServiceAccountClaims | undefined;
}

export function createTokenIssuer(key: Buffer): TokenIssuer {
  const sign = (data: string) => createHmac('sha256', key).update(data).digest('base64url');
  return {
    issue(claims) {
      const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
      const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
      return `${header}.${payload}.${sign(`${header}.${payload}`)}`;
    },
    verify(token, now) {
      const [header, payload, signature] = token.split('.');
      if (!header || !payload || !signature) return undefined;
      const expected = Buffer.from(sign(`${header}.${payload}`));
      const actual = Buffer.from(signature);
      if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return undefined;
      try {
        const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as ServiceAccountClaims;
        if (claims.expiresAt !== undefined && claims.expiresAt * 1000 < now.getTime()) return undefined;
        return claims;
      } catch {
        return undefined;
      }
    },
  };
}
