// YAML read with the `yaml` document API rather than a plain parse, so that every value keeps
// its line and a problem in `steps[1].checks[0].equals` points at the line an author must fix.
import { LineCounter, isMap, isSeq, parseAllDocuments, parseDocument, type Document, type Node as YamlNode } from 'yaml';

export interface YamlSource {
  /** The parsed value; undefined when the text has syntax errors. */
  data: unknown;
  /** 1-based line of the value at `path`, or of its nearest present parent. */
  lineOf(path: readonly PropertyKey[]): number;
  /** 1-based line of the key `key` inside the mapping at `path` (an unknown key an author wrote). */
  lineOfKey(path: readonly PropertyKey[], key: string): number;
  syntaxErrors: Array<{ line: number; message: string }>;
}

function locate(document: Document, lineCounter: LineCounter) {
  const lineAt = (offset: number) => lineCounter.linePos(offset).line;
  const walk = (path: readonly PropertyKey[]): { node: unknown; line: number } => {
    let node: unknown = document.contents;
    let line = lineAt((document.contents as YamlNode | null)?.range?.[0] ?? 0);
    for (const key of path) {
      if (isMap(node)) {
        const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === key);
        if (!pair) break;
        line = lineAt((pair.key as YamlNode).range?.[0] ?? 0);
        node = pair.value;
      } else if (isSeq(node) && typeof key === 'number') {
        const item = node.items[key] as YamlNode | undefined;
        if (!item) break;
        line = lineAt(item.range?.[0] ?? 0);
        node = item;
      } else {
        break;
      }
    }
    return { node, line };
  };
  return {
    lineOf: (path: readonly PropertyKey[]) => walk(path).line,
    lineOfKey(path: readonly PropertyKey[], key: string) {
      const { node, line } = walk(path);
      if (!isMap(node)) return line;
      const pair = node.items.find((item) => (item.key as { value?: unknown } | null)?.value === key);
      return pair ? lineAt((pair.key as YamlNode).range?.[0] ?? 0) : line;
    },
    syntaxErrors: document.errors.map((error) => ({ line: lineAt(error.pos[0]), message: error.message.split('\n')[0] ?? error.message })),
  };
}

export function readYaml(text: string): YamlSource {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const located = locate(document, lineCounter);
  return { ...located, data: located.syntaxErrors.length ? undefined : document.toJS() };
}

/** Every document of a multi-document file (`---` separated), empty ones left out. */
export function readYamlDocuments(text: string): YamlSource[] {
  const lineCounter = new LineCounter();
  return parseAllDocuments(text, { lineCounter, prettyErrors: false, uniqueKeys: true })
    .filter((document) => document.contents !== null || document.errors.length > 0)
    .map((document) => {
      const located = locate(document as Document, lineCounter);
      return { ...located, data: located.syntaxErrors.length ? undefined : (document as Document).toJS() };
    });
}
