import { readFile, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { z } from 'zod';
import { readFrontmatter, type Frontmatter } from './frontmatter.ts';
import { MdxSyntaxError, outlineMdx, type Outline } from './outline.ts';
import type { ContentProblem } from './problems.ts';
import { contentId, lessonFrontmatter, pathFrontmatter, type LessonFrontmatter, type PathFrontmatter } from './schema.ts';

// The content tree as authors lay it out: content/paths/<path>/index.mdx and
// content/paths/<path>/NN-<lesson>.mdx. Reading it reports every problem a single file can
// have on its own; cross-references are checked in check.ts.

export const PATHS_DIR = join('content', 'paths');
export const PATH_FILE = 'index.mdx';
const LESSON_FILE = /^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)\.mdx$/;

export interface ContentFile<Data> {
  /** Relative to the project root, with forward slashes. */
  file: string;
  frontmatter: Frontmatter;
  /** The validated frontmatter, or null when it has problems. */
  data: Data | null;
  /** Null when the MDX does not parse. */
  outline: Outline | null;
}

export interface LessonSource extends ContentFile<LessonFrontmatter> {
  pathId: string;
  /** The file name without its `NN-` order prefix and extension. */
  id: string;
  order: number;
}

export interface PathSource extends ContentFile<PathFrontmatter> {
  id: string;
  /** In reading order. */
  lessons: LessonSource[];
}

export interface ContentTree {
  paths: PathSource[];
  problems: ContentProblem[];
}

/** `01-what-is-a-cluster.mdx` → order 1, lesson id `what-is-a-cluster`; null when misnamed. */
export function parseLessonFileName(name: string): { order: number; id: string } | null {
  const match = LESSON_FILE.exec(name);
  return match ? { order: Number(match[1]), id: match[2] ?? '' } : null;
}

function describeFields(schema: z.ZodObject): string {
  return Object.keys(schema.shape).join(', ');
}

async function readContentFile<Schema extends z.ZodObject>(
  root: string,
  absolute: string,
  schema: Schema,
  problems: ContentProblem[],
): Promise<ContentFile<z.output<Schema>>> {
  const file = relative(root, absolute).split(sep).join('/');
  const source = await readFile(absolute, 'utf8');
  const frontmatter = readFrontmatter(source);
  const report = (line: number, field: string, problem: string) => problems.push({ file, line, field, problem });

  let data: z.output<Schema> | null = null;
  if (frontmatter.syntaxErrors.length) {
    for (const error of frontmatter.syntaxErrors) report(error.line, 'frontmatter', `is not valid YAML: ${error.message}`);
  } else if (frontmatter.data === undefined) {
    report(1, 'frontmatter', `is missing; start the file with a --- block holding ${describeFields(schema)}`);
  } else {
    const parsed = schema.safeParse(frontmatter.data);
    if (parsed.success) data = parsed.data;
    for (const issue of parsed.error?.issues ?? []) {
      if (issue.code === 'unrecognized_keys') {
        for (const key of issue.keys) {
          report(frontmatter.lineOf([...issue.path, key]), key, `is not a known field; use ${describeFields(schema)}`);
        }
      } else {
        const field = issue.path.map(String).join('.') || 'frontmatter';
        const problem = issue.path.length ? issue.message : `must be a mapping of fields (${describeFields(schema)})`;
        report(frontmatter.lineOf(issue.path), field, problem);
      }
    }
  }

  let outline: Outline | null = null;
  try {
    outline = outlineMdx(source);
  } catch (error) {
    if (!(error instanceof MdxSyntaxError)) throw error;
    report(error.line, 'mdx', `does not parse: ${error.message}`);
  }
  return { file, frontmatter, data, outline };
}

async function entries(directory: string) {
  try {
    return await readdir(directory, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
}

/** Reads every path and lesson under `<root>/content/paths`. */
export async function readContentTree(root: string): Promise<ContentTree> {
  const problems: ContentProblem[] = [];
  const paths: PathSource[] = [];
  const pathsDir = join(root, PATHS_DIR);
  const relativeToRoot = (absolute: string) => relative(root, absolute).split(sep).join('/');

  for (const pathEntry of (await entries(pathsDir)).sort((a, b) => a.name.localeCompare(b.name))) {
    const pathDir = join(pathsDir, pathEntry.name);
    if (!pathEntry.isDirectory()) {
      problems.push({ file: relativeToRoot(pathDir), line: 1, field: 'file', problem: `is not in a path folder; put it in ${PATHS_DIR}/<path>/` });
      continue;
    }
    if (!contentId.safeParse(pathEntry.name).success) {
      problems.push({ file: relativeToRoot(pathDir), line: 1, field: 'path', problem: `folder name "${pathEntry.name}" must be lower-case words joined by hyphens, such as "kubernetes-foundations"` });
      continue;
    }
    const files = (await entries(pathDir)).filter((entry) => entry.isFile()).map((entry) => entry.name).sort();
    if (!files.includes(PATH_FILE)) {
      problems.push({ file: relativeToRoot(join(pathDir, PATH_FILE)), line: 1, field: 'file', problem: 'is missing; every path folder needs an index.mdx describing the path' });
      continue;
    }
    const path: PathSource = {
      id: pathEntry.name,
      ...(await readContentFile(root, join(pathDir, PATH_FILE), pathFrontmatter, problems)),
      lessons: [],
    };

    const byOrder = new Map<number, string>();
    const byId = new Map<string, string>();
    for (const name of files) {
      if (name === PATH_FILE || !/\.mdx?$/.test(name)) continue;
      const absolute = join(pathDir, name);
      const naming = parseLessonFileName(name);
      if (!naming) {
        problems.push({ file: relativeToRoot(absolute), line: 1, field: 'file', problem: 'name must be NN-<lesson>.mdx: a two-digit order, a hyphen, lower-case words joined by hyphens, such as 01-what-is-a-cluster.mdx' });
        continue;
      }
      const lesson: LessonSource = {
        pathId: path.id,
        id: naming.id,
        order: naming.order,
        ...(await readContentFile(root, absolute, lessonFrontmatter, problems)),
      };
      const sameOrder = byOrder.get(naming.order);
      if (sameOrder) {
        problems.push({ file: lesson.file, line: 1, field: 'order', problem: `${name.slice(0, 2)} is also the order of ${sameOrder}; give each lesson its own number` });
      }
      const sameId = byId.get(naming.id);
      if (sameId) {
        problems.push({ file: lesson.file, line: 1, field: 'lesson', problem: `"${naming.id}" is also the lesson id of ${sameId}; lesson ids must be unique within a path` });
      }
      byOrder.set(naming.order, name);
      byId.set(naming.id, name);
      path.lessons.push(lesson);
    }
    if (path.lessons.length === 0) {
      problems.push({ file: path.file, line: 1, field: 'lessons', problem: 'the path has none; add lessons as NN-<lesson>.mdx beside index.mdx' });
    }
    path.lessons.sort((a, b) => a.order - b.order || a.id.localeCompare(b.id));
    paths.push(path);
  }
  return { paths, problems };
}
