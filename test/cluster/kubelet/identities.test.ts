// Sandbox identities are unique on the host, not only in one cluster: clusters claim slices of the
// range in one host-wide directory, keep them across restarts, take over the slices of clusters
// whose data dir is gone, and never share one, even when processes claim at the same moment.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IDENTITY_SLICE_SIZE, IDENTITY_SLICES_VARIABLE, identitySlicesDir } from '../../../src/cluster/kubelet/sandbox/identity-slices.ts';
import { SandboxIdentities } from '../../../src/cluster/kubelet/sandbox/identities.ts';

/** A range of its own for each test, far from the real one: ten slices. */
const range = { first: 7_000_000, size: 10 * IDENTITY_SLICE_SIZE };
let root: string;
let slicesDir: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'formicary-identities-test-'));
  slicesDir = join(root, 'identity-slices');
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A cluster's data dir and its kubelet state file. */
function dataDir(name: string): string {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  return join(dir, 'sandbox-identities.json');
}

function identities(file: string, warnings: string[] = []): SandboxIdentities {
  return new SandboxIdentities(file, { range, slicesDir, warn: (message) => warnings.push(message) });
}

/** Fills the rest of the cluster's current slice, so its next identity needs a new one. */
function fill(cluster: SandboxIdentities, prefix: string, count: number): number[] {
  return Array.from({ length: count }, (_, index) => cluster.of(`${prefix}-${index}`).uid);
}

describe('sandbox identities across clusters on one host', () => {
  it('gives the first sandboxes of two clusters different host uids and gids, supplementary groups included', () => {
    const shared = identities(dataDir('shared'));
    const dedicated = identities(dataDir('dedicated'));
    const a = shared.of('sandbox-alice');
    const b = dedicated.of('sandbox-alice');
    expect(a.uid).not.toBe(b.uid);
    expect(a.gid).not.toBe(b.gid);
    const aGroups = shared.groupsOf('sandbox-alice', [2000, 3000]).map((group) => group.host);
    const bGroups = dedicated.groupsOf('sandbox-alice', [2000, 3000]).map((group) => group.host);
    const all = [a.uid, b.uid, ...aGroups, ...bGroups];
    expect(new Set(all).size).toBe(all.length);
    // Each cluster stays in a slice of its own.
    const slice = (id: number) => Math.floor((id - range.first) / IDENTITY_SLICE_SIZE);
    expect(new Set([a.uid, ...aGroups].map(slice))).toEqual(new Set([slice(a.uid)]));
    expect(new Set([b.uid, ...bGroups].map(slice))).toEqual(new Set([slice(b.uid)]));
    expect(slice(a.uid)).not.toBe(slice(b.uid));
  });

  it('claims another slice when its own are full, one no other cluster holds', () => {
    const first = identities(dataDir('first'));
    const second = identities(dataDir('second'));
    const theirs = second.of('sandbox-bob').uid;
    expect(theirs).toBe(range.first);
    // first's first slice is the next one; its 1001st sandbox needs a third, past second's.
    const mine = fill(first, 'ns', IDENTITY_SLICE_SIZE + 1);
    expect(mine[0]).toBe(range.first + IDENTITY_SLICE_SIZE);
    expect(mine.at(-2)).toBe(range.first + 2 * IDENTITY_SLICE_SIZE - 1);
    expect(mine.at(-1)).toBe(range.first + 2 * IDENTITY_SLICE_SIZE);
    expect(second.of('sandbox-carol').uid).toBe(range.first + 1);
  });

  it('keeps every sandbox its ids across a restart, and its slices', () => {
    const file = dataDir('cluster');
    const before = identities(file);
    const alice = before.of('sandbox-alice');
    const groups = before.groupsOf('sandbox-alice', [2000]);
    const other = identities(dataDir('other'));
    const otherUid = other.of('sandbox-bob').uid;
    const restarted = identities(file);
    expect(restarted.of('sandbox-alice')).toEqual(alice);
    expect(restarted.groupsOf('sandbox-alice', [2000])).toEqual(groups);
    const carol = restarted.of('sandbox-carol').uid;
    expect([alice.uid, groups[0]?.host, otherUid]).not.toContain(carol);
    // Still the same slice: the restart claimed nothing new.
    expect(Math.floor((carol - range.first) / IDENTITY_SLICE_SIZE)).toBe(Math.floor((alice.uid - range.first) / IDENTITY_SLICE_SIZE));
  });

  it("reuses the slice of a cluster whose data dir was deleted, and leaves no claim of it behind", () => {
    const gone = dataDir('gone');
    const earlier = identities(gone).of('sandbox-alice').uid;
    rmSync(join(root, 'gone'), { recursive: true });
    const next = identities(dataDir('next'));
    expect(next.of('sandbox-bob').uid).toBe(earlier);
    // One claim a slice: the deleted cluster's generation was removed when it was taken over.
    expect(readdirSync(slicesDir).sort()).toEqual([`${range.first}.1`]);
    // Many clusters made and deleted (test suites, day after day) never use the range up.
    for (let round = 0; round < 3 * (range.size / IDENTITY_SLICE_SIZE); round++) {
      const file = dataDir(`round-${round}`);
      identities(file).of('sandbox-alice');
      rmSync(join(root, `round-${round}`), { recursive: true });
    }
    expect(readdirSync(slicesDir).length).toBeLessThanOrEqual(2);
  });

  it('says which directory holds the claims when every slice is held by a live cluster', () => {
    const small = { first: range.first, size: IDENTITY_SLICE_SIZE };
    new SandboxIdentities(dataDir('holder'), { range: small, slicesDir }).of('sandbox-alice');
    const late = new SandboxIdentities(dataDir('late'), { range: small, slicesDir });
    expect(() => late.of('sandbox-bob')).toThrow(`every sandbox identity in 7000000–7000999 is taken: this cluster's and the slices other clusters on this host hold (claims in ${slicesDir}; a claim whose cluster's data dir is deleted is taken over)`);
  });

  it('says which directory could not be made, and why', () => {
    writeFileSync(join(root, 'a-file'), '');
    const blocked = new SandboxIdentities(dataDir('blocked'), { range, slicesDir: join(root, 'a-file', 'formicary', 'identity-slices') });
    expect(() => blocked.of('sandbox-alice')).toThrow(`the directory where this host's clusters claim sandbox identities, ${join(root, 'a-file', 'formicary', 'identity-slices')}, could not be made: ENOTDIR`);
  });

  it('keeps the ids of a state file from before slices (files on disk keep their owners), and claims their slices', () => {
    const file = dataDir('legacy');
    writeFileSync(file, JSON.stringify({ first: range.first, size: range.size, namespaces: { 'sandbox-alice': 0, 'sandbox-bob': 1, 'sandbox-alice/gid/2000': 1500 } }));
    const legacy = identities(file);
    expect(legacy.of('sandbox-alice').uid).toBe(range.first);
    expect(legacy.of('sandbox-bob').uid).toBe(range.first + 1);
    expect(legacy.groupsOf('sandbox-alice', [2000])).toEqual([{ inside: 2000, host: range.first + 1500 }]);
    const state = JSON.parse(readFileSync(file, 'utf8')) as { slices: Record<string, string> };
    expect(Object.keys(state.slices).sort()).toEqual([String(range.first), String(range.first + IDENTITY_SLICE_SIZE)]);
    // Another cluster now stays out of both.
    const other = identities(dataDir('other')).of('sandbox-alice').uid;
    expect(other).toBeGreaterThanOrEqual(range.first + 2 * IDENTITY_SLICE_SIZE);
  });

  it("gives new ids to an old state file's sandboxes whose slice a live cluster holds, and says so", () => {
    const holder = identities(dataDir('holder'));
    const held = holder.of('sandbox-alice').uid;
    const file = dataDir('legacy');
    writeFileSync(file, JSON.stringify({ first: range.first, size: range.size, namespaces: { 'sandbox-bob': held - range.first } }));
    const warnings: string[] = [];
    const legacy = identities(file, warnings);
    const bob = legacy.of('sandbox-bob').uid;
    expect(bob).not.toBe(held);
    expect(warnings).toEqual([`sandbox identities 7000000–7000999 are held by another cluster on this host (claims in ${slicesDir}): sandbox-bob get new ones; files they made keep the old owner`]);
  });

  it('never gives two processes claiming at the same moment the same slice, fresh or taken over', async () => {
    // Four slices of clusters whose data dirs are gone, for the processes to take over together.
    for (let index = 0; index < 4; index++) {
      const gone = identities(dataDir(`gone-${index}`));
      fill(gone, 'ns', 1);
      rmSync(join(root, `gone-${index}`), { recursive: true });
    }
    const script = join(root, 'claim.ts');
    writeFileSync(
      script,
      `import { SandboxIdentities } from ${JSON.stringify(resolve('src/cluster/kubelet/sandbox/identities.ts'))};
const [file, slicesDir, start] = process.argv.slice(2);
while (Date.now() < Number(start)) {}
const cluster = new SandboxIdentities(file, { range: ${JSON.stringify(range)}, slicesDir });
const uids = [];
for (let index = 0; index < ${IDENTITY_SLICE_SIZE + 1}; index++) uids.push(cluster.of('ns-' + index).uid);
process.stdout.write(JSON.stringify(uids));
`,
    );
    const start = Date.now() + 1500;
    const processes = 5;
    const runs = await Promise.all(
      Array.from({ length: processes }, (_, index) => {
        const file = dataDir(`racer-${index}`);
        return new Promise<{ code: number | null; stdout: string; stderr: string; file: string }>((done) => {
          const child = spawn(process.execPath, [script, file, slicesDir, String(start)], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
          child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
          child.on('close', (code) => done({ code, stdout, stderr, file }));
        });
      }),
    );
    for (const run of runs) expect(run.stderr, run.file).toBe('');
    expect(runs.map((run) => run.code)).toEqual(Array.from({ length: processes }, () => 0));
    const uids = runs.flatMap((run) => JSON.parse(run.stdout) as number[]);
    expect(new Set(uids).size).toBe(processes * (IDENTITY_SLICE_SIZE + 1));
    // Two slices each, ten in all: every slice has one claim, naming the state file that lists it.
    const owners = new Map<string, string>();
    for (const run of runs) {
      const state = JSON.parse(readFileSync(run.file, 'utf8')) as { slices: Record<string, string> };
      expect(Object.keys(state.slices)).toHaveLength(2);
      for (const [first, token] of Object.entries(state.slices)) {
        expect(owners.has(first), `slice ${first}`).toBe(false);
        owners.set(first, run.file);
        const claims = readdirSync(slicesDir).filter((name) => name.startsWith(`${first}.`));
        expect(claims, `slice ${first}`).toHaveLength(1);
        expect(JSON.parse(readFileSync(join(slicesDir, claims[0] ?? ''), 'utf8'))).toEqual({ state: run.file, token });
      }
    }
    expect(owners.size).toBe(range.size / IDENTITY_SLICE_SIZE);
  }, 90_000);
});

describe('claims of one slice racing', () => {
  /** Runs `processes` copies of a script at the same moment; each prints JSON. */
  async function race(script: string, argsOf: (index: number) => string[], processes: number): Promise<unknown[]> {
    const start = Date.now() + 1500;
    const runs = await Promise.all(
      Array.from({ length: processes }, (_, index) => {
        return new Promise<{ code: number | null; stdout: string; stderr: string }>((done) => {
          const child = spawn(process.execPath, [script, String(start), ...argsOf(index)], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
          child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
          child.on('close', (code) => done({ code, stdout, stderr }));
        });
      }),
    );
    for (const run of runs) expect(run.stderr).toBe('');
    expect(runs.map((run) => run.code)).toEqual(runs.map(() => 0));
    return runs.map((run) => JSON.parse(run.stdout) as unknown);
  }

  it('lets exactly one of many processes win each slice, never claimed or stale', async () => {
    const slices = 300;
    const processes = 6;
    // A third of the slices were never claimed, a third are claims of deleted data dirs, a third of a
    // cluster that gave them up (its state lists them no more).
    const abandoned = dataDir('abandoned');
    writeFileSync(abandoned, JSON.stringify({ slices: {} }));
    mkdirSync(slicesDir);
    for (let index = slices / 3; index < slices; index++) {
      const state = index < (2 * slices) / 3 ? join(root, 'deleted', 'sandbox-identities.json') : abandoned;
      writeFileSync(join(slicesDir, `${range.first + index * IDENTITY_SLICE_SIZE}.${index % 3}`), JSON.stringify({ state, token: `old-${index}` }));
    }
    const script = join(root, 'claim-slices.ts');
    writeFileSync(
      script,
      `import { renameSync, writeFileSync } from 'node:fs';
import { IdentitySlices } from ${JSON.stringify(resolve('src/cluster/kubelet/sandbox/identity-slices.ts'))};
const [start, state, slicesDir] = process.argv.slice(2);
const claims = new IdentitySlices(slicesDir, state);
const listed = {};
const save = () => { writeFileSync(state + '.tmp', JSON.stringify({ slices: listed })); renameSync(state + '.tmp', state); };
const won = [];
while (Date.now() < Number(start)) {}
for (let index = 0; index < ${slices}; index++) {
  const first = ${range.first} + index * ${IDENTITY_SLICE_SIZE};
  const token = IdentitySlices.token();
  listed[first] = token;
  save();
  if (claims.claim(first, token)) won.push(first);
  else { delete listed[first]; save(); }
}
process.stdout.write(JSON.stringify(won));
`,
    );
    const states = Array.from({ length: processes }, (_, index) => dataDir(`racer-${index}`));
    const won = (await race(script, (index) => [states[index] ?? '', slicesDir], processes)) as number[][];
    const winners = new Map<number, number[]>();
    won.forEach((firsts, index) => {
      for (const first of firsts) winners.set(first, [...(winners.get(first) ?? []), index]);
    });
    const shared = [...winners].filter(([, who]) => who.length > 1);
    expect(shared, 'slices more than one process believes its own').toEqual([]);
    expect(winners.size).toBe(slices);
    // What is left on disk agrees: one claim a slice, the winner's.
    const left = readdirSync(slicesDir).sort();
    expect(left).toHaveLength(slices);
    for (const [first, [who]] of winners) {
      const names = left.filter((name) => name.startsWith(`${first}.`));
      expect(names).toHaveLength(1);
      expect((JSON.parse(readFileSync(join(slicesDir, names[0] ?? ''), 'utf8')) as { state: string }).state).toBe(states[who ?? -1]);
    }
  }, 90_000);
});

describe('where the claims are kept', () => {
  it(`takes ${IDENTITY_SLICES_VARIABLE} when set, and refuses a relative one`, () => {
    expect(identitySlicesDir({ [IDENTITY_SLICES_VARIABLE]: '/srv/formicary/slices' })).toBe('/srv/formicary/slices');
    expect(() => identitySlicesDir({ [IDENTITY_SLICES_VARIABLE]: 'slices' })).toThrow(`${IDENTITY_SLICES_VARIABLE}: "slices" is not an absolute path`);
  });

  it("is the machine's for root, the user's own state directory otherwise", () => {
    const asRoot = process.getuid?.() === 0 && readFileSync('/proc/self/uid_map', 'utf8').trim().split(/\s+/).join(' ') === '0 0 4294967295';
    expect(identitySlicesDir({ HOME: '/home/someone' })).toBe(asRoot ? '/var/lib/formicary/identity-slices' : '/home/someone/.local/state/formicary/identity-slices');
    if (!asRoot) expect(identitySlicesDir({ HOME: '/home/someone', XDG_STATE_HOME: '/state' })).toBe('/state/formicary/identity-slices');
  });
});
