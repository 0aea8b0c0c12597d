// Sandbox identities: every learner's sandbox (a namespace) runs under a host uid and gid of its
// own, taken from a range no real user holds, so one sandbox's files (emptyDir, HOME, 0700) stay
// unreadable to every other sandbox even through a leaked mount. Inside, every pod still sees
// itself as uid 1000. The assignment is the kubelet's state: kept in a file, it stays the same
// for a namespace across cluster restarts (the files on disk keep their owner). The range is the
// host's, not the cluster's: each cluster allocates only inside slices of it that it claimed
// host-wide (identity-slices.ts), so sandboxes of two clusters on one host never share an id.
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { IDENTITY_SLICE_SIZE, IdentitySlices, identitySlicesDir } from './identity-slices.ts';
import type { SandboxIdentity, SupplementaryGroup } from './index.ts';
import { type IdMapping, inUserNamespace, readIdMap } from './user-namespace.ts';

/** Far above the uids distributions hand out and the usual subordinate-id ranges. */
export const DEFAULT_IDENTITY_RANGE = { first: 3_000_000, size: 1_000_000 };

/**
 * Distinct supplementary groups (fsGroup, supplementalGroups) one sandbox may hold host gids for:
 * each takes an id of the shared range for good, so a learner cannot spend the range on groups.
 */
export const MAX_SANDBOX_GROUPS = 64;

/** The nobody user a sandbox shares when it has no identity of its own (SHARED_IDENTITY). */
const NOBODY = 65534;
/** Below this, the ids a distribution gives its own system users. */
const FIRST_SANDBOX_ID = 1000;

/**
 * The range sandbox identities come from. In the machine's own user namespace, far above any real
 * user; rootless (in a user namespace of a normal user), the ids both the uid and the gid map hold
 * (the user's subordinate range, past the system ids, short of nobody), so every identity is a
 * real uid outside, distinct from every other sandbox's and from the user's own.
 */
export function identityRange(uidMap: IdMapping[] | null = readIdMap('uid'), gidMap: IdMapping[] | null = readIdMap('gid')): { first: number; size: number } {
  if (!inUserNamespace(uidMap)) return DEFAULT_IDENTITY_RANGE;
  let best = { first: 0, size: 0 };
  for (const uid of uidMap ?? []) {
    for (const gid of gidMap ?? []) {
      const first = Math.max(uid.inside, gid.inside, FIRST_SANDBOX_ID);
      let end = Math.min(uid.inside + uid.count, gid.inside + gid.count);
      if (first <= NOBODY && NOBODY < end) end = NOBODY;
      if (end - first > best.size) best = { first, size: end - first };
    }
  }
  if (best.size === 0) throw new Error('this user namespace maps no uid and gid range for sandbox users (rootless mode needs the user\'s subordinate ids)');
  return best;
}

/**
 * `namespaces` holds offsets into the range; `slices` the host-wide claims (identity-slices.ts)
 * they lie in: each slice's first id and the claim's token. A state file of an earlier version
 * has no `slices`: the slices its offsets lie in are claimed when it is read.
 */
const stateSchema = z.object({
  first: z.number().int().positive(),
  size: z.number().int().positive(),
  namespaces: z.record(z.string(), z.number().int().nonnegative()),
  slices: z.record(z.string().regex(/^\d+$/), z.string().min(1)).optional(),
});

export interface SandboxIdentitiesOptions {
  range?: { first: number; size: number };
  /** The host-wide directory of slice claims; identitySlicesDir() by default. */
  slicesDir?: string;
  /** Told when a sandbox loses its identity because another cluster holds its slice (its files keep the old owner). */
  warn?: (message: string) => void;
}

export class SandboxIdentities {
  readonly #file: string;
  readonly #first: number;
  readonly #size: number;
  readonly #slicesDir: string | undefined;
  readonly #warn: (message: string) => void;
  readonly #byNamespace = new Map<string, number>();
  readonly #taken = new Set<number>();
  /** Claimed slices of the range: their first offset, and the claim's token. */
  readonly #slices = new Map<number, string>();
  #claims: IdentitySlices | undefined;
  /** Whether the slices the state file names were confirmed (or claimed again) since it was read. */
  #checked = false;

  constructor(file: string, options: SandboxIdentitiesOptions = {}) {
    this.#file = resolve(file);
    const range = options.range ?? identityRange();
    this.#first = range.first;
    this.#size = range.size;
    this.#slicesDir = options.slicesDir;
    this.#warn = options.warn ?? ((message) => process.emitWarning(message));
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      text = undefined;
    }
    if (text === undefined) return;
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    const state = stateSchema.safeParse(parsed);
    // A state file from another range (or damaged) cannot be trusted to keep owners apart: start over.
    if (!state.success || state.data.first !== range.first || state.data.size !== range.size) return;
    for (const [namespace, offset] of Object.entries(state.data.namespaces)) {
      if (offset >= this.#size || this.#taken.has(offset)) continue;
      this.#byNamespace.set(namespace, offset);
      this.#taken.add(offset);
    }
    for (const [first, token] of Object.entries(state.data.slices ?? {})) {
      const offset = Number(first) - this.#first;
      if (offset >= 0 && offset < this.#size && offset % IDENTITY_SLICE_SIZE === 0) this.#slices.set(offset, token);
    }
  }

  /** The namespace's identity, allocated on first use and remembered. */
  of(namespace: string): SandboxIdentity {
    this.#check();
    let offset = this.#byNamespace.get(namespace);
    if (offset === undefined) {
      offset = this.#allocate();
      this.#byNamespace.set(namespace, offset);
      this.#taken.add(offset);
      this.#save();
    }
    const id = this.#first + offset;
    return { uid: id, gid: id };
  }

  /**
   * Host gids for a pod's supplementary groups: each (namespace, inside gid) gets an id of the range
   * no namespace's identity holds, remembered as the identities are (a volume's files keep their
   * group across restarts). The state's key is no namespace name ('/' is not in a DNS label).
   */
  groupsOf(namespace: string, gids: number[]): SupplementaryGroup[] {
    this.#check();
    const held = [...this.#byNamespace.keys()].filter((key) => key.startsWith(`${namespace}/gid/`)).length;
    const fresh = [...new Set(gids)].filter((gid) => !this.#byNamespace.has(`${namespace}/gid/${gid}`));
    if (held + fresh.length > MAX_SANDBOX_GROUPS) throw new Error(`namespace ${namespace} would hold more than ${MAX_SANDBOX_GROUPS} distinct supplementary groups (fsGroup, supplementalGroups), this cluster's limit a sandbox`);
    for (const gid of fresh) {
      const offset = this.#allocate();
      this.#byNamespace.set(`${namespace}/gid/${gid}`, offset);
      this.#taken.add(offset);
    }
    if (fresh.length > 0) this.#save();
    return [...new Set(gids)].map((gid) => ({ inside: gid, host: this.#first + (this.#byNamespace.get(`${namespace}/gid/${gid}`) ?? 0) }));
  }

  /** The claims, made on first need: a cluster that runs no pod claims nothing. */
  #slicesClaims(): IdentitySlices {
    return (this.#claims ??= new IdentitySlices(this.#slicesDir ?? identitySlicesDir(), this.#file));
  }

  /**
   * Once, before the first identity is handed out: every slice the remembered ids lie in is still
   * this cluster's, or claimed again (an earlier version's state, a host whose claims were wiped).
   * A slice another live cluster holds is lost, and with it the ids in it: sharing them would
   * break the isolation they exist for.
   */
  #check(): void {
    if (this.#checked) return;
    const needed = new Set(this.#slices.keys());
    for (const offset of this.#byNamespace.values()) needed.add(offset - (offset % IDENTITY_SLICE_SIZE));
    if (needed.size > 0) {
      const claims = this.#slicesClaims();
      const lost: number[] = [];
      for (const slice of [...needed].sort((a, b) => a - b)) {
        const token = this.#slices.get(slice);
        if (token !== undefined && claims.holds(this.#first + slice, token)) continue;
        if (!this.#claim(slice)) lost.push(slice);
      }
      for (const slice of lost) {
        const gone = [...this.#byNamespace].filter(([, offset]) => offset >= slice && offset < slice + IDENTITY_SLICE_SIZE);
        for (const [key, offset] of gone) {
          this.#byNamespace.delete(key);
          this.#taken.delete(offset);
        }
        if (gone.length > 0) {
          const ids = `${this.#first + slice}–${this.#first + Math.min(slice + IDENTITY_SLICE_SIZE, this.#size) - 1}`;
          this.#warn(`sandbox identities ${ids} are held by another cluster on this host (claims in ${claims.dir}): ${gone.map(([key]) => key).join(', ')} get new ones; files they made keep the old owner`);
        }
      }
      this.#save();
    }
    this.#checked = true;
  }

  /** Claims one slice host-wide: listed in the state file first, so the claim is never stale while it is made. */
  #claim(slice: number): boolean {
    const token = IdentitySlices.token();
    this.#slices.set(slice, token);
    this.#save();
    if (this.#slicesClaims().claim(this.#first + slice, token)) return true;
    this.#slices.delete(slice);
    this.#save();
    return false;
  }

  #allocate(): number {
    for (const slice of [...this.#slices.keys()].sort((a, b) => a - b)) {
      const end = Math.min(slice + IDENTITY_SLICE_SIZE, this.#size);
      for (let offset = slice; offset < end; offset++) if (!this.#taken.has(offset)) return offset;
    }
    // Every id of this cluster's slices is taken: claim the next slice no live cluster holds.
    const claims = this.#slicesClaims();
    for (let slice = 0; slice < this.#size; slice += IDENTITY_SLICE_SIZE) {
      if (this.#slices.has(slice) || !claims.free(this.#first + slice)) continue;
      if (this.#claim(slice)) return slice;
    }
    throw new Error(`every sandbox identity in ${this.#first}–${this.#first + this.#size - 1} is taken: this cluster's and the slices other clusters on this host hold (claims in ${claims.dir}; a claim whose cluster's data dir is deleted is taken over)`);
  }

  #save(): void {
    const slices = Object.fromEntries([...this.#slices].map(([offset, token]) => [String(this.#first + offset), token]));
    const state = { first: this.#first, size: this.#size, namespaces: Object.fromEntries(this.#byNamespace), slices };
    const temporary = `${this.#file}.tmp`;
    try {
      writeFileSync(temporary, `${JSON.stringify(state)}\n`, { mode: 0o600 });
      renameSync(temporary, this.#file);
    } catch (error) {
      throw new Error(`could not write the sandbox identities of this cluster to ${this.#file}: ${(error as Error).message}`);
    }
  }
}
