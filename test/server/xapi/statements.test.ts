import { describe, expect, it } from 'vitest';
import type { LearnerIdentity, LearningEvent } from '../../../src/server/tracking/index.ts';
import { isoDuration, nameUuid, statementProblems, statementsFor, type Statement } from '../../../src/server/xapi/index.ts';

const portal = 'https://learn.example.com/';
const ada: LearnerIdentity = { id: 'a6d1c0de-0000-4000-8000-000000000001', name: 'Ada Lovelace', email: null };
const grace: LearnerIdentity = { id: 'a6d1c0de-0000-4000-8000-000000000002', name: 'Grace Hopper', email: 'grace@example.com' };
const labSession = '0b0e7a52-3c1d-4a8e-9f1a-2b3c4d5e6f70';
const failing = { kind: 'field', passed: false, expected: '3', found: '2', message: 'Deployment web has 2 replicas; this step asks for 3.' };
const passing = { kind: 'exists', passed: true, expected: 'deployment web', found: 'deployment web', message: 'Deployment web exists.' };

function event(overrides: Partial<LearningEvent> & Pick<LearningEvent, 'kind'>): LearningEvent {
  return {
    id: 'e0000000-0000-4000-8000-000000000001',
    seq: 1,
    learnerId: ada.id,
    at: '2025-03-01T09:30:00.000Z',
    path: null,
    lesson: null,
    lab: null,
    step: null,
    labSession: null,
    workshop: null,
    durationMs: null,
    detail: null,
    ...overrides,
  };
}

const labEvent = (kind: LearningEvent['kind'], more: Partial<LearningEvent> = {}) =>
  event({ kind, lab: 'deploy-and-expose', labSession, path: 'kubernetes-foundations', lesson: 'deployments', ...more });

const verbs = (statements: Statement[]) => statements.map((statement) => statement.verb.display?.['en-US']);

describe('statements of learning events', () => {
  it('identifies the learner by an account on the portal, or by mbox when the email is known', () => {
    const [byAccount] = statementsFor(event({ kind: 'lesson.viewed', path: 'p', lesson: 'l' }), ada, portal);
    expect(byAccount!.actor).toEqual({ objectType: 'Agent', name: 'Ada Lovelace', account: { homePage: 'https://learn.example.com', name: ada.id } });
    const [byMbox] = statementsFor(event({ kind: 'lesson.viewed', path: 'p', lesson: 'l', learnerId: grace.id }), grace, portal);
    expect(byMbox!.actor).toEqual({ objectType: 'Agent', name: 'Grace Hopper', mbox: 'mailto:grace@example.com' });
  });

  it('launches and initializes the lab as a cmi5 assignable unit, the attempt being the registration', () => {
    const statements = statementsFor(labEvent('lab.started'), ada, portal);
    expect(verbs(statements)).toEqual(['launched', 'initialized']);
    const [launched] = statements;
    expect(launched).toMatchObject({
      verb: { id: 'http://adlnet.gov/expapi/verbs/launched', display: { 'en-US': 'launched' } },
      object: { objectType: 'Activity', id: 'https://learn.example.com/labs/deploy-and-expose', definition: { type: 'http://adlnet.gov/expapi/activities/simulation' } },
      timestamp: '2025-03-01T09:30:00.000Z',
      version: '1.0.3',
      context: {
        registration: labSession,
        platform: 'Formicary',
        contextActivities: {
          parent: [{ id: 'https://learn.example.com/paths/kubernetes-foundations/deployments' }],
          grouping: [{ id: 'https://learn.example.com/paths/kubernetes-foundations' }],
          category: [{ id: 'https://w3id.org/xapi/cmi5/context/categories/cmi5' }],
        },
        extensions: { 'https://w3id.org/xapi/cmi5/context/extensions/sessionid': labSession },
      },
    });
    expect(new Set(statements.map((statement) => statement.id)).size).toBe(2);
  });

  it('makes the same statement ids from the same event, so a statement sent twice is one statement', () => {
    const first = statementsFor(labEvent('lab.started'), ada, portal).map((statement) => statement.id);
    const again = statementsFor(labEvent('lab.started'), ada, portal).map((statement) => statement.id);
    expect(again).toEqual(first);
    expect(first[0]).toBe(nameUuid('e0000000-0000-4000-8000-000000000001/launched'));
    expect(first[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('passes or fails the step on a Check, with the score, the messages and every result', () => {
    const [failed] = statementsFor(labEvent('check.failed', { step: 'scale', durationMs: 1234, detail: { results: [passing, failing] } }), ada, portal);
    expect(failed).toMatchObject({
      verb: { id: 'http://adlnet.gov/expapi/verbs/failed' },
      object: { id: 'https://learn.example.com/labs/deploy-and-expose/steps/scale' },
      result: {
        success: false,
        score: { scaled: 0.5, raw: 1, min: 0, max: 2 },
        response: 'Deployment web has 2 replicas; this step asks for 3.',
        duration: 'PT1.23S',
        extensions: { 'https://learn.example.com/xapi/extensions/check-results': [passing, failing] },
      },
      context: { registration: labSession, contextActivities: { parent: [{ id: 'https://learn.example.com/labs/deploy-and-expose' }] } },
    });
    expect(failed!.context?.contextActivities?.category).toBeUndefined();
    const [passed] = statementsFor(labEvent('check.passed', { step: 'scale', detail: { results: [passing] } }), ada, portal);
    expect(passed).toMatchObject({ verb: { id: 'http://adlnet.gov/expapi/verbs/passed' }, result: { success: true, score: { scaled: 1, raw: 1, max: 1 } } });
  });

  it('completes and passes the lab with its duration, moveOn category included, and terminates it on end', () => {
    const statements = statementsFor(labEvent('lab.completed', { durationMs: 754_500 }), ada, portal);
    expect(verbs(statements)).toEqual(['completed', 'passed']);
    expect(statements[0]!.result).toEqual({ completion: true, duration: 'PT12M34.5S' });
    expect(statements[1]!.result).toEqual({ success: true, completion: true, score: { scaled: 1 }, duration: 'PT12M34.5S' });
    expect(statements[1]!.context?.contextActivities?.category).toEqual([
      { id: 'https://w3id.org/xapi/cmi5/context/categories/cmi5' },
      { id: 'https://w3id.org/xapi/cmi5/context/categories/moveon' },
    ]);
    const [terminated] = statementsFor(labEvent('lab.ended', { durationMs: 3_600_000, detail: { reason: 'ended' } }), ada, portal);
    expect(terminated).toMatchObject({ verb: { id: 'http://adlnet.gov/expapi/verbs/terminated' }, result: { duration: 'PT1H' } });
  });

  it('experiences lessons, hints and solutions, completes lessons and paths', () => {
    const lesson = statementsFor(event({ kind: 'lesson.viewed', path: 'p', lesson: 'l' }), ada, portal);
    expect(lesson[0]).toMatchObject({
      verb: { id: 'http://adlnet.gov/expapi/verbs/experienced' },
      object: { id: 'https://learn.example.com/paths/p/l', definition: { type: 'http://adlnet.gov/expapi/activities/lesson' } },
      context: { contextActivities: { parent: [{ id: 'https://learn.example.com/paths/p' }] } },
    });
    const [hint] = statementsFor(labEvent('hint.shown', { step: 'scale', detail: { number: 1 } }), ada, portal);
    expect(hint!.object).toMatchObject({ id: 'https://learn.example.com/labs/deploy-and-expose/steps/scale/hints/2' });
    const [solution] = statementsFor(labEvent('solution.shown', { step: 'scale' }), ada, portal);
    expect(solution!.object).toMatchObject({ id: 'https://learn.example.com/labs/deploy-and-expose/steps/scale/solution' });
    const [path] = statementsFor(event({ kind: 'path.completed', path: 'p', durationMs: 86_400_000, detail: { certificate: 'abcdefghijklmnopqrstuv' } }), ada, portal);
    expect(path).toMatchObject({
      verb: { id: 'http://adlnet.gov/expapi/verbs/completed' },
      object: { id: 'https://learn.example.com/paths/p', definition: { type: 'http://adlnet.gov/expapi/activities/course' } },
      result: { completion: true, success: true, duration: 'PT24H', extensions: { 'https://learn.example.com/xapi/extensions/certificate': 'https://learn.example.com/certificates/abcdefghijklmnopqrstuv' } },
    });
    // A lesson and its path share one registration per learner.
    expect(path!.context?.registration).toBe(lesson[0]!.context?.registration);
  });

  it('tags statements of a workshop with the workshop', () => {
    const [statement] = statementsFor(labEvent('lab.started', { workshop: 'kubecon-prep' }), ada, portal);
    expect(statement!.context?.extensions).toMatchObject({ 'https://learn.example.com/xapi/extensions/workshop': 'kubecon-prep' });
  });

  it('makes only statements that satisfy the xAPI 1.0.3 Statement requirements', () => {
    const all = [
      event({ kind: 'lesson.viewed', path: 'p', lesson: 'l' }),
      event({ kind: 'lesson.completed', path: 'p', lesson: 'l' }),
      event({ kind: 'path.completed', path: 'p', durationMs: 1, detail: { certificate: 'x' } }),
      labEvent('lab.started'),
      labEvent('check.failed', { step: 's', detail: { results: [failing] } }),
      labEvent('check.passed', { step: 's', durationMs: 5, detail: { results: [passing] } }),
      labEvent('hint.shown', { step: 's', detail: { number: 0 } }),
      labEvent('solution.shown', { step: 's' }),
      labEvent('lab.completed', { durationMs: 1000 }),
      labEvent('lab.ended', { durationMs: 1000, detail: { reason: 'expired' } }),
      labEvent('lab.started', { path: null, lesson: null, workshop: 'w' }),
    ];
    for (const learner of [ada, grace]) {
      for (const source of all) {
        for (const statement of statementsFor(source, learner, portal)) expect(statementProblems(statement), `${source.kind}: ${statement.verb.id}`).toEqual([]);
      }
    }
  });
});

describe('ISO 8601 durations', () => {
  it('keeps hundredths of a second and leaves out empty parts', () => {
    expect(isoDuration(0)).toBe('PT0S');
    expect(isoDuration(1234)).toBe('PT1.23S');
    expect(isoDuration(61_000)).toBe('PT1M1S');
    expect(isoDuration(3_600_000)).toBe('PT1H');
    expect(isoDuration(90_061_005)).toBe('PT25H1M1.01S');
  });
});

describe('the xAPI 1.0.3 Statement schema', () => {
  const valid: Statement = {
    id: 'fd41c918-b88b-4b20-a0a5-a4c32391aaa0',
    actor: { objectType: 'Agent', name: 'Project Tin Can API', mbox: 'mailto:user@example.com' },
    verb: { id: 'http://example.com/xapi/verbs#sent-a-statement', display: { 'en-US': 'sent' } },
    object: { id: 'http://example.com/xapi/activity/simplestatement', definition: { name: { 'en-US': 'simple statement' } } },
    timestamp: '2015-11-18T12:17:00+00:00',
  };

  it('accepts the spec’s simple statement', () => {
    expect(statementProblems(valid)).toEqual([]);
  });

  it('refuses what the spec forbids, saying where', () => {
    const problems = (change: Record<string, unknown>) => statementProblems({ ...valid, ...change });
    expect(problems({ actor: { mbox: 'mailto:a@example.com', account: { homePage: 'https://x.example', name: 'a' } } }).join()).toMatch(/exactly one inverse functional identifier/);
    expect(problems({ actor: { name: 'nobody' } }).join()).toMatch(/exactly one inverse functional identifier/);
    expect(problems({ actor: { objectType: 'Group' } }).join()).toMatch(/member: an anonymous Group/);
    expect(problems({ actor: { mbox: 'user@example.com' } }).join()).toMatch(/mbox: must be a mailto: IRI/);
    expect(problems({ verb: { id: 'sent' } })).toEqual(['verb.id: must be an absolute IRI, such as https://learn.example.com/labs/x']);
    expect(problems({ verb: { id: 'http://example.com/v', display: { 'not a tag': 'x' } } }).join()).toMatch(/RFC 5646/);
    expect(problems({ id: 'not-a-uuid' })).toEqual(['id: must be a UUID (RFC 4122)']);
    expect(problems({ timestamp: '18 Nov 2015' }).join()).toMatch(/timestamp: must be an ISO 8601 timestamp/);
    expect(problems({ result: { duration: '12 minutes' } }).join()).toMatch(/result.duration: must be an ISO 8601 duration/);
    expect(problems({ result: { duration: 'PT' } }).join()).toMatch(/result.duration/);
    expect(problems({ result: { score: { scaled: 1.5 } } }).join()).toMatch(/result.score.scaled/);
    expect(problems({ result: { score: { raw: 12, min: 0, max: 10 } } }).join()).toMatch(/raw: must not be above max/);
    expect(problems({ context: { registration: 'x' } }).join()).toMatch(/context.registration: must be a UUID/);
    expect(problems({ context: { extensions: { notAnIri: 1 } } }).join()).toMatch(/context.extensions/);
    expect(problems({ object: { objectType: 'Agent', mbox: 'mailto:b@example.com' }, context: { platform: 'Formicary' } })).toEqual([
      'context.platform: must only be used when the object is an Activity',
    ]);
    expect(problems({ version: '2.0.0' }).join()).toMatch(/version: must be a 1.0.x version/);
    expect(problems({ colour: 'blue' }).join()).toMatch(/Unrecognized key/);
    expect(problems({ object: { id: 'http://example.com/a', definition: { type: 'lesson' } } }).join()).toMatch(/object.definition.type: must be an absolute IRI/);
  });
});
