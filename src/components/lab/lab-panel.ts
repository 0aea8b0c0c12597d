// Behaviour of <LabPanel>: the lab's buttons and their API calls, the step list and results, the
// start progress, the timer, the resizable split, and the terminal (xterm, imported only once the
// lab is running). State comes from the page (server-rendered JSON) and then from the API.

import type { CheckOutcome, HintOutcome, LabSessionStatus, LabStateView, LearnerEvent, SolutionOutcome, StepStateView } from '../../contracts/index.ts';
import { RUN_COMMAND_EVENT, TERMINAL_CLOSED_EVENT, TERMINAL_READY_EVENT } from '../mdx/command.ts';
import type { ConnectionState } from './connection.ts';
import type { LabTerminal } from './terminal.ts';

const SCREEN_READER_KEY = 'formicary-terminal-screen-reader';
const SPLIT_KEY = 'formicary-lab-split';
const POLL_MS = 500;
const STATUS_TEXT = { 'not-started': 'Not started', current: 'Current step', failed: 'Check failed', passed: 'Passed' } as const;
const CONNECTION_TEXT: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Connection lost — reconnecting…',
  exited: 'Shell ended',
  'taken-over': 'Open in another tab',
  ended: 'Lab ended',
};
/** A check that has not answered by then is waiting for the cluster (a check's `timeout`): say so. */
const STILL_CHECKING_MS = 1500;
/** After the terminal's session ended: how often, and how many times, to look for the session that replaced it. */
const ENDED_LOOK_MS = 1000;
const ENDED_LOOKS = 5;
const RUNNABLE_LANGUAGES = /\blanguage-(bash|sh|shell|console|zsh)\b/;

type Action = 'start' | 'check' | 'hint' | 'solution' | 'reset' | 'end';

function remembered(key: string): string | null {
  try {
    return localStorage.getItem(key);
  } catch {
    return null;
  }
}

function remember(key: string, value: string): void {
  try {
    localStorage.setItem(key, value);
  } catch {
    // Private mode or storage disabled: the choice lasts for this page only.
  }
}

/** The session's CSRF token, when the page carries one (`<meta name="csrf-token">`). */
function csrfHeader(): Record<string, string> {
  const token = document.querySelector<HTMLMetaElement>('meta[name="csrf-token"]')?.content;
  return token ? { 'x-csrf-token': token } : {};
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className?: string, text?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A hint as its author wrote it: `code` in backticks shown as code, everything else as text. */
function inlineCode(text: string): Node[] {
  return text.split('`').map((part, index) => (index % 2 === 1 ? element('code', undefined, part) : document.createTextNode(part)));
}

/** The failed checks' messages, each once, in the order the step lists them. */
function uniqueFailures(results: CheckOutcome['results']): string[] {
  return [...new Set(results.filter((result) => !result.passed).map((result) => result.message))];
}

class LabPanel {
  readonly #root: HTMLElement;
  readonly #lab: string;
  #state: LabStateView | null;
  #viewed: string | null = null;
  #terminal: LabTerminal | null = null;
  #terminalSession: string | null = null;
  #mounting: Promise<void> | null = null;
  #poll: ReturnType<typeof setTimeout> | undefined;
  #clock: ReturnType<typeof setInterval> | undefined;
  #clockOffset = 0;
  #busy = false;
  /** The session's status at the last render ('ended' once it went away). */
  #lastStatus: LabSessionStatus | null = null;
  /** The session shown at the last render: another one ready is a fresh sandbox (a reset). */
  #lastSession: string | null = null;
  /** Start or Reset said “Starting your lab…”: the lab's becoming ready replaces that message. */
  #announceReady = false;
  /** Asking the portal whether the lab still runs, while the terminal reconnects. */
  #stillRunningCheck: Promise<void> | null = null;
  #screenReader = remembered(SCREEN_READER_KEY) === 'on';

  constructor(root: HTMLElement) {
    this.#root = root;
    this.#lab = root.dataset.lab ?? '';
    const embedded = root.querySelector<HTMLScriptElement>('[data-lab-state]');
    this.#state = embedded?.textContent ? (JSON.parse(embedded.textContent) as LabStateView) : null;
    this.#wireButtons();
    this.#wireSplit();
    this.#wireTerminalTools();
    this.#addRunButtons(root);
    document.addEventListener(RUN_COMMAND_EVENT, (event) => {
      const command = (event as CustomEvent<{ command?: unknown }>).detail?.command;
      if (typeof command === 'string' && this.#terminal) this.#runInTerminal(command);
    });
    if (this.#state) this.#render(this.#state);
    if (root.dataset.signedIn === 'true') {
      this.#followWorkshop();
      // A signed-in learner on a lab's page is likely to start it: the terminal's code (xterm.js)
      // loads while the page is idle, not between Start and the first prompt.
      const preload = () => void import('./terminal.ts').catch(() => undefined);
      if (typeof requestIdleCallback === 'function') requestIdleCallback(preload, { timeout: 2000 });
      else setTimeout(preload, 500);
    }
  }

  /**
   * A learner in a workshop hears the instructor here too, not only on /workshops: the message,
   * and the workshop's end (which ends the lab: the panel shows its state again).
   */
  #followWorkshop(): void {
    const banner = this.#q('[data-workshop-banner]');
    if (!banner || typeof EventSource === 'undefined') return;
    const events = new EventSource('/api/workshops/current/events');
    const show = (text: string | null) => {
      banner.textContent = text ?? '';
      banner.hidden = !text;
    };
    let ended = false;
    events.addEventListener('workshop', (event) => {
      // Types only: zod in the page would compile parsers with new Function, which the CSP refuses.
      const { workshop } = JSON.parse((event as MessageEvent<string>).data) as Omit<Extract<LearnerEvent, { type: 'workshop' }>, 'type'>;
      if (workshop.endedAt !== null) {
        show(`The workshop “${workshop.title}” has ended; your instructor ended its labs.`);
        if (!ended) void this.#call<LabStateView>('state').then((state) => this.#render(state), () => undefined);
        ended = true;
        events.close();
      } else {
        show(workshop.message ? `Your instructor: ${workshop.message}` : null);
      }
    });
    events.addEventListener('message', (event) => {
      const { message } = JSON.parse((event as MessageEvent<string>).data) as Omit<Extract<LearnerEvent, { type: 'message' }>, 'type'>;
      show(message ? `Your instructor: ${message}` : null);
    });
  }

  #q<T extends HTMLElement = HTMLElement>(selector: string): T | null {
    return this.#root.querySelector<T>(selector);
  }

  #announce(text: string, tone: 'passed' | 'failed' | 'info' = 'info'): void {
    const live = this.#q('[data-lab-live]');
    if (!live) return;
    live.dataset.tone = tone;
    // Clearing first makes screen readers announce a message equal to the previous one again.
    live.textContent = '';
    requestAnimationFrame(() => (live.textContent = text));
  }

  #wireButtons(): void {
    for (const button of this.#root.querySelectorAll<HTMLButtonElement>('[data-lab-action]')) {
      button.addEventListener('click', () => {
        const action = button.dataset.labAction as Action;
        // Check, hints and the solution work on the current step: show that step, not the one being read.
        if ((action === 'check' || action === 'hint' || action === 'solution') && this.#viewed !== null) {
          this.#viewed = null;
          if (this.#state) this.#render(this.#state);
        }
        // Both throw work away: ask first.
        if (action === 'reset' && !confirm('Reset the lab? Your sandbox is deleted and a fresh one started at step 1; what you made in it and the steps you passed in it start over.')) return;
        if (action === 'end' && !confirm('End the lab? Your sandbox and everything in it are deleted.')) return;
        void this.#act(action);
      });
    }
    for (const button of this.#root.querySelectorAll<HTMLButtonElement>('[data-step-button]')) {
      button.addEventListener('click', () => {
        this.#viewed = button.dataset.stepButton ?? null;
        if (this.#state) this.#render(this.#state);
        else this.#showStep(this.#viewed);
      });
    }
  }

  async #call<T>(action: Action | 'state'): Promise<T> {
    const session = this.#state?.session?.id;
    // State asks for the learner's open session of the lab, not the one shown: after a reset by an
    // instructor (or in another tab) the shown session has ended and a new one is the lab now.
    const response = await fetch(`/api/labs/${encodeURIComponent(this.#lab)}/${action}`, {
      method: action === 'state' ? 'GET' : 'POST',
      headers: { accept: 'application/json', ...(action === 'state' ? {} : { 'content-type': 'application/json', ...csrfHeader() }) },
      ...(action === 'state' ? {} : { body: JSON.stringify(session && action !== 'start' ? { session } : {}) }),
    });
    const body = (await response.json().catch(() => ({}))) as T & { error?: string };
    if (!response.ok) throw new Error(body.error ?? `the portal answered ${response.status}`);
    return body;
  }

  async #act(action: Action): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    // Disabling the pressed button while it works drops focus to <body>: it comes back after.
    const pressed = document.activeElement instanceof HTMLButtonElement && this.#root.contains(document.activeElement) ? document.activeElement : null;
    this.#setButtonsDisabled(true);
    try {
      if (action === 'check') {
        this.#announce(`Checking “${this.#stepTitle(this.#state?.session?.currentStep ?? '')}”…`);
        const still = setTimeout(() => this.#announce('Still checking: waiting for your cluster to settle before this step gives its answer…'), STILL_CHECKING_MS);
        const outcome = await this.#call<CheckOutcome>('check').finally(() => clearTimeout(still));
        this.#render(outcome.state);
        this.#announceCheck(outcome);
      } else if (action === 'hint') {
        const outcome = await this.#call<HintOutcome>('hint');
        this.#render(outcome.state);
        this.#announce(`Hint ${outcome.number}: ${outcome.hint.replaceAll('`', '')}`);
      } else if (action === 'solution') {
        const outcome = await this.#call<SolutionOutcome>('solution');
        this.#render(outcome.state);
        this.#announce('The solution is shown below the step.');
      } else {
        if (action === 'reset' || action === 'end') this.#closeTerminal();
        if (action === 'start' || action === 'reset') {
          this.#announce('Starting your lab…');
          this.#announceReady = true;
        } else if (action === 'end') this.#announce('Ending the lab…');
        const state = await this.#call<LabStateView>(action);
        this.#render(state);
        if (action === 'end') this.#announce('The lab has ended. Its sandbox is being removed.');
      }
    } catch (error) {
      this.#announceReady = false;
      this.#announce((error as Error).message, 'failed');
    } finally {
      this.#busy = false;
      this.#setButtonsDisabled(false);
      if (pressed && !pressed.hidden && !pressed.disabled) pressed.focus();
      else if (pressed) this.#q<HTMLElement>('[data-lab-live]')?.focus();
    }
  }

  #announceCheck(outcome: CheckOutcome): void {
    const title = this.#stepTitle(outcome.step);
    if (outcome.completed) {
      this.#announce(`Check passed: ${title}. You completed the lab!`, 'passed');
    } else if (outcome.passed) {
      this.#announce(`Check passed: ${title}. Next: ${this.#stepTitle(outcome.nextStep ?? '')}.`, 'passed');
    } else {
      // One failure said once: the rest are listed under the step.
      const failures = uniqueFailures(outcome.results);
      const more = failures.length > 1 ? ` (${failures.length - 1} more below.)` : '';
      this.#announce(`Check failed: ${failures[0] ?? 'see below.'}${more}`, 'failed');
    }
  }

  #stepTitle(id: string): string {
    return this.#q(`[data-step-button="${CSS.escape(id)}"] .lab__step-title`)?.textContent ?? id;
  }

  #setButtonsDisabled(disabled: boolean): void {
    for (const button of this.#root.querySelectorAll<HTMLButtonElement>('[data-lab-action]')) button.disabled = disabled;
    if (!disabled && this.#state) this.#render(this.#state);
  }

  #render(state: LabStateView): void {
    this.#state = state;
    const session = state.session;
    const ready = session?.status === 'ready';
    const completed = Boolean(session?.completedAt) && session?.currentStep === null;
    const current = session?.steps.find((step) => step.id === session.currentStep) ?? null;
    const show = (action: Action, shown: boolean) => {
      const button = this.#q<HTMLButtonElement>(`[data-lab-action="${action}"]`);
      if (button) button.hidden = !shown;
    };
    show('start', !session || session.status === 'failed');
    show('check', ready && !completed);
    show('hint', ready && !completed);
    show('solution', ready && !completed);
    show('reset', Boolean(session) && session?.status !== 'starting');
    show('end', Boolean(session));
    const hint = this.#q<HTMLButtonElement>('[data-lab-action="hint"]');
    if (hint && !this.#busy) {
      hint.disabled = !current || current.hintsLeft === 0;
      // Greyed out says nothing on its own: the button says why.
      const exhausted = current !== null && current.hintsLeft === 0 && current.hints.length > 0;
      hint.textContent = exhausted ? 'No more hints' : 'Show hint';
      hint.title = exhausted ? 'Every hint of this step is shown below it.' : current && current.hints.length === 0 && current.hintsLeft === 0 ? 'This step has no hints.' : '';
    }

    // Between sessions the portal sends the latest ended attempt: its steps stay in view (passed stays passed, with the last Check's messages).
    const shownSteps = session?.steps ?? state.lastAttempt?.steps ?? this.#finishedBefore();
    const stepStates = new Map<string, StepStateView>(shownSteps.map((step) => [step.id, step]));
    const viewed = this.#viewed ?? session?.currentStep ?? session?.steps.at(-1)?.id ?? this.#q('[data-step-button]')?.dataset.stepButton ?? null;
    for (const button of this.#root.querySelectorAll<HTMLElement>('[data-step-button]')) {
      const id = button.dataset.stepButton ?? '';
      const status = stepStates.get(id)?.status ?? 'not-started';
      button.dataset.status = status;
      const label = button.querySelector('[data-step-status]');
      if (label) label.textContent = STATUS_TEXT[status];
    }
    this.#showStep(viewed);
    for (const step of stepStates.values()) this.#renderStep(step);
    if (!session) for (const id of this.#stepIds()) if (!stepStates.has(id)) this.#renderStep({ id, status: 'not-started', lastCheck: null, hints: [], hintsLeft: 0, solution: null });
    this.#renderFocusNote(viewed, session?.currentStep ?? null, ready && !completed);
    this.#renderNext(completed || (!session && shownSteps.length > 0 && shownSteps.every((step) => step.status === 'passed')));

    this.#renderStarting(state);
    this.#renderTimer(state);
    // A page opened on a finished lab says so once (a Check that finishes it says more, itself).
    if (completed && this.#lastStatus === null) this.#announce('You completed this lab.', 'passed');
    // “Starting your lab…” ends when the lab is up: the message says so instead of staying behind.
    const fresh = this.#lastSession !== null && this.#lastSession !== session?.id;
    if (ready && (this.#announceReady || this.#lastStatus === 'starting' || fresh)) {
      this.#announceReady = false;
      this.#announce('Your lab is ready: the terminal is connected to your sandbox.', 'passed');
    } else if (!session && this.#lastStatus !== null && this.#lastStatus !== 'ended' && !this.#busy) this.#announce('This lab has ended (in another tab, or by your instructor). Press “Start lab” to begin again.');
    this.#lastStatus = session?.status ?? (this.#lastStatus === null ? null : 'ended');
    this.#lastSession = session?.id ?? this.#lastSession;
    if (session?.status === 'failed') this.#announce(`The lab could not start: ${session.detail ?? 'unknown reason'}. Press “Start lab” to try again.`, 'failed');

    if (ready && session) void this.#ensureTerminal(session.id);
    else if (!session || session.status !== 'ready') this.#closeTerminal();

    clearTimeout(this.#poll);
    if (session?.status === 'starting') this.#poll = setTimeout(() => void this.#refresh(), POLL_MS);
  }

  /** A lab the learner finished in an earlier session: its steps, passed (the page says so; the record is the server's). */
  #finishedBefore(): StepStateView[] {
    if (this.#root.dataset.completedBefore !== 'true') return [];
    return this.#stepIds().map((id) => ({ id, status: 'passed', lastCheck: null, hints: [], hintsLeft: 0, solution: null }));
  }

  /** Reading another step than the current one: the buttons still act on the current step, and the panel says which. */
  #renderFocusNote(viewed: string | null, current: string | null, active: boolean): void {
    const note = this.#q('[data-lab-focus-note]');
    if (!note) return;
    const elsewhere = active && current !== null && viewed !== current;
    note.hidden = !elsewhere;
    if (elsewhere) note.textContent = `Check, hints and the solution are for your current step, step ${this.#stepIds().indexOf(current) + 1}: ${this.#stepTitle(current)}.`;
  }

  /** A finished lab (ended or not) points on: the next lesson when the page knows one. */
  #renderNext(finished: boolean): void {
    const next = this.#q('[data-lab-next]');
    if (next) next.hidden = !finished;
  }

  #stepIds(): string[] {
    return [...this.#root.querySelectorAll<HTMLElement>('[data-step-button]')].map((button) => button.dataset.stepButton ?? '');
  }

  #showStep(id: string | null): void {
    for (const body of this.#root.querySelectorAll<HTMLElement>('[data-step-body]')) body.hidden = body.dataset.stepBody !== id;
    for (const button of this.#root.querySelectorAll<HTMLElement>('[data-step-button]')) {
      if (button.dataset.stepButton === id) button.setAttribute('aria-current', 'step');
      else button.removeAttribute('aria-current');
    }
  }

  #renderStep(step: StepStateView): void {
    const body = this.#q(`[data-step-body="${CSS.escape(step.id)}"]`);
    if (!body) return;
    const hints = body.querySelector<HTMLElement>('[data-step-hints]');
    if (hints) {
      hints.replaceChildren();
      hints.hidden = step.hints.length === 0;
      if (step.hints.length > 0) {
        hints.append(element('h4', 'lab__hints-heading', step.hints.length === 1 ? 'Hint' : 'Hints'));
        const list = element('ol');
        step.hints.forEach((hint, index) => {
          const item = element('li', undefined, `${index + 1}. `);
          item.append(...inlineCode(hint));
          list.append(item);
        });
        hints.append(list);
      }
    }
    const solution = body.querySelector<HTMLElement>('[data-step-solution]');
    if (solution) {
      solution.replaceChildren();
      solution.hidden = step.solution === null;
      if (step.solution) {
        solution.append(element('h4', 'lab__solution-heading', 'Solution'));
        const pre = element('pre');
        pre.append(element('code', 'language-bash', step.solution.join('\n')));
        solution.append(pre);
        this.#addRunButtons(solution);
      }
    }
    const results = body.querySelector<HTMLElement>('[data-step-results]');
    if (results) {
      results.replaceChildren();
      results.hidden = step.lastCheck === null;
      if (step.lastCheck) {
        results.append(element('h4', 'lab__results-heading', step.lastCheck.passed ? 'Check passed' : 'Check failed'));
        const list = element('ul');
        const seen = new Set<string>();
        for (const result of step.lastCheck.results) {
          // Checks that fail for one reason (the object is missing) say it once.
          if (seen.has(result.message)) continue;
          seen.add(result.message);
          const item = element('li', `lab__result lab__result--${result.passed ? 'passed' : 'failed'}`);
          item.append(element('span', 'lab__result-mark', result.passed ? '✓' : '✗'), element('span', 'visually-hidden', result.passed ? 'Passed: ' : 'Failed: '), element('span', undefined, result.message));
          list.append(item);
        }
        results.append(list);
      }
    }
  }

  #renderStarting(state: LabStateView): void {
    const box = this.#q('[data-lab-starting]');
    if (!box) return;
    const session = state.session;
    box.hidden = session?.status !== 'starting';
    if (!session || session.status !== 'starting') return;
    let reached = false;
    const phases = [...box.querySelectorAll<HTMLElement>('[data-phase]')];
    const activeIndex = phases.findIndex((item) => item.dataset.phase === session.phase);
    phases.forEach((item, index) => {
      reached = index === activeIndex;
      item.dataset.state = index < activeIndex ? 'done' : reached ? 'active' : 'waiting';
      if (reached) item.setAttribute('aria-current', 'step');
      else item.removeAttribute('aria-current');
    });
  }

  #renderTimer(state: LabStateView): void {
    const holder = this.#q('[data-lab-timer]');
    const clock = this.#q('[data-lab-clock]');
    clearInterval(this.#clock);
    const expiresAt = state.session?.expiresAt;
    if (!holder || !clock || !expiresAt || state.session?.status === 'failed') {
      if (holder) holder.hidden = true;
      return;
    }
    holder.hidden = false;
    this.#clockOffset = new Date(state.now).getTime() - Date.now();
    const end = new Date(expiresAt).getTime();
    const tick = () => {
      const left = Math.max(0, end - (Date.now() + this.#clockOffset));
      const minutes = Math.floor(left / 60_000);
      const seconds = Math.floor((left % 60_000) / 1000);
      clock.textContent = `${minutes}:${String(seconds).padStart(2, '0')}`;
      if (left === 0) {
        clearInterval(this.#clock);
        void this.#refresh();
      }
    };
    tick();
    this.#clock = setInterval(tick, 1000);
  }

  async #refresh(): Promise<void> {
    try {
      this.#render(await this.#call<LabStateView>('state'));
    } catch {
      this.#poll = setTimeout(() => void this.#refresh(), POLL_MS * 4);
    }
  }

  // ---- the terminal

  async #ensureTerminal(session: string): Promise<void> {
    if (this.#terminalSession === session) return this.#mounting ?? undefined;
    this.#closeTerminal();
    this.#terminalSession = session;
    const host = this.#q('[data-terminal-host]');
    const placeholder = this.#q('[data-terminal-placeholder]');
    if (!host) return;
    if (placeholder) placeholder.hidden = true;
    this.#setConnection('connecting');
    this.#mounting = (async () => {
      const { mountTerminal } = await import('./terminal.ts');
      if (this.#terminalSession !== session) return;
      const protocol = location.protocol === 'https:' ? 'wss:' : 'ws:';
      this.#terminal = await mountTerminal(host, {
        url: `${protocol}//${location.host}/api/labs/${encodeURIComponent(this.#lab)}/terminal?session=${encodeURIComponent(session)}`,
        screenReaderMode: this.#screenReader,
        onState: (state, message) => this.#setConnection(state, message),
        search: {
          bar: this.#q('[data-terminal-search]')!,
          input: this.#q<HTMLInputElement>('[data-terminal-search-input]')!,
          next: this.#q<HTMLButtonElement>('[data-terminal-search-next]')!,
          previous: this.#q<HTMLButtonElement>('[data-terminal-search-previous]')!,
          close: this.#q<HTMLButtonElement>('[data-terminal-search-close]')!,
        },
      });
      this.#root.setAttribute('data-lab-terminal', '');
      document.dispatchEvent(new CustomEvent(TERMINAL_READY_EVENT));
      for (const button of this.#root.querySelectorAll<HTMLButtonElement>('[data-lab-run]')) button.hidden = false;
    })();
    return this.#mounting;
  }

  #closeTerminal(): void {
    if (this.#terminalSession === null) return;
    this.#terminalSession = null;
    this.#mounting = null;
    this.#terminal?.dispose();
    this.#terminal = null;
    this.#q('[data-terminal-host]')?.replaceChildren();
    const placeholder = this.#q('[data-terminal-placeholder]');
    if (placeholder) placeholder.hidden = false;
    this.#notice(null);
    this.#setConnection(null);
    this.#root.removeAttribute('data-lab-terminal');
    document.dispatchEvent(new CustomEvent(TERMINAL_CLOSED_EVENT));
    for (const button of this.#root.querySelectorAll<HTMLButtonElement>('[data-lab-run]')) button.hidden = true;
  }

  #setConnection(state: ConnectionState | null, message?: string): void {
    const status = this.#q('[data-terminal-status]');
    if (status) {
      status.textContent = state ? CONNECTION_TEXT[state] : 'Not connected';
      if (state) status.dataset.state = state;
      else delete status.dataset.state;
    }
    if (state === 'reconnecting') {
      this.#notice('Connection lost — reconnecting…');
      // The lab may have ended meanwhile (in another tab, by an instructor): then there is nothing to reconnect to.
      this.#checkStillRunning();
    }
    else if (state === 'taken-over') this.#notice(message ?? 'This terminal was opened in another tab.', 'Use the terminal here', () => this.#terminal?.reconnect());
    else if (state === 'exited') this.#notice(message ?? 'The shell ended.', 'Start a new shell', () => this.#terminal?.reconnect());
    else if (state === 'ended') {
      this.#notice(message ?? 'The lab session ended.');
      this.#followEnded();
    } else if (state === 'connected') this.#notice(null);
  }

  /**
   * The terminal's session ended. A reset (by the learner elsewhere, or their instructor) starts a
   * new session a moment after the old one ends: look a few times before showing the lab as ended.
   */
  #followEnded(): void {
    let looks = 0;
    const look = async () => {
      looks += 1;
      const state = await this.#call<LabStateView>('state').catch(() => null);
      if (state && (state.session || looks >= ENDED_LOOKS)) this.#render(state);
      else if (looks < ENDED_LOOKS) setTimeout(() => void look(), ENDED_LOOK_MS);
    };
    void look();
  }

  #checkStillRunning(): void {
    if (this.#stillRunningCheck) return;
    this.#stillRunningCheck = this.#call<LabStateView>('state')
      .then((state) => {
        if (state.session?.id !== this.#terminalSession || state.session?.status !== 'ready') this.#render(state);
      })
      .catch(() => undefined)
      .finally(() => (this.#stillRunningCheck = null));
  }

  #notice(text: string | null, actionLabel?: string, action?: () => void): void {
    const notice = this.#q('[data-terminal-notice]');
    const label = this.#q('[data-terminal-notice-text]');
    const button = this.#q<HTMLButtonElement>('[data-terminal-notice-action]');
    if (!notice || !label || !button) return;
    notice.hidden = text === null;
    label.textContent = text ?? '';
    button.hidden = !actionLabel;
    button.textContent = actionLabel ?? '';
    button.onclick = action
      ? () => {
          this.#notice(null);
          action();
        }
      : null;
  }

  #wireTerminalTools(): void {
    const toggle = this.#q<HTMLButtonElement>('[data-screen-reader-switch]');
    if (toggle) {
      toggle.setAttribute('aria-checked', String(this.#screenReader));
      toggle.addEventListener('click', () => {
        this.#screenReader = !this.#screenReader;
        toggle.setAttribute('aria-checked', String(this.#screenReader));
        remember(SCREEN_READER_KEY, this.#screenReader ? 'on' : 'off');
        this.#terminal?.setScreenReaderMode(this.#screenReader);
      });
    }
    this.#q('[data-terminal-search-open]')?.addEventListener('click', () => this.#terminal?.openSearch());
  }

  /** "Run in terminal" under shell code blocks; shown while a terminal is connected. */
  #addRunButtons(scope: HTMLElement): void {
    for (const code of scope.querySelectorAll<HTMLElement>('pre > code')) {
      if (!RUNNABLE_LANGUAGES.test(code.className)) continue;
      const pre = code.parentElement!;
      if (pre.nextElementSibling?.hasAttribute('data-lab-run')) continue;
      const button = element('button', 'lab__run', 'Run in terminal');
      button.type = 'button';
      button.dataset.labRun = '';
      button.hidden = this.#terminal === null;
      button.addEventListener('click', () => this.#runInTerminal((code.textContent ?? '').trimEnd()));
      pre.after(button);
    }
  }

  /** Types a command into the shell where the learner sees it happen: the terminal scrolls into view and the panel says what ran. */
  #runInTerminal(command: string): void {
    if (!this.#terminal) return;
    this.#q('[data-lab-terminal-region]')?.scrollIntoView({ block: 'nearest' });
    this.#terminal.run(command.replace(/\r?\n/g, '\r'));
    const first = command.split('\n')[0] ?? '';
    this.#announce(`Ran in the terminal: ${first}${command.includes('\n') ? ' …' : ''}`);
  }

  #wireSplit(): void {
    const separator = this.#q('[data-lab-separator]');
    const split = this.#q('[data-lab-split]');
    if (!separator || !split) return;
    const apply = (percent: number) => {
      const value = Math.round(Math.min(80, Math.max(20, percent)));
      this.#root.style.setProperty('--lab-split', `${value}%`);
      separator.setAttribute('aria-valuenow', String(value));
      separator.setAttribute('aria-valuetext', `Instructions ${value}%, terminal ${100 - value}%`);
      return value;
    };
    const saved = Number(remembered(SPLIT_KEY));
    if (saved >= 20 && saved <= 80) apply(saved);
    const current = () => Number(separator.getAttribute('aria-valuenow') ?? 38);
    separator.addEventListener('keydown', (event) => {
      const step = event.shiftKey ? 10 : 2;
      let next: number | null = null;
      if (event.key === 'ArrowLeft' || event.key === 'ArrowDown') next = current() - step;
      else if (event.key === 'ArrowRight' || event.key === 'ArrowUp') next = current() + step;
      else if (event.key === 'Home') next = 20;
      else if (event.key === 'End') next = 80;
      if (next === null) return;
      event.preventDefault();
      remember(SPLIT_KEY, String(apply(next)));
    });
    separator.addEventListener('pointerdown', (event) => {
      separator.setPointerCapture(event.pointerId);
      const move = (moved: PointerEvent) => {
        const box = split.getBoundingClientRect();
        apply(((moved.clientX - box.left) / box.width) * 100);
      };
      const up = () => {
        separator.removeEventListener('pointermove', move);
        remember(SPLIT_KEY, String(current()));
      };
      separator.addEventListener('pointermove', move);
      separator.addEventListener('pointerup', up, { once: true });
      separator.addEventListener('pointercancel', up, { once: true });
    });
  }
}

export function attachLabPanels(root: Document): void {
  for (const panel of root.querySelectorAll<HTMLElement>('[data-lab-panel]')) {
    if (panel.dataset.labAttached) continue;
    panel.dataset.labAttached = 'true';
    new LabPanel(panel);
  }
}
