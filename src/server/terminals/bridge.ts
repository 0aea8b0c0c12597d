// All open lab terminals of this portal, one per lab session, keyed by the session's id. A tab
// attaches by key: the terminal is created (its shell opened) on the first attach and found again
// on every later one, until its shell exits, it idles out, or the lab session ends.

import type { Logger } from '../log.ts';
import { Terminal, type AttachRequest, type TerminalClient } from './terminal.ts';
import type { OpenShell, WorkbenchTarget } from './shell.ts';

export interface TerminalBridgeOptions {
  openShell: OpenShell;
  log: Logger;
  /** Output kept per terminal for catching up (UTF-16 code units); default 256 Ki. */
  replayCapacity?: number;
  /** How long a shell stays open with no tab attached; default 30 minutes. */
  idleMs?: number;
  /** A tab further behind than this (bytes) holds back the shell's output; default 1 MiB. */
  slowClientBytes?: number;
  /** The learner is at the terminal (attached or typing); reported at most once a minute per terminal. */
  onActivity?: (labSession: string, target: WorkbenchTarget) => void;
  /**
   * Where learners' shells are kept in the workbench (a tmux session, several replicas): what to
   * exec for a read-only view of one, so an instructor's view works from a replica that does not
   * hold the learner's terminal.
   */
  viewCommand?: string[];
}

/** A read-only viewer's hold on a terminal; `stop` when the viewer leaves. */
export interface TerminalView {
  stop(): void;
}

/** The size a view of a kept session is drawn at (tmux draws the learner's window into it). */
const VIEW_SIZE = { cols: 120, rows: 40 };

export const DEFAULT_REPLAY_CAPACITY = 256 * 1024;
export const DEFAULT_IDLE_MS = 30 * 60_000;
const DEFAULT_SLOW_CLIENT_BYTES = 1024 * 1024;
const ACTIVITY_INTERVAL_MS = 60_000;

export interface TerminalStats {
  terminals: number;
  attached: number;
  bufferedCodeUnits: number;
}

export class TerminalBridge {
  readonly #terminals = new Map<string, Terminal>();
  readonly #options: Required<Omit<TerminalBridgeOptions, 'onActivity' | 'viewCommand'>> & Pick<TerminalBridgeOptions, 'onActivity' | 'viewCommand'>;

  constructor(options: TerminalBridgeOptions) {
    this.#options = {
      replayCapacity: DEFAULT_REPLAY_CAPACITY,
      idleMs: DEFAULT_IDLE_MS,
      slowClientBytes: DEFAULT_SLOW_CLIENT_BYTES,
      ...options,
    };
  }

  /**
   * Attaches `client` to the terminal of lab session `key`, opening a shell in `target` when
   * there is none. A terminal whose workbench changed (the lab was reset) is replaced.
   */
  attach(key: string, target: WorkbenchTarget, client: TerminalClient, request: AttachRequest): Terminal {
    let terminal = this.#terminals.get(key);
    if (terminal && !sameTarget(terminal.target, target)) {
      terminal.close('The lab was reset: this is a new workbench.');
      terminal = undefined;
    }
    if (!terminal || terminal.closed) {
      terminal = this.#open(key, target, request.size);
      this.#terminals.set(key, terminal);
      this.#options.log.debug({ labSession: key, namespace: target.namespace, pod: target.pod }, 'terminal opened');
    }
    terminal.attach(client, request);
    return terminal;
  }

  /**
   * Shows the open terminal of lab session `key` to a read-only viewer; null when this portal has
   * no open terminal for it (the learner has not opened it, or it is open on another replica).
   */
  observe(key: string, observer: TerminalClient): Terminal | null {
    const terminal = this.#terminals.get(key);
    if (!terminal || terminal.closed) return null;
    terminal.observe(observer);
    return terminal;
  }

  /**
   * A read-only view of lab session `key`'s terminal: this portal's open terminal, or, where shells
   * are kept in the workbench (`viewCommand`), a view of the learner's session opened from here
   * (their terminal is open on another replica). Null when there is neither.
   */
  async view(key: string, workbench: () => Promise<WorkbenchTarget | null>, observer: TerminalClient): Promise<TerminalView | null> {
    const open = this.observe(key, observer);
    if (open) return { stop: () => open.unobserve(observer) };
    const command = this.#options.viewCommand;
    const target = command ? await workbench() : null;
    if (!command || !target) return null;
    const viewing = this.#open(`${key}#view`, { ...target, command }, VIEW_SIZE);
    viewing.observe(observer);
    return {
      stop: () => {
        viewing.unobserve(observer);
        viewing.close('The view ended.');
      },
    };
  }

  #open(key: string, target: WorkbenchTarget, size: AttachRequest['size']): Terminal {
    const log = this.#options.log;
    return new Terminal(key, target, size, {
      openShell: this.#options.openShell,
      replayCapacity: this.#options.replayCapacity,
      idleMs: this.#options.idleMs,
      slowClientBytes: this.#options.slowClientBytes,
      onClosed: (closed) => {
        if (this.#terminals.get(closed.key) === closed) this.#terminals.delete(closed.key);
        log.debug({ labSession: closed.key }, 'terminal closed');
      },
      onActivity: (active) => this.#options.onActivity?.(active.key, active.target),
      activityIntervalMs: ACTIVITY_INTERVAL_MS,
      onError: (error) => log.warn({ err: error, labSession: key, namespace: target.namespace, pod: target.pod }, 'could not open the workbench shell'),
    });
  }

  /** Closes the terminal of a lab session that ended or was reset; its tab is told why. */
  end(key: string, message: string): void {
    this.#terminals.get(key)?.close(message);
  }

  stats(): TerminalStats {
    let attached = 0;
    let bufferedCodeUnits = 0;
    for (const terminal of this.#terminals.values()) {
      if (terminal.attached) attached += 1;
      bufferedCodeUnits += terminal.buffered;
    }
    return { terminals: this.#terminals.size, attached, bufferedCodeUnits };
  }

  /** The portal is stopping: every shell is closed and every tab told so. */
  shutdown(): void {
    for (const terminal of [...this.#terminals.values()]) terminal.close('The portal is restarting; reconnect in a moment.', 1001);
  }
}

function sameTarget(a: WorkbenchTarget, b: WorkbenchTarget): boolean {
  return a.namespace === b.namespace && a.pod === b.pod && a.container === b.container && a.kubeconfig === b.kubeconfig;
}
