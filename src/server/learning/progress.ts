// Lesson progress (src/server/learners) keeps its table and its answers; every mark is also
// appended to the learning record, which is what completes paths and issues certificates.

import type { Progress } from '../learners/index.ts';
import type { LearningRecord } from './store.ts';

export function recordingProgress(progress: Progress, learning: Pick<LearningRecord, 'record'>): Progress {
  return {
    forLearner: (learnerId) => progress.forLearner(learnerId),

    async markViewed(learnerId, path, lesson) {
      // The progress table validates the slugs first, with the messages the pages already show.
      await progress.markViewed(learnerId, path, lesson);
      await learning.record({ kind: 'lesson.viewed', learnerId, path, lesson });
    },

    async markCompleted(learnerId, path, lesson) {
      await progress.markCompleted(learnerId, path, lesson);
      await learning.record({ kind: 'lesson.completed', learnerId, path, lesson });
    },
  };
}
