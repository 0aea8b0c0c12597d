// What learners type at sign-in: their name. LearnerInputError is how a room refuses what a
// learner typed or a page sent (a name, a path slug), recognised by the pages by its name.

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
