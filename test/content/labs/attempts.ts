// The real labs of labs/, tried as learners try them: in a sandbox of an embedded cluster, the
// official solutions up to a step, then the learner's own commands, then that step's checks. A
// lab's checks must fail for the plausible wrong answers and pass for every right one, not only
// for the solution `formicary labs test` runs.
import { join } from 'node:path';
import { expect } from 'vitest';
import { evaluateChecks, LabCatalog, type CheckResult, type ExecResult, type Lab } from '../../../src/labs/index.ts';
import { startDedicatedClusters } from '../../../src/server/cluster/index.ts';
import { createLogger } from '../../../src/server/log.ts';
import { Sandboxes } from '../../../src/server/sandboxes/index.ts';
import { startTestCluster, type TestCluster } from '../../labs/cluster.ts';

const LABS = join(import.meta.dirname, '..', '..', '..', 'labs');

export interface LabAttempt {
  readonly namespace: string;
  /** A command in the workbench, as the learner types it; fails the test when it exits non-zero. */
  run(command: string): Promise<ExecResult>;
  /** A command that may fail (a learner's mistake can). */
  tryRun(command: string): Promise<ExecResult>;
  /** Runs the official solution of every step before `stepId`. */
  reach(stepId: string): Promise<void>;
  /** The step's checks; each waits at most `waitMs` for its own timeout (default: once). */
  check(stepId: string, waitMs?: number): Promise<CheckResult[]>;
}

export interface LabBench {
  cluster: TestCluster;
  /** A fresh sandbox of the lab (setup done) for `body`, deleted afterwards. */
  attempt(labId: string, body: (attempt: LabAttempt) => Promise<void>): Promise<void>;
  stop(): Promise<void>;
}

let learners = 0;

/** `dedicatedClusters`: how many labs with `needs: cluster` may run at once (each gets a `formicary cluster` process). */
export async function startLabBench(options: { dedicatedClusters?: number } = {}): Promise<LabBench> {
  const cluster = await startTestCluster();
  const catalog = new LabCatalog(LABS);
  const dedicatedClusters = options.dedicatedClusters
    ? await startDedicatedClusters({ dir: join(cluster.dir, 'dedicated'), root: join(LABS, '..'), hiddenPaths: [cluster.dir], limit: options.dedicatedClusters, log: createLogger({ level: 'silent' }) })
    : undefined;
  const sandboxes = new Sandboxes({ kubeConfig: cluster.kubeConfig, catalog, workbenchReadyTimeoutMs: 120_000, ...(dedicatedClusters ? { dedicatedClusters } : {}) });
  return {
    cluster,
    async attempt(labId, body) {
      const lab: Lab = await catalog.get(labId);
      const sandbox = await sandboxes.start(lab, `content-test-${process.pid}-${++learners}`);
      const target = { client: sandboxes.clientOf(sandbox.namespace), namespace: sandbox.namespace, workbench: sandbox.workbench, customChecksFile: lab.customChecksFile };
      const step = (id: string) => {
        const found = lab.steps.find((s) => s.id === id);
        if (!found) throw new Error(`lab ${labId} has no step ${id}`);
        return found;
      };
      const tryRun = (command: string) => sandboxes.exec(sandbox.namespace, command, { timeoutMs: 150_000 });
      const run = async (command: string) => {
        const result = await tryRun(command);
        expect(result.exitCode, `\`${command}\`: ${result.stdout}${result.stderr}`).toBe(0);
        return result;
      };
      try {
        await body({
          namespace: sandbox.namespace,
          run,
          tryRun,
          async reach(stepId) {
            for (const s of lab.steps) {
              if (s.id === stepId) return;
              for (const command of s.solution) await run(command);
            }
            throw new Error(`lab ${labId} has no step ${stepId}`);
          },
          check: (stepId, waitMs = 0) => evaluateChecks(step(stepId).checks, target, waitMs ? { maxWaitMs: waitMs } : { waitForTimeouts: false }),
        });
      } finally {
        await sandboxes.end(sandbox.namespace).catch(() => undefined);
      }
    },
    async stop() {
      await sandboxes.stop();
      await cluster.stop();
    },
  };
}

/** Every check passed; otherwise the test shows which did not, with its message. */
export function expectAllPassed(results: CheckResult[]): void {
  expect(results.filter((r) => !r.passed).map((r) => `${r.kind}: ${r.message}`)).toEqual([]);
}

/** The failed checks' messages (the ones a learner reads). */
export function failures(results: CheckResult[]): string[] {
  return results.filter((r) => !r.passed).map((r) => r.message);
}

/**
 * The failed checks' messages once they read `expected`, or the last ones read within `waitMs`:
 * for checks that read sampled observations (a probe's newest log line), where one sample taken
 * under load may lag behind the policy just applied. A learner would press Check again.
 */
export async function settledFailures(lab: LabAttempt, stepId: string, expected: string[], waitMs = 45_000): Promise<string[]> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const found = failures(await lab.check(stepId));
    if (JSON.stringify(found) === JSON.stringify(expected) || Date.now() > deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, 3_000));
  }
}
