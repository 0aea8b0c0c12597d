// Public face of the lab format: the schema and its types, reading labs/<id>/ into a Lab (or
// into problems naming file, line and field), the check language and its evaluator, and the
// Kubernetes client labs use. The portal (sandboxes, checks), the CLI and the content check
// use labs only through here.
export { checkKinds, fieldComparators, labSchema, type Check, type CheckInput, type CheckKind, type LabDefinition, type LabQuota, type LabStepDefinition, type RbacRule } from './schema.ts';
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
  type CheckClock,
  type EvaluateOptions,
  type Workbench,
} from './checks/index.ts';
export { UnknownResourceError, errorMessage, statusCode } from './errors.ts';
// The Kubernetes client (KubeClient: discovery, reads, exec, logs, access reviews, watches) has its
// own public face, ./kube/index.ts, for code that talks to a cluster: @kubernetes/client-node takes
// seconds to load, and reading or validating labs (content check, site build) must not pay for it.
export type { ApiResource, ExecResult, KubeClient, KubeObject, ListOptions, WatchEvent } from './kube/index.ts';
