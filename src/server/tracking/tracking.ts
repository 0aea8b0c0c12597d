// Tracking assembled: the learning record, and lesson progress and lab sessions writing through its
// one writer, so every row a learner's action leaves and the event that tells of it are one
// transaction.

import type { Database } from '../db/index.ts';
import { createLabRecords, type LabRecords } from './lab-sessions.ts';
import { createLessonProgress, type Progress } from './lessons.ts';
import { createLearningRecord, type LearningRecord, type LearningRecordOptions } from './record.ts';

export interface TrackingOptions extends LearningRecordOptions {
  /** The workshop a learner is in right now, if any, to tag their lab events with (asked at each event). */
  workshopOf?: (learnerId: string) => Promise<string | null>;
}

export interface Tracking {
  /** Events, My learning, certificates, imports. */
  record: LearningRecord;
  /** Lesson progress: views and completions. */
  lessons: Progress;
  /** Lab sessions: starts, Checks, reveals, completion, ends. */
  labs: LabRecords;
}

export function createTracking(db: Database, options: TrackingOptions): Tracking {
  const { record, writer } = createLearningRecord(db, options);
  return {
    record,
    lessons: createLessonProgress(db, writer),
    labs: createLabRecords(db, writer, { ...(options.now ? { now: options.now } : {}), ...(options.workshopOf ? { workshopOf: options.workshopOf } : {}) }),
  };
}
