import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { formatLabProblem, LabError, loadLab, validateLab } from '../../src/labs/index.ts';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'formicary-labs-load-'));
});
afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

async function lab(id: string, files: Record<string, string>): Promise<string> {
  const dir = join(root, 'labs', id);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  return dir;
}

// Line numbers below refer to this text: steps on line 4, the first check on line 9, the
// field check on line 12 with its `equals` on line 16.
const base = `title: Deploy and expose
summary: Run a web server.
duration: 15
steps:
  - id: create
    title: Create it
    instructions: Create a Deployment named web.
    checks:
      - kind: exists
        resource: deploy
        name: web
      - kind: field
        resource: deployment
        name: web
        path: '{.spec.replicas}'
        equals: 3
    hints: [Try kubectl create deployment.]
    solution:
      - kubectl create deployment web --image=nginx:1.27 --replicas=3
`;

const problems = async (dir: string) => (await validateLab(dir)).map(formatLabProblem);

describe('loading a lab', () => {
  it('reads a valid lab with defaults and its setup objects', async () => {
    const text = base.replace('steps:\n', 'setup:\n  manifests: [setup/app.yaml]\nsteps:\n');
    const dir = await lab('deploy-and-expose', { 'lab.yaml': text, 'setup/app.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n' });
    expect(await problems(dir)).toEqual([]);
    const loaded = await loadLab(dir);
    expect(loaded.id).toBe('deploy-and-expose');
    expect(loaded.needs).toBe('namespace');
    expect(loaded.quota).toEqual({ cpu: '2', memory: '2Gi', pods: 10, services: 5 });
    expect(loaded.rbac).toEqual([]);
    expect(loaded.steps[0]?.checks.map((check) => check.kind)).toEqual(['exists', 'field']);
    expect(loaded.manifests.map((m) => [m.file, m.line, m.object.metadata.name])).toEqual([
      ['labs/deploy-and-expose/setup/app.yaml', 1, 'a'],
      ['labs/deploy-and-expose/setup/app.yaml', 6, 'b'],
    ]);
  });

  it('names file, line and field of a misspelt key and suggests the right one', async () => {
    const dir = await lab('typo', { 'lab.yaml': base.replace('equals: 3', 'equal: 3') });
    expect(await problems(dir)).toEqual([
      'labs/typo/lab.yaml:12: steps.0.checks.1: needs one comparison: equals, notEquals, matches, contains, oneOf, greaterThan, lessThan, atLeast, atMost, empty',
      'labs/typo/lab.yaml:16: steps.0.checks.1.equal: is not a field here; did you mean equals?',
    ]);
  });

  it('lists the check kinds when a kind is unknown', async () => {
    const dir = await lab('kinds', { 'lab.yaml': base.replace('kind: exists', 'kind: exist') });
    expect(await problems(dir)).toEqual([
      'labs/kinds/lab.yaml:9: steps.0.checks.0.kind: "exist" is not a check kind; did you mean exists? kinds are exists, absent, field, count, condition, rollout, podsReady, container, canI, event, logs, file, custom',
    ]);
  });

  it('says which required field is missing and where', async () => {
    const dir = await lab('missing', { 'lab.yaml': base.replace('        name: web\n      - kind: field', '      - kind: field') });
    expect(await problems(dir)).toEqual(['labs/missing/lab.yaml:9: steps.0.checks.0.name: is required (text)']);
  });

  it('says what type a field must have', async () => {
    const dir = await lab('types', { 'lab.yaml': base.replace('duration: 15', 'duration: soon').replace('equals: 3', 'equals: [3]') });
    expect(await problems(dir)).toEqual([
      'labs/types/lab.yaml:3: duration: must be a number, not the text "soon"',
      'labs/types/lab.yaml:16: steps.0.checks.1.equals: must be text or a number or true or false, not a list',
    ]);
  });

  it('rejects two comparisons in one field check, bad JSONPath and bad regular expressions', async () => {
    const text = base
      .replace("path: '{.spec.replicas}'\n        equals: 3", "path: 'spec.replicas'\n        equals: 3\n        atLeast: 2")
      .replace('    hints:', "      - kind: field\n        resource: svc\n        name: web\n        path: '{.spec.type}'\n        matches: '(unclosed'\n    hints:");
    const found = await problems(await lab('compare', { 'lab.yaml': text }));
    expect(found).toHaveLength(3);
    expect(found[0]).toBe('labs/compare/lab.yaml:12: steps.0.checks.1: has equals and atLeast; give exactly one comparison (write two field checks for a range)');
    expect(found[1]).toMatch(/^labs\/compare\/lab\.yaml:15: steps\.0\.checks\.1\.path: is not a JSONPath kubectl understands: a path starts with a dot at character 1 of "spec\.replicas"; write it as kubectl/);
    expect(found[2]).toMatch(/^labs\/compare\/lab\.yaml:22: steps\.0\.checks\.2\.matches: is not a valid regular expression: /);
  });

  it('points at the setup manifest file and line for problems inside it', async () => {
    const dir = await lab('setup', {
      'lab.yaml': base.replace('steps:\n', 'setup:\n  manifests: [setup/app.yaml, setup/gone.yaml, other/x.yaml]\nsteps:\n'),
      'setup/app.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: default\n---\nkind: Secret\n',
    });
    expect(await problems(dir)).toEqual([
      "labs/setup/lab.yaml:5: setup.manifests.2: must be a .yaml file in this lab's setup/ folder, such as setup/app.yaml",
    ]);
    const fixed = await lab('setup2', {
      'lab.yaml': base.replace('steps:\n', 'setup:\n  manifests: [setup/app.yaml, setup/gone.yaml]\nsteps:\n'),
      'setup/app.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n  namespace: default\n---\nkind: Secret\n',
    });
    expect(await problems(fixed)).toEqual([
      "labs/setup2/lab.yaml:5: setup.manifests.1: labs/setup2/setup/gone.yaml does not exist; put the manifest in the lab's setup/ folder",
      "labs/setup2/setup/app.yaml:5: metadata.namespace: must be left out: setup objects go into the learner's sandbox namespace",
      'labs/setup2/setup/app.yaml:7: apiVersion: is required',
      'labs/setup2/setup/app.yaml:7: metadata.name: is required (setup objects need fixed names so steps can refer to them)',
    ]);
  });

  it('checks that custom checks are exported from checks.ts', async () => {
    const text = base.replace('      - kind: exists\n        resource: deploy\n        name: web\n', '      - kind: custom\n        name: servesPage\n');
    const without = await lab('custom-missing', { 'lab.yaml': text });
    expect(await problems(without)).toEqual(['labs/custom-missing/lab.yaml:10: steps.0.checks.0.name: names a custom check, but labs/custom-missing/checks.ts does not exist']);
    const wrong = await lab('custom-wrong', { 'lab.yaml': text, 'checks.ts': 'export const other = async () => ({ passed: true, expected: "", found: "" });\n' });
    expect(await problems(wrong)).toEqual(['labs/custom-wrong/lab.yaml:10: steps.0.checks.0.name: "servesPage" is not exported from labs/custom-wrong/checks.ts; it exports other']);
    const right = await lab('custom-right', { 'lab.yaml': text, 'checks.ts': 'export async function servesPage() { return { passed: true, expected: "", found: "" }; }\n' });
    expect(await problems(right)).toEqual([]);
    expect((await loadLab(right)).customChecksFile).toBe(join(right, 'checks.ts'));
  });

  it('rejects duplicate step ids, a wrong needs, rbac in a cluster lab, empty steps and a bad folder name', async () => {
    const twice = base + base.slice(base.indexOf('  - id: create'));
    expect(await problems(await lab('twice', { 'lab.yaml': twice }))).toEqual(['labs/twice/lab.yaml:20: steps.1.id: "create" is already the id of step 0; step ids must be unique']);
    expect((await loadLab(await lab('cluster', { 'lab.yaml': `needs: cluster\n${base}` }))).needs).toBe('cluster');
    expect(await problems(await lab('cluster-typo', { 'lab.yaml': `needs: dedicated\n${base}` }))).toEqual(['labs/cluster-typo/lab.yaml:1: needs: "dedicated" is not one of "namespace", "cluster"']);
    const rbac = "rbac:\n  - apiGroups: ['']\n    resources: [nodes]\n    verbs: [get]\n";
    expect(await problems(await lab('cluster-rbac', { 'lab.yaml': `needs: cluster\n${rbac}${base}` }))).toEqual([
      'labs/cluster-rbac/lab.yaml:2: rbac: must be left out with needs: cluster: the learner is cluster-admin of their own cluster already',
    ]);
    expect(await problems(await lab('nosteps', { 'lab.yaml': 'title: x\nsummary: y\nduration: 5\nsteps: []\n' }))).toEqual(['labs/nosteps/lab.yaml:4: steps: needs at least one step']);
    expect((await problems(await lab('Bad_Name', { 'lab.yaml': base })))[0]).toMatch(/^labs\/Bad_Name\/lab\.yaml:1: \(folder name\): "Bad_Name" must be lower-case/);
  });

  it('enforces restricted Pod Security unless the lab asks for baseline; privileged and relabelling namespaces are refused', async () => {
    expect((await loadLab(await lab('plain', { 'lab.yaml': base }))).podSecurity).toBe('restricted');
    expect((await loadLab(await lab('relaxed', { 'lab.yaml': `podSecurity: baseline\n${base}` }))).podSecurity).toBe('baseline');
    const rbac = "rbac:\n  - apiGroups: ['']\n    resources: [namespaces]\n    verbs: [get, patch]\n    scope: cluster\n";
    expect(await problems(await lab('host', { 'lab.yaml': `podSecurity: privileged\n${base}` }))).toEqual(['labs/host/lab.yaml:1: podSecurity: "privileged" is not one of "restricted", "baseline"']);
    expect(await problems(await lab('relabel', { 'lab.yaml': `${rbac}${base}` }))).toEqual([
      'labs/relabel/lab.yaml:3: rbac.0.resources: must not let the learner update or patch namespaces: it could relabel its sandbox and lower its Pod Security level (use podSecurity instead)',
    ]);
  });

  it('reports YAML syntax errors with their line, and loadLab throws them all', async () => {
    const dir = await lab('syntax', { 'lab.yaml': 'title: x\nsteps:\n  - id: a\n   title: b\n' });
    expect((await problems(dir))[0]).toMatch(/^labs\/syntax\/lab\.yaml:4: yaml: /);
    await expect(loadLab(dir)).rejects.toBeInstanceOf(LabError);
  });
});
