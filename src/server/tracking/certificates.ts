// Certificates: one per completed path, issued in the transaction that records the completion.
// The id (128 random bits) is the unguessable part of its address, /certificates/<id>; the code
// is short enough to read out or type, and is shown on the certificate to compare. An admin may
// revoke one; the verification page then says so, with when and why.

import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { Database, Queryable } from '../db/index.ts';

import type { Certificate } from '../../contracts/index.ts';

export type { Certificate };

export interface Certificates {
  get(id: string): Promise<Certificate | null>;
  /** By the code printed on it, in any case, with or without dashes. */
  byCode(code: string): Promise<Certificate | null>;
  forLearner(learnerId: string): Promise<Certificate[]>;
  /** Newest first. */
  list(options?: { path?: string; limit?: number }): Promise<Certificate[]>;
  /** Revokes a valid certificate; null when there is no such certificate. A revoked one stays as it was revoked. */
  revoke(id: string, by: { learnerId: string; reason: string }): Promise<Certificate | null>;
}

const CERTIFICATE_ID = /^[A-Za-z0-9_-]{22}$/;
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const MAX_REVOKE_REASON = 500;

const certificateRow = z.object({
  id: z.string(),
  code: z.string(),
  learner_id: z.string(),
  learner_name: z.string(),
  path: z.string(),
  path_title: z.string(),
  issued_at: z.string(),
  revoked_at: z.string().nullable(),
  revoked_by: z.string().nullable(),
  revoked_reason: z.string().nullable(),
});

const COLUMNS = 'id, code, learner_id, learner_name, path, path_title, issued_at, revoked_at, revoked_by, revoked_reason';

function toCertificate(row: z.infer<typeof certificateRow>): Certificate {
  return {
    id: row.id,
    code: row.code,
    learnerId: row.learner_id,
    learnerName: row.learner_name,
    path: row.path,
    pathTitle: row.path_title,
    issuedAt: row.issued_at,
    revokedAt: row.revoked_at,
    revokedBy: row.revoked_by,
    revokedReason: row.revoked_reason,
  };
}

function newCode(): string {
  // 256 is a multiple of 32, so every character is equally likely.
  const chars = [...randomBytes(12)].map((byte) => CROCKFORD[byte % 32]).join('');
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
}

/** What a reader typed, as stored: upper case, dashes every four, O read as 0 and I/L as 1. */
function normalizeCode(input: string): string | null {
  const chars = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (!/^[0-9A-HJKMNP-TV-Z]{12}$/.test(chars)) return null;
  return `${chars.slice(0, 4)}-${chars.slice(4, 8)}-${chars.slice(8)}`;
}

export interface IssueRequest {
  learnerId: string;
  learnerName: string;
  path: string;
  pathTitle: string;
  issuedAt: string;
  eventId: string;
}

/** In the completion's transaction: issues the learner's certificate of the path, or finds the one issued before. */
export async function issueCertificate(tx: Queryable, request: IssueRequest): Promise<Certificate> {
  await tx.run(
    `INSERT INTO certificates (id, code, learner_id, learner_name, path, path_title, issued_at, event_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (learner_id, path) DO NOTHING`,
    [randomBytes(16).toString('base64url'), newCode(), request.learnerId, request.learnerName, request.path, request.pathTitle, request.issuedAt, request.eventId],
  );
  const row = await tx.one(certificateRow, `SELECT ${COLUMNS} FROM certificates WHERE learner_id = $1 AND path = $2`, [request.learnerId, request.path]);
  if (!row) throw new Error(`the certificate of learner ${request.learnerId} for path ${request.path} vanished while it was issued`);
  return toCertificate(row);
}

export function createCertificates(db: Database, now: () => Date): Certificates {
  return {
    async get(id) {
      // Addresses are typed and pasted by people: anything not shaped like our ids costs no query.
      if (!CERTIFICATE_ID.test(id)) return null;
      const row = await db.one(certificateRow, `SELECT ${COLUMNS} FROM certificates WHERE id = $1`, [id]);
      return row ? toCertificate(row) : null;
    },

    async byCode(input) {
      const code = normalizeCode(input);
      if (!code) return null;
      const row = await db.one(certificateRow, `SELECT ${COLUMNS} FROM certificates WHERE code = $1`, [code]);
      return row ? toCertificate(row) : null;
    },

    async forLearner(learnerId) {
      const rows = await db.all(certificateRow, `SELECT ${COLUMNS} FROM certificates WHERE learner_id = $1 ORDER BY issued_at, path`, [learnerId]);
      return rows.map(toCertificate);
    },

    async list(options = {}) {
      const limit = Math.max(1, Math.min(options.limit ?? 500, 5000));
      const rows = options.path
        ? await db.all(certificateRow, `SELECT ${COLUMNS} FROM certificates WHERE path = $1 ORDER BY issued_at DESC, id LIMIT $2`, [options.path, limit])
        : await db.all(certificateRow, `SELECT ${COLUMNS} FROM certificates ORDER BY issued_at DESC, id LIMIT $1`, [limit]);
      return rows.map(toCertificate);
    },

    async revoke(id, by) {
      if (!CERTIFICATE_ID.test(id)) return null;
      const reason = by.reason.trim().slice(0, MAX_REVOKE_REASON);
      await db.run('UPDATE certificates SET revoked_at = $2, revoked_by = $3, revoked_reason = $4 WHERE id = $1 AND revoked_at IS NULL', [
        id,
        now().toISOString(),
        by.learnerId,
        reason === '' ? null : reason,
      ]);
      const row = await db.one(certificateRow, `SELECT ${COLUMNS} FROM certificates WHERE id = $1`, [id]);
      return row ? toCertificate(row) : null;
    },
  };
}
