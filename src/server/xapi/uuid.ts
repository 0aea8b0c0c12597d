// Name-based UUIDs (RFC 4122 version 5): the same learning event always gives the same statement
// id, so a statement sent twice (a retry after a lost answer) is one statement at the LRS.

import { createHash } from 'node:crypto';

/** Formicary's namespace for statement ids and registrations (a fixed random UUID). */
const NAMESPACE = Buffer.from('6f1d3c52a8e94b7f9a0e2c4d8b1f7e35', 'hex');

export function nameUuid(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  hash[6] = ((hash[6] ?? 0) & 0x0f) | 0x50;
  hash[8] = ((hash[8] ?? 0) & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
