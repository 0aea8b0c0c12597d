// The instructor views a learner's terminal, read-only: over a WebSocket, what the shell printed
// lately and everything new; what the viewer sends never reaches the shell; the learner's workshop
// stream says someone is viewing, and stops saying so when the viewer leaves. The shell is a real
// local `sh` behind the terminal bridge (the workbench's exec stream is tested in terminals/).
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { applyMigrations, openDatabase, readMigrations } from '../../../src/server/db/index.ts';
import { openNotifications } from '../../../src/server/events/index.ts';
import { PortalRoutes, type RouteContext } from '../../../src/server/http/index.ts';
import { createSessions } from '../../../src/server/auth/index.ts';
import type { Learner } from '../../../src/contracts/index.ts';
import { createWorkshopInput, type LearnerEvent, type ServerMessage } from '../../../src/contracts/index.ts';
import { TerminalBridge, type OpenShell, type TerminalClient } from '../../../src/server/terminals/index.ts';
import { createTracking, fixedOutlines } from '../../../src/server/tracking/index.ts';
import { createWorkshops, observerSockets } from '../../../src/server/workshops/index.ts';
import { useTestDatabases } from '../../support/databases.ts';
import { captureLogs } from '../../support/logs.ts';

const databases = useTestDatabases();
const { log } = captureLogs();
const LAB = 'configure';

/** A local shell through pipes, standing where the workbench's exec stream stands. */
const localShells: OpenShell = async (_target, _size, events) => {
  const child = spawn('sh', [], { stdio: ['pipe', 'pipe', 'pipe'] });
  child.stdout.setEncoding('utf8').on('data', (data: string) => events.output(data));
  child.stderr.setEncoding('utf8').on('data', (data: string) => events.output(data));
  child.once('exit', (code) => events.exit({ exitCode: code, message: `The shell exited (${code}).` }));
  return {
    write: (data) => void child.stdin.write(data),
    resize: () => undefined,
    pause: () => child.stdout.pause(),
    resume: () => child.stdout.resume(),
    close: () => void child.kill(),
  };
};

class Tab implements TerminalClient {
  readonly messages: ServerMessage[] = [];
  readonly bufferedAmount = 0;
  send(message: ServerMessage) {
    this.messages.push(message);
  }
  close() {}
  get text() {
    return this.messages.map((message) => (message.type === 'output' || message.type === 'replay' ? message.data : '')).join('');
  }
}

async function until<T>(what: string, probe: () => T | null | undefined | false, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

it('shows the instructor a learner’s terminal read-only, and tells the learner', async () => {
  const config = await databases.fresh('sqlite');
  const db = openDatabase(config, log);
  await applyMigrations(db, await readMigrations('sqlite'));
  const notifications = openNotifications(config, db, log);
  const records = createTracking(db, { outlines: fixedOutlines([]) }).labs;
  const workshops = createWorkshops({
    db,
    notifications,
    records,
    log,
    labs: {
      describe: async (lab) => (lab === LAB ? { id: LAB, title: 'Configure an app', steps: [{ id: 'create', title: 'Create the ConfigMap' }] } : null),
      reset: async () => undefined,
      end: async () => undefined,
      extend: async () => undefined,
    },
  });
  const bridge = new TerminalBridge({ openShell: localShells, log });
  cleanups.push(async () => {
    await workshops.close();
    await notifications.close();
    await db.close();
  });
  cleanups.push(() => bridge.shutdown());

  const people = createSessions(db);
  const instructor = (await people.signIn('Irene', { roles: ['instructor'] })).learner;
  const [ada, grace] = [(await people.signIn('Ada')).learner, (await people.signIn('Grace')).learner];
  const workshop = await workshops.create(instructor, createWorkshopInput.parse({
    title: 'Terminals',
    labs: [LAB],
    startsAt: new Date().toISOString(),
    endsAt: new Date(Date.now() + 3_600_000).toISOString(),
    seats: 5,
  }));
  await workshops.join(ada, { code: workshop.code });
  await workshops.join(grace, { code: workshop.code });
  const { session } = await records.open({ learnerId: ada.id, lab: LAB, lessons: [], step: 'create', expiresAt: null });

  // The routes' upgrade handler, behind an HTTP server that admits the instructor as the portal's gate would.
  const routes = new PortalRoutes();
  const viewers = observerSockets({
    workshops,
    terminals: { view: (labSession, observer) => bridge.view(labSession, async () => null, observer) },
    labSessionOf: async (learnerId, lab) => (await records.current(learnerId, lab))?.id ?? null,
    log,
  });
  routes.upgrade('/api/workshops/:id/learners/:learner/terminal', viewers.upgrade);
  const server: Server = createServer();
  server.on('upgrade', (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://portal');
    const matched = routes.upgrades.match(url.pathname);
    const context = { learner: instructor as Learner, params: matched?.params ?? {}, url, log } satisfies RouteContext;
    void matched?.value(req, socket, head, context);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  cleanups.push(() => viewers.close());
  const base = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/api/workshops/${workshop.id}/learners`;

  const notices: LearnerEvent[] = [];
  const stopFollowing = await workshops.follow(ada.id, (event) => notices.push(event));
  cleanups.push(stopFollowing);

  // Ada's tab opens her terminal and she types.
  const tab = new Tab();
  const terminal = bridge.attach(session.id, { namespace: 'lab-ada', pod: 'workbench', container: 'shell' }, tab, { size: { cols: 80, rows: 24 } });
  terminal.input(tab, 'echo before-$((20+1))\n');
  await until('Ada’s first output', () => tab.text.includes('before-21'));

  const seen: ServerMessage[] = [];
  const viewer = new WebSocket(`${base}/${ada.id}/terminal?lab=${LAB}`);
  viewer.on('message', (data) => seen.push(JSON.parse(String(data)) as ServerMessage));
  await new Promise((resolve, reject) => viewer.once('open', resolve).once('error', reject));
  const text = () => seen.map((message) => (message.type === 'output' || message.type === 'replay' ? message.data : '')).join('');
  await until('what the terminal printed before', () => text().includes('before-21'));
  await until('the notice for Ada', () => notices.some((event) => event.type === 'viewing' && event.viewing));

  terminal.input(tab, 'echo during-$((40+2))\n');
  await until('new output for the viewer', () => text().includes('during-42'));

  viewer.send(JSON.stringify({ type: 'input', data: 'echo intruder-$((1+1))\n' }));
  await until('the read-only answer', () => seen.some((message) => message.type === 'error' && message.message.includes('read-only')));
  terminal.input(tab, 'echo after-$((1+2))\n');
  await until('Ada’s later output', () => tab.text.includes('after-3'));
  expect(tab.text).not.toContain('intruder-2');

  viewer.close();
  await until('the notice taken away', () => notices.some((event) => event.type === 'viewing' && !event.viewing));

  // Grace has not started the lab: there is no terminal to view.
  const refused = new WebSocket(`${base}/${grace.id}/terminal?lab=${LAB}`);
  const status = await new Promise<number>((resolve) => refused.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)).once('open', () => resolve(101)));
  expect(status).toBe(409);
});
