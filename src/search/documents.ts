import { z } from 'zod';
import type { ContentTree, Outline } from '../content-model/index.ts';

// What search indexes: one document per path or lesson "head" (its title, summary, objectives
// and the text before the first heading) and one per heading section, so a hit deep-links to
// the heading where the words are.

export const searchDocument = z.object({
  /** Unique; the address the document deep-links to. */
  url: z.string(),
  kind: z.enum(['path', 'lesson']),
  path: z.string(),
  pathTitle: z.string(),
  lesson: z.string().optional(),
  /** The path or lesson title. */
  title: z.string(),
  /** Present on section documents: the heading the section starts with. */
  heading: z.string().optional(),
  /** Only head documents carry the title, so a title match counts once per lesson. */
  titleField: z.string(),
  text: z.string(),
});

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

function documentsOf(
  base: Omit<SearchDocument, 'url' | 'heading' | 'titleField' | 'text'>,
  url: string,
  lead: string[],
  outline: Outline | null,
): SearchDocument[] {
  const sections = outline?.sections ?? [];
  const intro = sections.find((section) => section.heading === null)?.text ?? '';
  const text = [...lead.map(asSentence), intro].filter(Boolean).join(' ');
  const documents: SearchDocument[] = [{ ...base, url, titleField: base.title, text }];
  for (const section of sections) {
    if (!section.heading) continue;
    documents.push({ ...base, url: `${url}#${section.heading.slug}`, heading: section.heading.text, titleField: '', text: section.text });
  }
  return documents;
}

/** The documents of every valid path and lesson; content with problems is left out. */
export function searchDocuments(tree: ContentTree): SearchDocument[] {
  const documents: SearchDocument[] = [];
  for (const path of tree.paths) {
    if (!path.data) continue;
    const pathTitle = path.data.title;
    documents.push(
      ...documentsOf(
        { kind: 'path', path: path.id, pathTitle, title: pathTitle },
        pathUrl(path.id),
        [path.data.summary, path.data.audience, ...path.data.outcomes],
        path.outline,
      ),
    );
    for (const lesson of path.lessons) {
      if (!lesson.data) continue;
      documents.push(
        ...documentsOf(
          { kind: 'lesson', path: path.id, pathTitle, lesson: lesson.id, title: lesson.data.title },
          lessonUrl(path.id, lesson.id),
          [lesson.data.summary, ...lesson.data.objectives],
          lesson.outline,
        ),
      );
    }
  }
  return documents;
}
