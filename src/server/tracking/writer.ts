// The one way tracking writes: a transaction in which a room's own rows (a lab session's check,
// a lesson's progress) and the learning events that tell of them are written together, or not at
// all. The learning record (record.ts) provides it; lesson progress and lab sessions use it.

import type { Queryable } from '../db/index.ts';
import type { LearningEvent, LearningEventInput } from './events.ts';

/** Who an event is about, as sinks need them (an xAPI actor). */
export interface LearnerIdentity {
  id: string;
  name: string;
  email: string | null;
}

/** Writes in the transaction that appends `events` (only events appended now, derived ones included). */
export type EventSink = (tx: Queryable, events: readonly LearningEvent[], learner: LearnerIdentity) => Promise<void>;

export interface RecordOutcome {
  /** The event as recorded; when `recorded` is false, the earlier record of the same thing. */
  event: LearningEvent;
  /** False when the event happens once (a lesson completed, an attempt started) and was already recorded. */
  recorded: boolean;
  /** What the event caused: `path.completed` when it completed the path's last lesson. */
  derived: LearningEvent[];
}

/** Validates an event and appends it in the writer's transaction, with its summaries and sinks. */
export type AppendEvent = (event: LearningEventInput) => Promise<RecordOutcome>;

export interface EventWriter {
  /**
   * Runs `work` in one transaction: what it writes through `tx` and the events it appends commit
   * together; listeners hear of the events after the commit. Nothing inside may use the database
   * other than through `tx` (on SQLite the transaction holds the one connection).
   */
  write<T>(work: (tx: Queryable, append: AppendEvent) => Promise<T>): Promise<T>;
}
