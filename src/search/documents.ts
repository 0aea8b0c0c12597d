import { z } from 'zod';
import type { ContentTree, Outline } from '../content-model/index.ts';

// What search indexes: one document per page (a path or a lesson). Its headings and its text
// are single fields, and the document remembers where each heading's section starts in them,
// so a hit can be traced back to the section it is in and deep-link to that heading.

export const searchSection = z.object({
  /** Null for the top of the page (summary, objectives, text before the first heading). */
  slug: z.string().nullable(),
  heading: z.string().nullable(),
  /** Offset of the section's first character in `text`. */
  start: z.number().int().nonnegative(),
  /** Offset of the heading in `headings`; -1 for the top of the page. */
  headingStart: z.number().int(),
});

export const searchDocument = z.object({
  /** The page address; also the lunr ref. */
  url: z.string(),
  kind: z.enum(['path', 'lesson']),
  path: z.string(),
  pathTitle: z.string(),
  lesson: z.string().optional(),
  title: z.string(),
  /** Every heading, one per line. */
  headings: z.string(),
  text: z.string(),
  /** In order of `start`. */
  sections: z.array(searchSection),
});

export type SearchSection = z.infer<typeof searchSection>;
export type SearchDocument = z.infer<typeof searchDocument>;

export function pathUrl(path: string): string {
  return `/paths/${path}`;
}

export function lessonUrl(path: string, lesson: string): string {
  return `/paths/${path}/${lesson}`;
}

/** Objectives and outcomes are fragments; ending each with a full stop keeps snippets readable. */
function asSentence(text: string): string {
  return /[.!?:]$/.test(text) ? text : `${text}.`;
}

function pageDocument(base: Pick<SearchDocument, 'url' | 'kind' | 'path' | 'pathTitle' | 'lesson' | 'title'>, lead: string[], outline: Outline | null): SearchDocument {
  const outlineSections = outline?.sections ?? [];
  const intro = outlineSections.find((section) => section.heading === null)?.text ?? '';
  let text = [...lead.map(asSentence), intro].filter(Boolean).join(' ');
  let headings = '';
  const sections: SearchSection[] = [{ slug: null, heading: null, start: 0, headingStart: -1 }];
  for (const section of outlineSections) {
    if (!section.heading) continue;
    if (headings) headings += '\n';
    const headingStart = headings.length;
    headings += section.heading.text;
    if (text) text += ' ';
    sections.push({ slug: section.heading.slug, heading: section.heading.text, start: text.length, headingStart });
    text += section.text;
  }
  return { ...base, headings, text, sections };
}

/** One document per valid path and lesson; content with problems is left out. */
export function searchDocuments(tree: ContentTree): SearchDocument[] {
  const documents: SearchDocument[] = [];
  for (const path of tree.paths) {
    if (!path.data) continue;
    const pathTitle = path.data.title;
    documents.push(
      pageDocument(
        { url: pathUrl(path.id), kind: 'path', path: path.id, pathTitle, title: pathTitle },
        [path.data.summary, path.data.audience, ...path.data.outcomes],
        path.outline,
      ),
    );
    for (const lesson of path.lessons) {
      if (!lesson.data) continue;
      documents.push(
        pageDocument(
          { url: lessonUrl(path.id, lesson.id), kind: 'lesson', path: path.id, pathTitle, lesson: lesson.id, title: lesson.data.title },
          [lesson.data.summary, ...lesson.data.objectives],
          lesson.outline,
        ),
      );
    }
  }
  return documents;
}
