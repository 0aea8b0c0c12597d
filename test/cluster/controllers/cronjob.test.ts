// CronJobs on an injected clock: Jobs named "<cronjob>-<minutes since epoch>" at each scheduled
// time, time zones, concurrency policies, missed deadlines, suspend and history limits.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/cluster/controllers/index.ts';
import type { KubeObject } from '../../../src/cluster/types.ts';
import { startTestCluster, type TestCluster } from './harness.ts';

let t: TestCluster;
const clock = new ManualClock('2026-01-01T09:58:30Z');

beforeAll(async () => {
  t = await startTestCluster({ clock: () => clock.now(), controllers: { clock } });
  t.kubelet.behaviour.outcome = (pod) => (pod.metadata.labels?.['job-name']?.startsWith('busy') ? 'Running' : pod.metadata.labels?.['job-name'] ? 'Succeeded' : 'Running');
});

afterAll(async () => {
  await t?.stop();
});

async function namespace(name: string): Promise<string> {
  expect((await t.kubectl(['create', 'namespace', name])).code).toBe(0);
  return name;
}

async function cronJob(ns: string, name: string, spec: Record<string, unknown>): Promise<void> {
  const object = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: { name },
    spec: { jobTemplate: { spec: { template: { spec: { restartPolicy: 'OnFailure', containers: [{ name: 'run', image: 'busybox', command: ['date'] }] } } } }, ...spec },
  };
  const result = await t.kubectl(['-n', ns, 'apply', '-f', '-'], { stdin: JSON.stringify(object) });
  expect(result.code, result.stderr).toBe(0);
}

/** Moves the clock and lets every controller (and the stand-in kubelet) catch up. */
async function advance(ms: number): Promise<void> {
  clock.advance(ms);
  for (let i = 0; i < 3; i++) {
    await t.settle();
    await new Promise((resolve) => setTimeout(resolve, 30));
  }
}

function jobs(ns: string): KubeObject[] {
  return t.list('batch', 'v1', 'jobs', ns).sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
}

function events(ns: string, reason: string): string[] {
  return t
    .list('', 'v1', 'events', ns)
    .filter((e) => e['reason'] === reason && (e['involvedObject'] as { kind: string }).kind === 'CronJob')
    .map((e) => String(e['message']));
}

const minutes = (iso: string) => Math.floor(Date.parse(iso) / 60_000);

describe('CronJob', () => {
  it('creates a Job at the scheduled time, named after the minute, and sees it complete', async () => {
    const ns = await namespace('hourly');
    await cronJob(ns, 'report', { schedule: '@hourly' });
    await advance(0);
    expect(jobs(ns)).toEqual([]);
    await advance(95_000);
    const [job] = jobs(ns);
    expect(job?.metadata.name).toBe(`report-${minutes('2026-01-01T10:00:00Z')}`);
    expect(job?.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe('2026-01-01T10:00:00Z');
    expect(job?.metadata.ownerReferences?.[0]).toMatchObject({ kind: 'CronJob', name: 'report', controller: true });
    expect(events(ns, 'SuccessfulCreate')).toEqual([`Created job ${job?.metadata.name}`]);
    await t.until('job complete', () => JSON.stringify(t.get('batch', 'v1', 'jobs', ns, job?.metadata.name ?? '')?.status).includes('"Complete"'));
    await advance(1000);
    const cj = t.get('batch', 'v1', 'cronjobs', ns, 'report') as KubeObject;
    expect(cj.status).toMatchObject({ lastScheduleTime: '2026-01-01T10:00:00Z' });
    expect((cj.status as { lastSuccessfulTime?: string }).lastSuccessfulTime).toBeTruthy();
    expect((cj.status as { active?: unknown }).active).toBeUndefined();
    expect(events(ns, 'SawCompletedJob')).toEqual([`Saw completed job: ${job?.metadata.name}, condition: Complete`]);
    const get = await t.kubectl(['-n', ns, 'get', 'cronjob', 'report']);
    expect(get.stdout).toMatch(/report\s+@hourly\s+<none>\s+False\s+0\s+/);
  });

  it('follows spec.timeZone', async () => {
    const ns = await namespace('zoned');
    // 09:00 in Berlin is 08:00 UTC; the clock is past 10:00 UTC, so the next one is tomorrow.
    await cronJob(ns, 'berlin', { schedule: '0 9 * * *', timeZone: 'Europe/Berlin' });
    await advance(0);
    expect(jobs(ns)).toEqual([]);
    const untilTomorrow = Date.parse('2026-01-02T08:00:00Z') - clock.now().getTime();
    await advance(untilTomorrow + 500);
    const [job] = jobs(ns);
    expect(job?.metadata.name).toBe(`berlin-${minutes('2026-01-02T08:00:00Z')}`);
    expect(job?.metadata.annotations?.['batch.kubernetes.io/cronjob-scheduled-timestamp']).toBe('2026-01-02T09:00:00+01:00');
  });

  it('Forbid skips a run while the last one is active; Replace replaces it', async () => {
    const ns = await namespace('concurrency');
    await cronJob(ns, 'busy-forbid', { schedule: '*/1 * * * *', concurrencyPolicy: 'Forbid' });
    await cronJob(ns, 'busy-replace', { schedule: '*/1 * * * *', concurrencyPolicy: 'Replace' });
    await advance(0);
    const next = 60_000 - (clock.now().getTime() % 60_000);
    await advance(next + 200);
    await advance(60_000);
    const names = jobs(ns).map((j) => j.metadata.name ?? '');
    expect(names.filter((n) => n.startsWith('busy-forbid'))).toHaveLength(1);
    expect(events(ns, 'JobAlreadyActive')).toEqual(['Not starting job because prior execution is running and concurrency policy is Forbid']);
    await t.until('replaced job deleted', () => jobs(ns).filter((j) => j.metadata.name?.startsWith('busy-replace')).length === 1);
    const replaced = jobs(ns).find((j) => j.metadata.name?.startsWith('busy-replace'));
    expect(replaced?.metadata.name).toBe(`busy-replace-${Math.floor(clock.now().getTime() / 60_000)}`);
    expect(events(ns, 'SuccessfulDelete').some((m) => /^Deleted job busy-replace-\d+$/.test(m))).toBe(true);
  });

  it('a run missed by more than startingDeadlineSeconds is skipped; suspend stops new runs', async () => {
    const ns = await namespace('missed');
    await cronJob(ns, 'late', { schedule: '*/30 * * * *', startingDeadlineSeconds: 10 });
    await cronJob(ns, 'paused', { schedule: '*/1 * * * *', suspend: true });
    await advance(0);
    // Jump: the controller wakes up after the start window of the next run closed.
    const nextHalfHour = 30 * 60_000 - (clock.now().getTime() % (30 * 60_000));
    clock.advance(nextHalfHour + 20_000);
    await advance(0);
    expect(jobs(ns).filter((j) => j.metadata.name?.startsWith('late'))).toEqual([]);
    // The next run, in time, happens as usual.
    const nextRun = 30 * 60_000 - (clock.now().getTime() % (30 * 60_000));
    await advance(nextRun + 200);
    expect(jobs(ns).filter((j) => j.metadata.name?.startsWith('late'))).toHaveLength(1);
    expect(jobs(ns).filter((j) => j.metadata.name?.startsWith('paused'))).toEqual([]);
  });

  it('keeps successfulJobsHistoryLimit finished Jobs', async () => {
    const ns = await namespace('history');
    await cronJob(ns, 'tick', { schedule: '*/1 * * * *', successfulJobsHistoryLimit: 1 });
    await advance(0);
    for (let i = 0; i < 3; i++) {
      const next = 60_000 - (clock.now().getTime() % 60_000);
      await advance(next + 200);
      await t.until('run complete', () => jobs(ns).every((j) => JSON.stringify(j.status).includes('"Complete"')));
    }
    await advance(1000);
    await t.until('history trimmed', () => jobs(ns).length === 1);
    expect(events(ns, 'SuccessfulDelete')).toHaveLength(2);
  });
});
