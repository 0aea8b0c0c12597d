// `formicary content check` validates the lab files too, each problem as file:line: field: problem.
import { cp, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runContentCheck } from '../../src/cli/content-check.ts';
import { writeLab } from './fixtures.ts';

let root: string;
const project = join(import.meta.dirname, '..', '..');

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'formicary-labs-content-'));
  await cp(join(project, 'content'), join(root, 'content'), { recursive: true });
  await cp(join(project, 'public'), join(root, 'public'), { recursive: true });
  await cp(join(project, 'labs'), join(root, 'labs'), { recursive: true });
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

function capture() {
  let text = '';
  return { write: (chunk: string) => (text += chunk), get text() { return text; } };
}

it('accepts the project\'s labs and reports a broken one by file, line and field', async () => {
  const ok = capture();
  expect(await runContentCheck(['--root', root], { stdout: ok, stderr: capture() })).toBe(0);
  expect(ok.text).toContain('lab references checked');

  const original = await readFile(join(project, 'labs', 'deploy-and-expose', 'lab.yaml'), 'utf8');
  await writeLab(join(root, 'labs'), 'deploy-and-expose', { 'lab.yaml': original.replace('duration: 20', 'duration: twenty') });
  const broken = capture();
  expect(await runContentCheck(['--root', root], { stdout: broken, stderr: capture() })).toBe(1);
  expect(broken.text).toBe('labs/deploy-and-expose/lab.yaml:3: duration: must be a number, not the text "twenty"\n');
});
