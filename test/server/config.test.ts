import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseConfig, redactUrl } from '../../src/server/config.ts';

const cwd = '/srv/formicary';

function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env, cwd);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(env)} to be rejected`);
}

const oidc = {
  AUTH: 'oidc',
  OIDC_ISSUER: 'https://login.example.com',
  OIDC_CLIENT_ID: 'formicary',
  OIDC_CLIENT_SECRET: 'client-secret-value',
  OIDC_REDIRECT_URL: 'https://learn.example.com/auth/callback',
};

describe('parseConfig', () => {
  it('gives the embedded-mode defaults for an empty environment', () => {
    expect(parseConfig({}, cwd)).toEqual({
      port: 4321,
      host: '127.0.0.1',
      dataDir: '/srv/formicary/.formicary',
      database: { kind: 'sqlite', file: '/srv/formicary/.formicary/formicary.db' },
      labCluster: { mode: 'embedded', dataDir: '/srv/formicary/.formicary/cluster' },
      auth: { mode: 'dev' },
      xapi: null,
      logLevel: 'info',
      labSessionsPerLearner: 2,
      sandboxWarmPool: 0,
      sandboxLimit: null,
      dedicatedClusterLimit: 4,
      dedicatedClusterImage: 'formicary/portal:0.1.0',
      sessionSecret: null,
    });
  });

  it('ignores unrelated variables and treats empty values as unset', () => {
    const config = parseConfig({ PATH: '/usr/bin', HOME: '/root', PORT: '', LAB_CLUSTER: ' ' }, cwd);
    expect(config.port).toBe(4321);
    expect(config.labCluster.mode).toBe('embedded');
  });

  it('reads PORT and HOST', () => {
    expect(parseConfig({ PORT: '8080', HOST: '0.0.0.0' }, cwd)).toMatchObject({ port: 8080, host: '0.0.0.0' });
    expect(parseConfig({ PORT: '0' }, cwd).port).toBe(0);
  });

  it.each(['http', '-1', '65536', '80.5', '1e3'])('rejects PORT=%s naming the variable', (value) => {
    expect(problemsOf({ PORT: value })).toEqual([
      `PORT: ${JSON.stringify(value)} is not a port number (an integer from 0 to 65535)`,
    ]);
  });

  it('resolves DATA_DIR against the working directory and keeps the database in it', () => {
    const config = parseConfig({ DATA_DIR: 'state' }, cwd);
    expect(config.dataDir).toBe('/srv/formicary/state');
    expect(config.database).toEqual({ kind: 'sqlite', file: '/srv/formicary/state/formicary.db' });
    expect(config.labCluster).toEqual({ mode: 'embedded', dataDir: '/srv/formicary/state/cluster' });
    expect(parseConfig({ DATA_DIR: '/var/lib/formicary' }, cwd).dataDir).toBe('/var/lib/formicary');
  });

  it.each([
    ['postgres://learn:pw@db:5432/formicary', { kind: 'postgres', url: 'postgres://learn:pw@db:5432/formicary' }],
    ['postgresql://db/formicary', { kind: 'postgres', url: 'postgresql://db/formicary' }],
    ['sqlite:data/portal.db', { kind: 'sqlite', file: '/srv/formicary/data/portal.db' }],
    ['sqlite:///tmp/portal.db', { kind: 'sqlite', file: '/tmp/portal.db' }],
    ['sqlite::memory:', { kind: 'sqlite', file: ':memory:' }],
  ])('reads DATABASE_URL=%s', (value, database) => {
    expect(parseConfig({ DATABASE_URL: value }, cwd).database).toEqual(database);
  });

  it('rejects other DATABASE_URLs without repeating the password', () => {
    const [problem] = problemsOf({ DATABASE_URL: 'mysql://root:hunter2@db/formicary' });
    expect(problem).toBe(
      'DATABASE_URL: "mysql://root:***@db/formicary" is not a SQLite address (sqlite:FILE) or a PostgreSQL address (postgres://USER:PASSWORD@HOST:PORT/DATABASE)',
    );
    expect(problemsOf({ DATABASE_URL: 'sqlite:' })[0]).toMatch(/^DATABASE_URL: "sqlite:" is not/);
  });

  it('reads LAB_CLUSTER and KUBECONFIG', () => {
    expect(parseConfig({ LAB_CLUSTER: 'kubernetes', KUBECONFIG: 'kube/config' }, cwd).labCluster).toEqual({
      mode: 'kubernetes',
      kubeconfig: '/srv/formicary/kube/config',
    });
    expect(parseConfig({ LAB_CLUSTER: 'kubernetes', KUBECONFIG: '/a:b' }, cwd).labCluster).toEqual({
      mode: 'kubernetes',
      kubeconfig: '/a:/srv/formicary/b',
    });
    expect(parseConfig({ LAB_CLUSTER: 'kubernetes' }, cwd).labCluster).toEqual({ mode: 'kubernetes', kubeconfig: null });
  });

  it('rejects an unknown LAB_CLUSTER listing what is allowed', () => {
    expect(problemsOf({ LAB_CLUSTER: 'kind' })).toEqual(['LAB_CLUSTER: "kind" is not one of embedded, kubernetes']);
  });

  it('reads AUTH=oidc with its four settings', () => {
    expect(parseConfig(oidc, cwd).auth).toMatchObject({
      mode: 'oidc',
      issuer: 'https://login.example.com',
      clientId: 'formicary',
      clientSecret: 'client-secret-value',
      redirectUrl: 'https://learn.example.com/auth/callback',
    });
  });

  it('rejects an unknown AUTH', () => {
    expect(problemsOf({ AUTH: 'saml' })).toEqual(['AUTH: "saml" is not one of dev, oidc']);
  });

  it('requires every OIDC setting when AUTH=oidc and names each missing one', () => {
    expect(problemsOf({ AUTH: 'oidc' })).toEqual([
      'OIDC_ISSUER: required when AUTH=oidc',
      'OIDC_CLIENT_ID: required when AUTH=oidc',
      'OIDC_CLIENT_SECRET: required when AUTH=oidc',
      'OIDC_REDIRECT_URL: required when AUTH=oidc',
    ]);
  });

  it('rejects OIDC URLs that are not http(s)', () => {
    const problems = problemsOf({ ...oidc, OIDC_ISSUER: 'login.example.com', OIDC_REDIRECT_URL: 'ftp://x/cb' });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^OIDC_ISSUER: "login.example.com" is not an http\(s\) URL/);
    expect(problems[1]).toMatch(/^OIDC_REDIRECT_URL: "ftp:\/\/x\/cb" is not an http\(s\) URL/);
  });

  it('reads the optional xAPI settings', () => {
    expect(parseConfig({ XAPI_ENDPOINT: 'https://lrs.example.com/xapi/' }, cwd).xapi).toEqual({
      endpoint: 'https://lrs.example.com/xapi/',
      username: null,
      password: null,
    });
    expect(
      parseConfig({ XAPI_ENDPOINT: 'https://lrs.example.com/xapi/', XAPI_USERNAME: 'key', XAPI_PASSWORD: 'pw' }, cwd).xapi,
    ).toEqual({ endpoint: 'https://lrs.example.com/xapi/', username: 'key', password: 'pw' });
  });

  it('rejects xAPI credentials without an endpoint, half credentials and a bad endpoint', () => {
    expect(problemsOf({ XAPI_USERNAME: 'key', XAPI_PASSWORD: 'pw' })).toEqual([
      'XAPI_USERNAME: set without XAPI_ENDPOINT; set both or neither',
      'XAPI_PASSWORD: set without XAPI_ENDPOINT; set both or neither',
    ]);
    expect(problemsOf({ XAPI_ENDPOINT: 'https://lrs.example.com/', XAPI_PASSWORD: 'pw' })).toEqual([
      'XAPI_USERNAME: required when XAPI_PASSWORD is set',
    ]);
    expect(problemsOf({ XAPI_ENDPOINT: 'lrs' })[0]).toMatch(/^XAPI_ENDPOINT: "lrs" is not an http\(s\) URL/);
  });

  it('reads LOG_LEVEL and rejects unknown levels', () => {
    expect(parseConfig({ LOG_LEVEL: 'debug' }, cwd).logLevel).toBe('debug');
    expect(problemsOf({ LOG_LEVEL: 'verbose' })).toEqual([
      'LOG_LEVEL: "verbose" is not one of fatal, error, warn, info, debug, trace, silent',
    ]);
  });

  it('reads LAB_SESSIONS_PER_LEARNER as a whole number of labs and names the variable when it is not one', () => {
    expect(parseConfig({ LAB_SESSIONS_PER_LEARNER: '3' }, cwd).labSessionsPerLearner).toBe(3);
    for (const bad of ['0', 'two', '1.5', '-1', '21']) {
      expect(problemsOf({ LAB_SESSIONS_PER_LEARNER: bad }), bad).toEqual([
        `LAB_SESSIONS_PER_LEARNER: "${bad}" is not a number of labs a learner may run at once (a whole number from 1 to 20)`,
      ]);
    }
  });

  it('reads SANDBOX_WARM_POOL as one number for every lab or per lab, and names the variable and the entry when it is wrong', () => {
    expect(parseConfig({ SANDBOX_WARM_POOL: '2' }, cwd).sandboxWarmPool).toBe(2);
    expect(parseConfig({ SANDBOX_WARM_POOL: 'deploy-and-expose=3, default=0' }, cwd).sandboxWarmPool).toEqual({ 'deploy-and-expose': 3, default: 0 });
    expect(problemsOf({ SANDBOX_WARM_POOL: 'deploy-and-expose:3' })).toEqual([
      'SANDBOX_WARM_POOL: "deploy-and-expose:3" has the entry "deploy-and-expose:3"; write LAB=COUNT entries separated by commas, e.g. deploy-and-expose=3,default=0, or one number for every lab',
    ]);
    expect(problemsOf({ SANDBOX_WARM_POOL: 'Deploy=1' })).toEqual(['SANDBOX_WARM_POOL: "Deploy=1" names "Deploy", which is not a lab id (lowercase letters, digits and -)']);
    expect(problemsOf({ SANDBOX_WARM_POOL: 'a=1,a=2' })).toEqual(['SANDBOX_WARM_POOL: "a=1,a=2" names a twice']);
    expect(problemsOf({ SANDBOX_WARM_POOL: 'a=-1' })).toEqual(['SANDBOX_WARM_POOL: "a=-1" gives a "-1"; a count is a whole number from 0 to 100']);
    expect(problemsOf({ SANDBOX_WARM_POOL: '101' })).toEqual(['SANDBOX_WARM_POOL: "101" is more warm sandboxes than 100 per lab']);
  });

  it('reads DEDICATED_CLUSTER_LIMIT, where 0 turns labs with needs: cluster off', () => {
    expect(parseConfig({ DEDICATED_CLUSTER_LIMIT: '0' }, cwd).dedicatedClusterLimit).toBe(0);
    expect(parseConfig({ DEDICATED_CLUSTER_LIMIT: '12' }, cwd).dedicatedClusterLimit).toBe(12);
    for (const bad of ['-1', 'lots', '201']) {
      expect(problemsOf({ DEDICATED_CLUSTER_LIMIT: bad }), bad).toEqual([
        `DEDICATED_CLUSTER_LIMIT: "${bad}" is not a number of learners' own clusters (a whole number from 0 to 200; 0 turns labs with needs: cluster off)`,
      ]);
    }
  });

  it('reads DEDICATED_CLUSTER_IMAGE, the portal image learners\' own clusters run from on LAB_CLUSTER=kubernetes', () => {
    expect(parseConfig({ DEDICATED_CLUSTER_IMAGE: 'registry.example.com:5000/learning/formicary-portal:1.4.2' }, cwd).dedicatedClusterImage).toBe('registry.example.com:5000/learning/formicary-portal:1.4.2');
    for (const bad of ['Formicary/Portal', 'portal:', 'a b']) {
      expect(problemsOf({ DEDICATED_CLUSTER_IMAGE: bad }), bad).toEqual([`DEDICATED_CLUSTER_IMAGE: "${bad}" is not an image reference (such as registry.example.com/formicary/portal:0.1.0)`]);
    }
  });

  it('reads SANDBOX_LIMIT and refuses a warm pool that would not fit under it', () => {
    expect(parseConfig({ SANDBOX_LIMIT: '5000' }, cwd).sandboxLimit).toBe(5000);
    for (const bad of ['0', 'many', '2.5']) {
      expect(problemsOf({ SANDBOX_LIMIT: bad }), bad).toEqual([
        `SANDBOX_LIMIT: "${bad}" is not a number of sandboxes (a whole number from 1 to 100000; leave it unset for no limit)`,
      ]);
    }
    expect(problemsOf({ SANDBOX_LIMIT: '2', SANDBOX_WARM_POOL: 'deploy-and-expose=3' })).toEqual([
      'SANDBOX_WARM_POOL: asks for 3 warm sandboxes of one lab, more than SANDBOX_LIMIT (2) allows in all',
    ]);
  });

  it('takes a long enough SESSION_SECRET and never repeats a short one', () => {
    const secret = 'x'.repeat(40);
    expect(parseConfig({ SESSION_SECRET: secret }, cwd).sessionSecret).toBe(secret);
    const problems = problemsOf({ SESSION_SECRET: 'short-secret' });
    expect(problems).toEqual([
      'SESSION_SECRET: too short; use at least 32 random characters, or leave it unset to have one generated in DATA_DIR',
    ]);
  });

  it('rejects unknown FORMICARY_* variables and points at the real name', () => {
    expect(problemsOf({ FORMICARY_PORT: '80' })[0]).toMatch(/^FORMICARY_PORT: unknown variable; Formicary reads PORT, HOST, .*; did you mean PORT\?$/);
    expect(problemsOf({ FORMICARY_THEME: 'dark' })[0]).toMatch(/^FORMICARY_THEME: unknown variable; Formicary reads PORT/);
  });

  it('lets the site build’s FORMICARY_CONTENT_ROOT through', () => {
    expect(parseConfig({ FORMICARY_CONTENT_ROOT: '/tmp/fixture' }, cwd).port).toBe(4321);
  });

  it('lets the clusters’ FORMICARY_IDENTITY_SLICES_DIR through', () => {
    expect(parseConfig({ FORMICARY_IDENTITY_SLICES_DIR: '/srv/formicary/identity-slices' }, cwd).port).toBe(4321);
  });

  it('reports every problem at once, one line per variable', () => {
    try {
      parseConfig({ PORT: 'x', LAB_CLUSTER: 'kind' }, cwd);
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as Error).message).toBe(
        'Invalid configuration:\n  PORT: "x" is not a port number (an integer from 0 to 65535)\n  LAB_CLUSTER: "kind" is not one of embedded, kubernetes',
      );
    }
  });

  it('never puts a secret value in a message', () => {
    const problems = problemsOf({ ...oidc, OIDC_ISSUER: 'nope', XAPI_PASSWORD: 'lrs-password' });
    expect(problems.join('\n')).not.toContain('client-secret-value');
    expect(problems.join('\n')).not.toContain('lrs-password');
  });
});

describe('redactUrl', () => {
  it('hides the password of a URL and keeps the rest', () => {
    expect(redactUrl('postgres://learn:s3cret@db:5432/formicary')).toBe('postgres://learn:***@db:5432/formicary');
    expect(redactUrl('postgres://db/formicary')).toBe('postgres://db/formicary');
  });
});

describe('loadConfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'formicary-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('creates DATA_DIR and generates a session secret kept there for the next start', async () => {
    const first = await loadConfig({ DATA_DIR: 'data' }, dir);
    expect(first.sessionSecret.length).toBeGreaterThanOrEqual(32);
    const file = path.join(dir, 'data', 'session-secret');
    expect((await readFile(file, 'utf8')).trim()).toBe(first.sessionSecret);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const second = await loadConfig({ DATA_DIR: 'data' }, dir);
    expect(second.sessionSecret).toBe(first.sessionSecret);
  });

  it('agrees on one secret when two portals start at once', async () => {
    const secrets = await Promise.all([1, 2, 3].map(() => loadConfig({ DATA_DIR: 'data' }, dir)));
    expect(new Set(secrets.map((c) => c.sessionSecret)).size).toBe(1);
  });

  it('uses SESSION_SECRET when given and writes nothing', async () => {
    const config = await loadConfig({ DATA_DIR: 'data', SESSION_SECRET: 's'.repeat(32) }, dir);
    expect(config.sessionSecret).toBe('s'.repeat(32));
    await expect(stat(path.join(dir, 'data', 'session-secret'))).rejects.toThrow(/ENOENT/);
  });
});
