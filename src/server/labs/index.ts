// Lab sessions in the portal: Start, Check, hints, solution, Reset, End, recorded, with the
// terminal bridge and sandboxes behind them.

export { createLabSessions } from './service.ts';
export type { LabSessions, LabSessionsOptions } from './service.ts';
export { LabRequestError, isLabRequestError } from './errors.ts';
export type { LabRequestStatus } from './errors.ts';
export type { LabCatalog, LabChecks, LabContent, LabSandboxes, LabStepContent, ProvisionRequest, SandboxHandle } from './ports.ts';
export { startLabs } from './runtime.ts';
export type { Labs, LabsOptions } from './runtime.ts';
export { START_PHASE_LABELS } from '../../contracts/index.ts';
export type { CheckOutcome, CheckView, HintOutcome, LabSessionView, LabStateView, LabStepView, LabView, SolutionOutcome, StepStateView, StepStatus } from '../../contracts/index.ts';
