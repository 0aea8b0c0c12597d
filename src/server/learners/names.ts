// What learners type and what the pages send: names at sign-in, path and lesson slugs.

import { z } from 'zod';

export const MAX_NAME_LENGTH = 80;

export class LearnerInputError extends Error {
  readonly field: string;

  constructor(field: string, message: string) {
    super(`${field}: ${message}`);
    this.name = 'LearnerInputError';
    this.field = field;
  }
}

export interface LearnerName {
  /** As the learner wrote it, spaces tidied: what the portal shows. */
  display: string;
  /** The sign-in key: "Ada  Lovelace" and "ada lovelace" are one learner. */
  key: string;
}

export function learnerName(input: string): LearnerName {
  const display = input.normalize('NFC').trim().replace(/\s+/g, ' ');
  if (display === '') throw new LearnerInputError('name', 'is empty; sign in with the name other learners know you by');
  if ([...display].length > MAX_NAME_LENGTH) throw new LearnerInputError('name', `is longer than ${MAX_NAME_LENGTH} characters`);
  if (/\p{Cc}/u.test(display)) throw new LearnerInputError('name', 'contains control characters');
  return { display, key: display.toLocaleLowerCase('en') };
}

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,99}$/);

/** Paths and lessons are addressed by their slugs (`kubernetes-foundations`, `02-pods`). */
export function checkSlug(field: 'path' | 'lesson', value: string): string {
  if (!slug.safeParse(value).success) {
    throw new LearnerInputError(field, `${JSON.stringify(value)} is not a slug (lower-case letters, digits and dashes, up to 100)`);
  }
  return value;
}
