import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runContentCheck } from '../../src/cli/content-check.ts';
import { checkContent, formatProblem } from '../../src/content-model/index.ts';

const fixtures = join(import.meta.dirname, '..', 'fixtures');

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runContentCheck(args, {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}

describe('formicary content check on good content', () => {
  it('exits 0 with one summary line', async () => {
    const { code, stdout } = await run(['--root', join(fixtures, 'portal')]);
    expect(code).toBe(0);
    expect(stdout).toBe('content check: 2 paths, 3 lessons, no problems; lab references checked\n');
  });

  it('reads lessons in their NN order with ids without the prefix', async () => {
    const report = await checkContent(join(fixtures, 'portal'));
    const basics = report.tree.paths.find((path) => path.id === 'container-basics');
    expect(basics?.lessons.map((lesson) => [lesson.order, lesson.id])).toEqual([
      [1, 'images'],
      [2, 'first-pod'],
    ]);
  });
});

describe('formicary content check on broken content', () => {
  it('prints one file:line: field: problem line per error and exits 1', async () => {
    const { code, stdout, stderr } = await run(['--root', join(fixtures, 'broken-content')]);
    expect(code).toBe(1);
    const lines = stdout.trimEnd().split('\n');
    for (const line of lines) expect(line).toMatch(/^content\/paths\/[^:]+:\d+: [^:]+: .+/);
    expect(stderr).toBe(`content check: ${lines.length} problems in 7 files\n`);
  });

  const expected: Array<[string, string]> = [
    ['frontmatter fields point at their own line', 'content/paths/networking/index.mdx:4: level: must be one of beginner, intermediate, advanced'],
    ['list items point at the item', 'content/paths/networking/01-services.mdx:6: objectives.1: must not be empty'],
    ['a missing field points at the frontmatter', 'content/paths/networking/01-services.mdx:1: summary: is required'],
    ['a misspelt field is named', 'content/paths/networking/01-services.mdx:8: objective: is not a known field; use title, summary, duration, objectives, lab'],
    ['a lab that does not exist', 'content/paths/networking/01-services.mdx:7: lab: "missing-lab" has no labs/missing-lab/lab.yaml; known labs: real-lab'],
    ['a prerequisite naming the path itself', 'content/paths/networking/index.mdx:9: prerequisites.0: names this path itself'],
    ['a prerequisite naming no path', 'content/paths/networking/index.mdx:10: prerequisites.1: "storage" is not a path; known paths: networking'],
    ['a duplicate order number', 'content/paths/networking/01-services.mdx:1: order: 01 is also the order of 01-dns.mdx; give each lesson its own number'],
    ['a misnamed lesson file', 'content/paths/networking/3-bad-name.mdx:1: file: name must be NN-<lesson>.mdx: a two-digit order, a hyphen, lower-case words joined by hyphens, such as 01-what-is-a-cluster.mdx'],
    ['a path folder without index.mdx', 'content/paths/no-index/index.mdx:1: file: is missing; every path folder needs an index.mdx describing the path'],
    ['a link to a lesson that does not exist', 'content/paths/networking/index.mdx:13: link: /paths/networking/nowhere is not a lesson of networking; its lessons are dns, services, broken-yaml, no-frontmatter'],
    ['a link to a heading that does not exist', 'content/paths/networking/01-services.mdx:13: link: /paths/networking/dns#no-such-heading names no heading of content/paths/networking/01-dns.mdx; its headings are #resolution'],
    ['an in-page anchor that does not exist', 'content/paths/networking/01-services.mdx:13: link: #nope names no heading in this file; headings are #expose-it'],
    ['a relative link', 'content/paths/networking/01-services.mdx:23: link: 02-dns is relative; write the address from the site root, such as /paths/<path>/<lesson>'],
    ['a figure whose file is missing', 'content/paths/networking/01-services.mdx:19: <Figure src>: /diagrams/missing.svg is neither a page nor a file in public/'],
    ['a figure without alt text', 'content/paths/networking/01-services.mdx:19: <Figure alt>: is required: a non-empty string, such as alt="what the picture shows"'],
    ['a callout of an unknown kind', 'content/paths/networking/01-services.mdx:15: <Callout kind>: must be one of note, tip, warning, danger'],
    ['a quiz answer out of range', 'content/paths/networking/01-services.mdx:17: <Quiz answer>: must be the index of the right option (0 to 1), written answer={1}'],
    ['an unknown component', 'content/paths/networking/01-services.mdx:21: <Sparkle>: is not a lesson component; use one of Callout, Command, Tabs, Tab, Quiz, Figure'],
    ['MDX that does not parse', 'content/paths/networking/03-no-frontmatter.mdx:3: mdx: does not parse: Expected a closing tag for `<Callout>` (3:1) (mdx-jsx:unexpected-character)'],
    ['YAML that does not parse', 'content/paths/networking/02-broken-yaml.mdx:4: frontmatter: is not valid YAML: Flow sequence in block collection must be sufficiently indented and end with a ]'],
  ];

  it.each(expected)('reports %s', async (_, line) => {
    const report = await checkContent(join(fixtures, 'broken-content'));
    expect(report.problems.map(formatProblem)).toContain(line);
  });
});

describe('formicary content check edge cases', () => {
  let root = '';
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  function project(files: Record<string, string>) {
    root = mkdtempSync(join(tmpdir(), 'formicary-content-'));
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(join(root, file, '..'), { recursive: true });
      writeFileSync(join(root, file), text);
    }
    return root;
  }

  const path = (prerequisites: string[]) =>
    `---\ntitle: T\nsummary: S\nlevel: beginner\nduration: 5\naudience: A\noutcomes: [o]\nprerequisites: [${prerequisites.join(', ')}]\n---\n`;
  const lesson = '---\ntitle: L\nsummary: S\nduration: 5\nobjectives: [o]\nlab: not-yet\n---\nText\n';

  it('finds prerequisite cycles', async () => {
    project({
      'content/paths/a/index.mdx': path(['b']),
      'content/paths/a/01-x.mdx': lesson,
      'content/paths/b/index.mdx': path(['a']),
      'content/paths/b/01-y.mdx': lesson,
    });
    const { stdout, code } = await run(['--root', root]);
    expect(code).toBe(1);
    expect(stdout).toContain('content/paths/a/index.mdx:8: prerequisites: form a cycle: a → b → a');
  });

  it('leaves lab references alone until the project has labs', async () => {
    project({ 'content/paths/a/index.mdx': path([]), 'content/paths/a/01-x.mdx': lesson });
    expect((await run(['--root', root])).stdout).toContain('lab references not checked (no labs yet)');
  });

  it('rejects unknown arguments with usage', async () => {
    const { code, stderr } = await run(['--roo', 'x']);
    expect(code).toBe(2);
    expect(stderr).toContain('usage: formicary content check');
  });
});
