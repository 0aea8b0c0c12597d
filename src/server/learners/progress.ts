// Lesson progress: when a learner first viewed and first completed each lesson. Marks are
// idempotent; a later view or completion keeps the first time.

import { z } from 'zod';
import type { Database, Queryable } from '../db/index.ts';
import type { LessonProgress } from '../../contracts/index.ts';
import { checkSlug } from './names.ts';

export interface Progress {
  forLearner(learnerId: string): Promise<LessonProgress[]>;
  markViewed(learnerId: string, path: string, lesson: string): Promise<void>;
  markCompleted(learnerId: string, path: string, lesson: string): Promise<void>;
}

const progressRow = z.object({
  path: z.string(),
  lesson: z.string(),
  viewed_at: z.string().nullable(),
  completed_at: z.string().nullable(),
});

/**
 * Marks a lesson viewed (and, with `completed`, completed) at `at`, in `q`: the database, or the
 * learning record's transaction that appends the lesson's event. The first time of each stays.
 */
export async function markLesson(q: Queryable, mark: { learnerId: string; path: string; lesson: string; at: string; completed: boolean }): Promise<void> {
  const path = checkSlug('path', mark.path);
  const lesson = checkSlug('lesson', mark.lesson);
  if (!mark.completed) {
    await q.run(
      `INSERT INTO lesson_progress (learner_id, path, lesson, viewed_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (learner_id, path, lesson)
       DO UPDATE SET viewed_at = COALESCE(lesson_progress.viewed_at, excluded.viewed_at)`,
      [mark.learnerId, path, lesson, mark.at],
    );
    return;
  }
  // Completing a lesson one never opened (e.g. from the path page) counts as viewing it.
  await q.run(
    `INSERT INTO lesson_progress (learner_id, path, lesson, viewed_at, completed_at) VALUES ($1, $2, $3, $4, $4)
     ON CONFLICT (learner_id, path, lesson)
     DO UPDATE SET viewed_at = COALESCE(lesson_progress.viewed_at, excluded.viewed_at),
                   completed_at = COALESCE(lesson_progress.completed_at, excluded.completed_at)`,
    [mark.learnerId, path, lesson, mark.at],
  );
}

export function createProgress(db: Database, now: () => Date = () => new Date()): Progress {
  return {
    async forLearner(learnerId) {
      const rows = await db.all(
        progressRow,
        'SELECT path, lesson, viewed_at, completed_at FROM lesson_progress WHERE learner_id = $1 ORDER BY path, lesson',
        [learnerId],
      );
      return rows.map((row) => ({ path: row.path, lesson: row.lesson, viewedAt: row.viewed_at, completedAt: row.completed_at }));
    },

    async markViewed(learnerId, path, lesson) {
      await markLesson(db, { learnerId, path, lesson, at: now().toISOString(), completed: false });
    },

    async markCompleted(learnerId, path, lesson) {
      await markLesson(db, { learnerId, path, lesson, at: now().toISOString(), completed: true });
    },
  };
}
