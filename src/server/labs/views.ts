// What the lab page and the lab API show: a lab to read before starting it, and the learner's
// session in it. Plain JSON; the browser's lab panel reads the same types.

import type { LabSessionStatus, RecordedCheckResult } from '../tracking/index.ts';
import type { StartPhase } from './ports.ts';

export interface LabStepView {
  id: string;
  title: string;
  /** The step's Markdown instructions, rendered. */
  instructionsHtml: string;
  hintCount: number;
}

export interface LabView {
  id: string;
  title: string;
  summary: string;
  duration: number;
  timeLimit: number | null;
  steps: LabStepView[];
}

export type StepStatus = 'not-started' | 'current' | 'failed' | 'passed';

export interface CheckView {
  passed: boolean;
  results: RecordedCheckResult[];
  checkedAt: string;
}

export interface StepStateView {
  id: string;
  status: StepStatus;
  lastCheck: CheckView | null;
  /** Hints shown so far, in order. */
  hints: string[];
  hintsLeft: number;
  /** The solution's commands, once shown. */
  solution: string[] | null;
}

export interface LabSessionView {
  id: string;
  status: LabSessionStatus;
  /** While starting: what the sandbox is busy with. */
  phase: StartPhase | null;
  namespace: string | null;
  startedAt: string;
  readyAt: string | null;
  expiresAt: string | null;
  completedAt: string | null;
  /** Why starting failed. */
  detail: string | null;
  currentStep: string | null;
  steps: StepStateView[];
}

export interface LabStateView {
  lab: string;
  /** The learner's open session of this lab; null before Start and after End. */
  session: LabSessionView | null;
  /** The portal's clock, so the page's timer does not depend on the learner's. */
  now: string;
}

export interface CheckOutcome {
  step: string;
  passed: boolean;
  results: RecordedCheckResult[];
  /** The step to do next when this one passed; null when it was the last. */
  nextStep: string | null;
  completed: boolean;
  state: LabStateView;
}

export interface HintOutcome {
  step: string;
  /** 1-based, as the learner counts. */
  number: number;
  hint: string;
  hintsLeft: number;
  state: LabStateView;
}

export interface SolutionOutcome {
  step: string;
  commands: string[];
  state: LabStateView;
}

export const START_PHASE_LABELS: Record<StartPhase, string> = {
  namespace: 'Creating your namespace',
  workbench: 'Starting the workbench',
  setup: 'Running the lab’s setup',
};
