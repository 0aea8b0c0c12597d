// The check language's evaluator: one function per kind, each reading the sandbox through
// client-node (never changing it) and answering with what it expected, what it found and one
// sentence that teaches. `timeout` re-evaluates with short pauses until the check passes.
import type { CheckResult } from '../../contracts/index.ts';
import { errorMessage } from '../errors.ts';
import { checkSchema, type Check, type CheckInput, type CheckKind } from '../schema.ts';
import { canI } from './access.ts';
import type { CheckTarget, Outcome } from './context.ts';
import { custom } from './custom.ts';
import { absent, condition, count, exists, field } from './objects.ts';
import { event, file, logs } from './observe.ts';
import { container, podsReady, rollout } from './workloads.ts';

export type { CheckResult } from '../../contracts/index.ts';
export type { CheckTarget, Workbench } from './context.ts';
export type { CustomCheck, CustomCheckContext, CustomCheckResult } from './custom.ts';
export { evaluateJsonPath, parseJsonPath, renderJsonPathValues } from '../../jsonpath/index.ts';
export { parseQuantity } from './quantity.ts';


export interface EvaluateOptions {
  /** Honour each check's `timeout` (default true); false evaluates every check once. */
  waitForTimeouts?: boolean;
  /** Caps every check's `timeout` (the portal keeps a learner's Check short); default no cap. */
  maxWaitMs?: number;
  /** Pause between evaluations while waiting; default 250 ms. */
  pollIntervalMs?: number;
  /** How time passes while a check waits; the real clock by default (a test passes one it moves itself). */
  clock?: CheckClock;
}

export interface CheckClock {
  /** Milliseconds, as Date.now(). */
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: CheckClock = { now: () => Date.now(), sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, ms)) };

type Evaluator = (check: never, target: CheckTarget) => Promise<Outcome>;

const evaluators: { [K in CheckKind]: (check: Extract<Check, { kind: K }>, target: CheckTarget) => Promise<Outcome> } = {
  exists,
  absent,
  field,
  count,
  condition,
  rollout,
  podsReady,
  container,
  canI,
  event,
  logs,
  file,
  custom,
};

async function evaluateOnce(check: Check, target: CheckTarget): Promise<CheckResult> {
  try {
    const outcome = await (evaluators[check.kind] as Evaluator)(check as never, target);
    const message = !outcome.passed && check.message ? check.message : outcome.message;
    return { kind: check.kind, ...outcome, message };
  } catch (error) {
    const reason = errorMessage(error);
    return { kind: check.kind, passed: false, expected: '', found: '', message: `This check could not run: ${reason}.`, error: reason };
  }
}

/**
 * Evaluates one check; with a `timeout`, again and again until it passes or the time is up.
 * Checks from a loaded lab are valid already; one built in code gets the format's defaults here.
 */
export async function evaluateCheck(input: CheckInput, target: CheckTarget, options: EvaluateOptions = {}): Promise<CheckResult> {
  const parsed = checkSchema.safeParse(input);
  if (!parsed.success) {
    const reason = `the check is not valid: ${parsed.error.issues.map((issue) => `${issue.path.join('.') || 'check'}: ${issue.message}`).join('; ')}`;
    return { kind: input.kind, passed: false, expected: '', found: '', message: `This check could not run: ${reason}.`, error: reason };
  }
  const check = parsed.data;
  const timeoutMs = options.waitForTimeouts === false ? 0 : Math.min((check.timeout ?? 0) * 1000, options.maxWaitMs ?? Number.POSITIVE_INFINITY);
  const clock = options.clock ?? realClock;
  const deadline = clock.now() + timeoutMs;
  const interval = options.pollIntervalMs ?? 250;
  for (;;) {
    const result = await evaluateOnce(check, target);
    const remaining = deadline - clock.now();
    if (result.passed || remaining <= 0) return result;
    await clock.sleep(Math.min(interval, remaining));
  }
}

/** Evaluates a step's checks side by side; the results keep the checks' order. */
export function evaluateChecks(checks: readonly CheckInput[], target: CheckTarget, options: EvaluateOptions = {}): Promise<CheckResult[]> {
  return Promise.all(checks.map((check) => evaluateCheck(check, target, options)));
}
