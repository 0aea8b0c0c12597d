// A learner as the portal sees one, for the security tests: signed in through POST /api/session
// (AUTH=dev), a cookie and a CSRF token, requests sent as the learner's browser sends them (Origin
// of the portal), lab sessions started and checked through the JSON API, the lab terminal opened
// through the portal's WebSocket. Nothing here reaches around the portal.

import { WebSocket } from 'ws';
import { TerminalScreen, type ScreenSize } from '../support/screen.ts';

export interface LabSessionState {
  id: string;
  status: string;
  namespace: string | null;
  detail?: string;
}

export interface TerminalClose {
  code: number;
  reason: string;
}

/**
 * The lab terminal's WebSocket, speaking the portal's JSON protocol (src/server/terminals/protocol.ts),
 * and the screen the learner's browser terminal would show for it (a replay drawn at the size it
 * was printed at, as components/lab/terminal.ts draws it).
 */
export class LearnerTerminal {
  readonly socket: WebSocket;
  readonly closed: Promise<TerminalClose>;
  #output = '';
  #size: ScreenSize = { cols: 120, rows: 40 };
  readonly #screen = new TerminalScreen(this.#size);
  #shell: string | null = null;
  #seq = 0;
  readonly #messages: Array<Record<string, unknown>> = [];

  constructor(socket: WebSocket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    socket.on('message', (raw) => {
      const message = JSON.parse(raw.toString()) as Record<string, unknown>;
      this.#messages.push(message);
      if (message.type === 'replay') {
        if (message.reset === true) {
          this.#output = '';
          this.#screen.reset();
        }
        this.#output += String(message.data);
        this.#drawReplay(String(message.data), typeof message.cols === 'number' && typeof message.rows === 'number' ? { cols: message.cols, rows: message.rows } : null);
        this.#shell = String(message.shell);
        this.#seq = Number(message.seq);
      } else if (message.type === 'output') {
        this.#output += String(message.data);
        this.#screen.write(String(message.data));
        this.#seq = Number(message.seq);
      }
    });
  }

  /** Everything the shell printed, as it came (escape sequences and all). */
  get output(): string {
    return this.#output;
  }

  /** The scrollback and the screen as text, as the learner reads them. */
  get screen(): string {
    return this.#screen.text();
  }

  #drawReplay(data: string, drawnAt: ScreenSize | null): void {
    if (!drawnAt || (drawnAt.cols === this.#size.cols && drawnAt.rows === this.#size.rows)) {
      this.#screen.write(data);
      return;
    }
    this.#screen.resize(drawnAt);
    this.#screen.write(data);
    this.#screen.resize(this.#size);
  }

  get messages(): ReadonlyArray<Record<string, unknown>> {
    return this.#messages;
  }

  /** Where the tab is, for attaching again after a dropped connection. */
  get position(): { shell: string | null; seq: number } {
    return { shell: this.#shell, seq: this.#seq };
  }

  attach(size = { cols: 120, rows: 40 }, position?: { shell: string | null; seq: number }): void {
    this.#size = size;
    this.#screen.resize(size);
    this.socket.send(JSON.stringify({ type: 'attach', ...size, ...(position?.shell ? { shell: position.shell, seq: position.seq } : {}) }));
  }

  type(text: string): void {
    this.socket.send(JSON.stringify({ type: 'input', data: text }));
  }

  /**
   * Runs `command` and resolves with what it printed between two markers, read from the screen as
   * the learner sees it: a shell kept in tmux may come as a repaint of the whole screen (every
   * attach repaints it once more when tmux's client reports its size), where a line ends in
   * ESC[K, not in a line break, and the raw stream never has `begin` and a newline side by side.
   */
  async run(command: string, timeoutMs = 60_000): Promise<string> {
    const mark = `m${Math.random().toString(36).slice(2, 10)}`;
    // What scrolled off before the command was typed cannot hold its output; the screen can (a repaint redraws it).
    const fromLine = this.#screen.scrolledOff;
    // The markers are printed by the shell, so their echo (the typed line) does not match.
    this.type(`echo ${mark}''begin; ${command}; echo ${mark}''end\r`);
    const regex = new RegExp(`${mark}begin\\n([\\s\\S]*?)${mark}end`);
    const seen = await this.#until(regex, timeoutMs, () => {
      const text = this.#screen.text(Math.min(fromLine, this.#screen.scrolledOff));
      // The last one: a screen drawn again may still hold an older, half-drawn copy above it in the scrollback.
      return text.slice(Math.max(0, text.lastIndexOf(`${mark}begin\n`))).match(regex);
    });
    return seen[1] ?? '';
  }

  /** Waits until the output since offset `from` (as it came, escape sequences and all) matches `pattern`. */
  async waitFor(pattern: RegExp | string, timeoutMs = 60_000, from = 0): Promise<RegExpMatchArray> {
    const regex = typeof pattern === 'string' ? new RegExp(pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : pattern;
    return this.#until(regex, timeoutMs, () => this.#output.slice(from).match(regex));
  }

  async #until(regex: RegExp, timeoutMs: number, find: () => RegExpMatchArray | null): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = find();
      if (found) return found;
      if (this.socket.readyState === WebSocket.CLOSED) throw new Error(`the terminal closed before showing ${regex}; ${this.#shown()}`);
      if (Date.now() > deadline) throw new Error(`the terminal did not show ${regex} within ${timeoutMs} ms; ${this.#shown()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /**
   * For a failure: the screen's text, and the stream's end with its escapes spelled out (printed
   * raw, a repaint's cursor moves and erasing would blank the screen of whoever reads the log).
   */
  #shown(): string {
    return `its screen showed:\n${this.#screen.text().split('\n').slice(-60).join('\n')}\nthe last output as it came: ${JSON.stringify(this.#output.slice(-1500))}`;
  }

  close(): void {
    this.socket.close();
  }
}

export class PortalLearner {
  readonly url: string;
  readonly id: string;
  readonly name: string;
  readonly cookie: string;
  readonly csrfToken: string;

  private constructor(url: string, id: string, name: string, cookie: string, csrfToken: string) {
    this.url = url;
    this.id = id;
    this.name = name;
    this.cookie = cookie;
    this.csrfToken = csrfToken;
  }

  static async signIn(url: string, name: string, role?: 'instructor' | 'admin'): Promise<PortalLearner> {
    const response = await fetch(`${url}/api/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: url },
      body: JSON.stringify({ name, ...(role ? { role } : {}) }),
    });
    if (response.status !== 200) throw new Error(`signing in ${name}: ${response.status} ${await response.text()}`);
    const cookie = response.headers
      .getSetCookie()
      .map((line) => line.split(';')[0]!)
      .join('; ');
    const body = (await response.json()) as { learner: { id: string; name: string }; csrfToken: string };
    return new PortalLearner(url, body.learner.id, body.learner.name, cookie, body.csrfToken);
  }

  /** The same learner (cookie, CSRF token) at another address of the portal, e.g. after it restarted on a new port. */
  at(url: string): PortalLearner {
    return new PortalLearner(url, this.id, this.name, this.cookie, this.csrfToken);
  }

  headers(extra: Record<string, string> = {}): Record<string, string> {
    return { cookie: this.cookie, origin: this.url, 'x-csrf-token': this.csrfToken, 'content-type': 'application/json', ...extra };
  }

  fetch(path: string, init: RequestInit = {}): Promise<Response> {
    return fetch(`${this.url}${path}`, { ...init, headers: { ...this.headers(), ...(init.headers as Record<string, string> | undefined) } });
  }

  async post(path: string, body: unknown = {}): Promise<Response> {
    return this.fetch(path, { method: 'POST', body: JSON.stringify(body) });
  }

  async labState(lab: string): Promise<LabSessionState | null> {
    const response = await this.fetch(`/api/labs/${lab}/state`);
    if (response.status !== 200) throw new Error(`GET /api/labs/${lab}/state as ${this.name}: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { session: LabSessionState | null }).session;
  }

  /** Starts `lab` and waits until its sandbox is ready. */
  async startLab(lab: string, timeoutMs = 120_000): Promise<LabSessionState> {
    const started = await this.post(`/api/labs/${lab}/start`);
    if (started.status !== 202 && started.status !== 200) throw new Error(`starting ${lab} as ${this.name}: ${started.status} ${await started.text()}`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const session = await this.labState(lab);
      if (session?.status === 'ready' && session.namespace) return session;
      if (session?.status === 'failed') throw new Error(`${lab} failed to start for ${this.name}: ${session.detail ?? ''}`);
      if (Date.now() > deadline) throw new Error(`${lab} was not ready for ${this.name} within ${timeoutMs} ms (status ${session?.status})`);
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Opens the lab terminal's WebSocket; resolves once the portal upgraded it, rejects with the refusal's status. */
  openTerminal(lab: string, options: { session?: string; path?: string } = {}): Promise<LearnerTerminal> {
    const address = new URL(options.path ?? `/api/labs/${lab}/terminal`, this.url.replace(/^http/, 'ws'));
    if (options.session) address.searchParams.set('session', options.session);
    const socket = new WebSocket(address, { headers: { cookie: this.cookie, origin: this.url } });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(new LearnerTerminal(socket)));
      socket.once('unexpected-response', (_request, response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => reject(Object.assign(new Error(`terminal refused: ${response.statusCode} ${body}`), { status: response.statusCode, body })));
      });
      socket.once('error', reject);
    });
  }
}
