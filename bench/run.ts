// `npm run bench`: runs every bench/*.bench.ts in its own Node process (so one bench's memory
// and warm caches do not colour another's figures) and prints one JSON object of named figures.
// Progress goes to stderr; stdout carries only the JSON. `npm run bench -- cluster` runs the
// benches whose file name contains "cluster".
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const filters = process.argv.slice(2);
const dir = import.meta.dirname;
const benches = readdirSync(dir)
  .filter((file) => file.endsWith('.bench.ts'))
  .filter((file) => filters.length === 0 || filters.some((filter) => file.includes(filter)))
  .sort();

const figures: Record<string, number | string> = {};
let failures = 0;
for (const file of benches) {
  process.stderr.write(`bench: ${file} …\n`);
  const started = Date.now();
  const result = spawnSync(process.execPath, ['--expose-gc', join(dir, 'single.ts'), join(dir, file)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 15 * 60_000,
  });
  const last = result.stdout.trim().split('\n').at(-1) ?? '';
  try {
    Object.assign(figures, JSON.parse(last));
    process.stderr.write(`bench: ${file} done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  } catch {
    failures += 1;
    figures[`${file.replace('.bench.ts', '')}_error`] = `exit ${result.status}${result.signal ? ` (${result.signal})` : ''}`;
    process.stderr.write(`bench: ${file} failed (exit ${result.status})\n${result.stdout}\n`);
  }
}
process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
process.exit(failures === 0 ? 0 : 1);
