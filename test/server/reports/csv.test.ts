import { describe, expect, it } from 'vitest';
import { toCsv } from '../../../src/server/csv/index.ts';
import { reportCsv } from '../../../src/server/reports/index.ts';
import { parseCsv } from './rfc4180.ts';

describe('CSV (RFC 4180)', () => {
  it('writes a header row and CRLF after every record, and quotes only what needs it', () => {
    const csv = toCsv(
      [
        { header: 'name', value: (row: { name: string; count: number | null }) => row.name },
        { header: 'count', value: (row) => row.count },
      ],
      [
        { name: 'plain', count: 1 },
        { name: 'a, b', count: null },
        { name: 'say "hi"', count: 2.5 },
        { name: 'two\r\nlines\nhere', count: 0 },
      ],
    );
    expect(csv).toBe('name,count\r\nplain,1\r\n"a, b",\r\n"say ""hi""",2.5\r\n"two\r\nlines\nhere",0\r\n');
    expect(parseCsv(csv)).toEqual([
      ['name', 'count'],
      ['plain', '1'],
      ['a, b', ''],
      ['say "hi"', '2.5'],
      ['two\r\nlines\nhere', '0'],
    ]);
  });

  it('keeps a spreadsheet from running text as a formula', () => {
    const csv = toCsv([{ header: 'message', value: (row: string | number) => row }], ['=HYPERLINK("http://x.example")', '+1', '-1 replicas', '@sum', '\tcmd', '\r=1', 'fine', -3]);
    expect(parseCsv(csv).slice(1).map(([value]) => value)).toEqual(["'=HYPERLINK(\"http://x.example\")", "'+1", "'-1 replicas", "'@sum", "'\tcmd", "'\r=1", 'fine', '-3']);
    // Every neutralised cell is quoted as well, as OWASP advises.
    expect(csv).toContain('"\'+1"\r\n');
  });

  it('writes each report with its JSON fields as columns; the check report has a row per message', () => {
    const teams = parseCsv(
      reportCsv.teams([
        { team: 'platform', learners: 2, activeLearners: 1, pathsStarted: 3, pathsCompleted: 1, labsStarted: 0, labsCompleted: 0, learnersWithACompletedPath: 1 },
        { team: null, learners: 1, activeLearners: 0, pathsStarted: 0, pathsCompleted: 0, labsStarted: 0, labsCompleted: 0, learnersWithACompletedPath: 0 },
      ]),
    );
    expect(teams[0]).toEqual(['team', 'learners', 'activeLearners', 'pathsStarted', 'pathsCompleted', 'labsStarted', 'labsCompleted', 'learnersWithACompletedPath']);
    expect(teams.slice(1).map((row) => row[0])).toEqual(['platform', 'no team']);
    const checks = parseCsv(
      reportCsv.checks([
        {
          lab: 'scale',
          step: 'replicas',
          check: '0:field',
          kind: 'field',
          expected: '3',
          failures: 3,
          stepChecks: 4,
          failureRate: 0.75,
          messages: [
            { message: 'Deployment web has 2 replicas, not 3.', count: 2 },
            { message: 'Deployment web has 1 replicas, not 3.', count: 1 },
          ],
        },
      ]),
    );
    expect(checks).toEqual([
      ['lab', 'step', 'check', 'kind', 'expected', 'failures', 'stepChecks', 'failureRate', 'message', 'messageCount'],
      ['scale', 'replicas', '0:field', 'field', '3', '3', '4', '0.75', 'Deployment web has 2 replicas, not 3.', '2'],
      ['scale', 'replicas', '0:field', 'field', '3', '3', '4', '0.75', 'Deployment web has 1 replicas, not 3.', '1'],
    ]);
  });
});
