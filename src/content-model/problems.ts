/** One thing an author must fix, located as precisely as the source allows. */
export interface ContentProblem {
  /** Path of the file, relative to the project root, with forward slashes. */
  file: string;
  /** 1-based line in the file. */
  line: number;
  /** The frontmatter field (`objectives.2`), or what the problem is about (`file`, `link`, `mdx`). */
  field: string;
  /** Completes the sentence "<field> …": what is wrong and what would be right. */
  problem: string;
}

export function formatProblem(problem: ContentProblem): string {
  return `${problem.file}:${problem.line}: ${problem.field}: ${problem.problem}`;
}

export function byLocation(a: ContentProblem, b: ContentProblem): number {
  return a.file.localeCompare(b.file) || a.line - b.line || a.field.localeCompare(b.field);
}
