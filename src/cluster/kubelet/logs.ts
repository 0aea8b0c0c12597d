// A container's log, as the runtime keeps it: lines with the time they were written, per
// container instance, bounded in size (oldest lines go first, as log rotation would), followable
// until the instance ends. `kubectl logs` options are applied when reading.
import { nanoTimestamp } from './format.ts';

export type LogStream = 'stdout' | 'stderr';

export interface LogLine {
  /** milliseconds since the epoch, plus nanoseconds within the millisecond (keeps order within one) */
  ms: number;
  nanos: number;
  stream: LogStream;
  /** the line with its newline (a final partial line has none) */
  text: string;
}

export interface LogReadOptions {
  tailLines?: number;
  /** only lines at or after this instant (ms) */
  sinceMs?: number;
  timestamps?: boolean;
  limitBytes?: number;
}

const DEFAULT_MAX_BYTES = 1024 * 1024;

export class ContainerLog {
  readonly #lines: LogLine[] = [];
  #head = 0;
  #bytes = 0;
  /** The kubelet shares one memory budget among its containers: the bound can shrink as pods are added. */
  readonly #maxBytes: () => number;
  readonly #partial: Record<LogStream, string> = { stdout: '', stderr: '' };
  readonly #followers = new Set<{ line: (line: LogLine) => void; end: () => void }>();
  #closed = false;
  #lastMs = 0;
  #lastNanos = 0;

  constructor(maxBytes: () => number = () => DEFAULT_MAX_BYTES) {
    this.#maxBytes = maxBytes;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Output as it comes from a process: split into lines, a partial line kept until its end arrives. */
  write(stream: LogStream, data: string, now: number): void {
    if (this.#closed) return;
    const text = this.#partial[stream] + data;
    const lines = text.split('\n');
    this.#partial[stream] = lines.pop() ?? '';
    for (const line of lines) this.#push(stream, `${line}\n`, now);
    // A runaway line (no newline for 16 KiB) is cut, as the runtime's log driver does.
    if (this.#partial[stream].length > 16 * 1024) {
      this.#push(stream, this.#partial[stream], now);
      this.#partial[stream] = '';
    }
  }

  /** Whole lines (simulated servers). */
  line(stream: LogStream, text: string, now: number): void {
    if (!this.#closed) this.#push(stream, `${text}\n`, now);
  }

  /** The instance ended: flush partial lines and end every follower. */
  close(now: number): void {
    if (this.#closed) return;
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.#partial[stream] !== '') this.#push(stream, this.#partial[stream], now);
      this.#partial[stream] = '';
    }
    this.#closed = true;
    for (const follower of this.#followers) follower.end();
    this.#followers.clear();
  }

  #push(stream: LogStream, text: string, now: number): void {
    if (now === this.#lastMs) this.#lastNanos += 1;
    else {
      this.#lastMs = now;
      this.#lastNanos = 0;
    }
    const line: LogLine = { ms: now, nanos: Math.min(this.#lastNanos, 999_999), stream, text };
    this.#lines.push(line);
    this.#bytes += text.length;
    const max = this.#maxBytes();
    while (this.#bytes > max && this.#head < this.#lines.length - 1) {
      this.#bytes -= this.#lines[this.#head]?.text.length ?? 0;
      this.#head++;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#lines.length) {
      this.#lines.splice(0, this.#head);
      this.#head = 0;
    }
    for (const follower of this.#followers) follower.line(line);
  }

  lines(): LogLine[] {
    return this.#lines.slice(this.#head);
  }

  /** Every line written from now on, until the instance ends. */
  follow(line: (line: LogLine) => void, end: () => void): () => void {
    if (this.#closed) {
      end();
      return () => {};
    }
    const follower = { line, end };
    this.#followers.add(follower);
    return () => this.#followers.delete(follower);
  }
}

export function formatLogLine(line: LogLine, timestamps: boolean | undefined): string {
  return timestamps ? `${nanoTimestamp(line.ms, line.nanos)} ${line.text}` : line.text;
}

/** The lines `kubectl logs` shows for these options (before limitBytes, which cuts the byte stream). */
export function selectLines(lines: LogLine[], options: LogReadOptions): LogLine[] {
  let selected = options.sinceMs === undefined ? lines : lines.filter((line) => line.ms >= (options.sinceMs ?? 0));
  if (options.tailLines !== undefined) selected = options.tailLines === 0 ? [] : selected.slice(-options.tailLines);
  return selected;
}
