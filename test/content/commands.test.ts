// Every command a lesson shows in a <Command> block, run as the lesson orders them against the
// embedded cluster with the kubectl learners use, in a namespace of its own: kubectl must accept
// it as written (its flags, arguments and resource types exist, the objects it sends are valid).
// Placeholder names (a pod name from the lesson's sample output) may be NotFound, and commands
// that follow or watch are cut off after a few seconds; what may not happen is kubectl refusing
// the command itself, which is how a lesson's text drifts from the cluster. And where the lesson
// shows what a command prints (a ```text block right after it) and the command ran, what it
// printed must have that shape: a table's columns, or kubectl's "kind/name created" line.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCluster, type TestCluster } from '../labs/cluster.ts';

const PATHS = join(import.meta.dirname, '..', '..', 'content', 'paths');

/** What kubectl says when the command itself is wrong, not the state of the cluster. */
const REFUSED = /unknown flag|unknown shorthand flag|unknown command|flag needs an argument|invalid argument|the server doesn't have a resource type|error: error parsing|is invalid:|error: unknown|strict decoding error|required flag/i;

interface Lesson {
  file: string;
  commands: string[];
  /** What the lesson shows a command printing, by the command's index: the ```text block right after it. */
  shown: Map<number, string>;
}

/** A table's header line as kubectl prints it: upper-case column names two or more spaces apart. */
const TABLE_HEADER = /^[A-Z][A-Z0-9()%./-]*( [A-Z][A-Z0-9()%./-]*)*(\s{2,}[A-Z][A-Z0-9()%./-]*( [A-Z][A-Z0-9()%./-]*)*)+\s*$/;
/** kubectl's one-line answer to a change: "deployment.apps/web created". */
const CHANGE_LINE = /^[a-z0-9.-]+\/[a-z0-9.-]+ (created|configured|deleted|labeled|annotated|scaled|exposed|patched|unchanged|cordoned|uncordoned|drained|restarted|rolled back|image updated|resource requirements updated|serviceaccount updated|env updated)$/;

/** Whether `printed` (a command's real output) has the shape the lesson shows in `shown`; a reason when not. */
function shapeDiffers(shown: string, printed: string): string | null {
  const expected = shown.split('\n')[0]?.trimEnd() ?? '';
  const actual = printed.split('\n').find((line) => line.trim() !== '' && !/^Warning:/.test(line))?.trimEnd() ?? '';
  // The objects the lesson's state needs may not be there (made from files the test does not have).
  if (/^No resources found/.test(actual)) return null;
  if (TABLE_HEADER.test(expected)) {
    const columns = (line: string) => line.trim().split(/\s{2,}/);
    return columns(actual).join(' | ') === columns(expected).join(' | ') ? null : `the lesson shows the columns ${columns(expected).join(', ')}; kubectl printed ${JSON.stringify(actual)}`;
  }
  if (CHANGE_LINE.test(expected)) return actual === expected ? null : `the lesson shows ${JSON.stringify(expected)}; kubectl printed ${JSON.stringify(actual)}`;
  return null;
}

async function lessons(): Promise<Lesson[]> {
  const found: Lesson[] = [];
  for (const path of (await readdir(PATHS)).sort()) {
    for (const name of (await readdir(join(PATHS, path))).filter((file) => /^\d\d-.*\.mdx$/.test(file)).sort()) {
      const text = await readFile(join(PATHS, path, name), 'utf8');
      const matches = [...text.matchAll(/<Command\s+command="([^"]*)"[^>]*\/>(\s*```text\n([\s\S]*?)```)?/g)];
      const commands = matches.map((match) => (match[1] as string).replaceAll('&quot;', '"'));
      const shown = new Map<number, string>();
      matches.forEach((match, index) => match[3] !== undefined && shown.set(index, match[3]));
      found.push({ file: `${path}/${name}`, commands, shown });
    }
  }
  return found;
}

function run(command: string, cwd: string, kubeconfig: string): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('bash', ['-c', command], { cwd, env: { ...process.env, KUBECONFIG: kubeconfig, HOME: cwd }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    // Watches, follows and interactive shells never end on their own.
    const timer = setTimeout(() => {
      try {
        process.kill(-(child.pid as number), 'SIGKILL');
      } catch {
        // already gone
      }
    }, 8_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

let cluster: TestCluster;
let all: Lesson[];

beforeAll(async () => {
  cluster = await startTestCluster();
  all = await lessons();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

describe('lesson commands', () => {
  it('finds the commands of every lesson', () => {
    expect(all.length).toBeGreaterThan(10);
    expect(all.reduce((sum, lesson) => sum + lesson.commands.length, 0)).toBeGreaterThan(100);
  });

  it('tells a command kubectl refuses from one that meets a missing object', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'formicary-lesson-'));
    const kubeconfig = join(dir, 'kubeconfig');
    await writeFile(kubeconfig, cluster.kubeConfig.exportConfig());
    try {
      // kubectl run lost --requests in 1.24; a lesson still showing it would be caught.
      const removedFlag = await run('kubectl run q --image=nginx:1.27 --requests=cpu=100m', dir, kubeconfig);
      expect(removedFlag.code).not.toBe(0);
      expect(removedFlag.output).toMatch(REFUSED);
      const misspelt = await run('kubectl get deploymints', dir, kubeconfig);
      expect(misspelt.output).toMatch(REFUSED);
      const placeholder = await run('kubectl delete pod web-7c5ddbdf54-8xk2v --wait=false', dir, kubeconfig);
      expect(placeholder.code).not.toBe(0);
      expect(placeholder.output).not.toMatch(REFUSED);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('runs every lesson command against the embedded cluster without kubectl refusing it', async () => {
    const refused: string[] = [];
    const drifted: string[] = [];
    for (const lesson of all) {
      if (!lesson.commands.length) continue;
      const namespace = await cluster.namespace('lesson');
      const dir = await mkdtemp(join(tmpdir(), 'formicary-lesson-'));
      const config = cluster.kubeConfig.exportConfig();
      const parsed = JSON.parse(config) as { contexts: Array<{ context: { namespace?: string } }> };
      for (const context of parsed.contexts) context.context.namespace = namespace;
      const kubeconfig = join(dir, 'kubeconfig');
      await writeFile(kubeconfig, JSON.stringify(parsed));
      try {
        for (const [index, command] of lesson.commands.entries()) {
          const { code, output } = await run(command.replaceAll('/namespaces/default/', `/namespaces/${namespace}/`), dir, kubeconfig);
          if (code !== 0 && REFUSED.test(output)) refused.push(`${lesson.file}: \`${command}\`: ${output.trim().split('\n').slice(-2).join(' / ')}`);
          const shown = lesson.shown.get(index);
          const differs = code === 0 && shown !== undefined ? shapeDiffers(shown, output) : null;
          if (differs) drifted.push(`${lesson.file}: \`${command}\`: ${differs}`);
        }
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
    expect(refused).toEqual([]);
    expect(drifted).toEqual([]);
  }, 600_000);
});
