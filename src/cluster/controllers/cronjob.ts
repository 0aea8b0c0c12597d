// The CronJob controller (pkg/controller/cronjob, controllerv2): at each scheduled time (standard
// cron syntax or @hourly and friends, in spec.timeZone) a Job named
// "<cronjob>-<minutes since the epoch>" is created from the template, honouring
// concurrencyPolicy, startingDeadlineSeconds and suspend; finished Jobs beyond the history
// limits are deleted. The controller sleeps until the next scheduled time.
import { createRequire } from 'node:module';
import type { KubeObject } from '../types.ts';
import { errorMessage, isAlreadyExists } from './client.ts';
import type { ControllerContext } from './context.ts';
import { type Json, num, obj, objects, specOf, statusOf, str } from '../json.ts';
import { controllerRef, copy, findCondition, newControllerRef, parseTime, timestamp } from './objects.ts';
import { controllerOwnerKeys, type ReconcileResult, type RunningController, splitKey, startController } from './runtime.ts';

const require = createRequire(import.meta.url);
/** cron-parser (and luxon under it) loads with the first CronJob, not on the way to "ready": most clusters have none. */
const cronParser = (): typeof import('cron-parser') => require('cron-parser') as typeof import('cron-parser');

export const SCHEDULED_TIMESTAMP_ANNOTATION = 'batch.kubernetes.io/cronjob-scheduled-timestamp';
const MAX_MISSED = 100;

export interface Schedule {
  /** The first scheduled time strictly after `after`. */
  next(after: Date): Date;
}

const goDurationUnits: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

function parseGoDuration(text: string): number | undefined {
  const pattern = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let match = pattern.exec(text); match; match = pattern.exec(text)) {
    total += Number(match[1]) * (goDurationUnits[match[2] as string] ?? 0);
    matched += match[0].length;
  }
  return matched === text.length && total > 0 ? total : undefined;
}

/** cron.ParseStandard: five fields, descriptors (@hourly …) and @every <duration>. */
export function parseSchedule(expression: string, timeZone: string | undefined): Schedule {
  const trimmed = expression.trim();
  if (trimmed.startsWith('@every ')) {
    const every = parseGoDuration(trimmed.slice('@every '.length).trim());
    if (every === undefined) throw new Error(`failed to parse duration ${trimmed}`);
    // robfig's ConstantDelaySchedule: whole seconds, from the previous activation.
    const step = Math.max(1000, Math.floor(every / 1000) * 1000);
    return { next: (after) => new Date(Math.floor(after.getTime() / 1000) * 1000 + step) };
  }
  const fields = trimmed.startsWith('@') ? trimmed : `0 ${trimmed}`;
  cronParser().CronExpressionParser.parse(fields, { ...(timeZone ? { tz: timeZone } : {}) });
  return {
    next(after) {
      const iterator = cronParser().CronExpressionParser.parse(fields, { currentDate: after, ...(timeZone ? { tz: timeZone } : { tz: 'UTC' }) });
      let next = iterator.next().toDate();
      while (next.getTime() <= after.getTime()) next = iterator.next().toDate();
      return next;
    },
  };
}

/** time.RFC3339 in a zone: "2026-01-01T10:00:00+01:00", or "…Z" in UTC. */
export function formatInZone(date: Date, timeZone: string | undefined): string {
  if (!timeZone || timeZone === 'UTC' || timeZone === 'Etc/UTC') return timestamp(date);
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  );
  const local = Date.UTC(Number(parts['year']), Number(parts['month']) - 1, Number(parts['day']), Number(parts['hour']), Number(parts['minute']), Number(parts['second']));
  const offsetMinutes = Math.round((local - Math.floor(date.getTime() / 1000) * 1000) / 60_000);
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const offset = offsetMinutes === 0 ? 'Z' : `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${parts['year']}-${parts['month']}-${parts['day']}T${parts['hour']}:${parts['minute']}:${parts['second']}${offset}`;
}

function rfc1123z(date: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${days[date.getUTCDay()]}, ${pad(date.getUTCDate())} ${months[date.getUTCMonth()]} ${date.getUTCFullYear()} ${pad(date.getUTCHours())}:${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;
}

function finishedCondition(job: KubeObject): 'Complete' | 'Failed' | undefined {
  if (findCondition(statusOf(job), 'Complete')?.status === 'True') return 'Complete';
  if (findCondition(statusOf(job), 'Failed')?.status === 'True') return 'Failed';
  return undefined;
}

function jobReference(job: KubeObject): Json {
  return { kind: 'Job', namespace: job.metadata.namespace, name: job.metadata.name, uid: job.metadata.uid, apiVersion: 'batch/v1', resourceVersion: job.metadata.resourceVersion };
}

export function startCronJobController(ctx: ControllerContext): RunningController {
  const client = ctx.clientFor('cronjob-controller');
  const recorder = ctx.recorderFor('cronjob-controller');

  const reconcile = (key: string): ReconcileResult | void => {
    const { namespace, name } = splitKey(key);
    const cronJob = client.cronJobs.get(namespace, name);
    if (!cronJob) return;
    const now = ctx.clock.now();
    const spec = specOf(cronJob);
    const status = copy(statusOf(cronJob));
    const jobs = client.jobs.list(namespace).filter((job) => controllerRef(job)?.uid === cronJob.metadata.uid);
    let active = objects(status.active);
    const activeUids = new Set(active.map((ref) => str(ref.uid)));

    for (const job of jobs) {
      const finished = finishedCondition(job);
      const listed = activeUids.has(job.metadata.uid);
      if (!listed && !finished) {
        recorder.event(cronJob, 'Warning', 'UnexpectedJob', `Saw a job that the controller did not create or forgot: ${job.metadata.name}`);
      } else if (listed && finished) {
        active = active.filter((ref) => ref.uid !== job.metadata.uid);
        recorder.event(cronJob, 'Normal', 'SawCompletedJob', `Saw completed job: ${job.metadata.name}, condition: ${finished}`);
      }
      if (finished === 'Complete') {
        const completedAt = parseTime(statusOf(job).completionTime);
        const previous = parseTime(status.lastSuccessfulTime);
        if (completedAt !== undefined && (previous === undefined || completedAt > previous)) status.lastSuccessfulTime = statusOf(job).completionTime;
      }
    }
    const existing = new Set(jobs.map((job) => job.metadata.uid));
    for (const ref of [...active]) {
      if (existing.has(str(ref.uid))) continue;
      recorder.event(cronJob, 'Normal', 'MissingJob', `Active job went missing: ${str(ref.name)}`);
      active = active.filter((r) => r !== ref);
    }

    let requeueAfterMs: number | undefined;
    const schedule = (() => {
      if (cronJob.metadata.deletionTimestamp) return undefined;
      const zone = str(spec.timeZone);
      try {
        return parseSchedule(str(spec.schedule) ?? '', zone);
      } catch (error) {
        recorder.event(cronJob, 'Warning', 'UnparseableSchedule', `unparseable schedule: "${str(spec.schedule)}" : ${errorMessage(error)}`);
        return undefined;
      }
    })();

    if (schedule && spec.suspend !== true) {
      const nextAfter = (from: Date) => {
        const next = schedule.next(from).getTime() - now.getTime() + 100;
        requeueAfterMs = Math.max(100, next);
      };
      // nextScheduleTime: the most recent unmet time since the last one (or creation).
      let earliest = parseTime(status.lastScheduleTime) ?? parseTime(cronJob.metadata.creationTimestamp) ?? now.getTime();
      const deadline = num(spec.startingDeadlineSeconds);
      if (deadline !== undefined) earliest = Math.max(earliest, now.getTime() - deadline * 1000);
      let mostRecent: Date | undefined;
      let missed = 0;
      if (earliest <= now.getTime()) {
        for (let t = schedule.next(new Date(earliest)); t.getTime() <= now.getTime(); t = schedule.next(t)) {
          mostRecent = t;
          if (++missed > MAX_MISSED) break;
        }
      }
      if (missed > MAX_MISSED) {
        recorder.event(cronJob, 'Warning', 'TooManyMissedTimes', 'too many missed start times. Set or decrease .spec.startingDeadlineSeconds or check clock skew');
        // The latest time is what counts: find it from just before now.
        mostRecent = undefined;
        for (let t = schedule.next(new Date(now.getTime() - 60 * 60 * 1000)); t.getTime() <= now.getTime(); t = schedule.next(t)) mostRecent = t;
      }
      if (!mostRecent) nextAfter(now);
      else if (deadline !== undefined && mostRecent.getTime() + deadline * 1000 < now.getTime()) {
        recorder.event(cronJob, 'Warning', 'MissSchedule', `Missed scheduled time to start a job: ${rfc1123z(mostRecent)}`);
        nextAfter(now);
      } else {
        const jobName = `${cronJob.metadata.name}-${Math.floor(mostRecent.getTime() / 60_000)}`;
        const alreadyStarted = active.some((ref) => ref.name === jobName) || parseTime(status.lastScheduleTime) === mostRecent.getTime();
        if (alreadyStarted) nextAfter(now);
        else if (spec.concurrencyPolicy === 'Forbid' && active.length > 0) {
          recorder.event(cronJob, 'Normal', 'JobAlreadyActive', 'Not starting job because prior execution is running and concurrency policy is Forbid');
          nextAfter(now);
        } else {
          if (spec.concurrencyPolicy === 'Replace') {
            for (const ref of active) {
              const gone = client.jobs.delete(namespace, str(ref.name) ?? '', { propagationPolicy: 'Background' });
              if (gone) recorder.event(cronJob, 'Normal', 'SuccessfulDelete', `Deleted job ${str(ref.name)}`);
            }
            active = [];
          }
          const template = obj(spec.jobTemplate);
          const templateMeta = obj(template.metadata);
          const job: KubeObject = {
            apiVersion: 'batch/v1',
            kind: 'Job',
            metadata: {
              name: jobName,
              namespace,
              labels: { ...(obj(templateMeta.labels) as Record<string, string>) },
              annotations: { ...(obj(templateMeta.annotations) as Record<string, string>), [SCHEDULED_TIMESTAMP_ANNOTATION]: formatInZone(mostRecent, str(spec.timeZone)) },
              ownerReferences: [newControllerRef(cronJob)],
            },
            spec: copy(obj(template.spec)),
          };
          try {
            const created = client.jobs.create(namespace, job);
            recorder.event(cronJob, 'Normal', 'SuccessfulCreate', `Created job ${created.metadata.name}`);
            active = [...active, jobReference(created)];
            status.lastScheduleTime = timestamp(mostRecent);
          } catch (error) {
            if (!isAlreadyExists(error)) {
              recorder.event(cronJob, 'Warning', 'FailedCreate', `Error creating job: ${errorMessage(error)}`);
              throw error;
            }
          }
          nextAfter(now);
        }
      }
    }

    if (active.length) status.active = active;
    else delete status.active;
    if (JSON.stringify(status) !== JSON.stringify(statusOf(cronJob))) {
      client.cronJobs.mutate(namespace, name, (draft) => {
        draft.status = status;
      }, 'status');
    }

    // History limits: the oldest finished Jobs beyond what the CronJob keeps.
    const finished = client.jobs.list(namespace).filter((job) => controllerRef(job)?.uid === cronJob.metadata.uid && finishedCondition(job) && !job.metadata.deletionTimestamp);
    const limits: Array<['Complete' | 'Failed', number | undefined]> = [
      ['Complete', num(spec.successfulJobsHistoryLimit)],
      ['Failed', num(spec.failedJobsHistoryLimit)],
    ];
    for (const [condition, limit] of limits) {
      if (limit === undefined) continue;
      const of = finished
        .filter((job) => finishedCondition(job) === condition)
        .sort((a, b) => (parseTime(statusOf(a).startTime) ?? parseTime(a.metadata.creationTimestamp) ?? 0) - (parseTime(statusOf(b).startTime) ?? parseTime(b.metadata.creationTimestamp) ?? 0));
      for (const job of of.slice(0, Math.max(0, of.length - limit))) {
        const gone = client.jobs.delete(namespace, job.metadata.name ?? '', { propagationPolicy: 'Background' });
        if (gone) recorder.event(cronJob, 'Normal', 'SuccessfulDelete', `Deleted job ${job.metadata.name}`);
      }
    }
    return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
  };

  return startController(ctx.registry, {
    name: 'cronjob-controller',
    clock: ctx.clock,
    onError: (key, error) => ctx.reportError('cronjob-controller', key, error),
    sources: [
      { group: 'batch', version: 'v1', resource: 'cronjobs' },
      { group: 'batch', version: 'v1', resource: 'jobs', keys: controllerOwnerKeys('CronJob') },
    ],
    reconcile,
  });
}
