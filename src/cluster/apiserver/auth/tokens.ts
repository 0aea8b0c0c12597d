// ServiceAccount tokens: JWTs signed ES256 with a key the cluster keeps in its data dir, carrying
// the claims kube-apiserver puts in them (pkg/serviceaccount/claims.go), so a learner who decodes
// the token from `kubectl create token` or a token Secret sees what a real cluster issues.
// The API server, after verifying, still checks that the ServiceAccount (and a bound Pod or
// Secret) exists with the UID the token names.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, verify, type KeyObject } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { serviceAccountGroups, serviceAccountUsername } from './rbac.ts';
import type { UserInfo } from './rbac.ts';

export const defaultIssuer = 'https://kubernetes.default.svc.cluster.local';
/** The issuer of tokens minted into kubernetes.io/service-account-token Secrets. */
export const legacyIssuer = 'kubernetes/serviceaccount';
/** TokenRequest's default spec.expirationSeconds. */
export const defaultExpirationSeconds = 3600;
/** go-jose's default leeway when checking exp, nbf and iat. */
const leewaySeconds = 60;
const keyFile = 'sa.key';

export interface BoundObjectReference {
  kind: 'Pod' | 'Secret';
  name: string;
  uid: string;
  /** for a Pod: the node it runs on, recorded as kubernetes.io.node */
  nodeName?: string;
  nodeUid?: string;
}

export interface TokenRequestInput {
  namespace: string;
  serviceAccountName: string;
  serviceAccountUid: string;
  /** default: the API server's audiences (the issuer) */
  audiences?: string[];
  /** default 3600 */
  expirationSeconds?: number;
  boundObject?: BoundObjectReference;
  now: Date;
}

export interface IssuedToken {
  token: string;
  /** RFC 3339, as TokenRequest status.expirationTimestamp */
  expirationTimestamp: string;
}

export interface LegacyTokenInput {
  namespace: string;
  serviceAccountName: string;
  serviceAccountUid: string;
  secretName: string;
}

/** Who a valid token authenticates, and what the API server must still confirm exists. */
export interface ServiceAccountTokenIdentity {
  user: UserInfo;
  serviceAccount: { namespace: string; name: string; uid: string };
  kind: 'bound' | 'legacy';
  /** bound tokens: the Pod or Secret the token dies with */
  boundObject?: { kind: 'Pod' | 'Secret'; name: string; uid: string };
  /** legacy tokens: the Secret that holds the token */
  secretName?: string;
  expirationTimestamp?: string;
}

export interface ServiceAccountTokens {
  issuer: string;
  /** the "kid" header: base64url SHA-256 of the public key's DER, as kube-apiserver derives it */
  keyId: string;
  issueServiceAccountToken(input: TokenRequestInput): IssuedToken;
  issueLegacyServiceAccountToken(input: LegacyTokenInput): string;
  /** null for anything that is not a valid, unexpired token of this cluster for one of `audiences` */
  verifyServiceAccountToken(token: string, now: Date, audiences?: string[]): ServiceAccountTokenIdentity | null;
  /** the public key as a JWK Set, what /openid/v1/jwks serves */
  jwks(): { keys: Record<string, unknown>[] };
}

export interface ServiceAccountTokenOptions {
  issuer?: string;
  /** audiences a token must name to authenticate to this API server (--api-audiences); default [issuer] */
  apiAudiences?: string[];
}

const refSchema = z.object({ name: z.string(), uid: z.string() });
const boundClaimsSchema = z.object({
  iss: z.string(),
  sub: z.string(),
  aud: z.union([z.string(), z.array(z.string())]),
  exp: z.number(),
  iat: z.number(),
  nbf: z.number(),
  jti: z.string().optional(),
  'kubernetes.io': z.object({
    namespace: z.string(),
    serviceaccount: refSchema,
    pod: refSchema.optional(),
    secret: refSchema.optional(),
    node: refSchema.optional(),
  }),
});
const legacyClaimsSchema = z.object({
  iss: z.literal(legacyIssuer),
  sub: z.string(),
  'kubernetes.io/serviceaccount/namespace': z.string(),
  'kubernetes.io/serviceaccount/secret.name': z.string(),
  'kubernetes.io/serviceaccount/service-account.name': z.string(),
  'kubernetes.io/serviceaccount/service-account.uid': z.string(),
});
const headerSchema = z.object({ alg: z.literal('ES256'), kid: z.string().optional() });

const base64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

/** go-jose marshals the merged claims as a map: keys in sorted order. */
function sortedJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(sortedJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${sortedJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

function decodeJson(part: string): unknown {
  try {
    return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

/** Reads the signing key from the data dir, creating it on first start. */
async function loadOrCreateSigningKey(dataDir: string): Promise<KeyObject> {
  const path = join(dataDir, keyFile);
  try {
    return createPrivateKey(await readFile(path, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`${path}: not a readable PEM private key for ServiceAccount tokens (${(error as Error).message}); remove it to have a new one created`);
    }
  }
  await mkdir(dataDir, { recursive: true });
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  try {
    await writeFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' });
    return privateKey;
  } catch (error) {
    // Another process of the same cluster created it first: use that one.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return createPrivateKey(await readFile(path, 'utf8'));
    throw error;
  }
}

export async function openServiceAccountTokens(dataDir: string, options: ServiceAccountTokenOptions = {}): Promise<ServiceAccountTokens> {
  const privateKey = await loadOrCreateSigningKey(dataDir);
  return serviceAccountTokensWithKey(privateKey, options);
}

export function serviceAccountTokensWithKey(privateKey: KeyObject, options: ServiceAccountTokenOptions = {}): ServiceAccountTokens {
  const issuer = options.issuer ?? defaultIssuer;
  const apiAudiences = options.apiAudiences ?? [issuer];
  const publicKey = createPublicKey(privateKey);
  const keyId = base64url(createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest());
  const encodedHeader = base64url(JSON.stringify({ alg: 'ES256', kid: keyId }));

  const signClaims = (claims: unknown): string => {
    const signingInput = `${encodedHeader}.${base64url(sortedJson(claims))}`;
    const signature = sign('sha256', Buffer.from(signingInput), { key: privateKey, dsaEncoding: 'ieee-p1363' });
    return `${signingInput}.${base64url(signature)}`;
  };

  const userFor = (namespace: string, name: string, uid: string, extra?: Record<string, string[]>): UserInfo => {
    const user: UserInfo = { username: serviceAccountUsername(namespace, name), uid, groups: serviceAccountGroups(namespace) };
    if (extra && Object.keys(extra).length > 0) user.extra = extra;
    return user;
  };

  return {
    issuer,
    keyId,

    issueServiceAccountToken(input) {
      const issuedAt = Math.floor(input.now.getTime() / 1000);
      const expiry = issuedAt + (input.expirationSeconds ?? defaultExpirationSeconds);
      const bound = input.boundObject;
      const kubernetes: Record<string, unknown> = { namespace: input.namespace, serviceaccount: { name: input.serviceAccountName, uid: input.serviceAccountUid } };
      if (bound?.kind === 'Pod') {
        kubernetes.pod = { name: bound.name, uid: bound.uid };
        if (bound.nodeName && bound.nodeUid) kubernetes.node = { name: bound.nodeName, uid: bound.nodeUid };
      } else if (bound?.kind === 'Secret') {
        kubernetes.secret = { name: bound.name, uid: bound.uid };
      }
      const token = signClaims({
        aud: input.audiences && input.audiences.length > 0 ? input.audiences : apiAudiences,
        exp: expiry,
        iat: issuedAt,
        iss: issuer,
        jti: randomUUID(),
        'kubernetes.io': kubernetes,
        nbf: issuedAt,
        sub: serviceAccountUsername(input.namespace, input.serviceAccountName),
      });
      return { token, expirationTimestamp: new Date(expiry * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
    },

    issueLegacyServiceAccountToken(input) {
      return signClaims({
        iss: legacyIssuer,
        'kubernetes.io/serviceaccount/namespace': input.namespace,
        'kubernetes.io/serviceaccount/secret.name': input.secretName,
        'kubernetes.io/serviceaccount/service-account.name': input.serviceAccountName,
        'kubernetes.io/serviceaccount/service-account.uid': input.serviceAccountUid,
        sub: serviceAccountUsername(input.namespace, input.serviceAccountName),
      });
    },

    verifyServiceAccountToken(token, now, audiences = apiAudiences) {
      const parts = token.split('.');
      if (parts.length !== 3) return null;
      const [headerPart = '', payloadPart = '', signaturePart = ''] = parts;
      const header = headerSchema.safeParse(decodeJson(headerPart));
      if (!header.success || (header.data.kid !== undefined && header.data.kid !== keyId)) return null;
      const signature = Buffer.from(signaturePart, 'base64url');
      if (signature.length !== 64 || !verify('sha256', Buffer.from(`${headerPart}.${payloadPart}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature)) return null;
      const payload = decodeJson(payloadPart);

      const legacy = legacyClaimsSchema.safeParse(payload);
      if (legacy.success) {
        const c = legacy.data;
        const namespace = c['kubernetes.io/serviceaccount/namespace'];
        const name = c['kubernetes.io/serviceaccount/service-account.name'];
        if (c.sub !== serviceAccountUsername(namespace, name)) return null;
        const uid = c['kubernetes.io/serviceaccount/service-account.uid'];
        return { user: userFor(namespace, name, uid), serviceAccount: { namespace, name, uid }, kind: 'legacy', secretName: c['kubernetes.io/serviceaccount/secret.name'] };
      }

      const bound = boundClaimsSchema.safeParse(payload);
      if (!bound.success) return null;
      const c = bound.data;
      if (c.iss !== issuer) return null;
      const seconds = now.getTime() / 1000;
      if (seconds > c.exp + leewaySeconds || seconds < c.nbf - leewaySeconds || seconds < c.iat - leewaySeconds) return null;
      const tokenAudiences = typeof c.aud === 'string' ? [c.aud] : c.aud;
      if (!tokenAudiences.some((a) => audiences.includes(a))) return null;
      const k8s = c['kubernetes.io'];
      if (c.sub !== serviceAccountUsername(k8s.namespace, k8s.serviceaccount.name)) return null;
      const extra: Record<string, string[]> = {};
      let boundObject: ServiceAccountTokenIdentity['boundObject'];
      if (k8s.pod) {
        boundObject = { kind: 'Pod', ...k8s.pod };
        extra['authentication.kubernetes.io/pod-name'] = [k8s.pod.name];
        extra['authentication.kubernetes.io/pod-uid'] = [k8s.pod.uid];
      } else if (k8s.secret) {
        boundObject = { kind: 'Secret', ...k8s.secret };
      }
      if (k8s.node) {
        extra['authentication.kubernetes.io/node-name'] = [k8s.node.name];
        extra['authentication.kubernetes.io/node-uid'] = [k8s.node.uid];
      }
      if (c.jti) extra['authentication.kubernetes.io/credential-id'] = [`JTI=${c.jti}`];
      const identity: ServiceAccountTokenIdentity = {
        user: userFor(k8s.namespace, k8s.serviceaccount.name, k8s.serviceaccount.uid, extra),
        serviceAccount: { namespace: k8s.namespace, name: k8s.serviceaccount.name, uid: k8s.serviceaccount.uid },
        kind: 'bound',
        expirationTimestamp: new Date(c.exp * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      };
      if (boundObject) identity.boundObject = boundObject;
      return identity;
    },

    jwks() {
      const jwk = publicKey.export({ format: 'jwk' });
      return { keys: [{ use: 'sig', kty: jwk.kty, kid: keyId, crv: jwk.crv, alg: 'ES256', x: jwk.x, y: jwk.y }] };
    },
  };
}
