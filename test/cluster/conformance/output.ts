// What changes from run to run in kubectl's output, made comparable: ages, timestamps, generated
// name suffixes, allocated addresses and ports, and the padding of tabwriter columns (kubectl's
// alignment, not the server's answer). Everything else is compared exactly.
import { expect } from 'vitest';
import type { KubectlResult } from './harness.ts';

/** A duration as kubectl prints it (HumanDuration / ShortHumanDuration), or its placeholders. */
const DURATION = /^(?:\d+(?:y\d*d?|d\d*h?|h\d*m?|m\d*s?|s)|<invalid>|<unknown>)$/;
/** Table columns whose values are durations or points in time relative to now. */
const TIME_COLUMNS = new Set(['AGE', 'LAST SEEN', 'DURATION', 'LAST SCHEDULE', 'SINCE', 'FIRST SEEN', 'LAST-SEEN', 'CREATED', 'CREATED AT', 'TIME']);

/** Characters of Kubernetes' generated names (utilrand.String) and pod-template hashes. */
const ALNUM = '[bcdfghjklmnpqrstvwxz2456789]';

function splitCells(line: string, starts: number[]): string[] {
  return starts.map((start, i) => line.slice(start, starts[i + 1] ?? undefined).trim());
}

function render(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd((widths[i] ?? 0) + 3))).join('').trimEnd());
}

/**
 * A table block: header and rows split into cells at the header's column starts (the real
 * output) or at runs of two or more spaces (hand-written expectations), time columns replaced
 * by `<age>`, and re-rendered with kubectl's padding.
 */
function normaliseBlock(lines: string[]): string[] {
  const header = lines[0] ?? '';
  const starts: number[] = [];
  for (const match of header.matchAll(/\S+(?: \S+)*/g)) starts.push(match.index);
  const names = splitCells(header, starts);
  const rows = lines.map((line, index) => {
    // Hand-written rows may not be aligned; kubectl's always are (cells start under headers).
    const aligned = index === 0 || starts.every((start) => start === 0 || line[start - 1] === ' ' || line[start - 1] === undefined);
    const cells = aligned && line.length > 0 ? splitCells(line, starts) : line.trim().split(/\s{2,}/);
    return cells.map((cell, i) => (index > 0 && TIME_COLUMNS.has(names[i] ?? '') && (DURATION.test(cell) || cell === '<age>') ? '<age>' : cell));
  });
  return render(rows);
}

/** kubectl get's table output (one or several blocks separated by blank lines). */
export function table(text: string): string {
  const out: string[] = [];
  let block: string[] = [];
  const flush = () => {
    if (block.length > 0) out.push(...normaliseBlock(block));
    block = [];
  };
  for (const line of text.replace(/^\n+/, '').replace(/\n+$/, '').split('\n')) {
    if (line.trim() === '') {
      flush();
      out.push('');
    } else block.push(line);
  }
  flush();
  return out.join('\n') + '\n';
}

/**
 * kubectl describe's output: indentation kept (up to ten spaces), the padding after a label
 * collapsed to two spaces, timestamps and event ages replaced.
 */
export function describe(text: string): string {
  const lines = text.replace(/^\n+/, '').replace(/\n+$/, '').split('\n');
  const out: string[] = [];
  let inEvents = false;
  for (const line of lines) {
    // Continuation lines (more labels, tolerations) align under their value column, whose
    // width is kubectl's tabwriter's choice: any deep indentation counts as one.
    const indent = (/^ */.exec(line)?.[0] ?? '').slice(0, 10);
    let body = line
      .trimStart()
      .replace(/[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}/g, '<timestamp>')
      .replace(/\s{2,}/g, '  ')
      .trimEnd();
    if (/^Events:/.test(line)) inEvents = true;
    else if (/^\S/.test(line)) inEvents = false;
    if (inEvents && indent === '  ' && !/^(Type|----)\b/.test(body)) {
      const cells = body.split('  ');
      if (cells[2] !== undefined) cells[2] = cells[2].replace(/^(?:\d+\S*|<invalid>|<unknown>)(?: \(x\d+ over \S+\))?$/, '<age>');
      body = cells.join('  ');
    }
    out.push(indent + body);
  }
  return out.join('\n') + '\n';
}

/** Generated name parts after the given prefixes: `web-<hash>-<id>` for Deployments' pods, `job-<id>`. */
export function names(text: string, ...prefixes: string[]): string {
  let out = text;
  for (const prefix of prefixes) {
    const p = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    out = out
      .replace(new RegExp(`\\b${p}-${ALNUM}{6,10}-${ALNUM}{5}\\b`, 'g'), `${prefix}-<hash>-<id>`)
      .replace(new RegExp(`\\b${p}-${ALNUM}{6,10}\\b(?!-)`, 'g'), `${prefix}-<hash>`)
      .replace(new RegExp(`\\b${p}-${ALNUM}{5}\\b(?!-)`, 'g'), `${prefix}-<id>`);
  }
  return out;
}

/** Allocated Service addresses and node ports, pod addresses, uids and resourceVersions. */
export function addresses(text: string): string {
  return text
    .replace(/\b10\.(?:9[6-9]|10\d|11[01])\.\d{1,3}\.\d{1,3}\b/g, '<cluster-ip>')
    .replace(/\b10\.244\.\d{1,3}\.\d{1,3}\b/g, '<pod-ip>')
    .replace(/(\d+):3\d{4}\//g, '$1:<node-port>/');
}

/** Asserts exit code, stdout and stderr at once, so a failure shows all three. */
export function expectResult(
  result: KubectlResult,
  expected: { code: number; stdout?: string | RegExp; stderr?: string | RegExp },
  normalise: (text: string) => string = (text) => text,
): void {
  const actual = { code: result.code, stdout: normalise(result.stdout), stderr: result.stderr };
  const want: Record<string, unknown> = { code: expected.code };
  want['stdout'] = expected.stdout === undefined ? actual.stdout : expected.stdout instanceof RegExp ? expect.stringMatching(expected.stdout) : normalise(expected.stdout);
  want['stderr'] = expected.stderr === undefined ? '' : expected.stderr instanceof RegExp ? expect.stringMatching(expected.stderr) : expected.stderr;
  expect(actual).toEqual(want);
}

/** Removes leading indentation common to every line of a template literal (expected outputs). */
export function text(strings: TemplateStringsArray, ...values: unknown[]): string {
  const raw = strings.reduce((out, part, i) => out + part + (i < values.length ? String(values[i]) : ''), '');
  const lines = raw.replace(/^\n/, '').split('\n');
  const indent = Math.min(...lines.filter((line) => line.trim() !== '').map((line) => /^ */.exec(line)?.[0].length ?? 0));
  return lines.map((line) => line.slice(indent)).join('\n').replace(/[ \t]+$/, '');
}

/** Rows rendered as kubectl's tabwriter renders them (for tables with empty cells). */
export function columns(rows: string[][]): string {
  return render(rows).join('\n') + '\n';
}
