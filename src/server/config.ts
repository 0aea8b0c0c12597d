// The portal's configuration: read from the environment once at start-up, validated, and passed
// down. Nothing else in the portal reads process.env, so a wrong value fails here, with a message
// that names the variable and says what it may be, instead of somewhere deep in a request.

import { randomBytes } from 'node:crypto';
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';

export type DatabaseConfig = { kind: 'sqlite'; file: string } | { kind: 'postgres'; url: string };

export type LabClusterConfig =
  | { mode: 'embedded'; dataDir: string }
  | {
      mode: 'kubernetes';
      /** Null: use the in-cluster service account. */
      kubeconfig: string | null;
    };

export interface OidcConfig {
  mode: 'oidc';
  issuer: string;
  clientId: string;
  clientSecret: string;
  redirectUrl: string;
  /** Asked for at sign-in; always includes `openid`. */
  scopes: string[];
  /** The claim (ID token or userinfo) that lists the learner's groups. */
  groupsClaim: string;
  /** Members of any of these groups get the role; checked again at every sign-in. */
  instructorGroups: string[];
  adminGroups: string[];
}

export type AuthConfig = { mode: 'dev' } | OidcConfig;

export interface XapiConfig {
  endpoint: string;
  username: string | null;
  password: string | null;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface PortalConfig {
  port: number;
  host: string;
  /** Absolute. */
  dataDir: string;
  database: DatabaseConfig;
  labCluster: LabClusterConfig;
  auth: AuthConfig;
  xapi: XapiConfig | null;
  logLevel: LogLevel;
  /** Labs one learner may have running at once (each holds a sandbox). */
  labSessionsPerLearner: number;
  /** Warm sandboxes kept ready: one number for every lab, or per lab id with `default` for the rest. */
  sandboxWarmPool: number | Record<string, number>;
  /** Sandboxes at once across every replica, warm ones included; null: no limit. */
  sandboxLimit: number | null;
  /** Learners' own clusters (labs with needs: cluster) at once; each is a process on this host (LAB_CLUSTER=embedded). */
  dedicatedClusterLimit: number;
  /** With LAB_CLUSTER=kubernetes: the portal image that learners' own clusters run as pods (DEDICATED_CLUSTER_IMAGE). */
  dedicatedClusterImage: string;
  /** Keys the OIDC sign-in cookie and the CSRF tokens; kept in DATA_DIR when not given, so it survives restarts. */
  sessionSecret: string;
}

/** What the environment says, before the data directory is touched. */
export type ParsedConfig = Omit<PortalConfig, 'sessionSecret'> & { sessionSecret: string | null };

export const VARIABLES = [
  'PORT',
  'HOST',
  'DATA_DIR',
  'DATABASE_URL',
  'LAB_CLUSTER',
  'KUBECONFIG',
  'AUTH',
  'OIDC_ISSUER',
  'OIDC_CLIENT_ID',
  'OIDC_CLIENT_SECRET',
  'OIDC_REDIRECT_URL',
  'OIDC_SCOPES',
  'OIDC_GROUPS_CLAIM',
  'OIDC_INSTRUCTOR_GROUPS',
  'OIDC_ADMIN_GROUPS',
  'XAPI_ENDPOINT',
  'XAPI_USERNAME',
  'XAPI_PASSWORD',
  'LOG_LEVEL',
  'SESSION_SECRET',
  'LAB_SESSIONS_PER_LEARNER',
  'SANDBOX_WARM_POOL',
  'SANDBOX_LIMIT',
  'DEDICATED_CLUSTER_LIMIT',
  'DEDICATED_CLUSTER_IMAGE',
] as const;
type Variable = (typeof VARIABLES)[number];

/**
 * Read by others, not by the portal: allowed, not unknown. The site build (siteContentRoot below);
 * every cluster's kubelet, the portal's own and the learners' dedicated ones alike, which inherit
 * the variable (identitySlicesDir in src/cluster).
 */
const VARIABLES_READ_ELSEWHERE: readonly string[] = ['FORMICARY_CONTENT_ROOT', 'FORMICARY_IDENTITY_SLICES_DIR'];

/**
 * Where the site build reads content/, labs/ and public/diagrams from: FORMICARY_CONTENT_ROOT
 * (tests build the site over a fixture project), else the project. astro.config.mjs and
 * src/content.config.ts ask here; nothing else reads the variable.
 */
export function siteContentRoot(projectRoot: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  return env.FORMICARY_CONTENT_ROOT ?? projectRoot;
}

/** Values never repeated in messages. */
const SECRET_VARIABLES = new Set<Variable>(['OIDC_CLIENT_SECRET', 'XAPI_PASSWORD', 'SESSION_SECRET']);

const SESSION_SECRET_FILE = 'session-secret';
const MIN_SECRET_LENGTH = 32;

export class ConfigError extends Error {
  readonly problems: string[];

  constructor(problems: string[]) {
    super(
      problems.length === 1
        ? `Invalid configuration: ${problems[0]}`
        : `Invalid configuration:\n${problems.map((p) => `  ${p}`).join('\n')}`,
    );
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

const httpUrl = z.url({ protocol: /^https?$/ });
const DEFAULT_OIDC_SCOPES = ['openid', 'profile', 'email'];
/** Addresses that never leave the machine: plain http is allowed there (a provider in a test, a laptop). */
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);
const port = z.coerce.number().int().min(0).max(65535);
const DEFAULT_LAB_SESSIONS_PER_LEARNER = 2;
const MAX_LAB_SESSIONS_PER_LEARNER = 20;
const labSessionCount = z.coerce.number().int().min(1).max(MAX_LAB_SESSIONS_PER_LEARNER);
const MAX_WARM_PER_LAB = 100;
const MAX_SANDBOXES = 100_000;
/** Each learner's own cluster is a process of about 150 MB: a handful per machine by default. */
const DEFAULT_DEDICATED_CLUSTERS = 4;
const MAX_DEDICATED_CLUSTERS = 200;
/** A lab id as labs/<id>/ names it, or `default`. */
const LAB_ID = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** PostgreSQL addresses name a password; messages show where the database is, never the password. */
export function redactUrl(value: string): string {
  return value.replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@]*):[^@/]*@/i, '$1:***@');
}

/**
 * Reads the configuration from `env` (process.env at start-up; any record in tests). Relative
 * paths resolve against `cwd`. Throws ConfigError listing every problem, one per variable.
 */
export function parseConfig(env: Readonly<Record<string, string | undefined>>, cwd: string): ParsedConfig {
  const problems: string[] = [];
  const value = (name: Variable): string | undefined => {
    const raw = env[name];
    // An exported-but-empty variable means "not set", as in most shells' `VAR= cmd`.
    return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  };
  const shown = (name: Variable, raw: string): string =>
    SECRET_VARIABLES.has(name) ? '(the given value)' : JSON.stringify(name === 'DATABASE_URL' ? redactUrl(raw) : raw);
  const oneOf = <const T extends readonly [string, ...string[]]>(name: Variable, allowed: T, fallback: T[number]) => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const parsed = z.enum(allowed).safeParse(raw);
    if (parsed.success) return parsed.data;
    problems.push(`${name}: ${shown(name, raw)} is not one of ${allowed.join(', ')}`);
    return fallback;
  };
  const url = (name: Variable, what: string): string | null => {
    const raw = value(name);
    if (raw === undefined) return null;
    if (httpUrl.safeParse(raw).success) return raw;
    problems.push(`${name}: ${shown(name, raw)} is not an http(s) URL (${what})`);
    return null;
  };
  // Sign-in secrets travel through these: plain http only where nothing leaves the machine.
  const secureUrl = (name: Variable, what: string): string | null => {
    const parsed = url(name, what);
    if (parsed === null) return null;
    const { protocol, host, hostname } = new URL(parsed);
    if (protocol === 'https:' || LOOPBACK_HOSTS.has(hostname)) return parsed;
    problems.push(`${name}: ${shown(name, parsed)} must use https (plain http is only allowed on 127.0.0.1 and localhost, not ${host})`);
    return null;
  };
  // A list of names; each entry trimmed; an empty entry is a typo worth naming.
  const list = (name: Variable, separator: RegExp): string[] | null => {
    const raw = value(name);
    if (raw === undefined) return null;
    const entries = raw.split(separator).map((entry) => entry.trim());
    if (entries.some((entry) => entry === '')) {
      problems.push(`${name}: ${shown(name, raw)} has an empty entry; separate names with ${separator.source === ',' ? 'commas' : 'spaces'}`);
      return null;
    }
    return entries;
  };

  for (const name of Object.keys(env)) {
    if (!name.startsWith('FORMICARY_') || VARIABLES_READ_ELSEWHERE.includes(name)) continue;
    const bare = name.slice('FORMICARY_'.length);
    const hint = (VARIABLES as readonly string[]).includes(bare) ? `; did you mean ${bare}?` : '';
    problems.push(`${name}: unknown variable; Formicary reads ${VARIABLES.join(', ')}${hint}`);
  }

  let listenPort = 4321;
  const rawPort = value('PORT');
  if (rawPort !== undefined) {
    const parsed = port.safeParse(/^\d+$/.test(rawPort) ? rawPort : Number.NaN);
    if (parsed.success) listenPort = parsed.data;
    else problems.push(`PORT: ${shown('PORT', rawPort)} is not a port number (an integer from 0 to 65535)`);
  }

  const host = value('HOST') ?? '127.0.0.1';
  const dataDir = path.resolve(cwd, value('DATA_DIR') ?? '.formicary');

  let database: DatabaseConfig = { kind: 'sqlite', file: path.join(dataDir, 'formicary.db') };
  const rawDatabase = value('DATABASE_URL');
  if (rawDatabase !== undefined) {
    const parsed = parseDatabaseUrl(rawDatabase, cwd);
    if (parsed) database = parsed;
    else
      problems.push(
        `DATABASE_URL: ${shown('DATABASE_URL', rawDatabase)} is not a SQLite address (sqlite:FILE) or a PostgreSQL address (postgres://USER:PASSWORD@HOST:PORT/DATABASE)`,
      );
  }

  const clusterMode = oneOf('LAB_CLUSTER', ['embedded', 'kubernetes'], 'embedded');
  const kubeconfig = value('KUBECONFIG');
  const labCluster: LabClusterConfig =
    clusterMode === 'embedded'
      ? { mode: 'embedded', dataDir: path.join(dataDir, 'cluster') }
      : { mode: 'kubernetes', kubeconfig: kubeconfig === undefined ? null : resolveKubeconfigList(kubeconfig, cwd) };

  const authMode = oneOf('AUTH', ['dev', 'oidc'], 'dev');
  let auth: AuthConfig = { mode: 'dev' };
  if (authMode === 'oidc') {
    const issuer = secureUrl('OIDC_ISSUER', 'the identity provider, e.g. https://login.example.com');
    const redirectUrl = secureUrl('OIDC_REDIRECT_URL', 'where the provider sends learners back, e.g. https://learn.example.com/auth/callback');
    if (redirectUrl !== null && !new URL(redirectUrl).pathname.endsWith('/auth/callback')) {
      problems.push(`OIDC_REDIRECT_URL: ${shown('OIDC_REDIRECT_URL', redirectUrl)} must end in /auth/callback, where the portal finishes the sign-in`);
    }
    const clientId = value('OIDC_CLIENT_ID');
    const clientSecret = value('OIDC_CLIENT_SECRET');
    const required: [Variable, unknown][] = [
      ['OIDC_ISSUER', issuer],
      ['OIDC_CLIENT_ID', clientId],
      ['OIDC_CLIENT_SECRET', clientSecret],
      ['OIDC_REDIRECT_URL', redirectUrl],
    ];
    for (const [name, given] of required) {
      if (given == null && value(name) === undefined) problems.push(`${name}: required when AUTH=oidc`);
    }
    const scopes = list('OIDC_SCOPES', /\s+/) ?? DEFAULT_OIDC_SCOPES;
    if (!scopes.includes('openid')) problems.push(`OIDC_SCOPES: ${shown('OIDC_SCOPES', scopes.join(' '))} must include openid`);
    const groupsClaim = value('OIDC_GROUPS_CLAIM') ?? 'groups';
    if (!/^[\w.:/-]+$/.test(groupsClaim)) {
      problems.push(`OIDC_GROUPS_CLAIM: ${shown('OIDC_GROUPS_CLAIM', groupsClaim)} is not a claim name (letters, digits and . _ : / -)`);
    }
    const instructorGroups = list('OIDC_INSTRUCTOR_GROUPS', /,/) ?? [];
    const adminGroups = list('OIDC_ADMIN_GROUPS', /,/) ?? [];
    if (issuer && clientId && clientSecret && redirectUrl) {
      auth = { mode: 'oidc', issuer, clientId, clientSecret, redirectUrl, scopes, groupsClaim, instructorGroups, adminGroups };
    }
  }

  let xapi: XapiConfig | null = null;
  const endpoint = url('XAPI_ENDPOINT', 'the LRS statements endpoint, e.g. https://lrs.example.com/xapi/');
  const username = value('XAPI_USERNAME') ?? null;
  const password = value('XAPI_PASSWORD') ?? null;
  if (value('XAPI_ENDPOINT') === undefined) {
    if (username !== null) problems.push('XAPI_USERNAME: set without XAPI_ENDPOINT; set both or neither');
    if (password !== null) problems.push('XAPI_PASSWORD: set without XAPI_ENDPOINT; set both or neither');
  } else if (username === null && password !== null) {
    problems.push('XAPI_USERNAME: required when XAPI_PASSWORD is set');
  } else if (username !== null && password === null) {
    problems.push('XAPI_PASSWORD: required when XAPI_USERNAME is set');
  }
  if (endpoint) xapi = { endpoint, username, password };

  const logLevel = oneOf('LOG_LEVEL', LOG_LEVELS, 'info');

  let labSessionsPerLearner = DEFAULT_LAB_SESSIONS_PER_LEARNER;
  const rawSessions = value('LAB_SESSIONS_PER_LEARNER');
  if (rawSessions !== undefined) {
    const parsed = labSessionCount.safeParse(/^\d+$/.test(rawSessions) ? rawSessions : Number.NaN);
    if (parsed.success) labSessionsPerLearner = parsed.data;
    else problems.push(`LAB_SESSIONS_PER_LEARNER: ${shown('LAB_SESSIONS_PER_LEARNER', rawSessions)} is not a number of labs a learner may run at once (a whole number from 1 to ${MAX_LAB_SESSIONS_PER_LEARNER})`);
  }

  let sandboxWarmPool: number | Record<string, number> = 0;
  const rawPool = value('SANDBOX_WARM_POOL');
  if (rawPool !== undefined) {
    const parsed = parseWarmPool(rawPool);
    if (typeof parsed === 'string') problems.push(`SANDBOX_WARM_POOL: ${shown('SANDBOX_WARM_POOL', rawPool)} ${parsed}`);
    else sandboxWarmPool = parsed;
  }

  let sandboxLimit: number | null = null;
  const rawLimit = value('SANDBOX_LIMIT');
  if (rawLimit !== undefined) {
    const parsed = /^\d+$/.test(rawLimit) ? Number(rawLimit) : Number.NaN;
    if (Number.isInteger(parsed) && parsed >= 1 && parsed <= MAX_SANDBOXES) sandboxLimit = parsed;
    else problems.push(`SANDBOX_LIMIT: ${shown('SANDBOX_LIMIT', rawLimit)} is not a number of sandboxes (a whole number from 1 to ${MAX_SANDBOXES}; leave it unset for no limit)`);
  }
  if (sandboxLimit !== null) {
    const warm = typeof sandboxWarmPool === 'number' ? sandboxWarmPool : Math.max(0, ...Object.values(sandboxWarmPool));
    if (warm > sandboxLimit) problems.push(`SANDBOX_WARM_POOL: asks for ${warm} warm sandboxes of one lab, more than SANDBOX_LIMIT (${sandboxLimit}) allows in all`);
  }

  let dedicatedClusterLimit = DEFAULT_DEDICATED_CLUSTERS;
  const rawDedicated = value('DEDICATED_CLUSTER_LIMIT');
  if (rawDedicated !== undefined) {
    const parsed = /^\d+$/.test(rawDedicated) ? Number(rawDedicated) : Number.NaN;
    if (Number.isInteger(parsed) && parsed >= 0 && parsed <= MAX_DEDICATED_CLUSTERS) dedicatedClusterLimit = parsed;
    else problems.push(`DEDICATED_CLUSTER_LIMIT: ${shown('DEDICATED_CLUSTER_LIMIT', rawDedicated)} is not a number of learners' own clusters (a whole number from 0 to ${MAX_DEDICATED_CLUSTERS}; 0 turns labs with needs: cluster off)`);
  }

  const dedicatedClusterImage = value('DEDICATED_CLUSTER_IMAGE') ?? 'formicary/portal:0.1.0';
  // A reference as the runtime parses it: lower-case repository path, an optional :tag and @sha256 digest.
  if (!/^[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[\w][\w.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/.test(dedicatedClusterImage)) {
    problems.push(`DEDICATED_CLUSTER_IMAGE: ${shown('DEDICATED_CLUSTER_IMAGE', dedicatedClusterImage)} is not an image reference (such as registry.example.com/formicary/portal:0.1.0)`);
  }

  const sessionSecret = value('SESSION_SECRET') ?? null;
  if (sessionSecret !== null && sessionSecret.length < MIN_SECRET_LENGTH) {
    problems.push(`SESSION_SECRET: too short; use at least ${MIN_SECRET_LENGTH} random characters, or leave it unset to have one generated in DATA_DIR`);
  }

  if (problems.length > 0) throw new ConfigError(problems);
  return { port: listenPort, host, dataDir, database, labCluster, auth, xapi, logLevel, labSessionsPerLearner, sandboxWarmPool, sandboxLimit, dedicatedClusterLimit, dedicatedClusterImage, sessionSecret };
}

/**
 * SANDBOX_WARM_POOL: `2` (every lab) or `deploy-and-expose=3,default=0` (per lab id, `default`
 * for the labs not named). Returns the pool, or what is wrong with the value.
 */
function parseWarmPool(raw: string): number | Record<string, number> | string {
  const count = (text: string): number | null => (/^\d+$/.test(text) && Number(text) <= MAX_WARM_PER_LAB ? Number(text) : null);
  if (/^\d+$/.test(raw)) return count(raw) ?? `is more warm sandboxes than ${MAX_WARM_PER_LAB} per lab`;
  const pool: Record<string, number> = {};
  for (const entry of raw.split(',').map((part) => part.trim())) {
    const match = /^([^=\s]+)\s*=\s*(\S+)$/.exec(entry);
    if (!match?.[1] || match[2] === undefined) return `has the entry ${JSON.stringify(entry)}; write LAB=COUNT entries separated by commas, e.g. deploy-and-expose=3,default=0, or one number for every lab`;
    const [, lab, size] = match;
    if (!LAB_ID.test(lab)) return `names ${JSON.stringify(lab)}, which is not a lab id (lowercase letters, digits and -)`;
    if (lab in pool) return `names ${lab} twice`;
    const parsed = count(size);
    if (parsed === null) return `gives ${lab} ${JSON.stringify(size)}; a count is a whole number from 0 to ${MAX_WARM_PER_LAB}`;
    pool[lab] = parsed;
  }
  return pool;
}

function parseDatabaseUrl(raw: string, cwd: string): DatabaseConfig | null {
  if (/^postgres(ql)?:\/\//i.test(raw)) {
    try {
      new URL(raw);
    } catch {
      return null;
    }
    return { kind: 'postgres', url: raw };
  }
  const sqlite = /^sqlite:(?:\/\/)?(.+)$/i.exec(raw);
  if (!sqlite?.[1]) return null;
  const file = sqlite[1];
  return { kind: 'sqlite', file: file === ':memory:' ? file : path.resolve(cwd, file) };
}

/** KUBECONFIG may list several files, as kubectl allows; each is resolved, the list kept. */
function resolveKubeconfigList(raw: string, cwd: string): string {
  return raw
    .split(path.delimiter)
    .filter((entry) => entry !== '')
    .map((entry) => path.resolve(cwd, entry))
    .join(path.delimiter);
}

/**
 * The configuration the portal runs with: parseConfig, then the data directory is created and a
 * session secret is read from (or generated into) it when SESSION_SECRET is not set.
 */
export async function loadConfig(
  env: Readonly<Record<string, string | undefined>> = process.env,
  cwd: string = process.cwd(),
): Promise<PortalConfig> {
  const parsed = parseConfig(env, cwd);
  await mkdir(parsed.dataDir, { recursive: true });
  const sessionSecret = parsed.sessionSecret ?? (await keptSessionSecret(parsed.dataDir));
  return { ...parsed, sessionSecret };
}

async function keptSessionSecret(dataDir: string): Promise<string> {
  const file = path.join(dataDir, SESSION_SECRET_FILE);
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  const generated = randomBytes(32).toString('base64url');
  await writeFile(draft, `${generated}\n`, { mode: 0o600 });
  try {
    // link() is atomic and refuses an existing name: of two portals starting at once, the first
    // one's secret is the one both keep, and nobody reads a half-written file.
    await link(draft, file);
    return generated;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    await rm(draft, { force: true });
  }
  const kept = (await readFile(file, 'utf8')).trim();
  if (kept.length < MIN_SECRET_LENGTH) {
    throw new ConfigError([
      `SESSION_SECRET: the kept secret in ${file} is shorter than ${MIN_SECRET_LENGTH} characters; delete the file to have a new one generated`,
    ]);
  }
  return kept;
}
