// The labs of a project's labs/ folder, read on demand and read again when their files change,
// so an author editing lab.yaml sees the change on the next "Start lab" or check.
import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { labDirectories, loadLab, type Lab } from './load.ts';

export class UnknownLabError extends Error {
  readonly labId: string;
  constructor(labId: string, known: string[]) {
    super(`there is no lab "${labId}"; labs are ${known.join(', ') || '(none)'}`);
    this.name = 'UnknownLabError';
    this.labId = labId;
  }
}

/** A short digest of everything that shapes a sandbox of this lab (definition and setup objects). */
export function labDigest(lab: Lab): string {
  const { dir: _dir, customChecksFile: _custom, ...definition } = lab;
  return createHash('sha256').update(JSON.stringify(definition)).digest('hex').slice(0, 16);
}

export class LabCatalog {
  readonly labsDir: string;
  readonly #cache = new Map<string, { stamp: string; lab: Promise<Lab> }>();

  constructor(labsDir: string) {
    this.labsDir = labsDir;
  }

  /** The ids of every folder with a lab.yaml (valid or not). */
  async ids(): Promise<string[]> {
    return (await labDirectories(this.labsDir)).map((dir) => dir.slice(dir.lastIndexOf('/') + 1));
  }

  /** Throws UnknownLabError, or LabError with the lab's problems. */
  async get(labId: string): Promise<Lab> {
    const dir = join(this.labsDir, labId);
    const ids = await this.ids();
    if (!ids.includes(labId)) throw new UnknownLabError(labId, ids);
    const stamp = await this.#stamp(dir);
    const cached = this.#cache.get(labId);
    if (cached && cached.stamp === stamp) return cached.lab;
    const lab = loadLab(dir);
    this.#cache.set(labId, { stamp, lab });
    lab.catch(() => this.#cache.delete(labId));
    return lab;
  }

  /** Every valid lab; invalid ones are left out (content check reports them). */
  async all(): Promise<Lab[]> {
    const labs = await Promise.all((await this.ids()).map((id) => this.get(id).catch(() => null)));
    return labs.filter((lab): lab is Lab => lab !== null);
  }

  async #stamp(dir: string): Promise<string> {
    const setup = await readdir(join(dir, 'setup')).catch(() => [] as string[]);
    const files = ['lab.yaml', 'checks.ts', ...setup.sort().map((name) => join('setup', name))];
    const times = await Promise.all(files.map((name) => stat(join(dir, name)).then((s) => `${name}@${s.mtimeMs}`, () => '')));
    return times.join(':');
  }
}
