// What lab sessions need from the parts beside them — the lab catalog and its checks (src/labs)
// and sandboxes (src/server/sandboxes) — said as small interfaces, so the session logic reads the
// same whichever cluster the sandboxes live on.

import type { Lab } from '../../labs/index.ts';
import type { WorkbenchTarget } from '../terminals/index.ts';
import type { CheckResult, StartPhase } from '../../contracts/index.ts';

/**
 * A lab as src/labs loads it (labs/<id>/lab.yaml): looked up once per request and passed along
 * as it is, to the sandbox and to the checks, instead of its id.
 */
export type LabContent = Lab;
export type LabStepContent = Lab['steps'][number];

export interface LabCatalog {
  /** The lab as its files say now (an author's edit shows on the next request); null when there is none or it is invalid. */
  get(id: string): Promise<LabContent | null>;
}


export interface ProvisionRequest {
  labSession: string;
  learnerId: string;
  lab: LabContent;
  /** When the sandbox expires (the lab's time limit), if it does. */
  expiresAt: Date | null;
  onPhase(phase: StartPhase, namespace?: string): void;
}

export interface SandboxHandle {
  namespace: string;
  workbench: WorkbenchTarget;
}

export interface LabSandboxes {
  /** Claims a warm sandbox or makes one, and runs the lab's setup; resolves when the learner can start. */
  provision(request: ProvisionRequest): Promise<SandboxHandle>;
  /** The sandbox in `namespace`, found again (after a portal restart); null when it is gone. */
  find(namespace: string): Promise<SandboxHandle | null>;
  /** Runs the lab's cleanup and deletes the sandbox; idempotent. */
  release(namespace: string, lab: LabContent): Promise<void>;
  /** Keeps the sandbox until `until` at least (a session's extended time); the reaper reads its expiry from the sandbox. */
  extend(namespace: string, until: Date): Promise<void>;
  /** The namespaces of every sandbox there is (not being deleted): one that is missing was reaped. */
  live(): Promise<Set<string>>;
}

export interface LabChecks {
  /** Evaluates every check of `step` in the sandbox, in order. */
  run(request: { lab: LabContent; step: string; sandbox: SandboxHandle }): Promise<CheckResult[]>;
}
