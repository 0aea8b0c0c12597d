export { checkContent, labIds, type ContentReport } from './check.ts';
export { calloutKinds, checkComponent, mdxComponentNames } from './components.ts';
export { readFrontmatter, type Frontmatter } from './frontmatter.ts';
export { MdxSyntaxError, outlineMdx, type Outline, type OutlineHeading, type OutlineReference, type OutlineSection } from './outline.ts';
export { byLocation, formatProblem, type ContentProblem } from './problems.ts';
export { contentId, lessonFrontmatter, levels, pathFrontmatter, type LessonFrontmatter, type Level, type PathFrontmatter } from './schema.ts';
export { PATHS_DIR, PATH_FILE, parseLessonFileName, readContentTree, type ContentTree, type LessonSource, type PathSource } from './tree.ts';
