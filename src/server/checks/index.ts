// Public face of checks for the portal: the learner presses "Check", the page calls checkStep
// with the learner's sandbox (after making sure it is theirs: Sandboxes.belongsTo), and gets
// every check's result in order, each with a sentence that teaches.
//
//   const checks = new LabChecks({ kubeConfig, catalog });
//   const result = await checks.checkStep({ sandbox, stepId: 'create' });
//   result.passed; result.results[0].message; result.completesLab;
//
// Checks read the sandbox with the portal's own credentials and never change it.
import type { KubeConfig } from '@kubernetes/client-node';
import { evaluateChecks, type CheckResult, type Lab, type LabCatalog } from '../../labs/index.ts';
import { KubeClient } from '../../labs/kube/index.ts';

export type { CheckResult } from '../../labs/index.ts';

/** The part of a sandbox a check needs (a Sandbox from src/server/sandboxes fits). */
export interface CheckedSandbox {
  namespace: string;
  labId: string;
  workbench: { pod: string; container: string };
}

export interface StepCheck {
  labId: string;
  stepId: string;
  /** 0-based position of the step in the lab. */
  stepIndex: number;
  /** Every check of the step passed. */
  passed: boolean;
  /** One result per check, in the lab's order. */
  results: CheckResult[];
  /** This is the lab's last step and it passed: the lab (and the lesson holding it) is complete. */
  completesLab: boolean;
  durationMs: number;
}

export class UnknownStepError extends Error {
  constructor(lab: Lab, stepId: string) {
    super(`lab ${lab.id} has no step "${stepId}"; its steps are ${lab.steps.map((step) => step.id).join(', ')}`);
    this.name = 'UnknownStepError';
  }
}

export interface LabChecksOptions {
  /** The portal's credentials on the lab cluster. */
  kubeConfig: KubeConfig;
  catalog: LabCatalog;
  /**
   * The longest a Check waits for a check's `timeout` (a rollout that is nearly done). Default
   * 5 s: a learner sees an answer quickly and can press Check again.
   */
  maxWaitMs?: number;
}

export class LabChecks {
  readonly #client: KubeClient;
  readonly #catalog: LabCatalog;
  readonly #maxWaitMs: number;

  constructor(options: LabChecksOptions) {
    this.#client = new KubeClient(options.kubeConfig);
    this.#catalog = options.catalog;
    this.#maxWaitMs = options.maxWaitMs ?? 5_000;
  }

  /** Runs one step's checks against the sandbox. Throws UnknownLabError / UnknownStepError for ids that do not exist. */
  async checkStep(request: { sandbox: CheckedSandbox; stepId: string }): Promise<StepCheck> {
    const started = performance.now();
    const lab = await this.#catalog.get(request.sandbox.labId);
    const stepIndex = lab.steps.findIndex((step) => step.id === request.stepId);
    const step = lab.steps[stepIndex];
    if (!step) throw new UnknownStepError(lab, request.stepId);
    const results = await evaluateChecks(
      step.checks,
      { client: this.#client, namespace: request.sandbox.namespace, workbench: request.sandbox.workbench, customChecksFile: lab.customChecksFile },
      { maxWaitMs: this.#maxWaitMs },
    );
    const passed = results.every((result) => result.passed);
    return {
      labId: lab.id,
      stepId: step.id,
      stepIndex,
      passed,
      results,
      completesLab: passed && stepIndex === lab.steps.length - 1,
      durationMs: Math.round(performance.now() - started),
    };
  }
}
