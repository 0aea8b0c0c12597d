// Public face of the lab format: the schema and its types, reading labs/<id>/ into a Lab (or
// into problems naming file, line and field), the check language and its evaluator, and the
// Kubernetes client labs use. The portal (sandboxes, checks), the CLI and the content check
// use labs only through here.
export { checkKinds, fieldComparators, labSchema, type Check, type CheckKind, type LabDefinition, type LabQuota, type LabStepDefinition, type RbacRule } from './schema.ts';
export { formatLabProblem, labDirectories, loadLab, readLab, validateLab, LabError, type Lab, type LabProblem, type ManifestObject, type SetupManifest } from './load.ts';
export { LabCatalog, UnknownLabError, labDigest } from './catalog.ts';
export {
  evaluateCheck,
  evaluateChecks,
  evaluateJsonPath,
  parseJsonPath,
  parseQuantity,
  renderJsonPathValues,
  type CheckResult,
  type CheckTarget,
  type CustomCheck,
  type CustomCheckContext,
  type CustomCheckResult,
  type EvaluateOptions,
  type Workbench,
} from './checks/index.ts';
export { ExecTimeoutError, KubeClient, UnknownResourceError, errorMessage, findResource, statusCode, type ApiResource, type ExecResult, type KubeObject, type ListOptions, type WatchEvent } from './kube/index.ts';
