// Server-sent events: a response that stays open and carries `event:`/`data:` records. A comment
// line every 15 s keeps proxies from closing a quiet stream.

import type { IncomingMessage, ServerResponse } from 'node:http';

const HEARTBEAT_MS = 15_000;

export interface EventStream {
  send(data: unknown, options?: { event?: string; id?: string }): void;
  close(): void;
  /** Resolves when the stream ends, from either side. */
  readonly closed: Promise<void>;
}

export function openEventStream(req: IncomingMessage, res: ServerResponse, heartbeatMs: number = HEARTBEAT_MS): EventStream {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // nginx and similar proxies would otherwise buffer the stream.
    'x-accel-buffering': 'no',
  });
  res.flushHeaders();

  let open = true;
  let ended!: () => void;
  const closed = new Promise<void>((resolve) => (ended = resolve));
  const heartbeat = setInterval(() => res.write(': keep-alive\n\n'), heartbeatMs);
  heartbeat.unref();
  const finish = () => {
    if (!open) return;
    open = false;
    clearInterval(heartbeat);
    ended();
  };
  req.once('close', finish);
  res.once('close', finish);

  return {
    send(data, options = {}) {
      if (!open) return;
      let record = '';
      if (options.id !== undefined) record += `id: ${options.id.replace(/[\r\n]/g, '')}\n`;
      if (options.event !== undefined) record += `event: ${options.event.replace(/[\r\n]/g, '')}\n`;
      const text = typeof data === 'string' ? data : JSON.stringify(data);
      for (const line of text.split(/\r?\n/)) record += `data: ${line}\n`;
      res.write(`${record}\n`);
    },
    close() {
      if (!open) return;
      finish();
      res.end();
    },
    closed,
  };
}
