import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { validateLab } from '../labs/index.ts';
import { checkComponent } from './components.ts';
import type { Outline } from './outline.ts';
import { byLocation, type ContentProblem } from './problems.ts';
import { readContentTree, type ContentTree, type PathSource } from './tree.ts';

// `formicary content check`: everything readContentTree finds in single files, plus what
// only the whole tree can tell: prerequisites naming real paths (without cycles), labs that
// exist, internal links that lead somewhere, components used as designed.

export interface ContentReport {
  tree: ContentTree;
  problems: ContentProblem[];
  lessonCount: number;
  /** False while the project has no labs yet: lesson `lab:` references are not checked. */
  labsChecked: boolean;
}

/** Addresses served by pages rather than by files in public/. */
const PAGE_ADDRESSES = new Set(['/', '/search', '/signin']);

export function labIds(root: string): Set<string> {
  const labsDir = join(root, 'labs');
  if (!existsSync(labsDir)) return new Set();
  return new Set(
    readdirSync(labsDir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory() && existsSync(join(labsDir, entry.name, 'lab.yaml')))
      .map((entry) => entry.name),
  );
}

/**
 * A field as written, even when other fields make the frontmatter invalid, so one mistake
 * does not hide another.
 */
function rawField(data: unknown, field: string): unknown {
  return data && typeof data === 'object' ? (data as Record<string, unknown>)[field] : undefined;
}

function rawPrerequisites(path: PathSource | undefined): string[] {
  if (!path) return [];
  const value = path.data?.prerequisites ?? rawField(path.frontmatter.data, 'prerequisites');
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function findPrerequisiteCycle(paths: Map<string, PathSource>, start: string): string[] | null {
  const walk = (id: string, trail: string[]): string[] | null => {
    for (const next of rawPrerequisites(paths.get(id))) {
      if (next === start) return [...trail, next];
      if (trail.includes(next) || !paths.has(next)) continue;
      const cycle = walk(next, [...trail, next]);
      if (cycle) return cycle;
    }
    return null;
  };
  return walk(start, [start]);
}

export async function checkContent(root: string): Promise<ContentReport> {
  const tree = await readContentTree(root);
  const problems = [...tree.problems];
  const paths = new Map(tree.paths.map((path) => [path.id, path]));
  const labs = labIds(root);
  const labsChecked = labs.size > 0;
  for (const lab of labs) problems.push(...(await validateLab(join(root, 'labs', lab))));

  for (const path of tree.paths) {
    const prerequisites = rawPrerequisites(path);
    prerequisites.forEach((prerequisite, index) => {
      const line = path.frontmatter.lineOf(['prerequisites', index]);
      const field = `prerequisites.${index}`;
      if (prerequisite === path.id) problems.push({ file: path.file, line, field, problem: 'names this path itself' });
      else if (!paths.has(prerequisite)) {
        problems.push({ file: path.file, line, field, problem: `"${prerequisite}" is not a path; known paths: ${[...paths.keys()].join(', ')}` });
      }
    });
    const cycle = findPrerequisiteCycle(paths, path.id);
    if (cycle && cycle.length > 2) {
      problems.push({ file: path.file, line: path.frontmatter.lineOf(['prerequisites']), field: 'prerequisites', problem: `form a cycle: ${cycle.join(' → ')}` });
    }

    for (const lesson of path.lessons) {
      const lab = rawField(lesson.frontmatter.data, 'lab');
      if (typeof lab === 'string' && labsChecked && !labs.has(lab)) {
        problems.push({ file: lesson.file, line: lesson.frontmatter.lineOf(['lab']), field: 'lab', problem: `"${lab}" has no labs/${lab}/lab.yaml; known labs: ${[...labs].sort().join(', ')}` });
      }
    }
  }

  const checkBody = (file: string, outline: Outline | null) => {
    if (!outline) return;
    for (const component of outline.components) {
      for (const { field, problem } of checkComponent(component)) problems.push({ file, line: component.line, field, problem });
    }
    for (const reference of outline.references) {
      const problem = checkAddress(reference.url, outline, { root, paths, labs, labsChecked });
      if (problem) problems.push({ file, line: reference.line, field: reference.source, problem: `${reference.url} ${problem}` });
    }
  };
  for (const path of tree.paths) {
    checkBody(path.file, path.outline);
    for (const lesson of path.lessons) checkBody(lesson.file, lesson.outline);
  }

  problems.sort(byLocation);
  const lessonCount = tree.paths.reduce((sum, path) => sum + path.lessons.length, 0);
  return { tree, problems, lessonCount, labsChecked };
}

interface Site {
  root: string;
  paths: Map<string, PathSource>;
  labs: Set<string>;
  labsChecked: boolean;
}

/** Null when the address leads somewhere; otherwise the rest of a sentence starting with it. */
function checkAddress(url: string, here: Outline, site: Site): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(url) || url.startsWith('//')) return null;
  const [beforeHash = '', hash] = url.split('#', 2);
  const address = beforeHash.split('?', 1)[0] ?? '';
  if (address === '') {
    return hash === undefined || here.headings.some((heading) => heading.slug === hash) ? null : `names no heading in this file; headings are ${here.headings.map((h) => `#${h.slug}`).join(', ') || 'none'}`;
  }
  if (!address.startsWith('/')) return 'is relative; write the address from the site root, such as /paths/<path>/<lesson>';

  const segments = address.replace(/\/+$/, '').split('/').slice(1);
  if (PAGE_ADDRESSES.has(address)) return null;
  if (segments[0] === 'paths') {
    const [, pathId, lessonId, ...rest] = segments;
    const path = pathId ? site.paths.get(pathId) : undefined;
    if (!path || rest.length) return `is not a page; paths are ${[...site.paths.keys()].map((id) => `/paths/${id}`).join(', ')}`;
    if (!lessonId) return null;
    const lesson = path.lessons.find((candidate) => candidate.id === lessonId);
    if (!lesson) return `is not a lesson of ${pathId}; its lessons are ${path.lessons.map((l) => l.id).join(', ')}`;
    if (hash !== undefined && lesson.outline && !lesson.outline.headings.some((heading) => heading.slug === hash)) {
      return `names no heading of ${lesson.file}; its headings are ${lesson.outline.headings.map((h) => `#${h.slug}`).join(', ')}`;
    }
    return null;
  }
  if (segments[0] === 'labs' && segments.length === 2) {
    return !site.labsChecked || site.labs.has(segments[1] ?? '') ? null : `is not a lab; labs are ${[...site.labs].sort().join(', ')}`;
  }
  let decoded = address;
  try {
    decoded = decodeURI(address);
  } catch {
    return 'is not a valid address';
  }
  return existsSync(join(site.root, 'public', decoded)) ? null : `is neither a page nor a file in public/`;
}
