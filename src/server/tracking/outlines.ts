// What the learning record must know of the content: which lessons make up a path (so it can tell
// when a path is completed) and the titles certificates and My learning show. Read from the same
// content tree `formicary content check` reads, once, on first use.

import { readContentTree } from '../../content-model/index.ts';

export interface PathOutline {
  id: string;
  title: string;
  /** Lesson ids in reading order. */
  lessons: string[];
}

export interface PathOutlines {
  /** Every path, in the content's order; empty when there is no content. */
  all(): Promise<PathOutline[]>;
  get(path: string): Promise<PathOutline | null>;
}

/** The paths under ROOT/content/paths, read on first use and kept. */
export function contentOutlines(root: string): PathOutlines {
  let loaded: Promise<Map<string, PathOutline>> | null = null;
  const load = () => {
    loaded ??= readContentTree(root).then(
      (tree) =>
        new Map(
          tree.paths.map((path) => [path.id, { id: path.id, title: path.data?.title ?? path.id, lessons: path.lessons.map((lesson) => lesson.id) }]),
        ),
      (error: unknown) => {
        // Read again next time: a content folder being written may read fine a moment later.
        loaded = null;
        throw error;
      },
    );
    return loaded;
  };
  return {
    all: async () => [...(await load()).values()],
    get: async (path) => (await load()).get(path) ?? null,
  };
}

/** Outlines given as data (tests, tools). */
export function fixedOutlines(paths: readonly PathOutline[]): PathOutlines {
  const byId = new Map(paths.map((path) => [path.id, path]));
  return { all: async () => [...byId.values()], get: async (path) => byId.get(path) ?? null };
}
