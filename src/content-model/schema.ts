import { z } from 'zod';

// The frontmatter of learning paths and lessons. Astro's content collections and
// `formicary content check` validate against these same schemas, so an author sees the same
// rule whether the build or the checker finds the mistake. Messages complete the sentence
// "<field>: …".

function missingOr(message: string) {
  return (issue: { input?: unknown }) => (issue.input === undefined ? 'is required' : message);
}

export const contentId = z
  .string({ error: missingOr('must be an id such as "kubernetes-foundations"') })
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be lower-case words joined by hyphens, such as "kubernetes-foundations"');

const text = z.string({ error: missingOr('must be text') }).trim().min(1, 'must not be empty');

const minutes = z
  .number({ error: missingOr('must be a number of minutes, such as 20') })
  .int('must be a whole number of minutes')
  .positive('must be more than 0 minutes');

function list<T extends z.ZodType>(item: T, what: string) {
  return z.array(item, { error: missingOr(`must be a list of ${what}`) }).min(1, `must list at least one ${what.replace(/s$/, '')}`);
}

export const levels = ['beginner', 'intermediate', 'advanced'] as const;

export const pathFrontmatter = z.strictObject({
  title: text,
  summary: text,
  level: z.enum(levels, { error: missingOr(`must be one of ${levels.join(', ')}`) }),
  duration: minutes,
  audience: text,
  outcomes: list(text, 'outcomes'),
  prerequisites: z.array(contentId, { error: 'must be a list of path ids' }).default([]),
});

export const lessonFrontmatter = z.strictObject({
  title: text,
  summary: text,
  duration: minutes,
  objectives: list(text, 'objectives'),
  lab: contentId.optional(),
});

export type PathFrontmatter = z.infer<typeof pathFrontmatter>;
export type LessonFrontmatter = z.infer<typeof lessonFrontmatter>;
export type Level = (typeof levels)[number];
