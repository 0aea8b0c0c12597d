// The shape every per-resource printer has: column definitions (wide ones carry priority 1) and a
// row function. The API server always generates the wide cells; kubectl hides priority-1 columns
// unless asked for -o wide.
import type { KubeObject } from '../../types.ts';

export interface TableColumnDefinition {
  name: string;
  /** OpenAPI type of the cells: string, integer, number, boolean, date */
  type: string;
  /** 'name' marks the column kubectl uses as the object's name */
  format: string;
  description: string;
  /** 0 = always shown, 1 = only with -o wide */
  priority: number;
}

export interface TableRowCondition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

export type TableCell = string | number | boolean | null;

export interface PrintedRow {
  cells: TableCell[];
  conditions?: TableRowCondition[];
}

export interface Printer {
  columns: TableColumnDefinition[];
  print(object: KubeObject, now: Date): PrintedRow;
}

export const descriptions = {
  name:
    'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  creationTimestamp:
    'CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata',
  containers: 'Names of each container in the template.',
  images: 'Images referenced by each container in the template.',
} as const;

export function column(name: string, type: string, description: string, options: { priority?: number; format?: string } = {}): TableColumnDefinition {
  return { name, type, format: options.format ?? '', description, priority: options.priority ?? 0 };
}

export const nameColumn = (): TableColumnDefinition => column('Name', 'string', descriptions.name, { format: 'name' });
export const ageColumn = (): TableColumnDefinition => column('Age', 'string', descriptions.creationTimestamp);
export const wide = { priority: 1 } as const;
