// GET /api/workshops/:id/learners/:learner/terminal?lab=LAB (WebSocket): the instructor views a
// learner's terminal, read-only. The viewer gets what the terminal printed lately and everything
// new, in the lab terminal's protocol (src/server/terminals/protocol.ts); what it sends is refused.
// While someone views, the learner's workshop stream says so (the notice in their lab).

import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { UpgradeHandler } from '../http/index.ts';
import type { Logger } from '../log.ts';
import { CLOSE, type ServerMessage } from '../../contracts/index.ts';
import type { TerminalClient, TerminalView } from '../terminals/index.ts';
import type { Workshops } from './service.ts';

/** Learners' terminals by lab session, for read-only viewing (the terminal bridge, with the lab session's workbench). */
export interface TerminalViewing {
  view(labSession: string, observer: TerminalClient): Promise<TerminalView | null>;
}

export interface ObserverSocketsOptions {
  workshops: Workshops;
  terminals: TerminalViewing | null;
  /** The learner's open lab session of the lab, if any. */
  labSessionOf: (learnerId: string, lab: string) => Promise<string | null>;
  log: Logger;
}

const REASONS: Record<number, string> = { 400: 'Bad Request', 401: 'Unauthorized', 404: 'Not Found', 409: 'Conflict', 503: 'Service Unavailable' };

function refuse(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ error: message });
  socket.end(`HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

class Viewer implements TerminalClient {
  readonly #socket: WebSocket;

  constructor(socket: WebSocket) {
    this.#socket = socket;
  }

  send(message: ServerMessage): void {
    if (this.#socket.readyState === this.#socket.OPEN) this.#socket.send(JSON.stringify(message));
  }

  close(code: number, reason: string): void {
    this.#socket.close(code, reason);
  }

  get bufferedAmount(): number {
    return this.#socket.bufferedAmount;
  }
}

export function observerSockets(options: ObserverSocketsOptions): { upgrade: UpgradeHandler; close(): void } {
  const { workshops, log } = options;
  const server = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });

  const upgrade: UpgradeHandler = async (req: IncomingMessage, socket: Duplex, head: Buffer, context) => {
    if (!context.learner) return refuse(socket, 401, 'sign in first');
    if (!options.terminals) return refuse(socket, 503, 'labs are not available on this portal');
    const id = context.params.id ?? '';
    const learnerId = context.params.learner ?? '';
    let workshop;
    try {
      // Only the workshop's instructors (and admins) watch its learners' terminals.
      workshop = await workshops.get(id, context.learner);
      await workshops.seat(id, learnerId);
    } catch (error) {
      return refuse(socket, 404, (error as Error).message);
    }
    const lab = context.url.searchParams.get('lab') ?? (workshop.labs.length === 1 ? workshop.labs[0] : undefined);
    if (!lab || !workshop.labs.includes(lab)) return refuse(socket, 400, `lab: name one of the workshop's labs (${workshop.labs.join(', ')}) as ?lab=`);
    const labSession = await options.labSessionOf(learnerId, lab);
    if (!labSession) return refuse(socket, 409, 'the learner has not started this lab');
    const terminals = options.terminals;

    const watch = async (ws: WebSocket) => {
      const viewer = new Viewer(ws);
      const view = await terminals.view(labSession, viewer).catch((error: unknown) => {
        log.warn({ err: error, workshop: id, learner: learnerId, lab }, 'could not open a view of a learner’s terminal');
        return null;
      });
      if (!view) {
        viewer.send({ type: 'status', state: 'exited', message: 'The learner has no terminal open on this portal right now; try again once they open it.' });
        viewer.close(CLOSE.ended, 'no terminal');
        return;
      }
      // The instructor may have left while the view was opening.
      if (ws.readyState !== ws.OPEN) return view.stop();
      log.info({ workshop: id, learner: learnerId, lab, instructor: context.learner?.id }, 'instructor viewing a learner’s terminal');
      void workshops.setViewing(id, learnerId, true);
      ws.on('message', () => viewer.send({ type: 'error', message: 'this view of the terminal is read-only' }));
      ws.on('error', () => ws.terminate());
      ws.once('close', () => {
        view.stop();
        void workshops.setViewing(id, learnerId, false);
      });
    };
    server.handleUpgrade(req, socket, head, (ws) => void watch(ws));
  };

  return {
    upgrade,
    close() {
      for (const client of server.clients) client.close(1001, 'the portal is stopping');
      server.close();
    },
  };
}
