// The registry on disk: `snapshot.<n>` (every object at one moment) plus `log.<n>` (every write
// since), both as framed records: [u32 payload length][u32 crc32 of payload][JSON payload].
// A write reaches the log file (the kernel's page cache) before the API server answers it, so a
// process killed right after its answer keeps it, as etcd keeps what it acknowledged; fsync is
// batched (a machine that loses power may lose the last second). A record that is cut short or fails
// its checksum ends the file: it is cut off with a warning, so a crash mid-write never stops a
// restart.
import { closeSync, fdatasync, fdatasyncSync, fstatSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import type { KubeObject } from '../types.ts';

export type PersistedRecord =
  | { t: 'put'; s: string; k: string; rv: number; o: KubeObject }
  | { t: 'del'; s: string; k: string; rv: number }
  | { t: 'snap'; rv: number };

export interface Warn {
  (message: string, details: Record<string, unknown>): void;
}

const HEADER_BYTES = 8;
const MAX_RECORD_BYTES = 64 * 1024 * 1024;

/**
 * `objectJson`, when given, is JSON.stringify of the record's object, already made by the caller.
 * The payload's parts are written straight into the frame: a 1 MiB object costs the frame alone,
 * not a joined string and a buffer of it besides.
 */
export function encodeRecord(record: PersistedRecord, objectJson?: string): Buffer {
  const parts = objectJson !== undefined && record.t === 'put' ? [`${JSON.stringify({ ...record, o: undefined }).slice(0, -1)},"o":`, objectJson, '}'] : [JSON.stringify(record)];
  let length = 0;
  for (const part of parts) length += Buffer.byteLength(part);
  const frame = Buffer.allocUnsafe(HEADER_BYTES + length);
  let offset = HEADER_BYTES;
  for (const part of parts) offset += frame.write(part, offset);
  const payload = frame.subarray(HEADER_BYTES);
  frame.writeUInt32LE(length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  return frame;
}

/** Reads every intact record; returns how many bytes were intact (the rest is a torn tail). */
export function decodeRecords(data: Buffer): { records: PersistedRecord[]; validBytes: number; problem?: string } {
  const records: PersistedRecord[] = [];
  let offset = 0;
  while (offset < data.length) {
    if (data.length - offset < HEADER_BYTES) return { records, validBytes: offset, problem: 'incomplete record header' };
    const length = data.readUInt32LE(offset);
    const checksum = data.readUInt32LE(offset + 4);
    if (length > MAX_RECORD_BYTES || offset + HEADER_BYTES + length > data.length) return { records, validBytes: offset, problem: 'record extends past the end of the file' };
    const payload = data.subarray(offset + HEADER_BYTES, offset + HEADER_BYTES + length);
    if (crc32(payload) !== checksum) return { records, validBytes: offset, problem: 'checksum mismatch' };
    let record: PersistedRecord;
    try {
      record = JSON.parse(payload.toString('utf8')) as PersistedRecord;
    } catch {
      return { records, validBytes: offset, problem: 'record is not JSON' };
    }
    records.push(record);
    offset += HEADER_BYTES + length;
  }
  return { records, validBytes: offset };
}

export interface LoadedState {
  records: PersistedRecord[];
  /** true when the data dir held no state at all */
  empty: boolean;
  /** records that came from logs (not the snapshot): worth compacting */
  logRecords: number;
}

export interface PersistenceOptions {
  dataDir: string;
  warn: Warn;
  /** batch fsync interval; default 1000 ms */
  syncIntervalMs?: number;
  /** compact once the log grows past this many bytes; default 128 MiB */
  compactAfterBytes?: number;
}

export class Persistence {
  private readonly dir: string;
  private readonly warn: Warn;
  private readonly syncIntervalMs: number;
  private readonly compactAfterBytes: number;
  private generation = 0;
  private logFd: number | undefined;
  private logBytes = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private dirty = false;
  private syncTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(options: PersistenceOptions) {
    this.dir = options.dataDir;
    this.warn = options.warn;
    this.syncIntervalMs = options.syncIntervalMs ?? 1000;
    this.compactAfterBytes = options.compactAfterBytes ?? 128 * 1024 * 1024;
    mkdirSync(this.dir, { recursive: true });
  }

  /** Everything stored, in write order: the snapshot's records, then the log's. */
  load(): LoadedState {
    const names = readdirSync(this.dir);
    for (const name of names) if (name.endsWith('.tmp')) rmSync(join(this.dir, name), { force: true });
    const snapshots = generations(names, 'snapshot');
    const logs = generations(names, 'log');
    const empty = snapshots.length === 0 && logs.length === 0;
    this.generation = snapshots.at(-1) ?? logs[0] ?? 0;
    const records: PersistedRecord[] = [];
    if (snapshots.length) records.push(...this.readFile(`snapshot.${this.generation}`, false));
    const fromSnapshot = records.length;
    for (const gen of logs) if (gen >= this.generation) records.push(...this.readFile(`log.${gen}`, true));
    this.generation = Math.max(this.generation, logs.at(-1) ?? 0);
    return { records, empty, logRecords: records.length - fromSnapshot };
  }

  private readFile(name: string, truncateTornTail: boolean): PersistedRecord[] {
    const path = join(this.dir, name);
    const data = readFileSync(path);
    const { records, validBytes, problem } = decodeRecords(data);
    if (problem) {
      this.warn(`${name}: cut a torn or corrupt tail (${problem}) at byte ${validBytes} of ${data.length}; ${records.length} records kept`, {
        file: path,
        validBytes,
        fileBytes: data.length,
      });
      if (truncateTornTail) {
        const fd = openSync(path, 'r+');
        try {
          ftruncateSync(fd, validBytes);
          fdatasyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
    }
    return records;
  }

  /** Opens the current log for appending (after load). */
  startLog(): void {
    const path = join(this.dir, `log.${this.generation}`);
    this.logFd = openSync(path, 'a');
    this.logBytes = fstatSync(this.logFd).size;
    this.syncTimer = setInterval(() => this.syncBehind(), this.syncIntervalMs);
    this.syncTimer.unref();
  }

  get logSize(): number {
    return this.logBytes + this.pendingBytes;
  }

  get needsCompaction(): boolean {
    return this.logSize > this.compactAfterBytes;
  }

  append(record: PersistedRecord, objectJson?: string): void {
    if (this.closed) throw new Error('registry is closed: cannot persist a write');
    const frame = encodeRecord(record, objectJson);
    this.pending.push(frame);
    this.pendingBytes += frame.length;
    // Written now, not on a later turn: the answer to this write may leave before that turn comes.
    if (this.logFd !== undefined) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  flush(): void {
    this.flushScheduled = false;
    if (this.logFd === undefined || this.pending.length === 0) return;
    const data = this.pending.length === 1 ? (this.pending[0] as Buffer) : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    let written = 0;
    while (written < data.length) written += writeSync(this.logFd, data, written);
    this.logBytes += data.length;
    this.dirty = true;
  }

  private syncBehind(): void {
    if (!this.dirty || this.logFd === undefined) return;
    this.dirty = false;
    fdatasync(this.logFd, (error) => {
      if (error && !this.closed) this.warn(`fsync of the registry log failed: ${error.message}`, { dir: this.dir });
    });
  }

  /**
   * Writes every live object as `snapshot.<n+1>` and starts `log.<n+1>`; the older pair is
   * removed only after the new snapshot is safely renamed into place.
   */
  compact(rv: number, objects: Iterable<{ s: string; k: string; o: KubeObject }>): void {
    this.flush();
    const next = this.generation + 1;
    const tmp = join(this.dir, `snapshot.${next}.tmp`);
    const fd = openSync(tmp, 'w');
    try {
      const chunk: Buffer[] = [encodeRecord({ t: 'snap', rv })];
      let chunkBytes = 0;
      for (const { s, k, o } of objects) {
        const frame = encodeRecord({ t: 'put', s, k, rv: Number(o.metadata.resourceVersion ?? rv), o });
        chunk.push(frame);
        chunkBytes += frame.length;
        if (chunkBytes > 1 << 20) {
          writeAll(fd, Buffer.concat(chunk));
          chunk.length = 0;
          chunkBytes = 0;
        }
      }
      if (chunk.length) writeAll(fd, Buffer.concat(chunk));
      fdatasyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, join(this.dir, `snapshot.${next}`));
    const previous = this.generation;
    if (this.logFd !== undefined) {
      fdatasyncSync(this.logFd);
      closeSync(this.logFd);
    }
    this.generation = next;
    this.logFd = openSync(join(this.dir, `log.${next}`), 'a');
    this.logBytes = 0;
    this.dirty = false;
    for (const name of readdirSync(this.dir)) {
      const match = /^(snapshot|log)\.(\d+)$/.exec(name);
      if (match && Number(match[2]) <= previous) rmSync(join(this.dir, name), { force: true });
    }
  }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    if (this.syncTimer) clearInterval(this.syncTimer);
    if (this.logFd !== undefined) {
      fdatasyncSync(this.logFd);
      closeSync(this.logFd);
      this.logFd = undefined;
    }
  }
}

function writeAll(fd: number, data: Buffer): void {
  let written = 0;
  while (written < data.length) written += writeSync(fd, data, written);
}

function generations(names: string[], prefix: string): number[] {
  const out: number[] = [];
  for (const name of names) {
    const match = new RegExp(`^${prefix}\\.(\\d+)$`).exec(name);
    if (match) out.push(Number(match[1]));
  }
  return out.sort((a, b) => a - b);
}
