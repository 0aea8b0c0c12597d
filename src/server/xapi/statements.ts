// Learning events as xAPI statements, with the cmi5 verbs. A lab is the assignable unit: its
// attempt (the lab session) is the registration; starting it is `launched` and `initialized`,
// finishing every step `completed` and `passed`, ending it `terminated`. Below the lab, each
// Check is `passed` or `failed` on the step with the checks' results; hints and solutions shown
// are `experienced`. Lessons are `experienced` and `completed`, paths `completed`. Activity ids
// are the portal's own addresses, so an LRS report links back to the page.

import type { LearnerIdentity, LearningEvent } from '../tracking/index.ts';
import { isoDuration } from './duration.ts';
import { XAPI_VERSION, type Activity, type Agent, type Statement } from './spec.ts';
import { nameUuid } from './uuid.ts';

const ADL_VERB = 'http://adlnet.gov/expapi/verbs/';
export const VERBS = {
  launched: `${ADL_VERB}launched`,
  initialized: `${ADL_VERB}initialized`,
  completed: `${ADL_VERB}completed`,
  passed: `${ADL_VERB}passed`,
  failed: `${ADL_VERB}failed`,
  terminated: `${ADL_VERB}terminated`,
  experienced: `${ADL_VERB}experienced`,
} as const;
export type VerbName = keyof typeof VERBS;

const ACTIVITY_TYPES = {
  path: 'http://adlnet.gov/expapi/activities/course',
  lesson: 'http://adlnet.gov/expapi/activities/lesson',
  lab: 'http://adlnet.gov/expapi/activities/simulation',
  step: 'http://adlnet.gov/expapi/activities/objective',
  reveal: 'http://adlnet.gov/expapi/activities/interaction',
} as const;

const CMI5_CATEGORY = 'https://w3id.org/xapi/cmi5/context/categories/cmi5';
const MOVEON_CATEGORY = 'https://w3id.org/xapi/cmi5/context/categories/moveon';
const CMI5_SESSION_ID = 'https://w3id.org/xapi/cmi5/context/extensions/sessionid';
export const PLATFORM = 'Formicary';

/** Where this portal's own extension keys live, under its address. */
export function extensionIri(portalUrl: string, name: 'check-results' | 'workshop' | 'certificate'): string {
  return `${base(portalUrl)}/xapi/extensions/${name}`;
}

function base(portalUrl: string): string {
  return portalUrl.replace(/\/+$/, '');
}

export function actorOf(learner: LearnerIdentity, portalUrl: string): Agent {
  return learner.email
    ? { objectType: 'Agent', name: learner.name, mbox: `mailto:${learner.email}` }
    : { objectType: 'Agent', name: learner.name, account: { homePage: base(portalUrl), name: learner.id } };
}

/** A lesson's and a path's statements have no attempt of their own: one registration per learner and path. */
export function pathRegistration(learnerId: string, path: string): string {
  return nameUuid(`registration/${learnerId}/${path}`);
}

function activity(id: string, type: keyof typeof ACTIVITY_TYPES): Activity {
  return { objectType: 'Activity', id, definition: { type: ACTIVITY_TYPES[type] } };
}

export function statementsFor(event: LearningEvent, learner: LearnerIdentity, portalUrl: string): Statement[] {
  const root = base(portalUrl);
  const pathActivity = event.path ? activity(`${root}/paths/${event.path}`, 'path') : null;
  const lessonActivity = event.path && event.lesson ? activity(`${root}/paths/${event.path}/${event.lesson}`, 'lesson') : null;
  const labActivity = event.lab ? activity(`${root}/labs/${event.lab}`, 'lab') : null;
  const stepActivity = event.lab && event.step ? activity(`${root}/labs/${event.lab}/steps/${event.step}`, 'step') : null;
  const duration = event.durationMs === null ? undefined : isoDuration(event.durationMs);
  const extensions = event.workshop ? { [extensionIri(portalUrl, 'workshop')]: event.workshop } : undefined;

  type Context = NonNullable<Statement['context']>;
  const make = (verb: VerbName, object: Activity, more: { result?: Statement['result']; context?: Context } = {}): Statement => {
    const context: Context = { platform: PLATFORM, ...more.context };
    if (event.workshop) context.extensions = { ...context.extensions, [extensionIri(portalUrl, 'workshop')]: event.workshop };
    return {
      id: nameUuid(`${event.id}/${verb}`),
      actor: actorOf(learner, portalUrl),
      verb: { id: VERBS[verb], display: { 'en-US': verb } },
      object,
      ...(more.result ? { result: more.result } : {}),
      context,
      timestamp: event.at,
      version: XAPI_VERSION,
    };
  };
  const registration = (id: string | null): Context => (id ? { registration: id } : {});

  /** The lab as an assignable unit (cmi5-defined statements). */
  const labContext = (moveOn: boolean): Context => ({
    ...registration(event.labSession),
    contextActivities: {
      ...(lessonActivity ? { parent: [lessonActivity] } : {}),
      ...(pathActivity ? { grouping: [pathActivity] } : {}),
      category: [{ id: CMI5_CATEGORY }, ...(moveOn ? [{ id: MOVEON_CATEGORY }] : [])],
    },
    ...(event.labSession ? { extensions: { [CMI5_SESSION_ID]: event.labSession } } : {}),
  });
  /** Inside the lab: a step, a hint, a solution. */
  const stepContext = (parent: Activity): Context => {
    const grouping = [pathActivity, lessonActivity].filter((candidate): candidate is Activity => candidate !== null);
    return { ...registration(event.labSession), contextActivities: { parent: [parent], ...(grouping.length ? { grouping } : {}) } };
  };
  const lessonContext = (): Context => ({
    ...registration(event.path ? pathRegistration(event.learnerId, event.path) : null),
    ...(pathActivity ? { contextActivities: { parent: [pathActivity] } } : {}),
  });

  switch (event.kind) {
    case 'lesson.viewed':
      return lessonActivity ? [make('experienced', lessonActivity, { context: lessonContext() })] : [];
    case 'lesson.completed':
      return lessonActivity ? [make('completed', lessonActivity, { result: { completion: true }, context: lessonContext() })] : [];
    case 'path.completed': {
      if (!pathActivity || !event.path) return [];
      const certificate = event.detail && 'certificate' in event.detail ? `${root}/certificates/${event.detail.certificate}` : null;
      return [
        make('completed', pathActivity, {
          result: { completion: true, success: true, ...(duration ? { duration } : {}), ...(certificate ? { extensions: { [extensionIri(portalUrl, 'certificate')]: certificate } } : {}) },
          context: registration(pathRegistration(event.learnerId, event.path)),
        }),
      ];
    }
    case 'lab.started':
      return labActivity ? [make('launched', labActivity, { context: labContext(false) }), make('initialized', labActivity, { context: labContext(false) })] : [];
    case 'lab.completed': {
      if (!labActivity) return [];
      const timed = duration ? { duration } : {};
      return [
        make('completed', labActivity, { result: { completion: true, ...timed }, context: labContext(true) }),
        make('passed', labActivity, { result: { success: true, completion: true, score: { scaled: 1 }, ...timed }, context: labContext(true) }),
      ];
    }
    case 'lab.ended':
      return labActivity ? [make('terminated', labActivity, { ...(duration ? { result: { duration } } : {}), context: labContext(false) })] : [];
    case 'check.passed':
    case 'check.failed': {
      if (!stepActivity || !labActivity || !event.detail || !('results' in event.detail)) return [];
      const results = event.detail.results;
      const passed = results.filter((result) => result.passed).length;
      return [
        make(event.kind === 'check.passed' ? 'passed' : 'failed', stepActivity, {
          result: {
            success: event.kind === 'check.passed',
            score: { scaled: results.length === 0 ? 0 : passed / results.length, raw: passed, min: 0, max: Math.max(1, results.length) },
            response: results.filter((result) => !result.passed).map((result) => result.message).join('\n'),
            ...(duration ? { duration } : {}),
            extensions: { [extensionIri(portalUrl, 'check-results')]: results },
          },
          context: stepContext(labActivity),
        }),
      ];
    }
    case 'hint.shown':
    case 'solution.shown': {
      if (!stepActivity || !labActivity) return [];
      const number = event.detail && 'number' in event.detail ? event.detail.number : 0;
      const id = event.kind === 'hint.shown' ? `${stepActivity.id}/hints/${number + 1}` : `${stepActivity.id}/solution`;
      return [make('experienced', activity(id, 'reveal'), { context: stepContext(stepActivity) })];
    }
  }
}
