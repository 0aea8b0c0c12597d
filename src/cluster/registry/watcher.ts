// One watch as the API server's watch cache serves it: events from one resource's history after a
// resourceVersion, filtered by the watch's selectors (an object that stops matching is DELETED
// for it, one that starts is ADDED), bookmarks when asked for, and an end the consumer hears of.
import type { KubeObject } from '../types.ts';
import type { HistoryEvent } from './history.ts';
import type { RegistryLogger, ResourceDefinition, Watch, WatchEvent } from './interface.ts';
import type { StorageWatcher } from './storage.ts';

export class Watcher implements Watch, StorageWatcher {
  lastRV = 0;
  stopped = false;
  private readonly def: ResourceDefinition;
  private readonly matches: (object: KubeObject) => boolean;
  private readonly onEvent: (event: WatchEvent) => void;
  private readonly allowBookmarks: boolean;
  private readonly detach: () => void;
  private readonly logger: RegistryLogger;
  private readonly present: (object: KubeObject) => KubeObject;
  private readonly onClose: (() => void) | undefined;

  constructor(
    def: ResourceDefinition,
    matches: (object: KubeObject) => boolean,
    onEvent: (event: WatchEvent) => void,
    allowBookmarks: boolean,
    detach: () => void,
    logger: RegistryLogger,
    present: (object: KubeObject) => KubeObject,
    onClose: (() => void) | undefined,
  ) {
    this.onClose = onClose;
    this.def = def;
    this.matches = matches;
    this.onEvent = onEvent;
    this.allowBookmarks = allowBookmarks;
    this.detach = detach;
    this.logger = logger;
    this.present = present;
  }

  /** The watch cache's rule: an object that stops matching is DELETED, one that starts is ADDED. */
  deliver(event: HistoryEvent): void {
    if (this.stopped || event.rv <= this.lastRV) return;
    this.lastRV = event.rv;
    const now = event.type !== 'DELETED' && this.matches(event.object);
    const before = event.type === 'MODIFIED' && event.prev !== undefined && this.matches(event.prev);
    switch (event.type) {
      case 'ADDED':
        if (now) this.emit('ADDED', event.object, event.bytes);
        break;
      case 'MODIFIED':
        if (now && before) this.emit('MODIFIED', event.object, event.bytes);
        else if (now) this.emit('ADDED', event.object, event.bytes);
        else if (before) this.emit('DELETED', event.object, event.bytes);
        break;
      case 'DELETED':
        if (this.matches(event.prev ?? event.object)) this.emit('DELETED', event.object, event.bytes);
        break;
    }
  }

  emit(type: WatchEvent['type'], object: KubeObject, bytes?: number): void {
    if (this.stopped) return;
    try {
      this.onEvent({ type, object: this.present(object), ...(bytes === undefined ? {} : { bytes }) });
    } catch (error) {
      this.logger.warn({ error: String(error), resource: this.def.resource }, 'a watch consumer failed; the watch is stopped');
      this.stop();
    }
  }

  emitBookmark(rv: number, initialEventsEnd = false): void {
    const def = this.def;
    const metadata: KubeObject['metadata'] = { resourceVersion: String(rv) };
    if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
    this.emit('BOOKMARK', { apiVersion: def.group ? `${def.group}/${def.version}` : def.version, kind: def.kind, metadata });
  }

  bookmark(rv?: number): void {
    if (!this.allowBookmarks || this.stopped) return;
    const at = Math.max(rv ?? this.lastRV, this.lastRV);
    this.emitBookmark(at);
  }

  close(): void {
    if (this.stopped) return;
    this.stop();
    this.onClose?.();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.detach();
  }
}
