// WATCH: one JSON event per line on a chunked response, until timeoutSeconds, the client leaving
// (res 'close', not req 'close': the request side closes as soon as its body is read), or a
// client too slow to keep up: what waits unsent for one watch is bounded by its share of what all
// watches together may hold, so watches that never read cannot fill the server's memory. An expired resourceVersion is an ERROR event carrying a 410 Status,
// which informers answer by listing again.
import { StatusError } from '../types.ts';
import type { ResourceDefinition, Watch, WatchEvent, WatchOptions } from '../registry/index.ts';
import type { ApiContext, RequestScope } from './context.ts';
import type { ObjectRepresentation } from './media.ts';
import { listQueryFrom, timeoutSecondsFrom } from './options.ts';
import { partialObject, tablePrinter, withTypeMeta } from './representation.ts';
import { namespaceArg, representationFor } from './resources.ts';

/** However many watches are open, each may fall this far behind; also what the first events are written in. */
const MIN_WATCH_SHARE_BYTES = 256 * 1024;
/** Changes that may arrive while a watch's first events are still being taken by its client. */
const MAX_QUEUED_EVENTS = 1000;

export async function watchObjects(ctx: ApiContext, scope: RequestScope, def: ResourceDefinition): Promise<void> {
  const representation = representationFor(scope);
  const query = listQueryFrom(scope.query, 'watch');
  const timeoutSeconds = timeoutSecondsFrom(scope.query) ?? ctx.watch.defaultTimeoutSeconds;
  const allowBookmarks = scope.query.get('allowWatchBookmarks') === 'true';
  const sendInitialEventsParam = scope.query.get('sendInitialEvents');
  const present = await presenter(def, representation, scope.query, ctx.clock);
  const namespace = namespaceArg(def, scope);
  const options: WatchOptions = {
    ...(query.labelSelector ? { labelSelector: query.labelSelector } : {}),
    ...(query.fieldSelector ? { fieldSelector: query.fieldSelector } : {}),
    ...(query.resourceVersion ? { resourceVersion: query.resourceVersion } : {}),
    ...(query.resourceVersionMatch ? { resourceVersionMatch: query.resourceVersionMatch } : {}),
    ...(namespace ? { namespace } : {}),
    ...(sendInitialEventsParam !== null ? { sendInitialEvents: sendInitialEventsParam === 'true' } : {}),
    allowBookmarks,
  };

  const { res } = scope;
  let first = true;
  let watch: Watch | undefined;
  let stopped = false;
  let started = false;
  // Events not written yet: those the registry delivers while watch() sets up, and then, while
  // the client takes the first ones, the rest of them. They are references to the objects (no
  // serialized copies); each is serialized when the socket has room for it. A reference to a
  // version the store has since replaced is all that keeps that version in memory, so the changes
  // queued count against the watch's share as what waits in its socket does.
  let queue: WatchEvent[] | undefined = [];
  let next = 0;
  let queuedLive = 0;
  let queuedLiveBytes = 0;
  let timeout: NodeJS.Timeout | undefined;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timeout);
    watch?.stop();
    ctx.watch.open.delete(res);
    if (started && !res.writableEnded) res.end();
  };
  // A watcher that cannot keep up is cut off, as the watch cache does, and what waits for it is
  // dropped (ending the response would keep it queued); it re-watches from its last resourceVersion.
  const cutOff = () => {
    stop();
    res.destroy();
  };
  const share = () => Math.max(MIN_WATCH_SHARE_BYTES, Math.floor(ctx.watch.maxBufferedBytes / Math.max(1, ctx.watch.open.size)));
  const encode = (event: WatchEvent): string => {
    const object = event.type === 'ERROR' ? event.object : present(event, first);
    if (event.type !== 'ERROR' && event.type !== 'BOOKMARK') first = false;
    return JSON.stringify({ type: event.type, object }) + '\n';
  };
  const pump = () => {
    if (!queue || !started || stopped) return;
    while (next < queue.length && res.writableLength <= MIN_WATCH_SHARE_BYTES) res.write(encode(queue[next++] as WatchEvent));
    if (next === queue.length) queue = undefined;
  };
  const send = (event: WatchEvent) => {
    if (stopped) return;
    if (queue) {
      queue.push(event);
      if (started) queuedLiveBytes += event.bytes ?? 0;
      if (started && (++queuedLive > MAX_QUEUED_EVENTS || queuedLiveBytes > share())) cutOff();
      else pump();
      return;
    }
    if (res.writableLength > share()) {
      cutOff();
      return;
    }
    res.write(encode(event));
  };

  let expired: string | undefined;
  try {
    // The registry ends a watch itself when its resource goes away (CRD deleted) or it closes.
    watch = ctx.registry.watch(def, { ...options, onClose: stop }, send);
  } catch (error) {
    if (!(error instanceof StatusError && error.code === 410)) throw error;
    expired = JSON.stringify({ type: 'ERROR', object: error.status }) + '\n';
  }

  res.statusCode = 200;
  // Watch events are JSON lines whatever the Accept (there is no YAML stream framing).
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-cache, private');
  res.setHeader('Transfer-Encoding', 'chunked');
  res.flushHeaders();
  started = true;
  if (expired !== undefined || stopped) {
    if (expired !== undefined) res.write(expired);
    for (; queue && next < queue.length; next++) res.write(encode(queue[next] as WatchEvent));
    stopped = true;
    res.end();
    return;
  }
  res.on('drain', pump);
  pump();

  ctx.watch.open.add(res);
  res.on('close', stop);
  timeout = setTimeout(() => {
    // A last bookmark lets the client resume from the newest resourceVersion rather than its last event.
    watch?.bookmark();
    stop();
  }, timeoutSeconds * 1000);
}

/** Event objects as the client asked to see them; Tables carry column definitions in the first event only. */
async function presenter(def: ResourceDefinition, representation: ObjectRepresentation, query: URLSearchParams, now: () => Date): Promise<(event: WatchEvent, first: boolean) => unknown> {
  switch (representation.as) {
    case 'Object':
      return (event) => (event.type === 'BOOKMARK' ? event.object : withTypeMeta(def, event.object));
    case 'PartialObjectMetadata':
      return (event) => partialObject(representation.version, event.object);
    case 'Table': {
      const print = await tablePrinter(def, representation.version, query);
      return (event, first) => {
        const table = print(event.type === 'BOOKMARK' ? [] : [event.object], { now: now(), resourceVersion: event.object.metadata.resourceVersion, includeColumnDefinitions: first }) as object;
        return first ? table : { ...table, columnDefinitions: null };
      };
    }
  }
}
