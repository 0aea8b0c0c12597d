import { LineCounter, isMap, isSeq, parseDocument, type Node as YamlNode } from 'yaml';

// Frontmatter is read with the `yaml` document API (not a plain parse) so every field keeps
// its line: a problem in `objectives[2]` points at the line of that objective.

export interface Frontmatter {
  /** The parsed YAML, or undefined when the file has no frontmatter block. */
  data: unknown;
  /** 1-based line in the file of the value at `fieldPath`, or of its nearest present parent. */
  lineOf(fieldPath: readonly PropertyKey[]): number;
  syntaxErrors: Array<{ line: number; message: string }>;
}

const FENCE = /^---[ \t]*\r?\n([\s\S]*?)\r?\n?^---[ \t]*$/m;

export function readFrontmatter(source: string): Frontmatter {
  const match = FENCE.exec(source);
  if (!match || match.index !== 0) {
    return { data: undefined, lineOf: () => 1, syntaxErrors: [] };
  }
  const yamlText = match[1] ?? '';
  // The YAML starts on line 2, right after the opening `---`.
  const firstLine = 2;
  const lineCounter = new LineCounter();
  const document = parseDocument(yamlText, { lineCounter, prettyErrors: false });
  const lineAt = (offset: number) => lineCounter.linePos(offset).line + firstLine - 1;
  const syntaxErrors = document.errors.map((error) => ({
    line: lineAt(error.pos[0]),
    message: error.message.split('\n')[0] ?? error.message,
  }));

  const lineOf = (fieldPath: readonly PropertyKey[]): number => {
    let node: unknown = document.contents;
    let line = 1;
    for (const key of fieldPath) {
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
    return line;
  };

  return { data: syntaxErrors.length ? undefined : document.toJS(), lineOf, syntaxErrors };
}
