// Host-wide slices of the sandbox identity range. Every cluster on a host (the portal's shared
// cluster, each learner's dedicated cluster, a second portal, test clusters) draws host uids from
// the same range, so each claims slices of it in one directory all of them share, and allocates
// only inside its own: two sandboxes of two clusters never hold the same host uid.
//
// A claim is a file `<first id>.<generation>` naming the claiming cluster's state file and a token
// that state lists beside the slice. The highest generation of a slice is its claim. It is stale
// once that state file is gone (its data dir deleted) or lists the slice with another token (or
// not at all): a stale slice is taken by creating the next generation. Every name is created
// exclusively (link(2) of a complete file, so a claim is never seen half written), and the creator
// then checks that no higher generation exists: two clusters taking one stale slice race for the
// same name and one loses; a late one that finds its generation passed gives it back. Staleness
// never reverts (tokens are never reused), so a judgement made on an earlier read stays true.
// The claiming state file lists the token before the claim exists, so a claim is never stale
// while its owner is alive.
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { inUserNamespace } from './user-namespace.ts';

/** Ids a cluster claims at a time: a sandbox takes one, plus one per supplementary group. */
export const IDENTITY_SLICE_SIZE = 1000;

/** The variable that moves the slices directory (tests, a host whose /var/lib is read-only). */
export const IDENTITY_SLICES_VARIABLE = 'FORMICARY_IDENTITY_SLICES_DIR';

/** Claims of one slice raced and lost in a row before a claim gives up on that slice. */
const CLAIM_ATTEMPTS = 8;

/**
 * Where this host's clusters claim their slices: the variable when set; as the machine's root,
 * /var/lib/formicary/identity-slices; otherwise (rootless, whose range is the user's own
 * subordinate ids) under the user's state directory.
 */
export function identitySlicesDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const chosen = env[IDENTITY_SLICES_VARIABLE]?.trim();
  if (chosen) {
    if (!isAbsolute(chosen)) throw new Error(`${IDENTITY_SLICES_VARIABLE}: ${JSON.stringify(chosen)} is not an absolute path (the directory where this host's clusters claim sandbox identities)`);
    return chosen;
  }
  if (process.getuid?.() === 0 && !inUserNamespace()) return '/var/lib/formicary/identity-slices';
  const state = env.XDG_STATE_HOME?.trim();
  return join(state && isAbsolute(state) ? state : join(env.HOME?.trim() || homedir(), '.local', 'state'), 'formicary', 'identity-slices');
}

const claimSchema = z.object({ state: z.string().min(1), token: z.string().min(1) });
type Claim = z.infer<typeof claimSchema>;

/** What a cluster's state file says about its slices (the rest of it is its own business). */
const ownerSchema = z.object({ slices: z.record(z.string(), z.string()).optional() });

export class IdentitySlices {
  readonly #dir: string;
  readonly #state: string;
  #made = false;

  /** `state` is the absolute path of the claiming cluster's state file, which lists its slices' tokens by first id. */
  constructor(dir: string, state: string) {
    this.#dir = dir;
    this.#state = state;
  }

  get dir(): string {
    return this.#dir;
  }

  /** A fresh token for a claim (never reused: a stale claim stays stale). */
  static token(): string {
    return randomBytes(12).toString('hex');
  }

  /** Whether the slice starting at `first` is claimed by this state file with this token. */
  holds(first: number, token: string): boolean {
    this.#ensureDir();
    const top = this.#top(first);
    if (top === null) return false;
    const claim = this.#read(first, top);
    return claim !== null && claim.state === this.#state && claim.token === token;
  }

  /** Whether the slice starting at `first` has no claim, or a stale one. */
  free(first: number): boolean {
    this.#ensureDir();
    const top = this.#top(first);
    if (top === null) return true;
    const claim = this.#read(first, top);
    return claim === null || !alive(first, claim);
  }

  /**
   * Claims the slice starting at `first` for this state file, which must already list `token` for
   * it. True when it is (or already was) this cluster's; false when another live cluster holds it.
   */
  claim(first: number, token: string): boolean {
    this.#ensureDir();
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const top = this.#top(first);
      if (top !== null) {
        const claim = this.#read(first, top);
        if (claim?.state === this.#state && claim.token === token) return true;
        if (claim !== null && alive(first, claim)) return false;
      }
      const generation = top === null ? 0 : top + 1;
      if (!this.#create(first, generation, { state: this.#state, token })) continue;
      if (this.#top(first) !== generation) {
        // A later generation exists: this one was judged on a claim already taken over.
        this.#remove(first, generation, token);
        continue;
      }
      for (const older of this.#generations(first)) if (older < generation) this.#unlink(first, older);
      return true;
    }
    return false;
  }

  #ensureDir(): void {
    if (this.#made) return;
    try {
      mkdirSync(dirname(this.#dir), { recursive: true, mode: 0o755 });
      // Claims name data dirs: only their owners (root, or the rootless user) read them.
      mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new Error(`the directory where this host's clusters claim sandbox identities, ${this.#dir}, could not be made: ${(error as Error).message} (${IDENTITY_SLICES_VARIABLE} chooses another)`);
    }
    this.#made = true;
  }

  /** Creates `<first>.<generation>` whole, or returns false when that name exists. */
  #create(first: number, generation: number, claim: Claim): boolean {
    const temporary = join(this.#dir, `.${first}.${claim.token}.${process.pid}.tmp`);
    try {
      writeFileSync(temporary, `${JSON.stringify(claim)}\n`, { mode: 0o600 });
      linkSync(temporary, join(this.#dir, `${first}.${generation}`));
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw new Error(`could not claim sandbox identities ${first}–${first + IDENTITY_SLICE_SIZE - 1} in ${this.#dir}: ${(error as Error).message}`);
    } finally {
      try {
        unlinkSync(temporary);
      } catch {
        // Never made (the write failed): nothing to remove.
      }
    }
  }

  /** Gives back a generation this cluster made, if it is still the one it made. */
  #remove(first: number, generation: number, token: string): void {
    const claim = this.#read(first, generation);
    if (claim?.state === this.#state && claim.token === token) this.#unlink(first, generation);
  }

  #unlink(first: number, generation: number): void {
    try {
      unlinkSync(join(this.#dir, `${first}.${generation}`));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }

  #generations(first: number): number[] {
    let names: string[];
    try {
      names = readdirSync(this.#dir);
    } catch (error) {
      throw new Error(`could not read the sandbox identity claims in ${this.#dir}: ${(error as Error).message}`);
    }
    const prefix = `${first}.`;
    return names.filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length))).map((name) => Number(name.slice(prefix.length)));
  }

  #top(first: number): number | null {
    const generations = this.#generations(first);
    return generations.length === 0 ? null : Math.max(...generations);
  }

  /** The claim in a generation; null when it is gone or is no claim (damaged: nobody's). */
  #read(first: number, generation: number): Claim | null {
    let text: string;
    try {
      text = readFileSync(join(this.#dir, `${first}.${generation}`), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw new Error(`could not read the sandbox identity claim ${join(this.#dir, `${first}.${generation}`)}: ${(error as Error).message}`);
    }
    try {
      const parsed = claimSchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : null;
    } catch {
      return null;
    }
  }
}

/** Whether the claim's state file still lists the slice with the claim's token. */
function alive(first: number, claim: Claim): boolean {
  let text: string;
  try {
    text = readFileSync(claim.state, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Gone with its data dir: stale. Anything else (unreadable for now): assume it lives.
    return !(code === 'ENOENT' || code === 'ENOTDIR');
  }
  try {
    const owner = ownerSchema.safeParse(JSON.parse(text));
    return owner.success && owner.data.slices?.[String(first)] === claim.token;
  } catch {
    // State files are replaced whole (rename): one that does not parse is damaged, and its cluster starts over.
    return false;
  }
}
