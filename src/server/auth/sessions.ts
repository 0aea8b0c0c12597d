// Sessions: a learner signs in (AUTH=dev with a name, AUTH=oidc through the identity provider) and
// gets a random token in a cookie; the database keeps only the token's SHA-256, so reading the
// table signs nobody in. Every sign-in starts a new session (the browser's previous one ends) and
// sets the learner's roles afresh.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Database, Queryable } from '../db/index.ts';
import { ROLES, type Learner, type Role } from '../../contracts/index.ts';
import { learnerName } from './names.ts';

/** Who the identity provider says signed in (AUTH=oidc), with the roles their groups grant. */
export interface ProviderIdentity {
  issuer: string;
  subject: string;
  name: string;
  email: string | null;
  groups: string[];
  roles: Role[];
  /** Kept with the session, to sign out at the provider too (id_token_hint). */
  idToken: string | null;
}
export interface SignedIn {
  /** The session token to put in the cookie. */
  token: string;
  learner: Learner;
}
export interface SignInOptions {
  /** The session this browser had: ended, so a sign-in always starts a fresh session. */
  replacing?: string | null;
}
export interface Sessions {
  /** AUTH=dev: sign in with a name, no password; `roles` replaces the learner's roles. */
  signIn(name: string, options?: SignInOptions & { roles?: readonly Role[] }): Promise<SignedIn>;
  /** AUTH=oidc: the learner of this identity, found or created, with name, email, groups and roles as given now. */
  signInWithProvider(identity: ProviderIdentity, options?: SignInOptions): Promise<SignedIn>;
  /** Ends the session; null when there was none. */
  signOut(token: string): Promise<{ idToken: string | null } | null>;
  resolve(token: string): Promise<Learner | null>;
}

export const SESSION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;
const TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

const LEARNER_COLUMNS = 'learners.id, learners.display_name, learners.email, learners.member_of, learners.roles';

const jsonStrings = z.string().transform((text, context) => {
  const parsed = z.array(z.string()).safeParse(JSON.parse(text));
  if (parsed.success) return parsed.data;
  context.addIssue({ code: 'custom', message: `${text} is not a JSON array of strings` });
  return z.NEVER;
});

const learnerRow = z.object({ id: z.string(), display_name: z.string(), email: z.string().nullable(), member_of: jsonStrings, roles: jsonStrings });

function toLearner(row: z.infer<typeof learnerRow>): Learner {
  // A role this version does not know (written by a newer one) grants nothing here.
  const roles = row.roles.filter((role): role is Role => (ROLES as readonly string[]).includes(role));
  return { id: row.id, name: row.display_name, email: row.email, groups: row.member_of, roles };
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

function knownRoles(roles: readonly Role[]): Role[] {
  return ROLES.filter((role) => roles.includes(role));
}

export function createSessions(db: Database, now: () => Date = () => new Date()): Sessions {
  /** In the sign-in's transaction: ends the replaced session and expired ones, opens a new one. */
  const openSession = async (tx: Queryable, learnerId: string, replacing: string | null | undefined, idToken: string | null): Promise<string> => {
    const token = randomBytes(TOKEN_BYTES).toString('base64url');
    const at = now();
    if (replacing) await tx.run('DELETE FROM sessions WHERE token_hash = $1', [hashToken(replacing)]);
    await tx.run('DELETE FROM sessions WHERE expires_at <= $1', [at.toISOString()]);
    await tx.run('INSERT INTO sessions (token_hash, learner_id, created_at, expires_at, id_token) VALUES ($1, $2, $3, $4, $5)', [
      hashToken(token),
      learnerId,
      at.toISOString(),
      new Date(at.getTime() + SESSION_LIFETIME_MS).toISOString(),
      idToken,
    ]);
    return token;
  };

  const readLearner = async (tx: Queryable, where: string, params: string[]): Promise<Learner> => {
    const row = await tx.one(learnerRow, `SELECT ${LEARNER_COLUMNS} FROM learners WHERE ${where}`, params);
    if (!row) throw new Error(`learner (${params.join(', ')}) vanished while signing in`);
    return toLearner(row);
  };

  return {
    async signIn(name, options = {}) {
      const { display, key } = learnerName(name);
      const roles = JSON.stringify(knownRoles(options.roles ?? []));
      return db.transaction(async (tx): Promise<SignedIn> => {
        // Two first sign-ins with one name at once: the second insert does nothing, both read
        // the same learner back.
        await tx.run(
          'INSERT INTO learners (id, name, display_name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING',
          [randomUUID(), key, display, now().toISOString()],
        );
        await tx.run('UPDATE learners SET roles = $1 WHERE name = $2', [roles, key]);
        const learner = await readLearner(tx, 'name = $1', [key]);
        return { token: await openSession(tx, learner.id, options.replacing, null), learner };
      });
    },

    async signInWithProvider(identity, options = {}) {
      const display = learnerName(identity.name).display;
      return db.transaction(async (tx): Promise<SignedIn> => {
        // Name, email, groups and roles are the provider's as of now: a learner who left the
        // instructors' group is no instructor from this sign-in on.
        await tx.run(
          `INSERT INTO learners (id, name, display_name, created_at, email, member_of, roles, issuer, subject)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
           ON CONFLICT (issuer, subject)
           DO UPDATE SET display_name = excluded.display_name, email = excluded.email,
                         member_of = excluded.member_of, roles = excluded.roles`,
          [
            randomUUID(),
            `oidc:${identity.issuer}#${identity.subject}`,
            display,
            now().toISOString(),
            identity.email,
            JSON.stringify(identity.groups),
            JSON.stringify(knownRoles(identity.roles)),
            identity.issuer,
            identity.subject,
          ],
        );
        const learner = await readLearner(tx, 'issuer = $1 AND subject = $2', [identity.issuer, identity.subject]);
        return { token: await openSession(tx, learner.id, options.replacing, identity.idToken), learner };
      });
    },

    async signOut(token) {
      if (!TOKEN_SHAPE.test(token)) return null;
      const ended = await db.one(z.object({ id_token: z.string().nullable() }), 'DELETE FROM sessions WHERE token_hash = $1 RETURNING id_token', [
        hashToken(token),
      ]);
      return ended ? { idToken: ended.id_token } : null;
    },

    async resolve(token) {
      // Cookies are learner input: anything not shaped like our tokens costs no query.
      if (!TOKEN_SHAPE.test(token)) return null;
      const row = await db.one(
        learnerRow,
        `SELECT ${LEARNER_COLUMNS} FROM sessions
           JOIN learners ON learners.id = sessions.learner_id
          WHERE sessions.token_hash = $1 AND sessions.expires_at > $2`,
        [hashToken(token), now().toISOString()],
      );
      return row ? toLearner(row) : null;
    },
  };
}
