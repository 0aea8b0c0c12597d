// Lesson progress: when a learner first viewed and first completed each lesson. A mark is one
// learning event (lesson.viewed, lesson.completed); the record writes the lesson's progress row in
// the transaction that appends the event (lessonProgressSink), so the two never disagree. Marks
// are idempotent: a later view or completion keeps the first time.

import { z } from 'zod';
import { LearnerInputError } from '../auth/index.ts';
import type { Database, Queryable } from '../db/index.ts';
import type { LessonProgress } from '../../contracts/index.ts';
import type { LearningEvent } from './events.ts';
import type { EventWriter } from './writer.ts';

export interface Progress {
  forLearner(learnerId: string): Promise<LessonProgress[]>;
  markViewed(learnerId: string, path: string, lesson: string): Promise<void>;
  markCompleted(learnerId: string, path: string, lesson: string): Promise<void>;
  /** Whether the learner completed the lab in some attempt, as the learning record says (a lesson with a lab completes only then). */
  labCompleted(learnerId: string, lab: string): Promise<boolean>;
}

const slug = z.string().regex(/^[a-z0-9][a-z0-9-]{0,99}$/);

/** Paths and lessons are addressed by their slugs (`kubernetes-foundations`, `02-pods`). */
function checkSlug(field: 'path' | 'lesson', value: string): string {
  if (!slug.safeParse(value).success) {
    throw new LearnerInputError(field, `${JSON.stringify(value)} is not a slug (lower-case letters, digits and dashes, up to 100)`);
  }
  return value;
}

const progressRow = z.object({
  path: z.string(),
  lesson: z.string(),
  viewed_at: z.string().nullable(),
  completed_at: z.string().nullable(),
});

/** Writes the progress row of each lesson event, in the record's transaction. The first time of each stays. */
export async function lessonProgressSink(tx: Queryable, events: readonly LearningEvent[]): Promise<void> {
  for (const event of events) {
    if ((event.kind !== 'lesson.viewed' && event.kind !== 'lesson.completed') || event.path === null || event.lesson === null) continue;
    if (event.kind === 'lesson.viewed') {
      await tx.run(
        `INSERT INTO lesson_progress (learner_id, path, lesson, viewed_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (learner_id, path, lesson)
         DO UPDATE SET viewed_at = COALESCE(lesson_progress.viewed_at, excluded.viewed_at)`,
        [event.learnerId, event.path, event.lesson, event.at],
      );
      continue;
    }
    // Completing a lesson one never opened (e.g. from the path page) counts as viewing it.
    await tx.run(
      `INSERT INTO lesson_progress (learner_id, path, lesson, viewed_at, completed_at) VALUES ($1, $2, $3, $4, $4)
       ON CONFLICT (learner_id, path, lesson)
       DO UPDATE SET viewed_at = COALESCE(lesson_progress.viewed_at, excluded.viewed_at),
                     completed_at = COALESCE(lesson_progress.completed_at, excluded.completed_at)`,
      [event.learnerId, event.path, event.lesson, event.at],
    );
  }
}

export function createLessonProgress(db: Database, writer: EventWriter): Progress {
  const mark = (kind: 'lesson.viewed' | 'lesson.completed', learnerId: string, path: string, lesson: string) =>
    // Slugs are checked first, with the messages the pages show.
    writer.write(async (_tx, append) => {
      await append({ kind, learnerId, path: checkSlug('path', path), lesson: checkSlug('lesson', lesson) });
    });
  return {
    async forLearner(learnerId) {
      const rows = await db.all(
        progressRow,
        'SELECT path, lesson, viewed_at, completed_at FROM lesson_progress WHERE learner_id = $1 ORDER BY path, lesson',
        [learnerId],
      );
      return rows.map((row) => ({ path: row.path, lesson: row.lesson, viewedAt: row.viewed_at, completedAt: row.completed_at }));
    },
    markViewed: (learnerId, path, lesson) => mark('lesson.viewed', learnerId, path, lesson),
    markCompleted: (learnerId, path, lesson) => mark('lesson.completed', learnerId, path, lesson),
    async labCompleted(learnerId, lab) {
      // The record's lab summary, written with every lab event (imported ones too), is the one answer.
      const row = await db.one(z.object({ completed_at: z.string().nullable() }), 'SELECT completed_at FROM learning_labs WHERE learner_id = $1 AND lab = $2', [learnerId, lab]);
      return row?.completed_at != null;
    },
  };
}
