// The instructor's read-only view of one learner's terminal: the lab's own terminal
// (components/lab/terminal.ts) in read-only mode, so the view replays, reflows and reconnects as
// the learner's does. xterm is loaded only when an instructor first opens a view.

import type { ConnectionState } from '../lab/connection.ts';
import type { LabTerminal } from '../lab/terminal.ts';

export interface LearnerTerminalElements {
  panel: HTMLElement;
  host: HTMLElement;
  learner: HTMLElement;
  status: HTMLElement;
}

export class LearnerTerminalView {
  readonly #elements: LearnerTerminalElements;
  #terminal: LabTerminal | null = null;
  /** Which view is wanted: a view replaced while xterm was loading is not mounted. */
  #wanted = 0;

  constructor(elements: LearnerTerminalElements) {
    this.#elements = elements;
  }

  async show(workshop: string, learner: { id: string; name: string }, lab: string): Promise<void> {
    this.stop();
    const wanted = ++this.#wanted;
    const { panel, host, status } = this.#elements;
    panel.hidden = false;
    this.#elements.learner.textContent = learner.name;
    status.textContent = 'Connecting…';
    const { mountTerminal } = await import('../lab/terminal.ts');
    if (wanted !== this.#wanted) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    this.#terminal = await mountTerminal(host, {
      url: `${scheme}://${location.host}/api/workshops/${encodeURIComponent(workshop)}/learners/${encodeURIComponent(learner.id)}/terminal?lab=${encodeURIComponent(lab)}`,
      // The rows are read as text (by screen readers, and by tests): an instructor reads along.
      screenReaderMode: true,
      readOnly: true,
      onState: (state, message) => (status.textContent = this.#describe(state, learner.name, message)),
    });
  }

  stop(): void {
    this.#wanted += 1;
    this.#terminal?.dispose();
    this.#terminal = null;
    this.#elements.host.replaceChildren();
    this.#elements.panel.hidden = true;
  }

  #describe(state: ConnectionState, name: string, message?: string): string {
    if (state === 'connected') return `Viewing ${name}’s terminal.`;
    if (state === 'reconnecting') return 'Connection lost — reconnecting…';
    if (state === 'connecting') return message ?? 'Connecting…';
    return message ?? 'The terminal view closed.';
  }
}
