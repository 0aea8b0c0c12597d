// Lesson progress as the learning record keeps it: a mark is one lesson event, and the record
// writes the lesson's progress row in the transaction that appends the event (lessonProgressSink),
// so the two never disagree. Reading stays with lesson progress (src/server/learners).

import type { Queryable } from '../db/index.ts';
import { checkSlug, markLesson, type Progress } from '../learners/index.ts';
import type { LearningEvent, LearningEventInput } from './events.ts';

/** Writes the progress row of each lesson event, in the record's transaction. */
export async function lessonProgressSink(tx: Queryable, events: readonly LearningEvent[]): Promise<void> {
  for (const event of events) {
    if ((event.kind !== 'lesson.viewed' && event.kind !== 'lesson.completed') || event.path === null || event.lesson === null) continue;
    await markLesson(tx, { learnerId: event.learnerId, path: event.path, lesson: event.lesson, at: event.at, completed: event.kind === 'lesson.completed' });
  }
}

export function recordingProgress(progress: Pick<Progress, 'forLearner'>, learning: { record(event: LearningEventInput): Promise<unknown> }): Progress {
  return {
    forLearner: (learnerId) => progress.forLearner(learnerId),
    // Slugs are checked first, with the messages the pages already show.
    async markViewed(learnerId, path, lesson) {
      await learning.record({ kind: 'lesson.viewed', learnerId, path: checkSlug('path', path), lesson: checkSlug('lesson', lesson) });
    },
    async markCompleted(learnerId, path, lesson) {
      await learning.record({ kind: 'lesson.completed', learnerId, path: checkSlug('path', path), lesson: checkSlug('lesson', lesson) });
    },
  };
}
