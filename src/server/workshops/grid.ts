// The dashboard's grid, derived from the lab sessions and checks of the learners in a workshop (as
// src/server/tracking reads them):
// a cell per learner and lab step, where each learner is now, and who looks stuck.

import type { CellStatus, GridColumn, LearnerRow, StuckReason, Workshop } from '../../contracts/index.ts';
import type { Seat } from './model.ts';
import type { LabActivityCheck, LabActivitySession } from '../tracking/index.ts';

export function learnerRow(
  workshop: Workshop,
  columns: readonly GridColumn[],
  seat: Seat,
  sessions: readonly LabActivitySession[],
  checks: readonly LabActivityCheck[],
  now: Date,
): LearnerRow {
  const own = sessions.filter((session) => session.learnerId === seat.learnerId);
  const checksOf = (session: LabActivitySession) => checks.filter((check) => check.labSession === session.id);
  const byLab = new Map(own.map((session) => [session.lab, session]));

  const cells: CellStatus[] = columns.map((column) => {
    const session = byLab.get(column.lab);
    if (!session) return 'not-started';
    const runs = checksOf(session).filter((check) => check.step === column.step);
    if (runs.some((check) => check.passed) || session.completedAt !== null) return 'passed';
    if (session.endedAt !== null || session.step !== column.step) return 'not-started';
    return runs.at(-1)?.passed === false ? 'failed' : 'working';
  });

  let lastProgressAt = seat.joinedAt;
  const later = (at: string) => {
    if (at > lastProgressAt) lastProgressAt = at;
  };
  for (const session of own) {
    later(session.startedAt);
    for (const check of checksOf(session)) if (check.passed) later(check.checkedAt);
  }

  const open = own.filter((session) => session.endedAt === null && session.completedAt === null && session.step !== null);
  const newest = open.sort((a, b) => (a.startedAt < b.startedAt ? 1 : -1))[0];
  let current: LearnerRow['current'] = null;
  if (newest?.step) {
    const runs = checksOf(newest);
    const passes = runs.filter((check) => check.passed);
    const since = passes.at(-1)?.checkedAt ?? newest.startedAt;
    let failuresInARow = 0;
    for (let index = runs.length - 1; index >= 0 && runs[index]?.passed === false && runs[index]?.step === newest.step; index -= 1) failuresInARow += 1;
    current = { lab: newest.lab, step: newest.step, since, failuresInARow };
  }

  const passedSteps = cells.filter((cell) => cell === 'passed').length;
  const endsAt = new Date(Date.parse(workshop.endsAt) + seat.extraMinutes * 60_000).toISOString();
  return {
    learnerId: seat.learnerId,
    name: seat.name,
    joinedAt: seat.joinedAt,
    endsAt,
    cells,
    current,
    lastProgressAt,
    stuck: stuckReason(workshop, passedSteps === columns.length && columns.length > 0, current, lastProgressAt, now),
    passedSteps,
  };
}

export function stuckReason(workshop: Workshop, finished: boolean, current: LearnerRow['current'], lastProgressAt: string, now: Date): StuckReason | null {
  if (workshop.endedAt !== null || finished) return null;
  if (now.toISOString() < workshop.startsAt) return null;
  if (current && current.failuresInARow >= workshop.stuckFailures) return 'failing';
  // Time before the start is not time without progress.
  const from = lastProgressAt > workshop.startsAt ? lastProgressAt : workshop.startsAt;
  if (now.getTime() - Date.parse(from) >= workshop.stuckMinutes * 60_000) return 'no-progress';
  return null;
}

/** Learners who passed each column's step. */
export function completions(columns: readonly GridColumn[], rows: Iterable<LearnerRow>): number[] {
  const counts = columns.map(() => 0);
  for (const row of rows) {
    row.cells.forEach((cell, index) => {
      if (cell === 'passed') counts[index] = (counts[index] ?? 0) + 1;
    });
  }
  return counts;
}
