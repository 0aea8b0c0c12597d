import { getCollection, type CollectionEntry } from 'astro:content';
import { parseLessonFileName, type LessonFrontmatter, type Level, type PathFrontmatter } from '../content-model/index.ts';
import { lessonUrl, pathUrl } from '../search/index.ts';
import type { Learner, LessonProgress } from '../contracts/index.ts';

// The learning paths as the pages show them: lessons in their NN order, prerequisites
// resolved to titles, and (for a signed-in learner) where they are in each lesson.

export type LessonStatus = 'completed' | 'viewed' | 'not-started';

export interface CatalogLesson {
  id: string;
  pathId: string;
  order: number;
  /** 1-based position in the path. */
  number: number;
  title: string;
  summary: string;
  duration: number;
  objectives: string[];
  lab: string | undefined;
  url: string;
  entry: LessonEntry;
}

export interface CatalogPath {
  id: string;
  title: string;
  summary: string;
  level: Level;
  duration: number;
  audience: string;
  outcomes: string[];
  prerequisites: Array<{ id: string; title: string; url: string }>;
  lessons: CatalogLesson[];
  url: string;
  entry: PathEntry;
}

// Astro validated `data` against these schemas while loading; spelling the types out keeps
// them exact under plain tsc, where astro/client's untyped fallback for astro:content can
// shadow the generated declarations.
type PathEntry = Omit<CollectionEntry<'paths'>, 'data'> & { data: PathFrontmatter };
type LessonEntry = Omit<CollectionEntry<'lessons'>, 'data'> & { data: LessonFrontmatter };

function orderOf(entry: LessonEntry): number {
  const fileName = entry.filePath?.split('/').at(-1) ?? '';
  return parseLessonFileName(fileName)?.order ?? Number.MAX_SAFE_INTEGER;
}

export async function loadCatalog(): Promise<CatalogPath[]> {
  const [pathEntries, lessonEntries]: [PathEntry[], LessonEntry[]] = await Promise.all([
    getCollection('paths'),
    getCollection('lessons'),
  ]);
  const titles = new Map(pathEntries.map((entry) => [entry.id, entry.data.title]));
  return pathEntries
    .map((entry): CatalogPath => {
      const lessons = lessonEntries
        .filter((lesson) => lesson.id.startsWith(`${entry.id}/`))
        .map((lesson) => ({ lesson, order: orderOf(lesson) }))
        .sort((a, b) => a.order - b.order)
        .map(({ lesson, order }, index): CatalogLesson => {
          const id = lesson.id.slice(entry.id.length + 1);
          return {
            id,
            pathId: entry.id,
            order,
            number: index + 1,
            title: lesson.data.title,
            summary: lesson.data.summary,
            duration: lesson.data.duration,
            objectives: lesson.data.objectives,
            lab: lesson.data.lab,
            url: lessonUrl(entry.id, id),
            entry: lesson,
          };
        });
      return {
        id: entry.id,
        ...entry.data,
        prerequisites: entry.data.prerequisites.map((id) => ({ id, title: titles.get(id) ?? id, url: pathUrl(id) })),
        lessons,
        url: pathUrl(entry.id),
        entry,
      };
    })
    .sort((a, b) => levelRank(a.level) - levelRank(b.level) || a.title.localeCompare(b.title));
}

function levelRank(level: Level): number {
  return level === 'beginner' ? 0 : level === 'intermediate' ? 1 : 2;
}

/**
 * The paths in an order a newcomer can follow: every path after the paths it names as
 * prerequisites, otherwise in the catalog's order (level, then title).
 */
export function suggestedOrder(paths: readonly CatalogPath[]): CatalogPath[] {
  const byId = new Map(paths.map((path) => [path.id, path]));
  const ordered: CatalogPath[] = [];
  const placed = new Set<string>();
  const place = (path: CatalogPath, visiting: Set<string>) => {
    if (placed.has(path.id) || visiting.has(path.id)) return;
    visiting.add(path.id);
    for (const prerequisite of path.prerequisites) {
      const before = byId.get(prerequisite.id);
      if (before) place(before, visiting);
    }
    placed.add(path.id);
    ordered.push(path);
  };
  for (const path of paths) place(path, new Set());
  return ordered;
}

/** Each lab the lessons open, once, with the lessons that open it, in path and lesson order. */
export function labsOf(paths: readonly CatalogPath[]): Array<{ id: string; lessons: CatalogLesson[] }> {
  const labs = new Map<string, CatalogLesson[]>();
  for (const path of suggestedOrder(paths)) {
    for (const lesson of path.lessons) if (lesson.lab) labs.set(lesson.lab, [...(labs.get(lesson.lab) ?? []), lesson]);
  }
  return [...labs].map(([id, lessons]) => ({ id, lessons }));
}

export async function findPath(pathId: string | undefined): Promise<CatalogPath | undefined> {
  return (await loadCatalog()).find((path) => path.id === pathId);
}

export interface LessonInPath {
  path: CatalogPath;
  lesson: CatalogLesson;
  previous: CatalogLesson | undefined;
  next: CatalogLesson | undefined;
}

export async function findLesson(pathId: string | undefined, lessonId: string | undefined): Promise<LessonInPath | undefined> {
  const path = await findPath(pathId);
  const index = path?.lessons.findIndex((lesson) => lesson.id === lessonId) ?? -1;
  const lesson = path?.lessons[index];
  if (!path || !lesson) return undefined;
  return { path, lesson, previous: path.lessons[index - 1], next: path.lessons[index + 1] };
}

/** A learner's progress, looked up by path and lesson. */
export class ProgressBook {
  readonly #byLesson: Map<string, LessonProgress>;
  readonly signedIn: boolean;

  constructor(records: readonly LessonProgress[], signedIn: boolean) {
    this.#byLesson = new Map(records.map((record) => [`${record.path}/${record.lesson}`, record]));
    this.signedIn = signedIn;
  }

  static async of(services: { progress: { forLearner(learnerId: string): Promise<LessonProgress[]> } } | undefined, learner: Learner | null | undefined): Promise<ProgressBook> {
    if (!services || !learner) return new ProgressBook([], false);
    return new ProgressBook(await services.progress.forLearner(learner.id), true);
  }

  record(lesson: CatalogLesson): LessonProgress | undefined {
    return this.#byLesson.get(`${lesson.pathId}/${lesson.id}`);
  }

  status(lesson: CatalogLesson): LessonStatus {
    const record = this.record(lesson);
    if (record?.completedAt) return 'completed';
    if (record?.viewedAt) return 'viewed';
    return 'not-started';
  }

  completedIn(path: CatalogPath): number {
    return path.lessons.filter((lesson) => this.status(lesson) === 'completed').length;
  }

  /** Where to carry on: the first lesson not completed, or the first lesson. */
  nextLesson(path: CatalogPath): CatalogLesson | undefined {
    return path.lessons.find((lesson) => this.status(lesson) !== 'completed') ?? path.lessons[0];
  }
}

export function formatDuration(minutes: number): string {
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return rest ? `${hours} h ${rest} min` : `${hours} h`;
}
