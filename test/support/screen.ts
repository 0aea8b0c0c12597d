// What a terminal shows for the bytes a shell printed: the lines on its screen and the ones that
// scrolled off into its scrollback, as text. A shell kept in tmux (workbench-shell) is drawn by
// tmux, which repaints the whole screen whenever a client attaches or resizes: a line then comes
// as `text ESC[K CR LF`, or is placed with cursor moves, and a test reading the raw stream misses
// what the learner plainly sees. This interprets the part of VT100/xterm that shells and tmux use
// (cursor moves, erasing, scroll regions, insert/delete, the alternate screen) and ignores looks
// (colours, modes). Wide characters count as one column; a test compares text, not layout.

export interface ScreenSize {
  cols: number;
  rows: number;
}

interface Row {
  cells: string[];
  /** The line went on from the row above (autowrap), so the text joins them without a break. */
  wrapped: boolean;
}

const ESC = '\x1b';
/** Lines kept above the screen: more than any test prints between two of its markers. */
const SCROLLBACK_LINES = 50_000;

const blankRow = (): Row => ({ cells: [], wrapped: false });

export class TerminalScreen {
  #cols: number;
  #rows: number;
  #scrollback: Row[] = [];
  #lines: Row[];
  /** The primary screen while the alternate one (full-screen programs) is shown. */
  #saved: { lines: Row[]; x: number; y: number } | null = null;
  #x = 0;
  #y = 0;
  #top = 0;
  #bottom: number;
  #savedCursor = { x: 0, y: 0 };
  /** An escape sequence cut in two by the chunks it came in. */
  #partial = '';

  constructor(size: ScreenSize) {
    this.#cols = size.cols;
    this.#rows = size.rows;
    this.#bottom = size.rows - 1;
    this.#lines = Array.from({ length: size.rows }, blankRow);
  }

  get size(): ScreenSize {
    return { cols: this.#cols, rows: this.#rows };
  }

  /** How many lines there are above the screen's first (scrollback); a line's index in `text` counts from the oldest kept. */
  get scrolledOff(): number {
    return this.#scrollback.length;
  }

  /** A terminal cleared for a replay that starts over (the `reset` of the portal's protocol). */
  reset(): void {
    this.#scrollback = [];
    this.#saved = null;
    this.#lines = Array.from({ length: this.#rows }, blankRow);
    this.#x = this.#y = this.#top = 0;
    this.#bottom = this.#rows - 1;
    this.#partial = '';
  }

  /** A new size: rows that no longer fit above the cursor go into the scrollback, as terminals keep the cursor's line in view. */
  resize(size: ScreenSize): void {
    while (this.#lines.length > size.rows) {
      if (this.#y > 0) {
        this.#pushScrollback(this.#lines.shift()!);
        this.#y -= 1;
      } else this.#lines.pop();
    }
    while (this.#lines.length < size.rows) this.#lines.push(blankRow());
    this.#cols = size.cols;
    this.#rows = size.rows;
    this.#top = 0;
    this.#bottom = size.rows - 1;
    this.#x = Math.min(this.#x, size.cols - 1);
    this.#y = Math.min(this.#y, size.rows - 1);
  }

  /**
   * The scrollback and the screen as text, one line per line the terminal shows (autowrapped rows
   * joined, trailing blanks cut), from the `from`th line kept.
   */
  text(from = 0): string {
    const rows = [...this.#scrollback, ...this.#lines].slice(Math.max(0, from));
    let text = '';
    rows.forEach((row, index) => {
      if (index > 0 && !row.wrapped) text += '\n';
      text += row.cells.join('').replace(/ +$/, '');
    });
    return text.replace(/\n+$/, '');
  }

  write(data: string): void {
    const input = this.#partial + data;
    this.#partial = '';
    let i = 0;
    while (i < input.length) {
      const char = input[i]!;
      if (char !== ESC) {
        this.#control(char);
        i += 1;
        continue;
      }
      const end = sequenceEnd(input, i);
      if (end === null) {
        this.#partial = input.slice(i);
        return;
      }
      this.#escape(input.slice(i, end));
      i = end;
    }
  }

  #control(char: string): void {
    switch (char) {
      case '\r':
        this.#x = 0;
        return;
      case '\n':
      case '\v':
      case '\f':
        this.#lineFeed();
        return;
      case '\b':
        this.#x = Math.max(0, Math.min(this.#x, this.#cols - 1) - 1);
        return;
      case '\t':
        this.#x = Math.min(this.#cols - 1, (Math.floor(this.#x / 8) + 1) * 8);
        return;
      default:
        if (char < ' ' || char === '\x7f') return;
        this.#print(char);
    }
  }

  #print(char: string): void {
    if (this.#x >= this.#cols) {
      this.#x = 0;
      this.#lineFeed();
      this.#lines[this.#y]!.wrapped = true;
    } else if (this.#x === 0) {
      // A row drawn again from its start (a repaint) is its own line, whatever it was before.
      this.#lines[this.#y]!.wrapped = false;
    }
    const cells = this.#lines[this.#y]!.cells;
    while (cells.length < this.#x) cells.push(' ');
    cells[this.#x] = char;
    this.#x += 1;
  }

  #lineFeed(): void {
    if (this.#y === this.#bottom) this.#scrollUp(1);
    else if (this.#y < this.#rows - 1) this.#y += 1;
  }

  #pushScrollback(row: Row): void {
    if (this.#saved) return;
    this.#scrollback.push(row);
    if (this.#scrollback.length > SCROLLBACK_LINES) this.#scrollback.splice(0, this.#scrollback.length - SCROLLBACK_LINES);
  }

  /** Lines leave the scroll region at its top; when the region is the whole screen they go into the scrollback. */
  #scrollUp(count: number): void {
    for (let n = 0; n < count; n += 1) {
      const [gone] = this.#lines.splice(this.#top, 1);
      if (this.#top === 0 && this.#bottom === this.#rows - 1 && gone) this.#pushScrollback(gone);
      this.#lines.splice(this.#bottom, 0, blankRow());
    }
  }

  #scrollDown(count: number): void {
    for (let n = 0; n < count; n += 1) {
      this.#lines.splice(this.#bottom, 1);
      this.#lines.splice(this.#top, 0, blankRow());
    }
  }

  #escape(sequence: string): void {
    const kind = sequence[1];
    if (kind === '[') return this.#csi(sequence.slice(2));
    if (kind === '7') this.#savedCursor = { x: this.#x, y: this.#y };
    else if (kind === '8') ({ x: this.#x, y: this.#y } = this.#savedCursor);
    else if (kind === 'D') this.#lineFeed();
    else if (kind === 'E') {
      this.#x = 0;
      this.#lineFeed();
    } else if (kind === 'M') {
      if (this.#y === this.#top) this.#scrollDown(1);
      else if (this.#y > 0) this.#y -= 1;
    } else if (kind === 'c') this.reset();
    // OSC, DCS, character sets, keypad modes: nothing a screen's text shows.
  }

  #csi(body: string): void {
    const final = body.at(-1)!;
    const privateMarker = /^[?>=<]/.test(body);
    const params = body
      .slice(privateMarker ? 1 : 0, -1)
      .replace(/[ -/]+$/, '')
      .split(';')
      .map((value) => (value === '' ? 0 : Number.parseInt(value, 10) || 0));
    const n = Math.max(1, params[0] ?? 0);
    const row = () => this.#lines[this.#y]!;
    if (privateMarker) {
      if (body[0] === '?' && (final === 'h' || final === 'l') && params.some((mode) => mode === 1049 || mode === 1047 || mode === 47)) this.#alternate(final === 'h');
      return;
    }
    switch (final) {
      case 'A':
        this.#y = Math.max(this.#y >= this.#top ? this.#top : 0, this.#y - n);
        break;
      case 'B':
        this.#y = Math.min(this.#y <= this.#bottom ? this.#bottom : this.#rows - 1, this.#y + n);
        break;
      case 'C':
        this.#x = Math.min(this.#cols - 1, this.#x + n);
        break;
      case 'D':
        this.#x = Math.max(0, Math.min(this.#x, this.#cols - 1) - n);
        break;
      case 'E':
      case 'F':
        this.#x = 0;
        this.#y = final === 'E' ? Math.min(this.#rows - 1, this.#y + n) : Math.max(0, this.#y - n);
        break;
      case 'G':
      case '`':
        this.#x = Math.min(this.#cols - 1, n - 1);
        break;
      case 'd':
        this.#y = Math.min(this.#rows - 1, n - 1);
        break;
      case 'H':
      case 'f':
        this.#y = Math.min(this.#rows - 1, Math.max(1, params[0] ?? 0) - 1);
        this.#x = Math.min(this.#cols - 1, Math.max(1, params[1] ?? 0) - 1);
        break;
      case 'J':
        this.#eraseInDisplay(params[0] ?? 0);
        break;
      case 'K':
        this.#eraseInLine(row(), params[0] ?? 0);
        break;
      case 'X':
        for (let x = this.#x; x < Math.min(this.#cols, this.#x + n); x += 1) if (x < row().cells.length) row().cells[x] = ' ';
        break;
      case '@':
        if (this.#x < row().cells.length) row().cells.splice(this.#x, 0, ...Array<string>(n).fill(' '));
        row().cells.length = Math.min(row().cells.length, this.#cols);
        break;
      case 'P':
        row().cells.splice(this.#x, n);
        break;
      case 'L':
      case 'M':
        if (this.#y < this.#top || this.#y > this.#bottom) break;
        for (let k = 0; k < n; k += 1) {
          if (final === 'L') {
            this.#lines.splice(this.#bottom, 1);
            this.#lines.splice(this.#y, 0, blankRow());
          } else {
            this.#lines.splice(this.#y, 1);
            this.#lines.splice(this.#bottom, 0, blankRow());
          }
        }
        this.#x = 0;
        break;
      case 'S':
        this.#scrollUp(n);
        break;
      case 'T':
        this.#scrollDown(n);
        break;
      case 'r': {
        const top = Math.max(1, params[0] ?? 0) - 1;
        const bottom = Math.min(this.#rows, params[1] || this.#rows) - 1;
        if (top < bottom) {
          this.#top = top;
          this.#bottom = bottom;
          this.#x = this.#y = 0;
        }
        break;
      }
      case 's':
        this.#savedCursor = { x: this.#x, y: this.#y };
        break;
      case 'u':
        ({ x: this.#x, y: this.#y } = this.#savedCursor);
        break;
      default:
      // Colours (m), modes (h, l), reports (n, c, q, t): the text stays as it is.
    }
  }

  #eraseInLine(row: Row, mode: number): void {
    if (mode === 0) row.cells.length = Math.min(row.cells.length, this.#x);
    else if (mode === 1) for (let x = 0; x <= Math.min(this.#x, row.cells.length - 1); x += 1) row.cells[x] = ' ';
    else row.cells = [];
  }

  #eraseInDisplay(mode: number): void {
    if (mode === 0) {
      this.#eraseInLine(this.#lines[this.#y]!, 0);
      for (let y = this.#y + 1; y < this.#rows; y += 1) this.#lines[y] = blankRow();
    } else if (mode === 1) {
      for (let y = 0; y < this.#y; y += 1) this.#lines[y] = blankRow();
      this.#eraseInLine(this.#lines[this.#y]!, 1);
    } else if (mode === 2) this.#lines = Array.from({ length: this.#rows }, blankRow);
    else if (mode === 3) this.#scrollback = [];
  }

  #alternate(on: boolean): void {
    if (on && !this.#saved) {
      this.#saved = { lines: this.#lines, x: this.#x, y: this.#y };
      this.#lines = Array.from({ length: this.#rows }, blankRow);
    } else if (!on && this.#saved) {
      ({ lines: this.#lines, x: this.#x, y: this.#y } = this.#saved);
      this.#saved = null;
    }
  }
}

/** Where the escape sequence starting at `start` ends, or null when the rest has not arrived yet. */
function sequenceEnd(input: string, start: number): number | null {
  const kind = input[start + 1];
  if (kind === undefined) return null;
  if (kind === '[') {
    for (let i = start + 2; i < input.length; i += 1) {
      const code = input.charCodeAt(i);
      if (code >= 0x40 && code <= 0x7e) return i + 1;
    }
    return null;
  }
  if (kind === ']' || kind === 'P' || kind === '_' || kind === '^') {
    // A string ends with BEL (OSC only) or ST (ESC \).
    for (let i = start + 2; i < input.length; i += 1) {
      if (input[i] === '\x07' && kind === ']') return i + 1;
      if (input[i] === ESC) {
        if (input[i + 1] === undefined) return null;
        if (input[i + 1] === '\\') return i + 2;
      }
    }
    return null;
  }
  // ESC ( B and its kin carry one more character; ESC # 8 too.
  if ('()*+-./#%'.includes(kind)) return input[start + 2] === undefined ? null : start + 3;
  return start + 2;
}
