// The learning record: every learning event, appended once and never changed, and what is derived
// from it — lesson, lab and path progress, My learning, certificates. `record(event)` is how the
// rest of the portal tells it what happened; `recordingProgress` and `recordingLabRecords` wrap the
// existing lesson progress and lab records so that what they record is appended too.

export { createLearningRecord } from './store.ts';
export type { EventQuery, EventSink, LearnerIdentity, LearningRecord, LearningRecordOptions, RecordOutcome } from './store.ts';
export type { LabRecordSummary, MyLearning, PathProgress } from '../../contracts/index.ts';
export { contentId, DERIVED_KINDS, LEARNING_EVENT_KINDS, LearningEventError, learningEventInput } from './events.ts';
export type { EventDetail, LearningEvent, LearningEventInput, LearningEventKind } from './events.ts';
export { contentOutlines, fixedOutlines } from './outlines.ts';
export type { PathOutline, PathOutlines } from './outlines.ts';
export { MAX_REVOKE_REASON, normalizeCode } from './certificates.ts';
export type { Certificate, Certificates } from './certificates.ts';
export { recordingProgress } from './progress.ts';
export { recordingLabRecords } from './labs.ts';
export type { RecordingLabRecordsOptions } from './labs.ts';
export { certificateList, certificateSchema, certificatesQuery, labRecordSchema, myLearningSchema, pathProgressSchema, revokeRequest } from '../../contracts/index.ts';
