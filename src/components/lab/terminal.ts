// The lab terminal in the browser: xterm.js with fit, web links, search and (where the browser
// allows) the WebGL renderer, wired to the portal through TerminalConnection. Loaded on demand by
// the lab panel, so pages without a running lab never download xterm.

import { FitAddon } from '@xterm/addon-fit';
import { SearchAddon } from '@xterm/addon-search';
import { WebLinksAddon } from '@xterm/addon-web-links';
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';
import { TerminalConnection, type ConnectionState } from './connection.ts';

/** Moves focus to the page's next focusable element after the terminal (before it, backwards). */
function leaveTerminal(host: HTMLElement, backwards: boolean): void {
  const focusable = [...document.querySelectorAll<HTMLElement>('a[href], button, input, select, textarea, [tabindex]:not([tabindex="-1"])')].filter(
    (candidate) => !host.contains(candidate) && !candidate.hasAttribute('disabled') && candidate.getClientRects().length > 0,
  );
  const following = focusable.filter((candidate) => host.compareDocumentPosition(candidate) & Node.DOCUMENT_POSITION_FOLLOWING);
  const preceding = focusable.filter((candidate) => host.compareDocumentPosition(candidate) & Node.DOCUMENT_POSITION_PRECEDING);
  const target = backwards ? (preceding.at(-1) ?? following.at(-1)) : (following[0] ?? preceding[0]);
  target?.focus();
}

export interface LabTerminal {
  /** Types `command` and Enter into the shell. */
  run(command: string): void;
  focus(): void;
  setScreenReaderMode(on: boolean): void;
  /** After a lab reset: a new shell in a new workbench. */
  restart(): void;
  /** Take the terminal back after another tab took it over, or start a new shell after exit. */
  reconnect(): void;
  openSearch(): void;
  dispose(): void;
}

export interface TerminalOptions {
  url: string;
  screenReaderMode: boolean;
  onState(state: ConnectionState, message?: string): void;
  /** The search bar's elements, owned by the panel; without them Ctrl+Shift+F stays the browser's. */
  search?: { bar: HTMLElement; input: HTMLInputElement; next: HTMLButtonElement; previous: HTMLButtonElement; close: HTMLButtonElement };
  /** Watch someone else's terminal (an instructor): nothing typed here reaches the shell. */
  readOnly?: boolean;
}

const THEME = {
  background: '#0d1117',
  foreground: '#e6edf3',
  cursor: '#e6edf3',
  selectionBackground: '#264f78',
  black: '#484f58',
  red: '#ff7b72',
  green: '#3fb950',
  yellow: '#d29922',
  blue: '#58a6ff',
  magenta: '#bc8cff',
  cyan: '#39c5cf',
  white: '#b1bac4',
  brightBlack: '#6e7681',
  brightRed: '#ffa198',
  brightGreen: '#56d364',
  brightYellow: '#e3b341',
  brightBlue: '#79c0ff',
  brightMagenta: '#d2a8ff',
  brightCyan: '#56d4dd',
  brightWhite: '#f0f6fc',
};

async function copyText(text: string): Promise<void> {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard permission (or not a secure context): the selection stays for the browser's own copy.
  }
}

/** The panel's search bar drives xterm's search; returns what opens it. */
function wireSearch(terminal: Terminal, search: SearchAddon, elements: NonNullable<TerminalOptions['search']>): () => void {
  const { bar, input, next, previous, close } = elements;
  const openSearch = () => {
    bar.hidden = false;
    input.select();
    input.focus();
  };
  const closeSearch = () => {
    bar.hidden = true;
    search.clearDecorations();
    terminal.focus();
  };
  const find = (forward: boolean) => {
    if (input.value === '') return;
    if (forward) search.findNext(input.value);
    else search.findPrevious(input.value);
  };
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Enter') {
      event.preventDefault();
      find(!event.shiftKey);
    } else if (event.key === 'Escape') {
      event.preventDefault();
      closeSearch();
    }
  });
  input.addEventListener('input', () => find(true));
  next.addEventListener('click', () => find(true));
  previous.addEventListener('click', () => find(false));
  close.addEventListener('click', closeSearch);
  return openSearch;
}

export async function mountTerminal(host: HTMLElement, options: TerminalOptions): Promise<LabTerminal> {
  const terminal = new Terminal({
    cursorBlink: true,
    fontFamily: "ui-monospace, 'SFMono-Regular', 'Cascadia Mono', Menlo, Consolas, 'Liberation Mono', monospace",
    fontSize: 14,
    scrollback: 5000,
    screenReaderMode: options.screenReaderMode,
    disableStdin: options.readOnly ?? false,
    theme: THEME,
  });
  const fit = new FitAddon();
  const search = new SearchAddon();
  terminal.loadAddon(fit);
  terminal.loadAddon(search);
  terminal.loadAddon(new WebLinksAddon());
  terminal.open(host);
  fit.fit();
  function fitToHost(): void {
    if (host.clientWidth > 0 && host.clientHeight > 0 && !replaying) fit.fit();
  }

  try {
    const { WebglAddon } = await import('@xterm/addon-webgl');
    const webgl = new WebglAddon();
    webgl.onContextLoss(() => webgl.dispose());
    terminal.loadAddon(webgl);
  } catch {
    // No WebGL here (or the context failed): xterm keeps its DOM renderer.
  }

  /** While a replay is drawn at the size it was printed at, the shell is not told of that size. */
  let replaying = false;
  const connection = new TerminalConnection(options.url, () => ({ cols: terminal.cols, rows: terminal.rows }), {
    write(data, reset, drawnAt) {
      if (reset) terminal.reset();
      if (data.length === 0) return;
      if (!drawnAt || (drawnAt.cols === terminal.cols && drawnAt.rows === terminal.rows)) {
        terminal.write(data);
        return;
      }
      // The shell wrapped and moved its cursor for the width it had: draw the replay at that width,
      // then let xterm reflow it to this tab's (drawn at the wrong width it comes out garbled).
      replaying = true;
      terminal.resize(drawnAt.cols, drawnAt.rows);
      terminal.write(data, () => {
        replaying = false;
        fitToHost();
      });
    },
    state: options.onState,
  }, { observe: options.readOnly ?? false });

  terminal.onData((data) => connection.input(data));
  terminal.onResize(({ cols, rows }) => {
    if (!replaying) connection.resize(cols, rows);
  });
  // Selecting text copies it, as in most terminals; Ctrl+C with a selection copies instead of interrupting.
  terminal.onSelectionChange(() => {
    if (terminal.hasSelection()) void copyText(terminal.getSelection());
  });

  const openSearch = options.search ? wireSearch(terminal, search, options.search) : () => undefined;

  terminal.attachCustomKeyEventHandler((event) => {
    if (event.type !== 'keydown') return true;
    // Tab and Esc belong to the shell (completion, vi); F6 leaves the terminal (WCAG: no keyboard trap).
    if (event.key === 'F6') {
      event.preventDefault();
      leaveTerminal(host, event.shiftKey);
      return false;
    }
    const key = event.key.toLowerCase();
    if (event.ctrlKey && event.shiftKey && key === 'f' && options.search) {
      event.preventDefault();
      openSearch();
      return false;
    }
    if (event.ctrlKey && event.shiftKey && key === 'c') {
      event.preventDefault();
      if (terminal.hasSelection()) void copyText(terminal.getSelection());
      return false;
    }
    // Ctrl+Shift+V: leave it to the browser, whose paste event xterm turns into input.
    if (event.ctrlKey && event.shiftKey && key === 'v') return false;
    if (event.ctrlKey && !event.shiftKey && key === 'c' && terminal.hasSelection()) {
      event.preventDefault();
      void copyText(terminal.getSelection());
      terminal.clearSelection();
      return false;
    }
    return true;
  });

  // Right-click pastes where the browser lets the page read the clipboard; elsewhere its menu stays.
  host.addEventListener('contextmenu', (event) => {
    if (options.readOnly || !navigator.clipboard?.readText) return;
    event.preventDefault();
    navigator.clipboard.readText().then(
      (text) => {
        if (text) terminal.paste(text);
        terminal.focus();
      },
      () => terminal.focus(),
    );
  });

  let fitFrame = 0;
  const observer = new ResizeObserver(() => {
    cancelAnimationFrame(fitFrame);
    fitFrame = requestAnimationFrame(fitToHost);
  });
  observer.observe(host);

  connection.open();

  return {
    run(command) {
      connection.input(`${command}\r`);
      terminal.focus();
    },
    focus: () => terminal.focus(),
    setScreenReaderMode(on) {
      terminal.options.screenReaderMode = on;
    },
    restart() {
      terminal.reset();
      connection.restart();
    },
    reconnect: () => connection.open(),
    openSearch,
    dispose() {
      observer.disconnect();
      connection.close();
      terminal.dispose();
    },
  };
}
