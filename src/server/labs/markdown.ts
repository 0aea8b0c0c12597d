// Step instructions are Markdown in lab.yaml; the lab page shows them as HTML. Lab authors are
// trusted as lesson authors are (both live in this repository), so raw HTML in them is kept.

import { markdownToHtml } from 'satteri';

export function renderInstructions(markdown: string): string {
  return markdownToHtml(markdown, { features: { gfm: { footnotes: false }, frontmatter: false } }).html;
}
