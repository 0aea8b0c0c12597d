// `formicary labs test`: proves each lab teaches what it says. In a fresh sandbox, after setup,
// step by step: every check of the step fails (unless marked passesBefore), the step's solution
// runs in the workbench as a learner would type it, and then every check passes. Labs run side by
// side with a bound; every sandbox is deleted afterwards.
import { randomBytes } from 'node:crypto';
import type { LabCatalog } from '../catalog.ts';
import { evaluateChecks, type CheckResult, type CheckTarget, type Workbench } from '../checks/index.ts';
import { errorMessage } from '../errors.ts';
import type { Lab } from '../load.ts';

export type LabTestPhase = 'load' | 'setup' | 'before-solution' | 'solution' | 'after-solution';

export interface LabTestFailure {
  /** Step id, or null for the lab as a whole (loading, setup). */
  step: string | null;
  phase: LabTestPhase;
  message: string;
}

export interface LabTestResult {
  labId: string;
  /** Steps in the lab. */
  steps: number;
  /** Steps that went through fail → solution → pass. */
  stepsPassed: number;
  passed: boolean;
  seconds: number;
  /** The first thing that went wrong. */
  failure: LabTestFailure | null;
}

export type LabTestEvent =
  | { type: 'lab-started'; labId: string }
  | { type: 'sandbox-ready'; labId: string; namespace: string; seconds: number }
  | { type: 'step-passed'; labId: string; step: string }
  | { type: 'lab-finished'; result: LabTestResult };

/**
 * What the self-test needs of sandboxes: one per lab run, the learner's commands run in its
 * workbench, and a client that reads it. The portal's Sandboxes (src/server/sandboxes) fit; the
 * CLI makes them, so the lab format does not depend on the server.
 */
export interface SelfTestSandboxes {
  readonly client: CheckTarget['client'];
  /** The client that reads a sandbox: its own cluster's (needs: cluster), `client` otherwise. */
  clusterClient?(namespace: string): Promise<CheckTarget['client']>;
  start(lab: Lab, learnerId: string): Promise<{ namespace: string; workbench: Workbench }>;
  exec(namespace: string, command: string, options: { timeoutMs: number }): Promise<{ exitCode: number; stdout: string; stderr: string }>;
  end(namespace: string, lab: Lab): Promise<unknown>;
}

export interface LabTestOptions {
  /** Where the labs run; the caller starts and stops them. */
  sandboxes: SelfTestSandboxes;
  catalog: LabCatalog;
  /** Which labs; default every lab of the catalog. */
  labIds?: string[];
  /** Labs tested at once; default 2. */
  concurrency?: number;
  /** Per solution command; default 120 s. */
  commandTimeoutMs?: number;
  onEvent?: (event: LabTestEvent) => void;
}

function describeCheck(index: number, result: CheckResult): string {
  return `check ${index + 1} (${result.kind})`;
}

function clip(text: string, length = 600): string {
  const trimmed = text.trim();
  return trimmed.length > length ? `…${trimmed.slice(-length)}` : trimmed;
}

async function testLab(lab: Lab, sandboxes: SelfTestSandboxes, options: LabTestOptions): Promise<LabTestResult> {
  const started = Date.now();
  const result = (stepsPassed: number, failure: LabTestFailure | null): LabTestResult => ({
    labId: lab.id,
    steps: lab.steps.length,
    stepsPassed,
    passed: failure === null,
    seconds: Math.round((Date.now() - started) / 100) / 10,
    failure,
  });
  options.onEvent?.({ type: 'lab-started', labId: lab.id });
  // A learner of its own: start() would otherwise resume another run's sandbox.
  const learnerId = `formicary-labs-test-${randomBytes(6).toString('hex')}`;
  let sandbox: { namespace: string; workbench: Workbench };
  try {
    sandbox = await sandboxes.start(lab, learnerId);
  } catch (error) {
    return result(0, { step: null, phase: 'setup', message: errorMessage(error) });
  }
  options.onEvent?.({ type: 'sandbox-ready', labId: lab.id, namespace: sandbox.namespace, seconds: (Date.now() - started) / 1000 });
  const client = (await sandboxes.clusterClient?.(sandbox.namespace)) ?? sandboxes.client;
  const target = { client, namespace: sandbox.namespace, workbench: sandbox.workbench, customChecksFile: lab.customChecksFile };
  let stepsPassed = 0;
  try {
    for (const step of lab.steps) {
      const before = await evaluateChecks(step.checks, target, { waitForTimeouts: false });
      for (const [index, check] of step.checks.entries()) {
        const found = before[index] as CheckResult;
        if (found.error) return result(stepsPassed, { step: step.id, phase: 'before-solution', message: `${describeCheck(index, found)} could not run: ${found.error}` });
        if (found.passed && !check.passesBefore) {
          return result(stepsPassed, {
            step: step.id,
            phase: 'before-solution',
            message: `${describeCheck(index, found)} already passes before the solution ("${found.message}"), so it does not test this step; change the check, or mark it passesBefore: true if it guards against doing too much`,
          });
        }
      }
      for (const command of step.solution) {
        let outcome;
        try {
          outcome = await sandboxes.exec(sandbox.namespace, command, { timeoutMs: options.commandTimeoutMs ?? 120_000 });
        } catch (error) {
          return result(stepsPassed, { step: step.id, phase: 'solution', message: `\`${command}\` could not run: ${errorMessage(error)}` });
        }
        if (outcome.exitCode !== 0) {
          return result(stepsPassed, { step: step.id, phase: 'solution', message: `\`${command}\` exited with code ${outcome.exitCode}: ${clip(outcome.stdout + outcome.stderr)}` });
        }
      }
      const after = await evaluateChecks(step.checks, target);
      const failed = after.findIndex((found) => !found.passed);
      if (failed >= 0) {
        const found = after[failed] as CheckResult;
        return result(stepsPassed, { step: step.id, phase: 'after-solution', message: `${describeCheck(failed, found)} fails after the solution: ${found.message}${found.found && !found.error ? ` (found: ${found.found})` : ''}` });
      }
      stepsPassed += 1;
      options.onEvent?.({ type: 'step-passed', labId: lab.id, step: step.id });
    }
    return result(stepsPassed, null);
  } finally {
    await sandboxes.end(sandbox.namespace, lab).catch(() => undefined);
  }
}

/** Tests the labs (all, or `labIds`), at most `concurrency` at a time; results in the labs' order. */
export async function testLabs(options: LabTestOptions): Promise<LabTestResult[]> {
  const ids = options.labIds?.length ? options.labIds : await options.catalog.ids();
  const { sandboxes } = options;
  const results: LabTestResult[] = new Array(ids.length);
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const index = next++;
      const labId = ids[index] as string;
      const started = Date.now();
      let lab: Lab;
      try {
        lab = await options.catalog.get(labId);
      } catch (error) {
        results[index] = { labId, steps: 0, stepsPassed: 0, passed: false, seconds: (Date.now() - started) / 1000, failure: { step: null, phase: 'load', message: errorMessage(error) } };
        options.onEvent?.({ type: 'lab-finished', result: results[index] });
        continue;
      }
      results[index] = await testLab(lab, sandboxes, options);
      options.onEvent?.({ type: 'lab-finished', result: results[index] });
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 2, ids.length)) }, worker));
  return results;
}
