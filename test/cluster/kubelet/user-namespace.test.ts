// Rootless mode's arithmetic: which sandbox identities a user namespace can give, and which
// subordinate range /etc/subuid grants a user. (The mode itself runs in test/security/rootless.test.ts.)
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_IDENTITY_RANGE, identityRange } from '../../../src/cluster/kubelet/sandbox/identities.ts';
import { inUserNamespace, subordinateRange } from '../../../src/cluster/kubelet/sandbox/user-namespace.ts';

const machine = [{ inside: 0, outside: 0, count: 4294967295 }];
/** What `unshare --map-root-user --map-users=100000,1,65536` makes for a user of uid 1001. */
const rootless = [
  { inside: 0, outside: 1001, count: 1 },
  { inside: 1, outside: 100000, count: 65536 },
];

describe('sandbox identities in a user namespace', () => {
  it("takes the machine's far-away range outside any user namespace", () => {
    expect(inUserNamespace(machine)).toBe(false);
    expect(identityRange(machine, machine)).toEqual(DEFAULT_IDENTITY_RANGE);
  });

  it('takes the subordinate ids past the system ids and short of nobody, rootless', () => {
    expect(inUserNamespace(rootless)).toBe(true);
    expect(identityRange(rootless, rootless)).toEqual({ first: 1000, size: 65534 - 1000 });
  });

  it('keeps to the ids both maps hold', () => {
    const fewerGroups = [rootless[0]!, { inside: 1, outside: 200000, count: 5000 }];
    expect(identityRange(rootless, fewerGroups)).toEqual({ first: 1000, size: 4001 });
  });

  it('refuses a user namespace that maps only its root: no sandbox could have a uid of its own', () => {
    expect(() => identityRange([rootless[0]!], [rootless[0]!])).toThrow('this user namespace maps no uid and gid range for sandbox users');
  });
});

describe('/etc/subuid', () => {
  const dir = mkdtempSync(join(tmpdir(), 'formicary-subuid-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'subuid');
  writeFileSync(file, 'alice:100000:65536\n1002:300000:70000\nbroken:x:y\nalice:500000:65536\n');

  it("finds a user's first range by name or by uid, and nothing for others", () => {
    expect(subordinateRange(file, { name: 'alice', id: 1001 })).toEqual({ start: 100000, count: 65536 });
    expect(subordinateRange(file, { name: 'bob', id: 1002 })).toEqual({ start: 300000, count: 70000 });
    expect(subordinateRange(file, { name: 'broken', id: 1003 })).toBeNull();
    expect(subordinateRange(join(dir, 'missing'), { name: 'alice', id: 1001 })).toBeNull();
  });
});
