// The HTTP/1.1 upgrade to SPDY/3.1 as apimachinery's httpstream does it: first the subprotocol
// (X-Stream-Protocol-Version, the first the client lists that the server speaks), then the
// upgrade headers, then 101 Switching Protocols and SPDY frames on the same connection.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { SpdyConnection } from './connection.ts';

export const SPDY_UPGRADE = 'SPDY/3.1';
const PROTOCOL_HEADER = 'X-Stream-Protocol-Version';
const ACCEPTED_HEADER = 'X-Accepted-Stream-Protocol-Versions';

export function isSpdyUpgrade(req: IncomingMessage): boolean {
  return (req.headers.upgrade ?? '').toLowerCase() === SPDY_UPGRADE.toLowerCase();
}

/** The protocols a client offers; kubectl repeats the header, which Node joins with commas. */
export function offeredProtocols(req: IncomingMessage): string[] {
  const raw = req.headers[PROTOCOL_HEADER.toLowerCase()];
  const values = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  return values.flatMap((value) => value.split(',')).map((value) => value.trim()).filter((value) => value !== '');
}

function plainAnswer(socket: Duplex, code: number, reason: string, message: string, headers: string[] = []): void {
  const body = `${message}\n`;
  if (!socket.writable) return;
  socket.end(
    [`HTTP/1.1 ${code} ${reason}`, 'Content-Type: text/plain; charset=utf-8', 'X-Content-Type-Options: nosniff', ...headers, `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close', '', body].join('\r\n'),
  );
}

export type SpdyUpgrade = { connection: SpdyConnection; protocol: string } | undefined;

/**
 * Negotiates and upgrades; on failure answers as upstream does (403 with the protocols each side
 * speaks, 400 for a request that is no upgrade) and returns undefined.
 */
export function acceptSpdy(req: IncomingMessage, socket: Duplex, head: Buffer, serverProtocols: readonly string[]): SpdyUpgrade {
  const offered = offeredProtocols(req);
  if (offered.length === 0) {
    plainAnswer(socket, 400, 'Bad Request', `unable to upgrade: ${PROTOCOL_HEADER} is required`);
    return undefined;
  }
  const protocol = offered.find((candidate) => serverProtocols.includes(candidate));
  if (!protocol) {
    plainAnswer(
      socket,
      403,
      'Forbidden',
      `unable to upgrade: unable to negotiate protocol: client supports [${offered.join(' ')}], server accepts [${serverProtocols.join(' ')}]`,
      serverProtocols.map((accepted) => `${ACCEPTED_HEADER}: ${accepted}`),
    );
    return undefined;
  }
  const connectionHeader = String(req.headers.connection ?? '').toLowerCase();
  if (!connectionHeader.split(',').some((token) => token.trim() === 'upgrade') || !isSpdyUpgrade(req)) {
    plainAnswer(socket, 400, 'Bad Request', 'unable to upgrade: missing upgrade headers in request');
    return undefined;
  }
  socket.write(`HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: ${SPDY_UPGRADE}\r\n${PROTOCOL_HEADER}: ${protocol}\r\n\r\n`);
  const connection = new SpdyConnection(socket, { head });
  return { connection, protocol };
}
