// Each report as a CSV table: the columns are the JSON fields, in the same order, so a column in a
// spreadsheet means what the field means in the API. The check report has a row per message.

import { NO_TEAM } from '../../contracts/index.ts';
import { toCsv, type CsvColumn } from '../csv/index.ts';
import type { FailingCheckRow, LabCompletionRow, PathCompletionRow, TeamCompletionRow } from '../../contracts/index.ts';


const columns = <Row>(...names: (keyof Row & string)[]): CsvColumn<Row>[] =>
  names.map((name) => ({ header: name, value: (row: Row) => row[name] as string | number | null }));

const pathColumns = columns<PathCompletionRow>(
  'path',
  'title',
  'learnersStarted',
  'learnersCompleted',
  'stillInProgress',
  'completionRate',
  'medianTimeToCompleteMs',
  'p90TimeToCompleteMs',
);

const labColumns = columns<LabCompletionRow>(
  'lab',
  'learnersStarted',
  'learnersCompleted',
  'completionRate',
  'attempts',
  'checks',
  'failedChecks',
  'hints',
  'solutions',
  'medianTimeToCompleteMs',
  'p90TimeToCompleteMs',
);

const teamColumns: CsvColumn<TeamCompletionRow>[] = [
  { header: 'team', value: (row) => row.team ?? NO_TEAM },
  ...columns<TeamCompletionRow>('learners', 'activeLearners', 'pathsStarted', 'pathsCompleted', 'labsStarted', 'labsCompleted', 'learnersWithACompletedPath'),
];

type CheckMessageRow = FailingCheckRow & { message: string; messageCount: number };
const checkColumns = columns<CheckMessageRow>('lab', 'step', 'check', 'kind', 'expected', 'failures', 'stepChecks', 'failureRate', 'message', 'messageCount');

export const reportCsv = {
  paths: (rows: readonly PathCompletionRow[]) => toCsv(pathColumns, rows),
  labs: (rows: readonly LabCompletionRow[]) => toCsv(labColumns, rows),
  teams: (rows: readonly TeamCompletionRow[]) => toCsv(teamColumns, rows),
  checks: (rows: readonly FailingCheckRow[]) =>
    toCsv(
      checkColumns,
      rows.flatMap((row) => row.messages.map((message) => ({ ...row, message: message.message, messageCount: message.count }))),
    ),
};
