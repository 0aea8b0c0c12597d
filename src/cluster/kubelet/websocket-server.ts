// The WebSocket side of exec/attach and port-forward streams. The ws package loads with the first
// stream a client opens, not on the way to "ready" (it is most of what the kubelet's code costs to load).
import { createRequire } from 'node:module';
import type { Duplex } from 'node:stream';
import type { ServerOptions, WebSocket, WebSocketServer } from 'ws';

const require = createRequire(import.meta.url);
let wsModule: typeof import('ws') | undefined;
const ws = (): typeof import('ws') => (wsModule ??= require('ws') as typeof import('ws'));

/** A server made on first use with `options`. */
export function webSocketServer(options: ServerOptions): () => WebSocketServer {
  let server: WebSocketServer | undefined;
  return () => (server ??= new (ws().WebSocketServer)(options));
}

/** ws's createWebSocketStream: the socket as a byte stream. */
export function webSocketStream(socket: WebSocket): Duplex {
  return ws().createWebSocketStream(socket);
}
