// Lab records (src/server/tracking) that also append to the learning record: a lab session
// opened is `lab.started`, a Check is `check.passed` or `check.failed` with its results, a hint
// or solution shown is `hint.shown` / `solution.shown`, completion is `lab.completed` and an
// ended session `lab.ended`. The lab service keeps calling LabRecords as before; wrapping the
// records it is given is all it takes.

import type { LabRecords, LabSessionRecord } from '../tracking/index.ts';
import type { LearningEventInput } from './events.ts';
import type { LearningRecord } from './store.ts';

export interface RecordingLabRecordsOptions {
  /** The workshop a learner is in right now, if any, to tag their lab events with. */
  workshopOf?: (learnerId: string) => Promise<string | null>;
}

export function recordingLabRecords(records: LabRecords, learning: Pick<LearningRecord, 'record'>, options: RecordingLabRecordsOptions = {}): LabRecords {
  const sessionOf = async (id: string): Promise<LabSessionRecord> => {
    const session = await records.get(id);
    if (!session) throw new Error(`lab session ${id} does not exist`);
    return session;
  };
  /** What every lab event of the session says: who, which lab, which attempt, from which lesson. */
  const about = async (session: LabSessionRecord) => {
    const lesson = session.lessons[0];
    const workshop = (await options.workshopOf?.(session.learnerId)) ?? null;
    return {
      learnerId: session.learnerId,
      lab: session.lab,
      labSession: session.id,
      ...(lesson ? { path: lesson.path, lesson: lesson.lesson } : {}),
      ...(workshop ? { workshop } : {}),
    };
  };
  const record = (event: LearningEventInput) => learning.record(event);

  return {
    ...records,

    async open(input) {
      const opened = await records.open(input);
      if (opened.created) await record({ kind: 'lab.started', ...(await about(opened.session)), at: opened.session.startedAt });
      return opened;
    },

    async recordCheck(id, check) {
      const recorded = await records.recordCheck(id, check);
      await record({
        kind: recorded.passed ? 'check.passed' : 'check.failed',
        ...(await about(await sessionOf(id))),
        at: recorded.checkedAt,
        step: recorded.step,
        results: recorded.results,
        durationMs: recorded.durationMs,
      });
      return recorded;
    },

    async complete(id) {
      const session = await records.complete(id);
      if (session.completedAt) {
        await record({
          kind: 'lab.completed',
          ...(await about(session)),
          at: session.completedAt,
          durationMs: Math.max(0, Date.parse(session.completedAt) - Date.parse(session.startedAt)),
        });
      }
      return session;
    },

    async recordReveal(id, reveal) {
      await records.recordReveal(id, reveal);
      const session = await about(await sessionOf(id));
      if (reveal.kind === 'hint') await record({ kind: 'hint.shown', ...session, step: reveal.step, number: reveal.number });
      else await record({ kind: 'solution.shown', ...session, step: reveal.step });
    },

    async end(id, reason) {
      const ended = await records.end(id, reason);
      if (ended) {
        const session = await sessionOf(id);
        await record({ kind: 'lab.ended', ...(await about(session)), ...(session.endedAt ? { at: session.endedAt } : {}), reason });
      }
      return ended;
    },
  };
}
