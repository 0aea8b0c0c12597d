// What a terminal printed lately, so a reconnecting tab can catch up. Positions are offsets in
// the shell's output (UTF-16 code units since the shell started): a client that saw everything up
// to offset N asks for what came after N. The buffer keeps at most `capacity` code units and drops
// the oldest output first; a client whose position has been dropped gets everything still kept and
// must clear its screen before drawing it.

export interface Catchup {
  /** Offset of the end of `data`: the client's new position. */
  seq: number;
  data: string;
  /** The client missed output that is no longer kept (or never saw this shell): clear, then draw. */
  reset: boolean;
}

/** Output pieces this small are merged into the last piece, so typing does not pile up tiny strings. */
const MERGE_BELOW = 1024;
const PIECE_TARGET = 8192;
/** When replay must start mid-history, it starts at a line break within this distance, not mid-escape-sequence. */
const LINE_SEARCH = 4096;

export class ReplayBuffer {
  readonly capacity: number;
  readonly #pieces: string[] = [];
  /** Offset of the first kept code unit. */
  #start = 0;
  #end = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`replay buffer capacity ${capacity}: must be a positive integer`);
    this.capacity = capacity;
  }

  /** Offset just past the latest output. */
  get seq(): number {
    return this.#end;
  }

  /** How many code units are kept (for metrics and tests). */
  get size(): number {
    return this.#end - this.#start;
  }

  append(data: string): number {
    if (data.length === 0) return this.#end;
    const last = this.#pieces.length - 1;
    const tail = this.#pieces[last];
    if (tail !== undefined && data.length < MERGE_BELOW && tail.length + data.length <= PIECE_TARGET) this.#pieces[last] = tail + data;
    else this.#pieces.push(data);
    this.#end += data.length;
    while (this.size > this.capacity && this.#pieces.length > 0) {
      const oldest = this.#pieces[0]!;
      const excess = this.size - this.capacity;
      if (oldest.length <= excess) {
        this.#pieces.shift();
        this.#start += oldest.length;
      } else {
        this.#pieces[0] = oldest.slice(excess);
        this.#start += excess;
      }
    }
    return this.#end;
  }

  /** What a client that has seen output up to `since` (null: nothing of this shell) needs to catch up. */
  since(since: number | null): Catchup {
    if (since !== null && since >= this.#start && since <= this.#end) {
      return { seq: this.#end, data: this.#slice(since), reset: false };
    }
    let data = this.#slice(this.#start);
    if (this.#start > 0) {
      // The oldest kept output may begin inside an escape sequence or a line: begin at a line start.
      const newline = data.indexOf('\n');
      if (newline !== -1 && newline < LINE_SEARCH) data = data.slice(newline + 1);
    }
    return { seq: this.#end, data, reset: true };
  }

  #slice(from: number): string {
    let offset = this.#start;
    const parts: string[] = [];
    for (const piece of this.#pieces) {
      const pieceEnd = offset + piece.length;
      if (pieceEnd > from) parts.push(offset >= from ? piece : piece.slice(from - offset));
      offset = pieceEnd;
    }
    return parts.join('');
  }
}
