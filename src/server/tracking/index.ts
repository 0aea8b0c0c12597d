// What learners did in labs, kept in the portal's database: sessions, checks, reveals, completion.

export { createLabRecords, checkResult, END_REASONS, LAB_SESSION_STATUSES } from './records.ts';
export type {
  CheckRecord,
  EndReason,
  LabProgress,
  LabRecords,
  LabSessionRecord,
  LabSessionStatus,
  LessonRef,
  OpenLabSession,
  RecordedCheckResult,
  RevealRecord,
} from './records.ts';
