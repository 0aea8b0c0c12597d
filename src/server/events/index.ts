// Notifications between portal processes, through the database: whoever changes something
// publishes on a channel, every process's subscribers hear it. On PostgreSQL this is
// LISTEN/NOTIFY on one dedicated connection per process (replicas agree); on SQLite, which serves
// one process, publishing is in-process, and what database triggers append to `lab_activity`
// (lab sessions and checks recorded by anyone) is read from that table as it grows.

import pg from 'pg';
import { z } from 'zod';
import { redactUrl, type DatabaseConfig } from '../config.ts';
import type { Database } from '../db/index.ts';
import type { Logger } from '../log.ts';

/** A learner's lab changed (session opened, step moved, check recorded): payload is the learner id. */
export const LAB_ACTIVITY = 'lab_activity';

export type Listener = (payload: string) => void;

export interface Notifications {
  /** Delivered to every subscriber of `channel` in every portal process, once the change is committed. */
  publish(channel: string, payload: string): Promise<void>;
  /** Resolves once this process listens, so nothing published afterwards is missed. */
  subscribe(channel: string, listener: Listener): Promise<() => void>;
  close(): Promise<void>;
}

const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;
/** PostgreSQL refuses NOTIFY payloads of 8000 bytes or more. */
const MAX_PAYLOAD_BYTES = 7_999;
const SQLITE_POLL_MS = 50;
const RECONNECT_MS = 1_000;

function checkChannel(channel: string): void {
  if (!CHANNEL.test(channel)) throw new Error(`notification channel ${JSON.stringify(channel)}: use lower-case letters, digits and _ (at most 63)`);
}

class Subscribers {
  readonly #byChannel = new Map<string, Set<Listener>>();

  add(channel: string, listener: Listener): { first: boolean; remove: () => boolean } {
    let listeners = this.#byChannel.get(channel);
    const first = !listeners;
    if (!listeners) {
      listeners = new Set();
      this.#byChannel.set(channel, listeners);
    }
    const own = listeners;
    // The same function may subscribe twice; each subscription is removed on its own.
    const entry: Listener = (payload) => listener(payload);
    own.add(entry);
    return {
      first,
      remove: () => {
        own.delete(entry);
        if (own.size > 0 || this.#byChannel.get(channel) !== own) return false;
        this.#byChannel.delete(channel);
        return true;
      },
    };
  }

  channels(): string[] {
    return [...this.#byChannel.keys()];
  }

  deliver(channel: string, payload: string, log: Logger): void {
    for (const listener of this.#byChannel.get(channel) ?? []) {
      try {
        listener(payload);
      } catch (error) {
        log.warn({ err: error, channel }, 'a notification listener failed');
      }
    }
  }
}

export function openNotifications(config: DatabaseConfig, db: Database, log: Logger): Notifications {
  return config.kind === 'postgres' ? postgresNotifications(config.url, db, log) : sqliteNotifications(db, log);
}

function postgresNotifications(url: string, db: Database, log: Logger): Notifications {
  const subscribers = new Subscribers();
  let closed = false;
  let client: pg.Client | null = null;
  let connecting: Promise<pg.Client> | null = null;
  let retry: NodeJS.Timeout | undefined;

  const quote = (channel: string) => `"${channel}"`;

  const connect = (): Promise<pg.Client> => {
    connecting ??= (async () => {
      const fresh = new pg.Client({ connectionString: url, application_name: 'formicary-notifications' });
      fresh.on('notification', (message) => {
        if (message.payload !== undefined) subscribers.deliver(message.channel, message.payload, log);
      });
      fresh.on('error', (error) => {
        log.warn({ err: error, database: redactUrl(url) }, 'the notification connection to PostgreSQL was lost; reconnecting');
        if (client === fresh) client = null;
        connecting = null;
        void fresh.end().catch(() => undefined);
        reconnectSoon();
      });
      await fresh.connect();
      for (const channel of subscribers.channels()) await fresh.query(`LISTEN ${quote(channel)}`);
      client = fresh;
      return fresh;
    })();
    const attempt = connecting;
    attempt.catch(() => {
      if (connecting === attempt) connecting = null;
    });
    return attempt;
  };

  const reconnectSoon = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      if (closed || subscribers.channels().length === 0) return;
      connect().catch((error: unknown) => {
        log.warn({ err: error }, 'could not listen on PostgreSQL; trying again');
        reconnectSoon();
      });
    }, RECONNECT_MS);
    retry.unref();
  };

  return {
    async publish(channel, payload) {
      checkChannel(channel);
      if (Buffer.byteLength(payload) > MAX_PAYLOAD_BYTES) throw new Error(`notification on ${channel}: payload of ${Buffer.byteLength(payload)} bytes; PostgreSQL takes at most ${MAX_PAYLOAD_BYTES}`);
      await db.run('SELECT pg_notify($1, $2)', [channel, payload]);
    },

    async subscribe(channel, listener) {
      checkChannel(channel);
      if (closed) throw new Error('notifications are closed');
      const { first, remove } = subscribers.add(channel, listener);
      try {
        const listening = client ?? (await connect());
        if (first && client === listening) await listening.query(`LISTEN ${quote(channel)}`);
      } catch (error) {
        remove();
        throw error;
      }
      return () => {
        if (remove() && client) void client.query(`UNLISTEN ${quote(channel)}`).catch(() => undefined);
      };
    },

    async close() {
      closed = true;
      clearTimeout(retry);
      const open = client ?? (await connecting?.catch(() => null)) ?? null;
      client = null;
      await open?.end().catch(() => undefined);
    },
  };
}

const activityRow = z.object({ seq: z.coerce.number(), learner_id: z.string() });
const lastRow = z.object({ seq: z.coerce.number().nullable() });

function sqliteNotifications(db: Database, log: Logger): Notifications {
  const subscribers = new Subscribers();
  let closed = false;
  let poller: NodeJS.Timeout | undefined;
  let polling: Promise<void> | null = null;
  let seen: number | null = null;

  const poll = () => {
    polling ??= (async () => {
      try {
        if (seen === null) {
          // What happened before anyone listened is of no interest to anyone: the feed starts empty.
          seen = (await db.one(lastRow, 'SELECT max(seq) AS seq FROM lab_activity'))?.seq ?? 0;
          await db.run('DELETE FROM lab_activity WHERE seq <= $1', [seen]);
          return;
        }
        const rows = await db.all(activityRow, 'SELECT seq, learner_id FROM lab_activity WHERE seq > $1 ORDER BY seq', [seen]);
        const last = rows.at(-1);
        if (!last) return;
        seen = last.seq;
        // One process reads this feed: what it has read is not needed again.
        await db.run('DELETE FROM lab_activity WHERE seq <= $1', [seen]);
        for (const learner of new Set(rows.map((row) => row.learner_id))) subscribers.deliver(LAB_ACTIVITY, learner, log);
      } catch (error) {
        if (!closed) log.warn({ err: error }, 'could not read lab activity');
      } finally {
        polling = null;
      }
    })();
    return polling;
  };

  return {
    async publish(channel, payload) {
      checkChannel(channel);
      // Like NOTIFY, delivery happens after the caller goes on.
      queueMicrotask(() => subscribers.deliver(channel, payload, log));
    },

    async subscribe(channel, listener) {
      checkChannel(channel);
      if (closed) throw new Error('notifications are closed');
      const { remove } = subscribers.add(channel, listener);
      if (channel === LAB_ACTIVITY && !poller) {
        await poll();
        poller = setInterval(() => void poll(), SQLITE_POLL_MS);
        poller.unref();
      }
      return () => {
        if (remove() && channel === LAB_ACTIVITY) {
          clearInterval(poller);
          poller = undefined;
          seen = null;
        }
      };
    },

    async close() {
      closed = true;
      clearInterval(poller);
      poller = undefined;
      await polling;
    },
  };
}
