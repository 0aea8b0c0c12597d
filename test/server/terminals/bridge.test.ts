// The terminal bridge end to end: a WebSocket client speaking the browser's protocol, the bridge,
// and a real exec stream (client-node) into a workbench pod of an embedded cluster started for
// this file — a real bash in the kubelet's sandbox.
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { startCluster, type RunningCluster } from '../../../src/cluster/index.ts';
import type { Learner } from '../../../src/server/services.ts';
import { CLOSE, type ServerMessage } from '../../../src/contracts/index.ts';
import { execShells, TerminalBridge, terminalSockets, type TerminalSockets, type WorkbenchTarget } from '../../../src/server/terminals/index.ts';
import { captureLogs } from '../../support/logs.ts';

const { log } = captureLogs();
// Only the id matters to the bridge; the rest of a learner is the sessions' business.
const ada = { id: 'ada-id', name: 'Ada' } as Learner;
const grace = { id: 'grace-id', name: 'Grace' } as Learner;

let dataDir: string;
let cluster: RunningCluster;
let kubeConfig: KubeConfig;

async function workbench(namespace: string): Promise<WorkbenchTarget> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  await core.createNamespacedPod({
    namespace,
    body: { metadata: { name: 'workbench' }, spec: { containers: [{ name: 'workbench', image: 'formicary/workbench' }] } },
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const pod = await core.readNamespacedPod({ namespace, name: 'workbench' });
    if (pod.status?.containerStatuses?.[0]?.ready) return { namespace, pod: 'workbench', container: 'workbench' };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the workbench in ${namespace} did not become ready within 30 s`);
}

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(tmpdir(), 'formicary-terminals-'));
  // Pod directories outlive a cluster's stop (as on a node): beside the data dir, so the test removes them.
  cluster = await startCluster({ dataDir, port: 0, nodes: 1, kubelet: { kubeletDir: `${dataDir}-kubelet`, timing: { startDelayScale: 0 } } });
  kubeConfig = new KubeConfig();
  kubeConfig.loadFromString(cluster.kubeconfig());
}, 60_000);

afterAll(async () => {
  await cluster?.stop();
  await rm(dataDir, { recursive: true, force: true });
  await rm(`${dataDir}-kubelet`, { recursive: true, force: true });
});

/** A browser tab: sends the protocol's messages, collects what the portal says. */
class Tab {
  readonly socket: WebSocket;
  readonly messages: ServerMessage[] = [];
  screen = '';
  shell: string | undefined;
  seq: number | undefined;
  closed: Promise<{ code: number; reason: string }>;
  opened: Promise<void>;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.socket = new WebSocket(url, { headers });
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
      this.socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.socket.on('message', (data) => {
      const message = JSON.parse(data.toString()) as ServerMessage;
      this.messages.push(message);
      if (message.type === 'replay') {
        if (message.reset) this.screen = '';
        this.screen += message.data;
        this.shell = message.shell;
        this.seq = message.seq;
      } else if (message.type === 'output') {
        this.screen += message.data;
        this.seq = message.seq;
      }
    });
  }

  send(message: object): void {
    this.socket.send(JSON.stringify(message));
  }

  attach(previous?: { shell?: string; seq?: number }): void {
    this.send({ type: 'attach', cols: 100, rows: 30, ...previous });
  }

  type(text: string): void {
    this.send({ type: 'input', data: text });
  }

  async waitFor(predicate: (tab: Tab) => boolean, what: string, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; the screen shows:\n${this.screen.slice(-2000)}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  waitForText(text: string): Promise<void> {
    return this.waitFor((tab) => tab.screen.includes(text), JSON.stringify(text));
  }

  close(): void {
    this.socket.close();
  }
}

describe('the terminal bridge', () => {
  let server: Server | null = null;
  let sockets: TerminalSockets | null = null;
  let bridge: TerminalBridge | null = null;
  let url = '';

  /** A portal stand-in: the learner comes from the `x-learner` header; sessions belong as given. */
  async function serve(target: WorkbenchTarget, options: { replayCapacity?: number; owner?: Learner } = {}) {
    bridge = new TerminalBridge({ openShell: execShells(() => kubeConfig), log, ...(options.replayCapacity ? { replayCapacity: options.replayCapacity } : {}) });
    const owner = options.owner ?? ada;
    sockets = terminalSockets({
      bridge,
      log,
      authorize: async (learner, lab, session) => {
        if (lab !== 'demo') return { allowed: false, status: 404, message: `there is no lab "${lab}"` };
        if (session !== null && session !== 'session-1') return { allowed: false, status: 404, message: 'no such session' };
        if (learner.id !== owner.id) return { allowed: false, status: 403, message: 'this lab session belongs to another learner' };
        return { allowed: true, labSession: 'session-1', target };
      },
    });
    server = createServer();
    server.on('upgrade', (req, socket, head) => {
      const who = req.headers['x-learner'];
      const learner = who === 'ada' ? ada : who === 'grace' ? grace : null;
      const parsed = new URL(req.url ?? '/', 'http://portal');
      const lab = /^\/api\/labs\/([^/]+)\/terminal$/.exec(parsed.pathname)?.[1] ?? '';
      void sockets!.upgrade(req, socket, head, { learner, params: { lab }, url: parsed, log });
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/api/labs/demo/terminal`;
  }

  afterEach(async () => {
    sockets?.close();
    bridge?.shutdown();
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = null;
  });

  it('opens a real shell in the workbench and pipes keystrokes and output both ways', async () => {
    await serve(await workbench('term-pipe'));
    const tab = new Tab(url, { 'x-learner': 'ada' });
    await tab.opened;
    tab.attach();
    await tab.waitFor((t) => t.messages.some((m) => m.type === 'status' && m.state === 'connected'), 'connected');
    tab.type('echo "sum=$((40+2))"\r');
    await tab.waitForText('sum=42');
    tab.type('kubectl config view --minify -o jsonpath="{..namespace}"; echo\r');
    await tab.waitForText('term-pipe\r\n');
    expect(tab.messages.filter((m) => m.type === 'output').every((m, i, all) => i === 0 || (m as { seq: number }).seq > (all[i - 1] as { seq: number }).seq)).toBe(true);
    tab.close();
  });

  it('resizes the shell’s terminal', async () => {
    await serve(await workbench('term-resize'));
    const tab = new Tab(url, { 'x-learner': 'ada' });
    await tab.opened;
    tab.attach();
    tab.send({ type: 'resize', cols: 132, rows: 43 });
    tab.type('stty size\r');
    await tab.waitForText('43 132');
    tab.close();
  });

  it('keeps the shell when the tab goes away and replays only what the tab missed', async () => {
    await serve(await workbench('term-replay'));
    const first = new Tab(url, { 'x-learner': 'ada' });
    await first.opened;
    first.attach();
    first.type('export MARK=kept-in-shell; echo "before-drop-$((6*7))"\r');
    await first.waitForText('before-drop-42');
    const seen = { shell: first.shell!, seq: first.seq! };
    first.socket.terminate();
    await first.closed;

    // Output produced while no tab is attached is kept for the next one.
    const second = new Tab(url, { 'x-learner': 'ada' });
    await second.opened;
    second.attach(seen);
    await second.waitFor((t) => t.messages.some((m) => m.type === 'replay'), 'the replay');
    const replay = second.messages.find((m) => m.type === 'replay');
    expect(replay).toMatchObject({ type: 'replay', shell: seen.shell, reset: false });
    expect((replay as { data: string }).data).not.toContain('before-drop-42');
    second.type('echo "mark=$MARK"\r');
    await second.waitForText('mark=kept-in-shell');
    second.type('history | tail -n 3\r');
    await second.waitForText('export MARK=kept-in-shell');
    second.close();

    // A reloaded tab remembers nothing: it gets everything kept, to draw on a clean screen.
    const reloaded = new Tab(url, { 'x-learner': 'ada' });
    await reloaded.opened;
    reloaded.attach();
    await reloaded.waitFor((t) => t.messages.some((m) => m.type === 'replay'), 'the replay');
    expect(reloaded.messages.find((m) => m.type === 'replay')).toMatchObject({ reset: true });
    expect(reloaded.screen).toContain('before-drop-42');
    expect(reloaded.screen).toContain('mark=kept-in-shell');
    reloaded.close();
  });

  it('replays from a clean screen when the tab’s position has left the bounded buffer', async () => {
    await serve(await workbench('term-bounded'), { replayCapacity: 4096 });
    const tab = new Tab(url, { 'x-learner': 'ada' });
    await tab.opened;
    tab.attach();
    tab.type('echo "first-line-$((1+1))"\r');
    await tab.waitForText('first-line-2');
    const seen = { shell: tab.shell!, seq: tab.seq! };
    tab.close();
    await tab.closed;
    const flood = new Tab(url, { 'x-learner': 'ada' });
    await flood.opened;
    flood.attach(seen);
    flood.type('for i in $(seq 1 400); do echo "line-$i-padding-padding"; done; echo "flood-$((2+2))"\r');
    await flood.waitForText('flood-4');
    flood.close();
    await flood.closed;

    const late = new Tab(url, { 'x-learner': 'ada' });
    await late.opened;
    late.attach(seen);
    await late.waitFor((t) => t.messages.some((m) => m.type === 'replay'), 'the replay');
    const replay = late.messages.find((m) => m.type === 'replay') as { data: string; reset: boolean };
    expect(replay.reset).toBe(true);
    expect(replay.data.length).toBeLessThanOrEqual(4096);
    expect(replay.data).toContain('flood-4');
    expect(replay.data).not.toContain('first-line');
    expect(late.screen).toContain('line-400-padding');
    late.close();
  });

  it('tells the first tab that a second tab took the terminal over, and gives the second the same shell', async () => {
    await serve(await workbench('term-takeover'));
    const first = new Tab(url, { 'x-learner': 'ada' });
    await first.opened;
    first.attach();
    first.type('echo "first-tab-$((3+3))"\r');
    await first.waitForText('first-tab-6');

    const second = new Tab(url, { 'x-learner': 'ada' });
    await second.opened;
    second.attach();
    const closed = await first.closed;
    expect(first.messages.at(-1)).toEqual({ type: 'takeover', message: 'This terminal was opened in another tab.' });
    expect(closed.code).toBe(CLOSE.takenOver);
    await second.waitForText('first-tab-6');
    second.type('echo "second-tab-$((4+4))"\r');
    await second.waitForText('second-tab-8');
    second.close();
  });

  it('refuses another learner’s session and a signed-out visitor before any WebSocket exists', async () => {
    await serve(await workbench('term-refuse'));
    await expect(new Tab(url, { 'x-learner': 'grace' }).opened).rejects.toThrow('HTTP 403');
    await expect(new Tab(`${url}?session=session-1`, { 'x-learner': 'grace' }).opened).rejects.toThrow('HTTP 403');
    await expect(new Tab(url).opened).rejects.toThrow('HTTP 401');
    await expect(new Tab(url.replace('/demo/', '/other/'), { 'x-learner': 'ada' }).opened).rejects.toThrow('HTTP 404');
  });

  it('answers malformed messages with an error and input before attach with a reminder', async () => {
    await serve(await workbench('term-protocol'));
    const tab = new Tab(url, { 'x-learner': 'ada' });
    await tab.opened;
    tab.type('ls\r');
    tab.socket.send('not json');
    tab.send({ type: 'resize', cols: 0, rows: 10 });
    await tab.waitFor((t) => t.messages.filter((m) => m.type === 'error').length === 3, 'three errors');
    expect(tab.messages.map((m) => (m as { message: string }).message)).toEqual([
      'terminal message: input: send attach {cols, rows} first',
      expect.stringContaining('not JSON'),
      expect.stringMatching(/^terminal message: cols: /),
    ]);
    tab.close();
  });

  it('tells the tab when the shell exits, and a new attach starts a new shell', async () => {
    await serve(await workbench('term-exit'));
    const tab = new Tab(url, { 'x-learner': 'ada' });
    await tab.opened;
    tab.attach();
    tab.type('exit 3\r');
    const closed = await tab.closed;
    expect(closed.code).toBe(CLOSE.exited);
    expect(tab.messages.at(-1)).toMatchObject({ type: 'status', state: 'exited' });
    const again = new Tab(url, { 'x-learner': 'ada' });
    await again.opened;
    again.attach({ shell: tab.shell!, seq: tab.seq! });
    await again.waitFor((t) => t.shell !== undefined, 'the replay');
    expect(again.shell).not.toBe(tab.shell);
    again.type('echo "fresh-shell-$((5+5))"\r');
    await again.waitForText('fresh-shell-10');
    again.close();
  });
});
