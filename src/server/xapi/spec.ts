// The xAPI 1.0.3 Statement as the specification requires it (xAPI-Data.md §2.4), as a zod schema:
// what the portal checks every statement against before it is queued, and what an LRS (the one
// in the tests) validates what it receives with. Properties the spec does not define are
// refused, as an LRS must refuse them.

import { z } from 'zod';

export const XAPI_VERSION = '1.0.3';

/** An absolute IRI: a scheme, a colon, no white space or characters IRIs exclude. */
export const iri = z.string().regex(/^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>"{}|\\^`]+$/, 'must be an absolute IRI, such as https://learn.example.com/labs/x');
/** An IRL: an IRI that resolves (the spec's homePage and moreInfo). */
const irl = z.url({ protocol: /^https?$/, message: 'must be an http(s) address' });
/** RFC 4122 variant UUIDs, any version (xAPI §4.5). */
export const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i, 'must be a UUID (RFC 4122)');
const languageTag = z.string().regex(/^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/, 'must be an RFC 5646 language tag, such as en-US');
const languageMap = z.record(languageTag, z.string());
const extensions = z.record(iri, z.unknown());
/** ISO 8601 durations, e.g. PT1H2M3.5S; at least one part. */
export const isoDuration = z
  .string()
  .regex(
    /^P(?!$)(\d+(?:\.\d+)?Y)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?W)?(\d+(?:\.\d+)?D)?(T(?=\d)(\d+(?:\.\d+)?H)?(\d+(?:\.\d+)?M)?(\d+(?:\.\d+)?S)?)?$/,
    'must be an ISO 8601 duration, such as PT4M30.5S',
  );
const timestamp = z.iso.datetime({ offset: true, message: 'must be an ISO 8601 timestamp with a time zone' });

const ifis = {
  mbox: z.string().regex(/^mailto:[^@\s]+@[^@\s]+$/, 'must be a mailto: IRI').optional(),
  mbox_sha1sum: z.string().regex(/^[0-9a-f]{40}$/i, 'must be the hex SHA-1 of a mailto: IRI').optional(),
  openid: z.url().optional(),
  account: z.strictObject({ homePage: irl, name: z.string().min(1) }).optional(),
};
const IFI_NAMES = ['mbox', 'mbox_sha1sum', 'openid', 'account'] as const;
const ifiCount = (actor: Partial<Record<(typeof IFI_NAMES)[number], unknown>>) => IFI_NAMES.filter((name) => actor[name] !== undefined).length;

export const agent = z
  .strictObject({ objectType: z.literal('Agent').optional(), name: z.string().optional(), ...ifis })
  .refine((value) => ifiCount(value) === 1, 'an Agent must have exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account)');

export const group = z
  .strictObject({ objectType: z.literal('Group'), name: z.string().optional(), member: z.array(agent).optional(), ...ifis })
  .superRefine((value, context) => {
    const count = ifiCount(value);
    if (count > 1) context.addIssue({ code: 'custom', message: 'an identified Group has exactly one inverse functional identifier' });
    if (count === 0 && (value.member === undefined || value.member.length === 0)) {
      context.addIssue({ code: 'custom', path: ['member'], message: 'an anonymous Group (no identifier) must list its members' });
    }
  });

export const actor = z.union([group, agent]);

/** An Agent as the object of a statement: objectType is then required. */
const agentObject = z
  .strictObject({ objectType: z.literal('Agent'), name: z.string().optional(), ...ifis })
  .refine((value) => ifiCount(value) === 1, 'an Agent must have exactly one inverse functional identifier (mbox, mbox_sha1sum, openid or account)');

export const verb = z.strictObject({ id: iri, display: languageMap.optional() });

const interactionComponent = z.strictObject({ id: z.string().min(1), description: languageMap.optional() });

export const activityDefinition = z.strictObject({
  name: languageMap.optional(),
  description: languageMap.optional(),
  type: iri.optional(),
  moreInfo: irl.optional(),
  extensions: extensions.optional(),
  interactionType: z.enum(['true-false', 'choice', 'fill-in', 'long-fill-in', 'matching', 'performance', 'sequencing', 'likert', 'numeric', 'other']).optional(),
  correctResponsesPattern: z.array(z.string()).optional(),
  choices: z.array(interactionComponent).optional(),
  scale: z.array(interactionComponent).optional(),
  source: z.array(interactionComponent).optional(),
  target: z.array(interactionComponent).optional(),
  steps: z.array(interactionComponent).optional(),
});

export const activity = z.strictObject({ objectType: z.literal('Activity').optional(), id: iri, definition: activityDefinition.optional() });
const statementRef = z.strictObject({ objectType: z.literal('StatementRef'), id: uuid });

export const score = z
  .strictObject({ scaled: z.number().min(-1).max(1).optional(), raw: z.number().optional(), min: z.number().optional(), max: z.number().optional() })
  .superRefine((value, context) => {
    if (value.min !== undefined && value.max !== undefined && value.min >= value.max) context.addIssue({ code: 'custom', path: ['max'], message: 'must be greater than min' });
    if (value.raw !== undefined && value.min !== undefined && value.raw < value.min) context.addIssue({ code: 'custom', path: ['raw'], message: 'must not be below min' });
    if (value.raw !== undefined && value.max !== undefined && value.raw > value.max) context.addIssue({ code: 'custom', path: ['raw'], message: 'must not be above max' });
  });

export const result = z.strictObject({
  score: score.optional(),
  success: z.boolean().optional(),
  completion: z.boolean().optional(),
  response: z.string().optional(),
  duration: isoDuration.optional(),
  extensions: extensions.optional(),
});

/** 1.0.3 lets a single Activity stand for a list of one; an LRS answers with arrays. */
const activities = z.union([z.array(activity), activity]);

export const context = z.strictObject({
  registration: uuid.optional(),
  instructor: actor.optional(),
  team: group.optional(),
  contextActivities: z.strictObject({ parent: activities.optional(), grouping: activities.optional(), category: activities.optional(), other: activities.optional() }).optional(),
  revision: z.string().optional(),
  platform: z.string().optional(),
  language: languageTag.optional(),
  statement: statementRef.optional(),
  extensions: extensions.optional(),
});

const attachment = z.strictObject({
  usageType: iri,
  display: languageMap,
  description: languageMap.optional(),
  contentType: z.string().min(1),
  length: z.int().min(0),
  sha2: z.string().regex(/^[0-9a-f]{56,128}$/i),
  fileUrl: irl.optional(),
});

/** Revision and platform describe an Activity: a Statement about an Agent or Group must not carry them (§2.4.6). */
const activityOnlyContext = (value: { object: { objectType?: string }; context?: { revision?: string; platform?: string } | undefined }, ctx: z.RefinementCtx) => {
  const kind = value.object.objectType ?? 'Activity';
  if (kind === 'Agent' || kind === 'Group') {
    if (value.context?.revision !== undefined) ctx.addIssue({ code: 'custom', path: ['context', 'revision'], message: 'must only be used when the object is an Activity' });
    if (value.context?.platform !== undefined) ctx.addIssue({ code: 'custom', path: ['context', 'platform'], message: 'must only be used when the object is an Activity' });
  }
};

const subStatement = z
  .strictObject({
    objectType: z.literal('SubStatement'),
    actor,
    verb,
    object: z.union([statementRef, group, agentObject, activity]),
    result: result.optional(),
    context: context.optional(),
    timestamp: timestamp.optional(),
    attachments: z.array(attachment).optional(),
  })
  .superRefine(activityOnlyContext);

/** The object: an Activity when objectType is absent. */
const statementObject = z.union([statementRef, subStatement, group, agentObject, activity]);

export const statement = z
  .strictObject({
    id: uuid.optional(),
    actor,
    verb,
    object: statementObject,
    result: result.optional(),
    context: context.optional(),
    timestamp: timestamp.optional(),
    stored: timestamp.optional(),
    authority: actor.optional(),
    version: z.string().regex(/^1\.0(\.\d+)?$/, 'must be a 1.0.x version').optional(),
    attachments: z.array(attachment).optional(),
  })
  .superRefine(activityOnlyContext);

export type Statement = z.infer<typeof statement>;
export type Agent = z.infer<typeof agent>;
export type Activity = z.infer<typeof activity>;

type Issue = z.core.$ZodIssue;

/** A union's own message says only "invalid input", a record's only "invalid key": what is inside says what is wrong. */
function explain(issue: Issue, at: readonly PropertyKey[]): string[] {
  const path = [...at, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const closest = [...issue.errors].sort((a, b) => a.length - b.length)[0] ?? [];
    return closest.flatMap((inner) => explain(inner, path));
  }
  if (issue.code === 'invalid_key' && issue.issues.length > 0) {
    return issue.issues.map((inner) => `${path.map(String).join('.')}: key ${inner.message}`);
  }
  return [`${path.map(String).join('.') || 'statement'}: ${issue.message}`];
}

/** Why a statement is not valid, one line per problem, naming where in it; empty when it is. */
export function statementProblems(value: unknown): string[] {
  const parsed = statement.safeParse(value);
  return parsed.success ? [] : parsed.error.issues.flatMap((issue) => explain(issue, []));
}
