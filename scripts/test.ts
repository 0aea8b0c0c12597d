// `npm test`: the whole suite, in the order a failure is cheapest to find. Each stage runs even
// when an earlier one failed (so one run shows every problem), and the last line is the plain
// summary CI reads: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

interface Stage {
  name: string;
  command: string[];
  /** Tests counted inside the stage (vitest); a stage without counts is one check. */
  counts?: () => { passed: number; failed: number; skipped: number };
  when?: () => boolean;
}

const reportDir = mkdtempSync(join(tmpdir(), 'formicary-test-'));
const vitestReport = join(reportDir, 'vitest.json');
const hasLabs = () => existsSync('labs') && readdirSync('labs').some((entry) => existsSync(join('labs', entry, 'lab.yaml')));

const stages: Stage[] = [
  { name: 'type check', command: ['npx', 'tsc', '--noEmit', '-p', '.'] },
  { name: 'content check', command: ['node', 'src/cli/main.ts', 'content', 'check'], when: () => existsSync('src/cli/content-check.ts') },
  { name: 'site build', command: ['npx', 'astro', 'build'], when: () => existsSync('astro.config.mjs') },
  {
    name: 'unit, integration and browser tests',
    command: ['npx', 'vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${vitestReport}`, ...process.argv.slice(2)],
    counts: () => {
      if (!existsSync(vitestReport)) return { passed: 0, failed: 1, skipped: 0 };
      const report = JSON.parse(readFileSync(vitestReport, 'utf8')) as {
        numPassedTests: number;
        numFailedTests: number;
        numPendingTests: number;
        numTodoTests: number;
        testResults: Array<{ name: string; status: string; message?: string; assertionResults: Array<{ fullName: string; status: string; failureMessages?: string[] }> }>;
      };
      // The names of what failed go into the summary, so the last lines of a long log say it all.
      for (const file of report.testResults) {
        const where = relative(process.cwd(), file.name);
        if (file.status === 'failed' && file.assertionResults.length === 0) failures.push(`${where}: did not load: ${(file.message ?? '').split('\n')[0]}`);
        for (const test of file.assertionResults) if (test.status === 'failed') failures.push(`${where} > ${test.fullName}\n     ${(test.failureMessages?.[0] ?? '').split('\n')[0]?.slice(0, 300)}`);
      }
      // A test file that fails to load has no assertion results but must still count as a failure.
      const brokenFiles = report.testResults.filter((file) => file.status === 'failed' && file.assertionResults.length === 0).length;
      return { passed: report.numPassedTests, failed: report.numFailedTests + brokenFiles, skipped: report.numPendingTests + report.numTodoTests };
    },
  },
  { name: 'lab self-tests', command: ['node', 'src/cli/main.ts', 'labs', 'test'], when: hasLabs },
];

let passed = 0;
let failed = 0;
let skipped = 0;
const lines: string[] = [];
const failures: string[] = [];
for (const stage of stages) {
  if (stage.when && !stage.when()) continue;
  process.stdout.write(`\n== ${stage.name}: ${stage.command.join(' ')}\n`);
  const started = Date.now();
  const [command, ...args] = stage.command;
  const result = spawnSync(command!, args, { stdio: 'inherit' });
  const ok = result.status === 0;
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (stage.counts) {
    const counts = stage.counts();
    passed += counts.passed;
    failed += counts.failed + (ok || counts.failed > 0 ? 0 : 1);
    skipped += counts.skipped;
    lines.push(`${ok ? 'ok  ' : 'FAIL'} ${stage.name} (${counts.passed} passed, ${counts.failed} failed, ${seconds}s)`);
  } else {
    if (ok) passed += 1;
    else failed += 1;
    lines.push(`${ok ? 'ok  ' : 'FAIL'} ${stage.name} (${seconds}s)`);
  }
}

if (failures.length > 0) process.stdout.write(`\n== failed tests\n${failures.map((name) => `FAIL ${name}`).join('\n')}\n`);
process.stdout.write(`\n== summary\n${lines.join('\n')}\n`);
process.stdout.write(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
