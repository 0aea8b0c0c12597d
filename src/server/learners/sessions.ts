// AUTH=dev sessions: a learner signs in with a name (found or created), gets a random token in a
// cookie; the database keeps only the token's SHA-256, so reading the table signs nobody in.

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Database } from '../db/index.ts';
import type { Learner, Sessions } from '../services.ts';
import { learnerName } from './names.ts';

export const SESSION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;
const TOKEN_BYTES = 32;
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

const learnerRow = z.object({ id: z.string(), display_name: z.string() });

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function createSessions(db: Database, now: () => Date = () => new Date()): Sessions {
  return {
    async signIn(name) {
      const { display, key } = learnerName(name);
      const token = randomBytes(TOKEN_BYTES).toString('base64url');
      const at = now();
      const learner = await db.transaction(async (tx) => {
        // Two first sign-ins with one name at once: the second insert does nothing, both read
        // the same learner back.
        await tx.run(
          'INSERT INTO learners (id, name, display_name, created_at) VALUES ($1, $2, $3, $4) ON CONFLICT (name) DO NOTHING',
          [randomUUID(), key, display, at.toISOString()],
        );
        const row = await tx.one(learnerRow, 'SELECT id, display_name FROM learners WHERE name = $1', [key]);
        if (!row) throw new Error(`learner ${JSON.stringify(key)} vanished while signing in`);
        await tx.run('DELETE FROM sessions WHERE expires_at <= $1', [at.toISOString()]);
        await tx.run('INSERT INTO sessions (token_hash, learner_id, created_at, expires_at) VALUES ($1, $2, $3, $4)', [
          hashToken(token),
          row.id,
          at.toISOString(),
          new Date(at.getTime() + SESSION_LIFETIME_MS).toISOString(),
        ]);
        return { id: row.id, name: row.display_name } satisfies Learner;
      });
      return { token, learner };
    },

    async signOut(token) {
      await db.run('DELETE FROM sessions WHERE token_hash = $1', [hashToken(token)]);
    },

    async resolve(token) {
      // Cookies are learner input: anything not shaped like our tokens costs no query.
      if (!TOKEN_SHAPE.test(token)) return null;
      const row = await db.one(
        learnerRow,
        `SELECT learners.id, learners.display_name FROM sessions
           JOIN learners ON learners.id = sessions.learner_id
          WHERE sessions.token_hash = $1 AND sessions.expires_at > $2`,
        [hashToken(token), now().toISOString()],
      );
      return row ? { id: row.id, name: row.display_name } : null;
    },
  };
}
