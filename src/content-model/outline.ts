import GithubSlugger from 'github-slugger';
import { mdxToMdast, type MdastNode } from 'satteri';

// What the rest of the portal needs to know about a lesson body without rendering it: its
// headings (with the same ids Astro gives them), its text split per heading (for search), the
// addresses it links to (for the link check) and the components it uses. It is read with
// satteri, the MDX parser Astro itself uses, so it agrees with the rendered page.

export interface OutlineHeading {
  depth: number;
  text: string;
  /** The element id Astro renders, made by the same slugger over the same text. */
  slug: string;
  line: number;
}

export interface OutlineSection {
  /** Null for the text before the first heading. */
  heading: OutlineHeading | null;
  /** Plain text of the section, whitespace collapsed. */
  text: string;
}

export interface OutlineReference {
  url: string;
  line: number;
  /** Where the address came from: `link`, `image` or `<Component attribute>`. */
  source: string;
}

export type AttributeValue = string | { expression: string } | true;

export interface OutlineComponent {
  name: string;
  line: number;
  attributes: Map<string, AttributeValue>;
}

export interface Outline {
  headings: OutlineHeading[];
  sections: OutlineSection[];
  references: OutlineReference[];
  components: OutlineComponent[];
}

export class MdxSyntaxError extends Error {
  readonly line: number;
  constructor(message: string, line: number) {
    super(message);
    this.name = 'MdxSyntaxError';
    this.line = line;
  }
}

/** Attributes whose value is text the reader sees, so it belongs in search. */
const READABLE_ATTRIBUTES = new Set(['title', 'question', 'explanation', 'caption', 'alt', 'command', 'label']);
/** Attributes holding a list of readable strings, written as a JS array literal. */
const READABLE_LIST_ATTRIBUTES = new Set(['options']);
/** Attributes that hold an address. */
const ADDRESS_ATTRIBUTES = new Set(['href', 'src']);

/** Containers whose children are separate blocks of text, so their words must not run together. */
const BLOCK_CONTAINERS = new Set(['root', 'blockquote', 'list', 'listItem', 'table', 'tableRow', 'tableCell', 'mdxJsxFlowElement', 'footnoteDefinition']);

type Node = MdastNode;
type JsxAttribute = { type: string; name?: string; value?: unknown };

function lineOf(node: { position?: { start: { line: number } } | undefined }): number {
  return node.position?.start.line ?? 1;
}

function stringLiterals(expression: string): string[] {
  const values: string[] = [];
  for (const match of expression.matchAll(/"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|`((?:[^`\\]|\\.)*)`/g)) {
    values.push(match[1] ?? match[2] ?? match[3] ?? '');
  }
  return values;
}

function readAttributes(attributes: readonly JsxAttribute[]): Map<string, AttributeValue> {
  const result = new Map<string, AttributeValue>();
  for (const attribute of attributes) {
    if (attribute.type !== 'mdxJsxAttribute' || !attribute.name) continue;
    const value = attribute.value;
    if (typeof value === 'string') result.set(attribute.name, value);
    else if (value && typeof value === 'object' && 'value' in value && typeof value.value === 'string') {
      result.set(attribute.name, { expression: value.value });
    } else result.set(attribute.name, true);
  }
  return result;
}

/** The text a heading renders, as Astro's heading-id plugin reads it. */
function textContent(node: Node): string {
  if ('value' in node && typeof node.value === 'string' && node.type !== 'mdxTextExpression') return node.value;
  if ('children' in node) return (node.children as Node[]).map(textContent).join('');
  return '';
}

export function outlineMdx(source: string): Outline {
  let root: Node;
  try {
    root = mdxToMdast(source);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const place = /^(\d+):(\d+): /.exec(message);
    throw new MdxSyntaxError(place ? message.slice(place[0].length) : message, place ? Number(place[1]) : 1);
  }

  const slugger = new GithubSlugger();
  const headings: OutlineHeading[] = [];
  const sections: OutlineSection[] = [];
  const references: OutlineReference[] = [];
  const components: OutlineComponent[] = [];
  let current: { heading: OutlineHeading | null; parts: string[] } = { heading: null, parts: [] };

  const closeSection = () => {
    const text = current.parts.join('').replace(/\s+/g, ' ').trim();
    if (current.heading || text) sections.push({ heading: current.heading, text });
  };
  const write = (text: string) => current.parts.push(text);

  const visit = (node: Node): void => {
    switch (node.type) {
      case 'yaml':
      case 'toml':
      case 'mdxjsEsm':
      case 'mdxFlowExpression':
      case 'mdxTextExpression':
        return;
      case 'heading': {
        const text = textContent(node).trim();
        const heading = { depth: node.depth, text, slug: slugger.slug(text), line: lineOf(node) };
        headings.push(heading);
        closeSection();
        current = { heading, parts: [] };
        return;
      }
      case 'text':
      case 'inlineCode':
        write(node.value);
        return;
      case 'code':
        write(` ${node.value} `);
        return;
      case 'link':
        references.push({ url: node.url, line: lineOf(node), source: 'link' });
        break;
      case 'image':
        references.push({ url: node.url, line: lineOf(node), source: 'image' });
        if (node.alt) write(` ${node.alt} `);
        return;
      case 'mdxJsxFlowElement':
      case 'mdxJsxTextElement': {
        const attributes = readAttributes(node.attributes as JsxAttribute[]);
        const name = node.name ?? '';
        if (name) components.push({ name, line: lineOf(node), attributes });
        for (const [attribute, value] of attributes) {
          if (typeof value === 'string' && READABLE_ATTRIBUTES.has(attribute)) write(` ${value} `);
          if (typeof value === 'object' && READABLE_LIST_ATTRIBUTES.has(attribute)) write(` ${stringLiterals(value.expression).join(' ')} `);
          if (typeof value === 'string' && ADDRESS_ATTRIBUTES.has(attribute)) {
            references.push({ url: value, line: lineOf(node), source: `<${name} ${attribute}>` });
          }
        }
        break;
      }
      default:
        break;
    }
    if ('children' in node) {
      const block = BLOCK_CONTAINERS.has(node.type);
      for (const child of node.children as Node[]) {
        visit(child);
        if (block) write(' ');
      }
    }
  };
  visit(root);
  closeSection();
  return { headings, sections, references, components };
}
