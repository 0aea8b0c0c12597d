// The screen the terminal tests read: what a learner's browser terminal shows for a stream, above
// all for a shell kept in tmux (workbench-shell), which draws a terminal that attaches to it as a
// repaint of the whole screen. Real tmux in a real pseudo-terminal, with the workbench image's
// script and configuration.
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { spawn } from '@lydell/node-pty';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TerminalScreen } from './screen.ts';

const run = promisify(execFile);
const WORKBENCH = new URL('../../deploy/images/workbench/', import.meta.url);
const SIZE = { cols: 100, rows: 30 };

let dir: string;
let env: Record<string, string>;
const tmux = (...args: string[]) => run('tmux', ['-f', env.WORKBENCH_TMUX_CONF!, ...args], { env });

async function waitUntil<T>(what: string, probe: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'formicary-screen-'));
  const inherited = Object.fromEntries(Object.entries(process.env).filter((entry): entry is [string, string] => entry[1] !== undefined && entry[0] !== 'TMUX'));
  // No history file: the session's bash would write one as it exits, after the directory is gone.
  env = { ...inherited, TMUX_TMPDIR: dir, WORKBENCH_TMUX_CONF: path.join(WORKBENCH.pathname, 'tmux.conf'), TERM: 'xterm-256color', HOME: dir, HISTFILE: '' };
});

afterAll(async () => {
  await tmux('kill-server').catch(() => undefined);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A terminal opened on the kept session as the portal opens one: workbench-shell in a new pseudo-terminal. */
async function attach(until: (text: string) => boolean): Promise<{ raw: string; text: string }> {
  const terminal = spawn('bash', [path.join(WORKBENCH.pathname, 'workbench-shell')], { ...SIZE, env, cwd: dir });
  const screen = new TerminalScreen(SIZE);
  let raw = '';
  terminal.onData((data) => {
    raw += data;
    screen.write(data);
  });
  try {
    await waitUntil('the screen to show it', () => until(screen.text()));
    return { raw, text: screen.text() };
  } finally {
    terminal.kill('SIGHUP');
    await tmux('detach-client', '-s', 'learner').catch(() => undefined);
  }
}

describe('a terminal screen', () => {
  it('shows what a kept shell printed while no terminal was attached, which tmux sends as a repaint', async () => {
    await tmux('new-session', '-d', '-s', 'learner', '-x', String(SIZE.cols), '-y', String(SIZE.rows), 'bash --norc --noprofile');
    // Keys sent before bash reads them would be echoed twice (by the terminal, then by bash).
    await waitUntil('the prompt', async () => /[$#] *$/.test((await tmux('capture-pane', '-p', '-t', 'learner')).stdout.trim()));
    await tmux('send-keys', '-t', 'learner', "echo mark''begin; echo one; echo two; echo mark''end", 'Enter');
    await waitUntil('the command to finish in the session', async () => (await tmux('capture-pane', '-p', '-t', 'learner')).stdout.includes('markend'));

    const { raw, text } = await attach((shown) => /markbegin\none\ntwo\nmarkend\n[^\n]*[$#]$/.test(shown));
    // What made the replicas test wait in vain: tmux ends each repainted line with ESC[K, never
    // with `markbegin` and a line break side by side.
    expect(raw).toContain('markbegin\x1b[K');
    expect(raw).not.toMatch(/markbegin\r?\n/);
    // The command line once: a session with no history yet has nothing to print above the screen.
    expect(text.match(/echo mark''begin/g)).toHaveLength(1);
  });

  it('shows the history of a kept shell above its screen, each line once', async () => {
    await tmux('send-keys', '-t', 'learner', 'clear; seq 1 80 | sed s/^/line-/', 'Enter');
    await waitUntil('the lines to be printed', async () => (await tmux('capture-pane', '-p', '-t', 'learner')).stdout.includes('line-80'));

    const { raw, text } = await attach((shown) => /line-80\n[^\n]*[$#]$/.test(shown));
    const lines = text.split('\n').filter((line) => line.startsWith('line-'));
    // The stream's start (what workbench-shell printed before tmux drew) tells a missing history from a misread one.
    expect(lines, `the terminal got: ${JSON.stringify(raw.slice(0, 2500))}`).toEqual(Array.from({ length: 80 }, (_, index) => `line-${index + 1}`));
  });

  it('joins a line the terminal wrapped, and keeps what scrolled off in its scrollback', () => {
    const screen = new TerminalScreen({ cols: 10, rows: 3 });
    screen.write('0123456789abcdef\r\nsecond\r\nthird\r\nfourth');
    expect(screen.scrolledOff).toBe(2);
    expect(screen.text()).toBe('0123456789abcdef\nsecond\nthird\nfourth');
    expect(screen.text(2)).toBe('second\nthird\nfourth');
  });

  it('draws over what is on the screen as cursor moves and erasing say', () => {
    const screen = new TerminalScreen({ cols: 20, rows: 4 });
    screen.write('old line one\r\nold line two\r\n$ ');
    // A repaint: home, each line then erase to its end, the cursor put back.
    screen.write('\x1b[Hnew one\x1b[K\r\nnew two\x1b[K\r\n$ ls\x1b[K\r\n\x1b[K\x1b[3;5H');
    expect(screen.text()).toBe('new one\nnew two\n$ ls');
    // Scroll region 1-2: a line feed at its bottom scrolls only it, and nothing goes to the scrollback.
    screen.write('\x1b[1;2r\x1b[2;1H\nthree\x1b[r');
    expect(screen.text()).toBe('new two\nthree\n$ ls');
    expect(screen.scrolledOff).toBe(0);
  });
});
