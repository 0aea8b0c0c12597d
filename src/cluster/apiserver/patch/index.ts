// The patch library behind PATCH: JSON patch, merge patch, strategic merge patch and server-side
// apply with managed fields. Pure functions over JSON objects; no HTTP, no storage.
export { PatchError, type PatchFailureCode } from './errors.ts';
export { applyJsonPatch, type FieldValidation, type JsonPatchOptions } from './json-patch.ts';
export { applyMergePatch } from './merge-patch.ts';
export { applyStrategicMergePatch, supportsStrategicMergePatch } from './strategic-merge-patch.ts';
export {
  applyConflictError,
  formatApplyConflicts,
  serverSideApply,
  updateManagedFields,
  type ApplyConflict,
  type ServerSideApplyOptions,
  type ServerSideApplyResult,
  type UpdateManagedFieldsOptions,
} from './managed-fields.ts';
export { shapeFromOpenAPISchema, type GroupVersionKind, type StructShape } from './schema/index.ts';
