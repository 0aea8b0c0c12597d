// WATCH: one JSON event per line on a chunked response, until timeoutSeconds, the client leaving
// (res 'close', not req 'close': the request side closes as soon as its body is read), or a
// client too slow to keep up. An expired resourceVersion is an ERROR event carrying a 410 Status,
// which informers answer by listing again.
import { StatusError } from '../types.ts';
import type { ResourceDefinition, Watch, WatchEvent, WatchOptions } from '../registry/index.ts';
import type { ApiContext, RequestScope } from './context.ts';
import type { ObjectRepresentation } from './media.ts';
import { listQueryFrom, timeoutSecondsFrom } from './options.ts';
import { partialObject, tablePrinter, withTypeMeta } from './representation.ts';
import { namespaceArg, representationFor } from './resources.ts';

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
  // Events the registry delivers while watch() is still setting up wait here until the headers are out.
  let backlog: string[] | undefined = [];
  let timeout: NodeJS.Timeout | undefined;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearTimeout(timeout);
    watch?.stop();
    if (backlog === undefined && !res.writableEnded) res.end();
  };
  const encode = (event: WatchEvent): string => {
    const object = event.type === 'ERROR' ? event.object : present(event, first);
    if (event.type !== 'ERROR' && event.type !== 'BOOKMARK') first = false;
    return JSON.stringify({ type: event.type, object }) + '\n';
  };
  const send = (event: WatchEvent) => {
    if (stopped) return;
    if (backlog) {
      backlog.push(encode(event));
      return;
    }
    res.write(encode(event));
    // A watcher that cannot keep up is closed, as the watch cache does; it re-watches from its last resourceVersion.
    if (res.writableLength > ctx.watch.maxBufferedBytes) stop();
  };

  try {
    // The registry ends a watch itself when its resource goes away (CRD deleted) or it closes.
    watch = ctx.registry.watch(def, { ...options, onClose: stop }, send);
  } catch (error) {
    if (!(error instanceof StatusError && error.code === 410)) throw error;
    backlog.push(JSON.stringify({ type: 'ERROR', object: error.status }) + '\n');
    stopped = true;
  }

  res.statusCode = 200;
  // Watch events are JSON lines whatever the Accept (there is no YAML stream framing).
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-cache, private');
  res.setHeader('Transfer-Encoding', 'chunked');
  res.flushHeaders();
  for (const line of backlog) res.write(line);
  backlog = undefined;
  if (stopped) {
    res.end();
    return;
  }

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
