// What learners did in labs, kept in the portal's database: sessions, checks, reveals, completion.

export { createLabRecords, END_REASONS } from './records.ts';
export type {
  CheckRecord,
  EndReason,
  LabProgress,
  LabRecords,
  LabSessionRecord,
  LessonRef,
  OpenLabSession,
  RevealRecord,
} from './records.ts';
