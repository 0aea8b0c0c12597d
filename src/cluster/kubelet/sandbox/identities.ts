// Sandbox identities: every learner's sandbox (a namespace) runs under a host uid and gid of its
// own, taken from a range no real user holds, so one sandbox's files (emptyDir, HOME, 0700) stay
// unreadable to every other sandbox even through a leaked mount. Inside, every pod still sees
// itself as uid 1000. The assignment is the kubelet's state: kept in a file, it stays the same
// for a namespace across cluster restarts (the files on disk keep their owner).
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
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

const stateSchema = z.object({
  first: z.number().int().positive(),
  size: z.number().int().positive(),
  namespaces: z.record(z.string(), z.number().int().nonnegative()),
});

export class SandboxIdentities {
  readonly #file: string;
  readonly #first: number;
  readonly #size: number;
  readonly #byNamespace = new Map<string, number>();
  readonly #taken = new Set<number>();
  #next = 0;

  constructor(file: string, range = identityRange()) {
    this.#file = file;
    this.#first = range.first;
    this.#size = range.size;
    let text: string | undefined;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      text = undefined;
    }
    if (text === undefined) return;
    const state = stateSchema.safeParse(JSON.parse(text));
    // A state file from another range (or damaged) cannot be trusted to keep owners apart: start over.
    if (!state.success || state.data.first !== range.first || state.data.size !== range.size) return;
    for (const [namespace, offset] of Object.entries(state.data.namespaces)) {
      if (offset >= this.#size || this.#taken.has(offset)) continue;
      this.#byNamespace.set(namespace, offset);
      this.#taken.add(offset);
    }
  }

  /** The namespace's identity, allocated on first use and remembered. */
  of(namespace: string): SandboxIdentity {
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

  #allocate(): number {
    for (let tried = 0; tried < this.#size; tried++) {
      const offset = this.#next;
      this.#next = (this.#next + 1) % this.#size;
      if (!this.#taken.has(offset)) return offset;
    }
    throw new Error(`every sandbox identity in ${this.#first}–${this.#first + this.#size - 1} is taken`);
  }

  #save(): void {
    const state = { first: this.#first, size: this.#size, namespaces: Object.fromEntries(this.#byNamespace) };
    const temporary = `${this.#file}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(state)}\n`, { mode: 0o600 });
    renameSync(temporary, this.#file);
  }
}
