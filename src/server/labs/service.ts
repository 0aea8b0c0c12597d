// Lab sessions: what Start, Check, Show hint, Show solution, Reset and End do. A learner has at
// most one open session per lab, and at most `sessionsPerLearner` labs running at once (each
// holds a sandbox on the shared cluster); every request names the learner, and a session is only ever
// touched by its own learner (403 otherwise). Starting runs in the background — the page polls
// the state and shows the phase — and everything a learner does is recorded (src/server/tracking),
// completing the lab completing the lessons it was started from.

import type { Logger } from '../log.ts';
import type { Learner } from '../../contracts/index.ts';
import type { AuthorizeTerminal, TerminalBridge, WorkbenchTarget } from '../terminals/index.ts';
import type { EndReason, LabProgress, LabRecords, LabSessionRecord, LessonRef } from '../tracking/index.ts';
import { LabRequestError } from './errors.ts';
import { renderInstructions } from './markdown.ts';
import { START_PHASES, stepPassed, type StartPhase } from '../../contracts/index.ts';
import type { LabCatalog, LabChecks, LabContent, LabSandboxes, SandboxHandle } from './ports.ts';
import type { CheckOutcome, HintOutcome, LabSessionView, LabStateView, LabView, SolutionOutcome, StepStateView } from '../../contracts/index.ts';

export interface LabSessions {
  /** The lab as the page shows it before and during a session; null when there is no such lab. */
  describe(lab: string): Promise<LabView | null>;
  /** The learner's session of the lab (or the named one, which must be theirs). */
  state(learner: Learner, lab: string, session?: string | null): Promise<LabStateView>;
  /** Opens a session (or returns the open one) and starts its sandbox in the background. */
  start(learner: Learner, lab: string, options: { lessons: LessonRef[] }): Promise<LabStateView>;
  check(learner: Learner, lab: string, session?: string | null): Promise<CheckOutcome>;
  hint(learner: Learner, lab: string, session?: string | null): Promise<HintOutcome>;
  solution(learner: Learner, lab: string, session?: string | null): Promise<SolutionOutcome>;
  /** Ends the session and starts a fresh one with a new sandbox. */
  reset(learner: Learner, lab: string, session?: string | null): Promise<LabStateView>;
  end(learner: Learner, lab: string, session?: string | null): Promise<LabStateView>;
  progress(learnerId: string): Promise<LabProgress[]>;
  /** More time for the learners' open sessions of these labs (a workshop's extended time). */
  extend(learnerIds: readonly string[], labs: readonly string[], minutes: number): Promise<void>;
  authorizeTerminal: AuthorizeTerminal;
  /** The workbench of an open, started lab session (an instructor's view of its terminal); null otherwise. */
  workbenchOf(labSession: string): Promise<WorkbenchTarget | null>;
  /** Stops the expiry sweep; sandboxes being started finish on their own (or are reaped). */
  stop(): Promise<void>;
}

export interface LabSessionsOptions {
  records: LabRecords;
  catalog: LabCatalog;
  sandboxes: LabSandboxes;
  checks: LabChecks;
  terminals: Pick<TerminalBridge, 'end'>;
  log: Logger;
  now?: () => Date;
  /** How often expired sessions are looked for; default 15 s. */
  expirySweepMs?: number;
  /** Labs one learner may have running at once (LAB_SESSIONS_PER_LEARNER); default 2. */
  sessionsPerLearner?: number;
}

const DEFAULT_SWEEP_MS = 15_000;
const DEFAULT_SESSIONS_PER_LEARNER = 2;
/** Start answers once the sandbox is ready if it is within this long (a warm one), else at once with "starting". */
const ANSWER_READY_WITHIN_MS = 300;

const END_MESSAGES: Record<EndReason, string> = {
  ended: 'The lab has ended.',
  reset: 'The lab was reset: this is a new workbench.',
  expired: 'The lab’s time is up; its sandbox has been removed.',
  idle: 'The lab’s sandbox was removed after a long time without use; start the lab again.',
  failed: 'The lab could not start.',
};
/**
 * A session still starting after this long is started again when its state is read: the portal
 * that was starting it stopped (starting itself gives up well before this).
 */
const ABANDONED_START_MS = 3 * 60_000;

export function createLabSessions(options: LabSessionsOptions): LabSessions {
  const { records, catalog, sandboxes, checks, terminals, log } = options;
  const now = options.now ?? (() => new Date());
  const views = new WeakMap<LabContent, LabView>();
  const handles = new Map<string, SandboxHandle>();
  const starting = new Map<string, Promise<void>>();
  const queues = new Map<string, Promise<unknown>>();

  const labOf = async (id: string): Promise<LabContent> => {
    const lab = await catalog.get(id);
    if (!lab) throw new LabRequestError(404, `there is no lab "${id}"`);
    return lab;
  };

  /** One request at a time per session: two Check clicks must not both advance the step. */
  const serialized = <T>(session: string, work: () => Promise<T>): Promise<T> => {
    const previous = queues.get(session) ?? Promise.resolve();
    const next = previous.then(work, work);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    queues.set(session, settled);
    void settled.then(() => {
      if (queues.get(session) === settled) queues.delete(session);
    });
    return next;
  };

  /** The learner's own session: the named one (it must be theirs) or their open one of this lab. */
  const own = async (learner: Learner, lab: string, named: string | null | undefined): Promise<LabSessionRecord | null> => {
    if (named) {
      const session = await records.get(named);
      if (!session || session.lab !== lab) throw new LabRequestError(404, `lab session ${named} of lab "${lab}" does not exist`);
      if (session.learnerId !== learner.id) throw new LabRequestError(403, 'this lab session belongs to another learner');
      return session.endedAt === null ? session : null;
    }
    return records.current(learner.id, lab);
  };

  const running = async (learner: Learner, lab: string, named: string | null | undefined): Promise<LabSessionRecord> => {
    const session = await own(learner, lab, named);
    if (!session) throw new LabRequestError(409, 'this lab is not running; press “Start lab” first');
    if (session.status === 'starting') throw new LabRequestError(409, 'the lab is still starting; try again in a moment');
    if (session.status === 'failed') throw new LabRequestError(409, `the lab could not start: ${session.detail ?? 'unknown reason'}; press “Start lab” to try again`);
    return session;
  };

  const handleOf = async (session: LabSessionRecord): Promise<SandboxHandle> => {
    const known = handles.get(session.id);
    if (known) return known;
    const found = session.namespace ? await sandboxes.find(session.namespace) : null;
    if (!found) throw new LabRequestError(409, 'the sandbox of this lab session is gone; press “Reset lab” for a fresh one');
    handles.set(session.id, found);
    return found;
  };

  const sessionView = async (lab: LabContent, session: LabSessionRecord): Promise<LabSessionView> => {
    const [checked, reveals] = await Promise.all([records.latestChecks(session.id), records.reveals(session.id)]);
    const steps = lab.steps.map((step): StepStateView => {
      const last = checked.get(step.id)?.latest;
      const passed = checked.get(step.id)?.passedOnce ?? false;
      const hintsShown = reveals.filter((reveal) => reveal.step === step.id && reveal.kind === 'hint').length;
      const solutionShown = reveals.some((reveal) => reveal.step === step.id && reveal.kind === 'solution');
      const status = passed ? 'passed' : session.endedAt === null && step.id === session.step ? (last && !last.passed ? 'failed' : 'current') : 'not-started';
      return {
        id: step.id,
        status,
        lastCheck: last ? { passed: last.passed, results: last.results, checkedAt: last.checkedAt } : null,
        hints: step.hints.slice(0, hintsShown),
        hintsLeft: Math.max(0, step.hints.length - hintsShown),
        solution: solutionShown ? step.solution : null,
      };
    });
    const phase = (START_PHASES as readonly string[]).includes(session.phase ?? '') ? (session.phase as StartPhase) : null;
    return {
      id: session.id,
      status: session.status,
      phase: session.status === 'starting' ? (phase ?? 'namespace') : null,
      namespace: session.namespace,
      startedAt: session.startedAt,
      readyAt: session.readyAt,
      expiresAt: session.expiresAt,
      completedAt: session.completedAt,
      detail: session.detail,
      currentStep: session.step,
      steps,
    };
  };

  /** The learner's open session; with none, their latest ended attempt, so the page shows what they did rather than every step “Not started”. */
  const stateOf = async (lab: LabContent, learnerId: string, session: LabSessionRecord | null): Promise<LabStateView> => {
    if (session) return { lab: lab.id, session: await sessionView(lab, session), lastAttempt: null, now: now().toISOString() };
    const ended = await records.latestEnded(learnerId, lab.id);
    return { lab: lab.id, session: null, lastAttempt: ended ? await sessionView(lab, ended) : null, now: now().toISOString() };
  };

  const reread = async (lab: LabContent, session: LabSessionRecord) => stateOf(lab, session.learnerId, await records.get(session.id).then((s) => (s && s.endedAt === null ? s : null)));

  const provision = (lab: LabContent, session: LabSessionRecord, learnerId: string) => {
    const work = (async () => {
      const started = performance.now();
      try {
        const handle = await sandboxes.provision({
          labSession: session.id,
          learnerId,
          lab,
          expiresAt: session.expiresAt ? new Date(session.expiresAt) : null,
          onPhase: (phase, namespace) => {
            records.setPhase(session.id, phase, namespace).catch((error: unknown) => log.warn({ err: error, labSession: session.id }, 'could not record the start phase'));
          },
        });
        const current = await records.get(session.id);
        if (!current || current.endedAt !== null) {
          // Ended while starting: nobody will use this sandbox.
          await sandboxes.release(handle.namespace, lab);
          return;
        }
        handles.set(session.id, handle);
        // Time a workshop gave while the sandbox started (it had no namespace to move yet) is its own too.
        if (current.expiresAt) {
          await sandboxes.extend(handle.namespace, new Date(current.expiresAt)).catch((error: unknown) => log.warn({ err: error, labSession: session.id }, 'could not extend the sandbox’s expiry'));
        }
        await records.ready(session.id, handle.namespace);
        log.info({ labSession: session.id, lab: lab.id, namespace: handle.namespace, ms: Math.round(performance.now() - started) }, 'lab ready');
      } catch (error) {
        log.warn({ err: error, labSession: session.id, lab: lab.id }, 'lab could not start');
        await records.failed(session.id, (error as Error).message);
      }
    })().finally(() => starting.delete(session.id));
    starting.set(session.id, work);
  };

  /** Ends the session; its sandbox goes in the background, or before this resolves with `awaitRelease` (a new start must not find it again). */
  const finish = async (lab: LabContent, session: LabSessionRecord, reason: EndReason, awaitRelease = false) => {
    const changed = await records.end(session.id, reason);
    if (!changed) return;
    terminals.end(session.id, END_MESSAGES[reason]);
    handles.delete(session.id);
    // An idle sandbox is already gone: the sandboxes' reaper took it.
    if (session.namespace && reason !== 'idle') {
      const namespace = session.namespace;
      const released = sandboxes.release(namespace, lab).catch((error: unknown) => log.warn({ err: error, labSession: session.id, namespace }, 'could not remove the sandbox; the reaper will'));
      if (awaitRelease) await released;
    }
  };

  const sessionsPerLearner = options.sessionsPerLearner ?? DEFAULT_SESSIONS_PER_LEARNER;

  /** A new lab is refused while the learner's running labs fill their share; the message names them and how to end one. */
  const ensureRoomFor = async (learner: Learner, lab: LabContent): Promise<void> => {
    if (await records.current(learner.id, lab.id)) return;
    const others = (await records.allOpen()).filter((session) => session.learnerId === learner.id && session.lab !== lab.id && session.status !== 'failed');
    if (others.length < sessionsPerLearner) return;
    const titles = await Promise.all(others.map(async (session) => `“${(await catalog.get(session.lab))?.title ?? session.lab}” (/labs/${session.lab})`));
    const running = titles.length === 1 ? titles[0] : `${titles.slice(0, -1).join(', ')} and ${titles.at(-1)}`;
    throw new LabRequestError(
      409,
      `You already have ${others.length} ${others.length === 1 ? 'lab' : 'labs'} running: ${running}. ` +
        `A learner may run at most ${sessionsPerLearner} ${sessionsPerLearner === 1 ? 'lab' : 'labs'} at a time; open one of them and press “End lab”, then start this one.`,
    );
  };

  const startSession = async (learner: Learner, lab: LabContent, lessons: LessonRef[]): Promise<LabStateView> => {
    const firstStep = lab.steps[0]?.id;
    if (!firstStep) throw new LabRequestError(404, `lab "${lab.id}" has no steps`);
    // One start at a time per learner: two tabs starting two labs must not both find room.
    return serialized(`learner:${learner.id}`, async () => {
      await ensureRoomFor(learner, lab);
      return openSession(learner, lab, lessons, firstStep);
    });
  };

  const openSession = async (learner: Learner, lab: LabContent, lessons: LessonRef[], firstStep: string): Promise<LabStateView> => {
    const at = now();
    const startedAt = at.toISOString();
    const expiresAt = lab.timeLimit ? new Date(at.getTime() + lab.timeLimit * 60_000).toISOString() : null;
    let { session, created } = await records.open({ learnerId: learner.id, lab: lab.id, lessons, step: firstStep, startedAt, expiresAt });
    if (!created && session.status === 'failed') {
      await finish(lab, session, 'failed');
      ({ session, created } = await records.open({ learnerId: learner.id, lab: lab.id, lessons, step: firstStep, startedAt, expiresAt }));
    }
    // A session left starting by a portal that stopped is started again when the learner asks.
    if (session.status === 'starting' && !starting.has(session.id)) provision(lab, session, learner.id);
    // A warm sandbox is claimed in tens of milliseconds: answered ready, the page opens the
    // terminal at once instead of at its first poll of the state (POLL_MS later).
    const work = starting.get(session.id);
    if (work) {
      let timer: NodeJS.Timeout | undefined;
      const ready = await Promise.race([work.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ANSWER_READY_WITHIN_MS)))]);
      clearTimeout(timer);
      if (ready) return reread(lab, session);
    }
    return stateOf(lab, learner.id, session);
  };

  /** Ends sessions whose time is up, and sessions whose sandbox the reaper removed for idling. */
  let sweeping = false;
  const sweep = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    void (async () => {
      const at = now().toISOString();
      let live: Set<string> | null = null;
      for (const session of await records.allOpen()) {
        let reason: EndReason | null = session.expiresAt !== null && session.expiresAt <= at ? 'expired' : null;
        if (!reason && session.status === 'ready' && session.namespace && !starting.has(session.id)) {
          live ??= await sandboxes.live();
          if (!live.has(session.namespace)) reason = 'idle';
        }
        if (!reason) continue;
        const lab = await catalog.get(session.lab);
        if (lab) await finish(lab, session, reason);
        else await records.end(session.id, reason);
        log.info({ labSession: session.id, lab: session.lab, reason }, 'lab session ended by the portal');
      }
    })()
      .catch((error: unknown) => log.warn({ err: error }, 'could not look for expired lab sessions'))
      .finally(() => (sweeping = false));
  }, options.expirySweepMs ?? DEFAULT_SWEEP_MS);
  sweep.unref();

  return {
    async describe(id) {
      const lab = await catalog.get(id);
      if (!lab) return null;
      const cached = views.get(lab);
      if (cached) return cached;
      const view: LabView = {
        id: lab.id,
        title: lab.title,
        summary: lab.summary,
        duration: lab.duration,
        timeLimit: lab.timeLimit ?? null,
        steps: lab.steps.map((step) => ({ id: step.id, title: step.title, instructionsHtml: renderInstructions(step.instructions), hintCount: step.hints.length })),
      };
      views.set(lab, view);
      return view;
    },

    async state(learner, id, named) {
      const lab = await labOf(id);
      const session = await own(learner, id, named);
      if (session?.status === 'starting' && !starting.has(session.id) && now().getTime() - Date.parse(session.startedAt) > ABANDONED_START_MS) {
        provision(lab, session, learner.id);
      }
      return stateOf(lab, learner.id, session);
    },

    async start(learner, id, { lessons }) {
      return startSession(learner, await labOf(id), lessons);
    },

    async check(learner, id, named) {
      const lab = await labOf(id);
      const session = await running(learner, id, named);
      return serialized(session.id, async () => {
        const current = (await records.get(session.id)) ?? session;
        const stepId = current.step;
        if (stepId === null) throw new LabRequestError(409, 'every step of this lab has passed; press “End lab” when you are done');
        const index = lab.steps.findIndex((step) => step.id === stepId);
        const started = performance.now();
        const results = await checks.run({ lab, step: stepId, sandbox: await handleOf(current) });
        const passed = stepPassed(results);
        const nextStep = passed ? (lab.steps[index + 1]?.id ?? null) : undefined;
        await records.recordCheck(session.id, { step: stepId, results, durationMs: performance.now() - started, ...(nextStep !== undefined ? { nextStep } : {}) });
        let completed = false;
        if (passed && nextStep === null) {
          // Completes the lessons the lab was started from too, in the same transaction.
          await records.complete(session.id);
          completed = true;
          log.info({ labSession: session.id, lab: id, learner: learner.id }, 'lab completed');
        }
        return { step: stepId, passed, results, nextStep: nextStep ?? null, completed, state: await reread(lab, session) };
      });
    },

    async hint(learner, id, named) {
      const lab = await labOf(id);
      const session = await running(learner, id, named);
      return serialized(session.id, async () => {
        const current = (await records.get(session.id)) ?? session;
        const step = lab.steps.find((candidate) => candidate.id === current.step);
        if (!step) throw new LabRequestError(409, 'every step of this lab has passed; there are no more hints');
        const shown = (await records.reveals(session.id)).filter((reveal) => reveal.step === step.id && reveal.kind === 'hint').length;
        const hint = step.hints[shown];
        if (hint === undefined) {
          throw new LabRequestError(409, step.hints.length === 0 ? `step “${step.title}” has no hints` : `every hint of step “${step.title}” is shown; try “Show solution”`);
        }
        await records.recordReveal(session.id, { step: step.id, kind: 'hint', number: shown });
        return { step: step.id, number: shown + 1, hint, hintsLeft: step.hints.length - shown - 1, state: await reread(lab, session) };
      });
    },

    async solution(learner, id, named) {
      const lab = await labOf(id);
      const session = await running(learner, id, named);
      return serialized(session.id, async () => {
        const current = (await records.get(session.id)) ?? session;
        const step = lab.steps.find((candidate) => candidate.id === current.step);
        if (!step) throw new LabRequestError(409, 'every step of this lab has passed');
        await records.recordReveal(session.id, { step: step.id, kind: 'solution', number: 0 });
        return { step: step.id, commands: step.solution, state: await reread(lab, session) };
      });
    },

    async reset(learner, id, named) {
      const lab = await labOf(id);
      const session = await own(learner, id, named);
      if (!session) throw new LabRequestError(409, 'this lab is not running; press “Start lab” first');
      await finish(lab, session, 'reset', true);
      return startSession(learner, lab, session.lessons);
    },

    async end(learner, id, named) {
      const lab = await labOf(id);
      const session = await own(learner, id, named);
      // Waits for the sandbox to go: a Start right after must not find it again.
      if (session) await finish(lab, session, 'ended', true);
      return stateOf(lab, learner.id, null);
    },

    progress: (learnerId) => records.progress(learnerId),
    async extend(learnerIds, labs, minutes) {
      // The sandbox's own expiry moves too: the reaper reads it there, not in the record.
      for (const session of await records.extend(learnerIds, labs, minutes)) {
        if (!session.namespace) continue;
        await sandboxes.extend(session.namespace, new Date(session.expiresAt)).catch((error: unknown) => log.warn({ err: error, labSession: session.id, namespace: session.namespace }, 'could not extend the sandbox’s expiry'));
      }
    },

    async authorizeTerminal(learner, id, named) {
      try {
        await labOf(id);
        const session = await running(learner, id, named);
        const handle = await handleOf(session);
        return { allowed: true, labSession: session.id, target: handle.workbench };
      } catch (error) {
        if (error instanceof LabRequestError) return { allowed: false, status: error.status === 400 ? 409 : error.status, message: error.message };
        throw error;
      }
    },

    async workbenchOf(labSession) {
      const session = await records.get(labSession);
      if (!session || session.endedAt !== null || session.status !== 'ready') return null;
      return (await handleOf(session).catch(() => null))?.workbench ?? null;
    },

    async stop() {
      clearInterval(sweep);
    },
  };
}
