// What lab sessions need from the parts beside them — the lab catalog (src/labs), sandboxes
// (src/server/sandboxes) and checks (src/server/checks) — said as small interfaces, so the
// session logic reads the same whichever cluster the sandboxes live on.

import type { WorkbenchTarget } from '../terminals/index.ts';
import type { CheckResult, StartPhase } from '../../contracts/index.ts';

/** The parts of a lab (labs/<id>/lab.yaml) a lab session uses. */
export interface LabContent {
  id: string;
  title: string;
  summary: string;
  /** Minutes a learner typically needs. */
  duration: number;
  /** Minutes until the sandbox expires, when the lab has a limit. */
  timeLimit?: number | undefined;
  steps: LabStepContent[];
}

export interface LabStepContent {
  id: string;
  title: string;
  /** Markdown. */
  instructions: string;
  hints: string[];
  /** Shell commands. */
  solution: string[];
}

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
  /** The namespaces of every sandbox there is (not being deleted): one that is missing was reaped. */
  live(): Promise<Set<string>>;
}

export interface LabChecks {
  /** Evaluates every check of `step` in the sandbox, in order. */
  run(request: { lab: LabContent; step: string; sandbox: SandboxHandle }): Promise<CheckResult[]>;
}
