import { defineCollection } from 'astro:content';
import { glob } from 'astro/loaders';
import { join } from 'node:path';
import { lessonFrontmatter, parseLessonFileName, pathFrontmatter } from './content-model/index.ts';
import { siteContentRoot } from './server/config.ts';

// The same schemas `formicary content check` uses. The globs admit exactly the files the
// checker reads: a path is <path>/index.mdx, a lesson <path>/NN-<lesson>.mdx.
const base = join(siteContentRoot('.'), 'content', 'paths');

const paths = defineCollection({
  loader: glob({ base, pattern: '*/index.mdx', generateId: ({ entry }) => entry.split('/')[0] ?? entry }),
  schema: pathFrontmatter,
});

const lessons = defineCollection({
  loader: glob({
    base,
    pattern: '*/[0-9][0-9]-*.mdx',
    generateId: ({ entry }) => {
      const [pathId = '', fileName = ''] = entry.split('/');
      return `${pathId}/${parseLessonFileName(fileName)?.id ?? fileName.replace(/\.mdx$/, '')}`;
    },
  }),
  schema: lessonFrontmatter,
});

export const collections = { paths, lessons };
