// Shapes shared by every part of the embedded cluster. Objects travel as plain JSON (as they do
// on the wire); these types name the parts the machinery reads.

export interface OwnerReference {
  apiVersion: string;
  kind: string;
  name: string;
  uid: string;
  controller?: boolean;
  blockOwnerDeletion?: boolean;
}

export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Record<string, unknown>;
  subresource?: string;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
  managedFields?: ManagedFieldsEntry[];
  [field: string]: unknown;
}

/** Any Kubernetes object as JSON. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** metav1.Status, the body of every failure the API server returns. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, unknown>;
  status: 'Success' | 'Failure';
  message?: string;
  reason?: string;
  details?: {
    name?: string;
    group?: string;
    kind?: string;
    uid?: string;
    causes?: StatusCause[];
    retryAfterSeconds?: number;
  };
  code: number;
}

/**
 * A Status in metav1.Status's field order (kind, apiVersion, metadata, status, message, reason,
 * details, code) with StatusDetails' omitempty fields left out, as a kube-apiserver writes it:
 * clients that compare bodies byte for byte, and learners reading `-v=8`, see the same text.
 */
type StatusFields = Omit<Status, 'kind' | 'apiVersion' | 'metadata' | 'code'>;
export function statusBody(status: StatusFields & { code: number }): Status;
export function statusBody(status: StatusFields): Omit<Status, 'code'>;
export function statusBody(status: StatusFields & { code?: number }): Omit<Status, 'code'> & { code?: number } {
  const body: Omit<Status, 'code'> & { code?: number } = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: status.status };
  if (status.message) body.message = status.message;
  if (status.reason) body.reason = status.reason;
  if (status.details) body.details = statusDetails(status.details);
  if (status.code !== undefined) body.code = status.code;
  return body;
}

function statusDetails(details: NonNullable<Status['details']>): NonNullable<Status['details']> {
  const ordered: NonNullable<Status['details']> = {};
  if (details.name) ordered.name = details.name;
  if (details.group) ordered.group = details.group;
  if (details.kind) ordered.kind = details.kind;
  if (details.uid) ordered.uid = details.uid;
  if (details.causes && details.causes.length > 0) {
    ordered.causes = details.causes.map((cause) => {
      const c: StatusCause = {};
      if (cause.reason) c.reason = cause.reason;
      if (cause.message) c.message = cause.message;
      if (cause.field) c.field = cause.field;
      return c;
    });
  }
  if (details.retryAfterSeconds) ordered.retryAfterSeconds = details.retryAfterSeconds;
  return ordered;
}

/** An error that carries the Status the server answers with. Throw it anywhere below the HTTP layer. */
export class StatusError extends Error {
  readonly status: Status;
  constructor(status: Omit<Status, 'kind' | 'apiVersion' | 'metadata' | 'status'>) {
    super(status.message ?? status.reason ?? 'error');
    this.status = statusBody({ status: 'Failure', ...status });
  }
  get code(): number {
    return this.status.code;
  }
}

export interface GroupResource {
  group: string;
  resource: string;
}

/** "deployments.apps", "pods": how Kubernetes names a resource in messages. */
export function qualifiedResource({ group, resource }: GroupResource): string {
  return group === '' ? resource : `${resource}.${group}`;
}

export const statusErrors = {
  notFound(gr: GroupResource, name: string): StatusError {
    return new StatusError({
      code: 404,
      reason: 'NotFound',
      message: `${qualifiedResource(gr)} "${name}" not found`,
      details: { name, group: gr.group, kind: gr.resource },
    });
  },
  alreadyExists(gr: GroupResource, name: string): StatusError {
    return new StatusError({
      code: 409,
      reason: 'AlreadyExists',
      message: `${qualifiedResource(gr)} "${name}" already exists`,
      details: { name, group: gr.group, kind: gr.resource },
    });
  },
  conflict(gr: GroupResource, name: string, why: string): StatusError {
    return new StatusError({
      code: 409,
      reason: 'Conflict',
      message: `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`,
      details: { name, group: gr.group, kind: gr.resource },
    });
  },
  /** kind is the Kind ("Deployment"); causes carry field paths as Kubernetes prints them. */
  invalid(kind: string, group: string, name: string, causes: Array<StatusCause & { field: string; message: string }>): StatusError {
    const summary = causes.map((c) => `${c.field}: ${c.message}`).join(', ');
    return new StatusError({
      code: 422,
      reason: 'Invalid',
      message: `${kind}${group ? `.${group}` : ''} "${name}" is invalid: ${causes.length > 1 ? `[${summary}]` : summary}`,
      details: { name, group, kind, causes: causes.map((c) => ({ reason: c.reason ?? 'FieldValueInvalid', message: c.message, field: c.field })) },
    });
  },
  badRequest(message: string): StatusError {
    return new StatusError({ code: 400, reason: 'BadRequest', message });
  },
  forbidden(message: string, gr?: GroupResource, name?: string): StatusError {
    return new StatusError({ code: 403, reason: 'Forbidden', message, details: gr ? { name, group: gr.group, kind: gr.resource } : undefined });
  },
  gone(message: string): StatusError {
    return new StatusError({ code: 410, reason: 'Expired', message });
  },
  unsupportedMediaType(message: string): StatusError {
    return new StatusError({ code: 415, reason: 'UnsupportedMediaType', message });
  },
  methodNotSupported(gr: GroupResource, verb: string): StatusError {
    return new StatusError({
      code: 405,
      reason: 'MethodNotAllowed',
      message: `${verb} is not supported on resources of kind "${qualifiedResource(gr)}"`,
      details: { group: gr.group, kind: gr.resource },
    });
  },
  tooLarge(message: string): StatusError {
    return new StatusError({ code: 413, reason: 'RequestEntityTooLarge', message });
  },
};
