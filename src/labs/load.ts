// Reads labs/<id>/ (lab.yaml, setup/ manifests, checks.ts) into a Lab, or into problems that each
// name file, line and field and say what would be right. `formicary content check`, the portal
// and `formicary labs test` all read labs through here, so they agree on what a valid lab is.
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import type { z } from 'zod';
import { checkKinds, labId, labSchema, type LabDefinition } from './schema.ts';
import { readYaml, readYamlDocuments, type YamlSource } from './yaml-source.ts';

/** One thing a lab author must fix. Same shape as the content check's problems. */
export interface LabProblem {
  /** Relative to the project root, forward slashes: labs/<id>/lab.yaml. */
  file: string;
  /** 1-based. */
  line: number;
  /** Where in the file: `steps.1.checks.0.equals`. */
  field: string;
  /** Completes the sentence "<field> …". */
  problem: string;
}

export function formatLabProblem(problem: LabProblem): string {
  return `${problem.file}:${problem.line}: ${problem.field}: ${problem.problem}`;
}

export class LabError extends Error {
  readonly problems: LabProblem[];
  constructor(problems: LabProblem[]) {
    super(problems.map(formatLabProblem).join('\n'));
    this.name = 'LabError';
    this.problems = problems;
  }
}

/** A Kubernetes object from a setup manifest, as written. */
export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [key: string]: unknown };
  [key: string]: unknown;
}

export interface SetupManifest {
  /** labs/<id>/setup/app.yaml */
  file: string;
  line: number;
  object: ManifestObject;
}

export interface Lab extends LabDefinition {
  id: string;
  /** Absolute path of labs/<id>. */
  dir: string;
  /** The objects of setup.manifests, in order, ready to create in a sandbox namespace. */
  manifests: SetupManifest[];
  /** Absolute path of checks.ts when the lab has custom checks. */
  customChecksFile: string | null;
}

const LAB_FILE = 'lab.yaml';
const CUSTOM_CHECKS_FILE = 'checks.ts';

type Issue = z.core.$ZodIssue;

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return `the text ${JSON.stringify(value)}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

interface SchemaDef {
  type: string;
  shape?: Record<string, { _zod: { def: SchemaDef } }>;
  element?: { _zod: { def: SchemaDef } };
  innerType?: { _zod: { def: SchemaDef } };
  in?: { _zod: { def: SchemaDef } };
  options?: Array<{ _zod: { def: SchemaDef } }>;
}

/** The keys the schema allows in the mapping at `path` (following `kind` through the check union). */
function allowedKeys(path: readonly PropertyKey[], data: unknown): string[] {
  let def = (labSchema as unknown as { _zod: { def: SchemaDef } })._zod.def;
  let value = data;
  const unwrap = () => {
    for (;;) {
      if ((def.type === 'optional' || def.type === 'default' || def.type === 'nullable') && def.innerType) def = def.innerType._zod.def;
      else if (def.type === 'pipe' && def.in) def = def.in._zod.def;
      else if (def.type === 'union' && def.options) {
        const kind = value && typeof value === 'object' ? (value as Record<string, unknown>)['kind'] : undefined;
        const objects = def.options.map((option) => option._zod.def).filter((option) => option.type === 'object');
        const chosen = objects.find((option) => {
          const literal = option.shape?.['kind']?._zod.def as unknown as { values?: unknown[] } | undefined;
          return literal?.values?.includes(kind);
        });
        if (!chosen) return;
        def = chosen;
      } else return;
    }
  };
  unwrap();
  for (const key of path) {
    if (def.type === 'object' && typeof key === 'string' && def.shape?.[key]) def = def.shape[key]._zod.def;
    else if (def.type === 'array' && typeof key === 'number' && def.element) def = def.element._zod.def;
    else return [];
    value = value && typeof value === 'object' ? (value as Record<PropertyKey, unknown>)[key as string] : undefined;
    unwrap();
  }
  return def.type === 'object' && def.shape ? Object.keys(def.shape) : [];
}

function closest(word: string, candidates: string[]): string | undefined {
  const distance = (a: string, b: string) => {
    const row = Array.from({ length: b.length + 1 }, (_, i) => i);
    for (let i = 1; i <= a.length; i++) {
      let previous = row[0] as number;
      row[0] = i;
      for (let j = 1; j <= b.length; j++) {
        const current = row[j] as number;
        row[j] = Math.min((row[j] as number) + 1, (row[j - 1] as number) + 1, previous + (a[i - 1]?.toLowerCase() === b[j - 1]?.toLowerCase() ? 0 : 1));
        previous = current;
      }
    }
    return row[b.length] as number;
  };
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const d = distance(word, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

function issueProblems(issue: Issue, source: YamlSource, file: string, prefix: readonly PropertyKey[] = []): LabProblem[] {
  const path = [...prefix, ...issue.path];
  const field = path.length ? path.map(String).join('.') : '(the file)';
  const at = (problem: string, fieldName = field, line = source.lineOf(path)): LabProblem[] => [{ file, line, field: fieldName, problem }];
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (issue.input === undefined) return at(`is required (${expected})`);
      return at(`must be ${expected}, not ${describeValue(issue.input)}`);
    }
    case 'unrecognized_keys': {
      const allowed = allowedKeys(path, source.data);
      return issue.keys.map((key) => {
        const suggestion = closest(key, allowed);
        const hint = suggestion ? `did you mean ${suggestion}?` : allowed.length ? `fields here are ${allowed.join(', ')}` : 'remove it';
        return { file, line: source.lineOfKey(path, key), field: [...path, key].map(String).join('.'), problem: `is not a field here; ${hint}` };
      });
    }
    case 'invalid_union': {
      if ('discriminator' in issue && issue.discriminator === 'kind') {
        const kind = (issue as { input?: unknown }).input;
        const written = kind && typeof kind === 'object' ? (kind as Record<string, unknown>)['kind'] : undefined;
        const kindPath = issue.path[issue.path.length - 1] === 'kind' ? path : [...path, 'kind'];
        const suggestion = typeof written === 'string' ? closest(written, checkKinds) : undefined;
        const what = written === undefined ? 'is required' : `${JSON.stringify(written)} is not a check kind`;
        return [{ file, line: source.lineOf(kindPath), field: kindPath.map(String).join('.'), problem: `${what}; ${suggestion ? `did you mean ${suggestion}? ` : ''}kinds are ${checkKinds.join(', ')}` }];
      }
      // Report the alternative that came closest: the one with the fewest problems.
      const candidates = issue.errors.filter((errors) => !errors.some((e) => e.code === 'invalid_type' && e.path.length === 0));
      const best = [...candidates].sort((a, b) => a.length - b.length)[0];
      if (best) return best.flatMap((inner) => issueProblems(inner, source, file, path));
      const forms = [...new Set(issue.errors.flat().flatMap((e) => (e.code === 'invalid_type' && e.path.length === 0 ? [EXPECTED[e.expected] ?? e.expected] : [])))];
      if (forms.length) return at(`must be ${forms.join(' or ')}, not ${describeValue(issue.input)}`);
      return at(`is not any of the forms allowed here (${describeValue(issue.input)} was given)`);
    }
    case 'invalid_value':
      return at(`${JSON.stringify(issue.input)} is not one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`);
    case 'too_small':
      if (issue.origin === 'array') return at(issue.message.startsWith('Too small') ? `needs at least ${issue.minimum} item${issue.minimum === 1 ? '' : 's'}` : issue.message);
      if (issue.origin === 'string') return at(issue.message.startsWith('Too small') ? 'must not be empty' : issue.message);
      return at(`must be at least ${issue.minimum}`);
    case 'too_big':
      if (issue.origin === 'string') return at(`must be at most ${issue.maximum} characters`);
      return at(`must be at most ${issue.maximum}`);
    case 'invalid_format':
      return at(issue.message.startsWith('Invalid') ? `is not in the expected format (${issue.format})` : issue.message);
    default:
      return at(issue.message);
  }
}

function projectFile(dir: string, name: string): string {
  return `${basename(dirname(dir))}/${basename(dir)}/${name}`;
}

/** Names a checks.ts exports: `export const x`, `export function x`, `export async function x`. */
function exportedNames(source: string): Set<string> {
  const names = new Set<string>();
  for (const match of source.matchAll(/^export\s+(?:const|let|(?:async\s+)?function\*?)\s+([A-Za-z_$][\w$]*)/gm)) names.add(match[1] as string);
  return names;
}

async function readManifests(dir: string, definition: LabDefinition, source: YamlSource, labFile: string): Promise<{ manifests: SetupManifest[]; problems: LabProblem[] }> {
  const manifests: SetupManifest[] = [];
  const problems: LabProblem[] = [];
  for (const [index, name] of definition.setup.manifests.entries()) {
    const field = `setup.manifests.${index}`;
    const file = projectFile(dir, name);
    let text: string;
    try {
      text = await readFile(join(dir, name), 'utf8');
    } catch {
      problems.push({ file: labFile, line: source.lineOf(['setup', 'manifests', index]), field, problem: `${file} does not exist; put the manifest in the lab's setup/ folder` });
      continue;
    }
    for (const document of readYamlDocuments(text)) {
      const where = (path: PropertyKey[], problem: string) => problems.push({ file, line: document.lineOf(path), field: path.length ? path.map(String).join('.') : '(document)', problem });
      if (document.syntaxErrors.length) {
        for (const error of document.syntaxErrors) problems.push({ file, line: error.line, field: 'yaml', problem: error.message });
        continue;
      }
      const object = document.data;
      if (!object || typeof object !== 'object' || Array.isArray(object)) {
        where([], 'must be a Kubernetes object (a mapping with apiVersion, kind and metadata.name)');
        continue;
      }
      const record = object as Record<string, unknown>;
      const metadata = record['metadata'] as Record<string, unknown> | undefined;
      let valid = true;
      for (const key of ['apiVersion', 'kind'] as const) {
        if (typeof record[key] !== 'string' || record[key] === '') {
          where([key], 'is required');
          valid = false;
        }
      }
      if (!metadata || typeof metadata['name'] !== 'string' || metadata['name'] === '') {
        where(['metadata', 'name'], 'is required (setup objects need fixed names so steps can refer to them)');
        valid = false;
      } else if (metadata['namespace'] !== undefined) {
        where(['metadata', 'namespace'], 'must be left out: setup objects go into the learner\'s sandbox namespace');
        valid = false;
      }
      if (record['kind'] === 'Namespace' && definition.needs !== 'cluster') {
        where(['kind'], 'Namespace cannot be created by a namespace lab; everything happens in the sandbox namespace (a lab with needs: cluster may create namespaces)');
        valid = false;
      }
      if (valid) manifests.push({ file, line: document.lineOf([]), object: record as unknown as ManifestObject });
    }
  }
  return { manifests, problems };
}

/** Reads labs/<id>; the problems are empty exactly when `lab` is set. */
export async function readLab(directory: string): Promise<{ lab: Lab | null; problems: LabProblem[] }> {
  const dir = resolve(directory);
  const id = basename(dir);
  const labFile = projectFile(dir, LAB_FILE);
  const problems: LabProblem[] = [];
  const idCheck = labId.safeParse(id);
  if (!idCheck.success) problems.push({ file: labFile, line: 1, field: '(folder name)', problem: `"${id}" ${idCheck.error.issues[0]?.message ?? 'is not a valid lab id'}` });

  let text: string;
  try {
    text = await readFile(join(dir, LAB_FILE), 'utf8');
  } catch {
    return { lab: null, problems: [...problems, { file: labFile, line: 1, field: '(file)', problem: `is missing; every folder in labs/ needs a ${LAB_FILE}` }] };
  }
  const source = readYaml(text);
  if (source.syntaxErrors.length) {
    return { lab: null, problems: [...problems, ...source.syntaxErrors.map((error) => ({ file: labFile, line: error.line, field: 'yaml', problem: error.message }))] };
  }
  const parsed = labSchema.safeParse(source.data ?? {}, { reportInput: true });
  if (!parsed.success) {
    return { lab: null, problems: [...problems, ...parsed.error.issues.flatMap((issue) => issueProblems(issue, source, labFile))] };
  }
  const definition = parsed.data;
  const customFile = join(dir, CUSTOM_CHECKS_FILE);
  const customNames = existsSync(customFile) ? exportedNames(await readFile(customFile, 'utf8')) : null;
  definition.steps.forEach((step, stepIndex) => {
    step.checks.forEach((check, checkIndex) => {
      if (check.kind !== 'custom') return;
      const path = ['steps', stepIndex, 'checks', checkIndex, 'name'];
      if (!customNames) {
        problems.push({ file: labFile, line: source.lineOf(path), field: path.join('.'), problem: `names a custom check, but ${projectFile(dir, CUSTOM_CHECKS_FILE)} does not exist` });
      } else if (!customNames.has(check.name)) {
        const known = [...customNames];
        problems.push({ file: labFile, line: source.lineOf(path), field: path.join('.'), problem: `"${check.name}" is not exported from ${projectFile(dir, CUSTOM_CHECKS_FILE)}; it exports ${known.join(', ') || 'nothing'}` });
      }
    });
  });

  const { manifests, problems: manifestProblems } = await readManifests(dir, definition, source, labFile);
  problems.push(...manifestProblems);
  if (problems.length) return { lab: null, problems };
  return { lab: { ...definition, id, dir, manifests, customChecksFile: customNames ? customFile : null }, problems: [] };
}

/** The problems of labs/<id> (none for a valid lab); for `formicary content check`. */
export async function validateLab(dir: string): Promise<LabProblem[]> {
  return (await readLab(dir)).problems.sort((a, b) => a.file.localeCompare(b.file) || a.line - b.line || a.field.localeCompare(b.field));
}

/** Reads a valid lab; throws LabError listing every problem otherwise. */
export async function loadLab(dir: string): Promise<Lab> {
  const { lab, problems } = await readLab(dir);
  if (!lab) throw new LabError(problems);
  return lab;
}

/** Every folder of `labsDir` that holds a lab.yaml, valid or not. */
export async function labDirectories(labsDir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(labsDir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .filter((entry) => entry.isDirectory() && existsSync(join(labsDir, entry.name, LAB_FILE)))
    .map((entry) => join(resolve(labsDir), entry.name))
    .sort();
}
