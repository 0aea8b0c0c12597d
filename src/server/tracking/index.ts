// Tracking: what learners did, kept in the portal's database. The learning record (every learning
// event, appended once and never changed, and what is derived from it: lesson, lab and path
// progress, My learning, certificates), lesson progress, and lab sessions with their Checks,
// reveals and completion. One writer: a row a learner's action leaves and the learning event that
// tells of it are written in one transaction (writer.ts).

export { createTracking } from './tracking.ts';
export type { Tracking, TrackingOptions } from './tracking.ts';
export type { EventQuery, LearningRecord, LearningRecordOptions } from './record.ts';
export type { EventSink, LearnerIdentity, RecordOutcome } from './writer.ts';
export { LearningEventError } from './events.ts';
export type { EndReason, EventDetail, LearningEvent, LearningEventInput, LearningEventKind } from './events.ts';
export { contentOutlines, fixedOutlines } from './outlines.ts';
export type { PathOutline, PathOutlines } from './outlines.ts';
export type { Certificate, Certificates } from './certificates.ts';
export type { Progress } from './lessons.ts';
export type { CheckRecord, ExtendedLabSession, LabActivityCheck, LabActivitySession, LabProgress, LabRecords, LabSessionRecord, LessonRef, OpenLabSession, RevealRecord } from './lab-sessions.ts';
