// Query parameters and option bodies of write requests (CreateOptions, UpdateOptions,
// PatchOptions, DeleteOptions), validated the way the API server validates them.
import { z } from 'zod';
import { StatusError, statusErrors } from '../types.ts';
import type { DeleteOptions, ListOptions, UserInfo, WriteOptions } from '../registry/index.ts';
import type { RequestScope } from './context.ts';
import { isPlainObject } from './body.ts';
import { decodeDocument } from './decode.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

type OptionsKind = 'CreateOptions' | 'UpdateOptions' | 'PatchOptions' | 'DeleteOptions';

function invalidOptions(kind: OptionsKind, field: string, message: string): StatusError {
  return statusErrors.invalid(kind, 'meta.k8s.io', '', [{ field, message, reason: 'FieldValueNotSupported' }]);
}

export function dryRunFrom(kind: OptionsKind, values: string[]): boolean {
  values.forEach((value, i) => {
    if (value !== 'All') throw invalidOptions(kind, `dryRun[${i}]`, `Unsupported value: "${value}": supported values: "All"`);
  });
  return values.length > 0;
}

/** kube-apiserver names unnamed writers after the first word of their User-Agent. */
function managerFromUserAgent(userAgent: string | undefined): string {
  const prefix = (userAgent ?? '').split('/')[0] ?? '';
  return prefix.slice(0, 128);
}

export function fieldManagerFrom(kind: OptionsKind, scope: RequestScope, required: boolean): string {
  const manager = scope.query.get('fieldManager');
  if (manager === null || manager === '') {
    if (required) throw invalidOptions(kind, 'fieldManager', 'Required value: is required for apply patch');
    return managerFromUserAgent(scope.req.headers['user-agent']);
  }
  if (manager.length > 128) throw invalidOptions(kind, 'fieldManager', `Too long: may not be more than 128 bytes`);
  if (!/^[\x20-\x7e]*$/.test(manager)) throw invalidOptions(kind, 'fieldManager', `Invalid value: "${manager}": must be made of printable characters`);
  return manager;
}

export function fieldValidationFrom(kind: OptionsKind, query: URLSearchParams): FieldValidation {
  const value = query.get('fieldValidation');
  if (value === null || value === '') return 'Warn';
  if (value === 'Strict' || value === 'Warn' || value === 'Ignore') return value;
  throw invalidOptions(kind, 'fieldValidation', `Unsupported value: "${value}": supported values: "", "Ignore", "Strict", "Warn"`);
}

export function writeOptionsFrom(kind: OptionsKind, scope: RequestScope, user: UserInfo, requireManager = false): Required<Pick<WriteOptions, 'dryRun' | 'fieldManager' | 'warnings'>> & { user: UserInfo } {
  return {
    dryRun: dryRunFrom(kind, scope.query.getAll('dryRun')),
    fieldManager: fieldManagerFrom(kind, scope, requireManager),
    user,
    warnings: scope.warnings,
  };
}

const deleteOptionsBody = z.looseObject({
  kind: z.string().optional(),
  apiVersion: z.string().optional(),
  gracePeriodSeconds: z.number().int().nullable().optional(),
  propagationPolicy: z.enum(['Orphan', 'Background', 'Foreground']).nullable().optional(),
  orphanDependents: z.boolean().nullable().optional(),
  dryRun: z.array(z.string()).nullable().optional(),
  preconditions: z.object({ uid: z.string().nullable().optional(), resourceVersion: z.string().nullable().optional() }).nullable().optional(),
});

function integerParam(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null || value === '') return undefined;
  if (!/^-?\d+$/.test(value)) throw statusErrors.badRequest(`${name}: invalid value "${value}": strconv.ParseInt: parsing "${value}": invalid syntax`);
  return Number(value);
}

/** DeleteOptions from the body (kubectl sends one) merged with the query (curl users send those). */
export function deleteOptionsFrom(scope: RequestScope, body: Buffer, user: UserInfo): DeleteOptions {
  const describeError = (message: string) => statusErrors.badRequest(`the body of the request could not be read as DeleteOptions: ${message}`);
  let fromBody: z.infer<typeof deleteOptionsBody> = {};
  if (body.length > 0) {
    const value = decodeDocument(body, scope.req.headers['content-type'], describeError);
    if (value !== null) {
      if (!isPlainObject(value)) throw describeError('expected an object');
      const parsed = deleteOptionsBody.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw describeError(`${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`);
      }
      fromBody = parsed.data;
    }
  }
  const gracePeriodSeconds = fromBody.gracePeriodSeconds ?? integerParam(scope.query, 'gracePeriodSeconds');
  const queryPolicy = scope.query.get('propagationPolicy');
  if (queryPolicy !== null && queryPolicy !== '' && !['Orphan', 'Background', 'Foreground'].includes(queryPolicy)) {
    throw invalidOptions('DeleteOptions', 'propagationPolicy', `Unsupported value: "${queryPolicy}": supported values: "Foreground", "Background", "Orphan", "nil"`);
  }
  const orphan = fromBody.orphanDependents ?? (scope.query.has('orphanDependents') ? scope.query.get('orphanDependents') === 'true' : undefined);
  let propagationPolicy = fromBody.propagationPolicy ?? ((queryPolicy || undefined) as DeleteOptions['propagationPolicy']);
  if (orphan !== undefined && propagationPolicy !== undefined) {
    throw invalidOptions('DeleteOptions', 'propagationPolicy', 'Invalid value: "' + propagationPolicy + '": orphanDependents and deletionPropagation cannot be both set');
  }
  if (orphan !== undefined) propagationPolicy = orphan ? 'Orphan' : 'Background';
  if (gracePeriodSeconds !== undefined && gracePeriodSeconds < 0) {
    throw invalidOptions('DeleteOptions', 'gracePeriodSeconds', `Invalid value: ${gracePeriodSeconds}: must be greater than or equal to 0`);
  }
  const options: DeleteOptions = {
    dryRun: dryRunFrom('DeleteOptions', [...(fromBody.dryRun ?? []), ...scope.query.getAll('dryRun')]),
    user,
  };
  if (gracePeriodSeconds !== undefined) options.gracePeriodSeconds = gracePeriodSeconds;
  if (propagationPolicy) options.propagationPolicy = propagationPolicy;
  const preconditions = fromBody.preconditions;
  if (preconditions && (preconditions.uid || preconditions.resourceVersion)) {
    options.preconditions = {
      ...(preconditions.uid ? { uid: preconditions.uid } : {}),
      ...(preconditions.resourceVersion ? { resourceVersion: preconditions.resourceVersion } : {}),
    };
  }
  return options;
}

/** The list options a request names; the namespace comes from its path. */
export type ListQuery = Omit<ListOptions, 'namespace'>;

/** List and watch parameters; a list may name resourceVersionMatch only with a resourceVersion (a watch-list may). */
export function listQueryFrom(query: URLSearchParams, verb: 'list' | 'watch'): ListQuery {
  const result: ListQuery = {};
  const text = (name: keyof ListQuery & string) => {
    const value = query.get(name);
    return value === null || value === '' ? undefined : value;
  };
  const labelSelector = text('labelSelector');
  const fieldSelector = text('fieldSelector');
  const continueToken = text('continue');
  const resourceVersion = text('resourceVersion');
  const resourceVersionMatch = text('resourceVersionMatch');
  const limit = integerParam(query, 'limit');
  if (labelSelector !== undefined) result.labelSelector = labelSelector;
  if (fieldSelector !== undefined) result.fieldSelector = fieldSelector;
  if (continueToken !== undefined) result.continue = continueToken;
  if (resourceVersion !== undefined) {
    if (!/^\d+$/.test(resourceVersion)) throw statusErrors.badRequest(`invalid resource version: strconv.ParseUint: parsing "${resourceVersion}": invalid syntax`);
    result.resourceVersion = resourceVersion;
  }
  if (resourceVersionMatch !== undefined) {
    if (resourceVersionMatch !== 'Exact' && resourceVersionMatch !== 'NotOlderThan') {
      throw statusErrors.invalid('ListOptions', 'meta.k8s.io', '', [
        { field: 'resourceVersionMatch', message: `Unsupported value: "${resourceVersionMatch}": supported values: "Exact", "NotOlderThan", ""`, reason: 'FieldValueNotSupported' },
      ]);
    }
    if (resourceVersion === undefined && verb === 'list') {
      throw statusErrors.invalid('ListOptions', 'meta.k8s.io', '', [
        { field: 'resourceVersionMatch', message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided', reason: 'FieldValueForbidden' },
      ]);
    }
    result.resourceVersionMatch = resourceVersionMatch;
  }
  if (limit !== undefined && limit > 0) result.limit = limit;
  return result;
}

export function timeoutSecondsFrom(query: URLSearchParams): number | undefined {
  const value = integerParam(query, 'timeoutSeconds');
  return value === undefined || value <= 0 ? undefined : value;
}
