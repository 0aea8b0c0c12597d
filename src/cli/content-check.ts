import { resolve } from 'node:path';
import { checkContent, formatProblem } from '../content-model/index.ts';

// `formicary content check [--root DIR]`: validates every path and lesson. Standard output
// carries exactly one line per problem (`file:line: field: problem`) so editors and CI can
// jump to it; on success it carries one summary line.

const usage = 'usage: formicary content check [--root DIR]\n  DIR is the project folder holding content/, labs/ and public/ (default: the current folder)\n';

interface Output {
  write(text: string): unknown;
}

export async function runContentCheck(
  args: readonly string[],
  output: { stdout: Output; stderr: Output } = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  let root = process.cwd();
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index];
    if (arg === '--help' || arg === '-h') {
      output.stdout.write(usage);
      return 0;
    }
    const value = args[index + 1];
    if (arg === '--root' && value !== undefined) {
      root = resolve(value);
      index += 1;
    } else {
      output.stderr.write(`formicary content check: unexpected argument "${arg}"\n${usage}`);
      return 2;
    }
  }

  const report = await checkContent(root);
  if (report.problems.length > 0) {
    for (const problem of report.problems) output.stdout.write(`${formatProblem(problem)}\n`);
    const files = new Set(report.problems.map((problem) => problem.file)).size;
    output.stderr.write(`content check: ${plural(report.problems.length, 'problem')} in ${plural(files, 'file')}\n`);
    return 1;
  }
  const labs = report.labsChecked ? 'lab references checked' : 'lab references not checked (no labs yet)';
  output.stdout.write(
    `content check: ${plural(report.tree.paths.length, 'path')}, ${plural(report.lessonCount, 'lesson')}, no problems; ${labs}\n`,
  );
  return 0;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
