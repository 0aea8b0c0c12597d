// The Job controller (pkg/controller/job) as of 1.33: pods from the template up to parallelism
// until completions succeed (NonIndexed, or Indexed with completion indexes), failures retried
// with exponential back-off up to backoffLimit, activeDeadlineSeconds, suspend; terminated pods
// are counted exactly once through the batch.kubernetes.io/job-tracking finalizer and
// status.uncountedTerminatedPods; SuccessCriteriaMet/FailureTarget precede Complete/Failed.
// Also the TTL-after-finished controller.
import type { KubeObject } from '../types.ts';
import { claim } from './claim.ts';
import { type ControllerClient, errorMessage } from './client.ts';
import type { ControllerContext } from './context.ts';
import type { EventRecorder } from './events.ts';
import { type Json, num, obj, objects, specOf, statusOf } from '../json.ts';
import { type Condition, controllerRef, copy, findCondition, isPodReady, isPodTerminal, parseTime, podFromTemplate, podPhase, selectorOf, timestamp } from './objects.ts';
import { controllerOwnerKeys, objectKey, type ReconcileResult, RetryLater, type RunningController, splitKey, startController } from './runtime.ts';

export const JOB_TRACKING_FINALIZER = 'batch.kubernetes.io/job-tracking';
export const COMPLETION_INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';
const BURST = 500;
const MAX_BACKOFF_MS = 6 * 60 * 1000;

export interface JobOptions {
  /** Base of the exponential back-off between failed pods (upstream 10 s). */
  backoffBaseMs?: number;
}

function isFinished(job: KubeObject): boolean {
  return ['Complete', 'Failed'].some((type) => findCondition(statusOf(job), type)?.status === 'True');
}

/** "0-2,4,6-7" (the completedIndexes format). */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}

export function parseIndexes(text: unknown): Set<number> {
  const out = new Set<number>();
  if (typeof text !== 'string' || text === '') return out;
  for (const part of text.split(',')) {
    const [from, to] = part.split('-').map((n) => Number.parseInt(n, 10));
    if (from === undefined || !Number.isFinite(from)) continue;
    for (let i = from; i <= (to !== undefined && Number.isFinite(to) ? to : from); i++) out.add(i);
  }
  return out;
}

function podIndex(pod: KubeObject): number | undefined {
  const raw = pod.metadata.annotations?.[COMPLETION_INDEX_ANNOTATION];
  const value = raw === undefined ? Number.NaN : Number.parseInt(raw, 10);
  return Number.isFinite(value) ? value : undefined;
}

function jobCondition(type: string, reason: string, message: string, now: string): Condition {
  return { type, status: 'True', lastProbeTime: now, lastTransitionTime: now, reason, message };
}

function addCondition(status: Json, condition: Condition): boolean {
  const existing = findCondition(status, condition.type);
  if (existing?.status === condition.status) return false;
  const others = objects(status.conditions).filter((c) => c.type !== condition.type);
  status.conditions = [...others, condition];
  return true;
}

function lastFailureTime(pods: KubeObject[]): number | undefined {
  let latest: number | undefined;
  for (const pod of pods) {
    if (podPhase(pod) !== 'Failed') continue;
    let at = parseTime(pod.metadata.deletionTimestamp);
    for (const status of objects(statusOf(pod).containerStatuses)) {
      const finished = parseTime(obj(obj(status.state).terminated).finishedAt);
      if (finished !== undefined && (at === undefined || finished > at)) at = finished;
    }
    at ??= parseTime(statusOf(pod).startTime) ?? parseTime(pod.metadata.creationTimestamp);
    if (at !== undefined && (latest === undefined || at > latest)) latest = at;
  }
  return latest;
}

class JobSync {
  job: KubeObject;
  readonly client: ControllerClient;
  readonly recorder: EventRecorder;
  readonly now: Date;
  readonly backoffBaseMs: number;
  requeueAfterMs: number | undefined;

  constructor(job: KubeObject, client: ControllerClient, recorder: EventRecorder, now: Date, backoffBaseMs: number) {
    this.job = job;
    this.client = client;
    this.recorder = recorder;
    this.now = now;
    this.backoffBaseMs = backoffBaseMs;
  }

  get spec(): Json {
    return specOf(this.job);
  }

  get indexed(): boolean {
    return this.spec.completionMode === 'Indexed';
  }

  requeue(ms: number): void {
    this.requeueAfterMs = this.requeueAfterMs === undefined ? ms : Math.min(this.requeueAfterMs, ms);
  }

  writeStatus(status: Json): void {
    const updated = this.client.jobs.mutate(this.job.metadata.namespace, this.job.metadata.name ?? '', (draft) => {
      if (JSON.stringify(statusOf(draft)) === JSON.stringify(status)) return false;
      draft.status = status;
    }, 'status');
    if (updated) this.job = updated;
  }

  removeTrackingFinalizers(pods: KubeObject[]): void {
    for (const pod of pods) {
      if (!pod.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER)) continue;
      this.client.pods.mutate(pod.metadata.namespace, pod.metadata.name ?? '', (draft) => {
        const kept = (draft.metadata.finalizers ?? []).filter((f) => f !== JOB_TRACKING_FINALIZER);
        if (kept.length === (draft.metadata.finalizers ?? []).length) return false;
        if (kept.length) draft.metadata.finalizers = kept;
        else delete draft.metadata.finalizers;
      });
    }
  }

  /** Finished pods still carrying the finalizer are counted once: uncounted first, then the totals. */
  countTerminated(pods: KubeObject[], status: Json): void {
    const uncounted = obj(status.uncountedTerminatedPods);
    const succeededUids = new Set((uncounted.succeeded as string[] | undefined) ?? []);
    const failedUids = new Set((uncounted.failed as string[] | undefined) ?? []);
    const newlyFinished = pods.filter((pod) => isPodTerminal(pod) && pod.metadata.finalizers?.includes(JOB_TRACKING_FINALIZER));
    const completed = parseIndexes(status.completedIndexes);
    let added = false;
    for (const pod of newlyFinished) {
      const uid = pod.metadata.uid ?? '';
      if (succeededUids.has(uid) || failedUids.has(uid)) continue;
      if (podPhase(pod) === 'Succeeded') {
        if (this.indexed) {
          const index = podIndex(pod);
          if (index === undefined || completed.has(index)) {
            // A second success of the same index counts for nothing.
            continue;
          }
        }
        succeededUids.add(uid);
      } else failedUids.add(uid);
      added = true;
    }
    if (added) {
      status.uncountedTerminatedPods = { ...(succeededUids.size ? { succeeded: [...succeededUids] } : {}), ...(failedUids.size ? { failed: [...failedUids] } : {}) };
      this.writeStatus(status);
    }
    this.removeTrackingFinalizers(newlyFinished);
    if (succeededUids.size === 0 && failedUids.size === 0) return;
    const byUid = new Map(pods.map((pod) => [pod.metadata.uid, pod]));
    for (const uid of succeededUids) {
      const pod = byUid.get(uid);
      const index = pod ? podIndex(pod) : undefined;
      if (this.indexed && index !== undefined) completed.add(index);
    }
    status.succeeded = (num(status.succeeded) ?? 0) + succeededUids.size;
    status.failed = (num(status.failed) ?? 0) + failedUids.size;
    if (this.indexed) status.completedIndexes = formatIndexes(completed);
    status.uncountedTerminatedPods = {};
  }

  async createPods(count: number, indexes: number[]): Promise<void> {
    const template = this.spec.template;
    let created = 0;
    let batch = 1;
    while (created < count) {
      const size = Math.min(batch, count - created);
      for (let i = 0; i < size; i++) {
        const index = this.indexed ? indexes[created + i] : undefined;
        const name = this.job.metadata.name ?? '';
        const pod = podFromTemplate(template, this.job, index === undefined ? `${name}-` : `${name}-${index}-`);
        pod.metadata.finalizers = [...(pod.metadata.finalizers ?? []), JOB_TRACKING_FINALIZER];
        if (index !== undefined) {
          pod.metadata.annotations = { ...(pod.metadata.annotations ?? {}), [COMPLETION_INDEX_ANNOTATION]: String(index) };
          pod.metadata.labels = { ...(pod.metadata.labels ?? {}), [COMPLETION_INDEX_ANNOTATION]: String(index) };
          const spec = obj(pod.spec);
          spec.hostname = `${name}-${index}`;
          const env = { name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { fieldPath: `metadata.labels['${COMPLETION_INDEX_ANNOTATION}']` } } };
          for (const field of ['containers', 'initContainers']) {
            if (!Array.isArray(spec[field])) continue;
            spec[field] = objects(spec[field]).map((c) => ({ ...c, env: [...objects(c.env).filter((e) => e.name !== 'JOB_COMPLETION_INDEX'), env] }));
          }
        }
        try {
          const createdPod = await this.client.pods.createAdmitted(this.job.metadata.namespace, pod);
          this.recorder.event(this.job, 'Normal', 'SuccessfulCreate', `Created pod: ${createdPod.metadata.name}`);
        } catch (error) {
          this.recorder.event(this.job, 'Warning', 'FailedCreate', `Error creating: ${errorMessage(error)}`);
          throw new RetryLater(errorMessage(error));
        }
      }
      created += size;
      batch *= 2;
    }
  }

  deletePods(pods: KubeObject[]): void {
    for (const pod of pods) {
      const gone = this.client.pods.delete(pod.metadata.namespace, pod.metadata.name ?? '');
      if (gone) this.recorder.event(this.job, 'Normal', 'SuccessfulDelete', `Deleted pod: ${pod.metadata.name}`);
    }
  }

  async run(): Promise<void> {
    const job = this.job;
    const namespace = job.metadata.namespace;
    const pods = claim({
      owner: job,
      selector: selectorOf(this.spec.selector),
      candidates: this.client.pods.list(namespace),
      client: this.client.pods,
      adoptable: (pod) => !isPodTerminal(pod),
    });
    const status = copy(statusOf(job));
    const nowStamp = timestamp(this.now);
    const finished = isFinished(job);
    if (finished) {
      // Whatever is left only needs its finalizer gone.
      this.removeTrackingFinalizers(pods);
      return;
    }
    const suspended = this.spec.suspend === true;
    if (!suspended && !status.startTime) status.startTime = nowStamp;

    this.countTerminated(pods, status);
    const active = pods.filter((pod) => !isPodTerminal(pod) && !pod.metadata.deletionTimestamp);
    const succeeded = num(status.succeeded) ?? 0;
    const failed = num(status.failed) ?? 0;
    const completions = num(this.spec.completions);
    const parallelism = num(this.spec.parallelism) ?? 1;
    const backoffLimit = num(this.spec.backoffLimit) ?? 6;

    // Failure: the back-off limit (failed pods, or container restarts with OnFailure) or the deadline.
    let failure: { reason: string; message: string } | undefined;
    const restarts = obj(obj(this.spec.template).spec).restartPolicy === 'OnFailure'
      ? active.reduce((total, pod) => total + objects(statusOf(pod).containerStatuses).reduce((n, c) => n + (num(c.restartCount) ?? 0), 0), 0)
      : 0;
    if (failed + restarts > backoffLimit) failure = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
    const deadline = num(this.spec.activeDeadlineSeconds);
    const started = parseTime(status.startTime);
    if (!failure && !suspended && deadline !== undefined && started !== undefined) {
      const remaining = started + deadline * 1000 - this.now.getTime();
      if (remaining <= 0) failure = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
      else this.requeue(remaining);
    }
    const existingTarget = findCondition(status, 'FailureTarget');
    if (existingTarget?.status === 'True') failure = { reason: existingTarget.reason ?? 'BackoffLimitExceeded', message: existingTarget.message ?? '' };

    let complete = false;
    if (!failure) {
      if (completions !== undefined) complete = this.indexed ? parseIndexes(status.completedIndexes).size >= completions : succeeded >= completions;
      else complete = succeeded > 0 && active.length === 0;
    }

    if (failure) {
      if (addCondition(status, jobCondition('FailureTarget', failure.reason, failure.message, nowStamp))) {
        this.recorder.event(job, 'Warning', failure.reason, failure.message);
      }
      this.deletePods(active);
    } else if (complete) {
      addCondition(status, jobCondition('SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods', nowStamp));
      this.deletePods(active);
    } else if (suspended) {
      this.deletePods(active);
      if (addCondition(status, { type: 'Suspended', status: 'True', lastProbeTime: nowStamp, lastTransitionTime: nowStamp, reason: 'JobSuspended', message: 'Job suspended' })) {
        this.recorder.event(job, 'Normal', 'Suspended', 'Job suspended');
      }
    } else {
      const suspendedCondition = findCondition(status, 'Suspended');
      if (suspendedCondition?.status === 'True') {
        status.conditions = objects(status.conditions).map((c) =>
          c.type === 'Suspended' ? { ...c, status: 'False', reason: 'JobResumed', message: 'Job resumed', lastProbeTime: nowStamp, lastTransitionTime: nowStamp } : c,
        );
        status.startTime = nowStamp;
        this.recorder.event(job, 'Normal', 'Resumed', 'Job resumed');
      }
      await this.manage(active, pods, status, parallelism, completions);
    }

    const current = this.client.pods.list(namespace).filter((pod) => controllerRef(pod)?.uid === job.metadata.uid);
    const stillActive = current.filter((pod) => !isPodTerminal(pod) && !pod.metadata.deletionTimestamp);
    const stillTerminating = current.filter((pod) => !isPodTerminal(pod) && pod.metadata.deletionTimestamp).length;
    status.active = stillActive.length;
    status.ready = stillActive.filter(isPodReady).length;
    status.terminating = stillTerminating;
    status.uncountedTerminatedPods ??= {};
    for (const field of ['active', 'succeeded', 'failed'] as const) if (status[field] === 0) delete status[field];

    // The terminal condition follows once no pod of the Job is still running or terminating.
    if ((failure || complete) && stillActive.length === 0 && stillTerminating === 0) {
      if (failure) {
        addCondition(status, jobCondition('Failed', failure.reason, failure.message, nowStamp));
      } else if (addCondition(status, jobCondition('Complete', 'CompletionsReached', 'Reached expected number of succeeded pods', nowStamp))) {
        status.completionTime = nowStamp;
        this.recorder.event(job, 'Normal', 'Completed', 'Job completed');
      }
    }
    this.writeStatus(status);
  }

  async manage(active: KubeObject[], pods: KubeObject[], status: Json, parallelism: number, completions: number | undefined): Promise<void> {
    const succeeded = num(status.succeeded) ?? 0;
    let wantActive: number;
    const missingIndexes: number[] = [];
    if (this.indexed && completions !== undefined) {
      const completed = parseIndexes(status.completedIndexes);
      const running = new Set(active.map(podIndex).filter((i): i is number => i !== undefined));
      for (let i = 0; i < completions && missingIndexes.length < completions; i++) if (!completed.has(i) && !running.has(i)) missingIndexes.push(i);
      wantActive = Math.min(parallelism, completions - completed.size);
    } else if (completions !== undefined) {
      wantActive = Math.min(parallelism, Math.max(0, completions - succeeded));
    } else {
      // A work queue: once one pod succeeded, whatever runs is left to finish and nothing new starts.
      wantActive = succeeded > 0 ? active.length : parallelism;
    }
    const diff = active.length - wantActive;
    if (diff > 0) {
      // Too many: the newest go first (pods not yet running before running ones).
      const victims = [...active].sort((a, b) => (parseTime(b.metadata.creationTimestamp) ?? 0) - (parseTime(a.metadata.creationTimestamp) ?? 0)).slice(0, diff);
      this.deletePods(victims);
      return;
    }
    if (diff === 0) return;
    // After a failure new pods wait: 10 s, 20 s, 40 s … (capped at 6 minutes).
    const failed = num(status.failed) ?? 0;
    if (failed > 0) {
      const last = lastFailureTime(pods);
      const delay = Math.min(MAX_BACKOFF_MS, this.backoffBaseMs * 2 ** (failed - 1));
      if (last !== undefined && last + delay > this.now.getTime()) {
        this.requeue(last + delay - this.now.getTime());
        return;
      }
    }
    const count = Math.min(-diff, BURST, this.indexed ? missingIndexes.length : Number.MAX_SAFE_INTEGER);
    await this.createPods(count, missingIndexes);
  }
}

export function startJobController(ctx: ControllerContext, options: JobOptions = {}): RunningController {
  const client = ctx.clientFor('job-controller');
  const recorder = ctx.recorderFor('job-controller');
  const backoffBaseMs = options.backoffBaseMs ?? 10_000;
  const ownerOfPod = controllerOwnerKeys('Job');
  return startController(ctx.registry, {
    name: 'job-controller',
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError('job-controller', key, error),
    sources: [
      { group: 'batch', version: 'v1', resource: 'jobs' },
      { group: '', version: 'v1', resource: 'pods', keys: (pod) => ownerOfPod(pod) },
    ],
    async reconcile(key): Promise<ReconcileResult | void> {
      const { namespace, name } = splitKey(key);
      const job = client.jobs.get(namespace, name);
      if (!job) return;
      const sync = new JobSync(job, client, recorder, ctx.clock.now(), backoffBaseMs);
      await sync.run();
      if (sync.requeueAfterMs !== undefined) return { requeueAfterMs: Math.max(1, sync.requeueAfterMs) };
    },
  });
}

/** ttlSecondsAfterFinished: a finished Job is deleted (with its pods) once its time is up. */
export function startTTLAfterFinishedController(ctx: ControllerContext): RunningController {
  const client = ctx.clientFor('ttl-after-finished-controller');
  return startController(ctx.registry, {
    name: 'ttl-after-finished-controller',
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError('ttl-after-finished-controller', key, error),
    sources: [
      {
        group: 'batch',
        version: 'v1',
        resource: 'jobs',
        keys: (job, type) => (type !== 'DELETED' && num(specOf(job).ttlSecondsAfterFinished) !== undefined && isFinished(job) ? [objectKey(job)] : []),
      },
    ],
    reconcile(key): ReconcileResult | void {
      const { namespace, name } = splitKey(key);
      const job = client.jobs.get(namespace, name);
      if (!job || job.metadata.deletionTimestamp || !isFinished(job)) return;
      const ttl = num(specOf(job).ttlSecondsAfterFinished);
      if (ttl === undefined) return;
      const finishedCondition = ['Complete', 'Failed'].map((type) => findCondition(statusOf(job), type)).find((c) => c?.status === 'True');
      const finishedAt = parseTime(statusOf(job).completionTime) ?? parseTime(finishedCondition?.lastTransitionTime);
      if (finishedAt === undefined) return;
      const remaining = finishedAt + ttl * 1000 - ctx.clock.now().getTime();
      if (remaining > 0) return { requeueAfterMs: remaining };
      client.jobs.delete(namespace, name, { propagationPolicy: 'Foreground', preconditions: { uid: job.metadata.uid } });
    },
  });
}

