// Reads @kubernetes/client-node's generated models as the source of Kubernetes field types,
// required fields and descriptions: each `gen/models/X.js` carries `attributeTypeMap` (JSON names,
// types, formats) and each `X.d.ts` the upstream descriptions as doc comments and `?` on optional
// fields. Models are read on first use and kept.
import { readFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface ModelAttribute {
  /** the JSON field name */
  name: string;
  /** client-node's TypeScript type: string, number, boolean, Date, any, IntOrString, Array<T>, { [key: string]: T; }, a model name */
  type: string;
  /** int32, int64, double, byte, date-time, date-time-micro, int-or-string, or '' */
  format: string;
  description?: string;
  required: boolean;
}

export interface Model {
  name: string;
  description?: string;
  attributes: ModelAttribute[];
}

const modelsDir = join(dirname(createRequire(import.meta.url).resolve('@kubernetes/client-node')), 'gen', 'models');
const cache = new Map<string, Model | undefined>();

/** Answers remembered: fieldValidation asks on every write, and a file-system check each time shows. */
const existence = new Map<string, boolean>();

export function modelExists(name: string): boolean {
  if (cache.has(name)) return cache.get(name) !== undefined;
  let exists = existence.get(name);
  if (exists === undefined) {
    exists = /^\w+$/.test(name) && existsSync(join(modelsDir, `${name}.js`));
    existence.set(name, exists);
  }
  return exists;
}

export function loadModel(name: string): Model | undefined {
  if (cache.has(name)) return cache.get(name);
  const model = /^\w+$/.test(name) && existsSync(join(modelsDir, `${name}.js`)) ? readModel(name) : undefined;
  cache.set(name, model);
  return model;
}

interface AttributeEntry {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

function readModel(name: string): Model {
  const js = readFileSync(join(modelsDir, `${name}.js`), 'utf8');
  const map = /\.attributeTypeMap = (\[[\s\S]*?\]);/.exec(js)?.[1];
  if (map === undefined) throw new Error(`@kubernetes/client-node model ${name} has no attributeTypeMap; the package layout changed`);
  const entries = JSON.parse(map) as AttributeEntry[];
  const dts = readFileSync(join(modelsDir, `${name}.d.ts`), 'utf8');
  const classStart = dts.indexOf('export declare class');
  const beforeClass = dts.slice(0, classStart);
  const classDoc = /^\/\*\*([\s\S]*?)\*\/\s*$/.exec(beforeClass.slice(beforeClass.lastIndexOf('/**')))?.[1];
  const fieldDocs = new Map<string, { description?: string; optional: boolean }>();
  for (const match of dts.slice(classStart).matchAll(/(?:\/\*\*([\s\S]*?)\*\/\s*)?'([^']+)'(\?)?:/g)) {
    fieldDocs.set(match[2] ?? '', { description: match[1] === undefined ? undefined : docText(match[1]), optional: match[3] === '?' });
  }
  return {
    name,
    description: classDoc === undefined ? undefined : docText(classDoc),
    attributes: entries.map((entry) => {
      const doc = fieldDocs.get(entry.name);
      return { name: entry.baseName, type: entry.type, format: entry.format, description: doc?.description, required: doc !== undefined && !doc.optional };
    }),
  };
}

/** The text of a doc comment: leading `*` gone, the generator's escapes undone. */
function docText(comment: string): string | undefined {
  const text = comment
    .split('\n')
    .map((line) => line.replace(/^\s*\*\s?/, ''))
    .join('\n')
    .trim()
    .replace(/\\(['"\\])/g, '$1');
  return text === '' ? undefined : text;
}
