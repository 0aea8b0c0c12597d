// What the lab page and the lab API show: a lab to read before starting it, the learner's session
// in it, and what Check, Show hint and Show solution answer. The server builds these, the API
// sends them, the browser's lab panel reads them: one definition.

import { z } from 'zod';

/** One check's answer: what the step asks, what the sandbox holds, one sentence for the learner. */
export const checkResult = z.object({
  kind: z.string(),
  passed: z.boolean(),
  /** What the step asks for: "3 Ready pods with app=web". */
  expected: z.string(),
  /** What the sandbox holds: "2 of 3 Ready; web-7c5d… ImagePullBackOff". */
  found: z.string(),
  /** One sentence for the learner: "Deployment web has 2 ready replicas; this step asks for 3." */
  message: z.string(),
  /** Set when the check could not be evaluated at all (the cluster or the lab is at fault, not the learner). */
  error: z.string().optional(),
});
export type CheckResult = z.infer<typeof checkResult>;

/** A step passes when it has checks and every one of them passed. */
export function stepPassed(results: readonly CheckResult[]): boolean {
  return results.length > 0 && results.every((result) => result.passed);
}

export const LAB_SESSION_STATUSES = ['starting', 'ready', 'failed', 'ended'] as const;
export type LabSessionStatus = (typeof LAB_SESSION_STATUSES)[number];

/** What starting a sandbox is busy with, in order. */
export const START_PHASES = ['namespace', 'workbench', 'setup'] as const;
export type StartPhase = (typeof START_PHASES)[number];

export const START_PHASE_LABELS: Record<StartPhase, string> = {
  namespace: 'Creating your namespace',
  workbench: 'Starting the workbench',
  setup: 'Running the lab’s setup',
};

export const labStepView = z.object({
  id: z.string(),
  title: z.string(),
  instructionsHtml: z.string().describe('the step’s Markdown instructions, rendered'),
  hintCount: z.number().int(),
});
export type LabStepView = z.infer<typeof labStepView>;

export const labView = z.object({
  id: z.string(),
  title: z.string(),
  summary: z.string(),
  duration: z.number(),
  timeLimit: z.number().nullable(),
  steps: z.array(labStepView),
});
export type LabView = z.infer<typeof labView>;

export const STEP_STATUSES = ['not-started', 'current', 'failed', 'passed'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const checkView = z.object({ passed: z.boolean(), results: z.array(checkResult), checkedAt: z.string() });
export type CheckView = z.infer<typeof checkView>;

export const stepStateView = z.object({
  id: z.string(),
  status: z.enum(STEP_STATUSES),
  lastCheck: checkView.nullable(),
  hints: z.array(z.string()).describe('hints shown so far, in order'),
  hintsLeft: z.number().int(),
  solution: z.array(z.string()).nullable().describe('the solution’s commands, once shown'),
});
export type StepStateView = z.infer<typeof stepStateView>;

export const labSessionView = z.object({
  id: z.string(),
  status: z.enum(LAB_SESSION_STATUSES),
  phase: z.enum(START_PHASES).nullable().describe('while starting: what the sandbox is busy with'),
  namespace: z.string().nullable(),
  startedAt: z.string(),
  readyAt: z.string().nullable(),
  expiresAt: z.string().nullable(),
  completedAt: z.string().nullable(),
  detail: z.string().nullable().describe('why starting failed'),
  currentStep: z.string().nullable(),
  steps: z.array(stepStateView),
});
export type LabSessionView = z.infer<typeof labSessionView>;

export const labStateView = z.object({
  lab: z.string(),
  session: labSessionView.nullable().describe('the learner’s open session of this lab; null before Start and after End'),
  lastAttempt: labSessionView
    .nullable()
    .describe('with no open session: the learner’s latest ended attempt (status ended), so the page shows what they did; null otherwise'),
  now: z.string().describe('the portal’s clock, so the page’s timer does not depend on the learner’s'),
});
export type LabStateView = z.infer<typeof labStateView>;

export const checkOutcome = z.object({
  step: z.string(),
  passed: z.boolean(),
  results: z.array(checkResult),
  nextStep: z.string().nullable().describe('the step to do next when this one passed; null when it was the last'),
  completed: z.boolean(),
  state: labStateView,
});
export type CheckOutcome = z.infer<typeof checkOutcome>;

export const hintOutcome = z.object({
  step: z.string(),
  number: z.number().int().describe('1-based, as the learner counts'),
  hint: z.string(),
  hintsLeft: z.number().int(),
  state: labStateView,
});
export type HintOutcome = z.infer<typeof hintOutcome>;

export const solutionOutcome = z.object({ step: z.string(), commands: z.array(z.string()), state: labStateView });
export type SolutionOutcome = z.infer<typeof solutionOutcome>;

/** What a lab action may send: the lab session the page shows; the learner's open one when left out. */
export const labActionInput = z.object({
  session: z
    .string('the lab session id as text')
    .regex(/^[0-9a-f-]{36}$/, 'not a lab session id')
    .optional()
    .describe('a lab session id of the learner; their open session of the lab when left out'),
});
export type LabActionInput = z.infer<typeof labActionInput>;
