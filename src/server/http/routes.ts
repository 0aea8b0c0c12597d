// Routes that live beside Astro's pages, for what a page cannot do: WebSocket upgrades (lab
// terminals) and long-lived responses such as server-sent events (live workshop views). Later
// parts register handlers here; main.ts gives each the signed-in learner.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from '../log.ts';
import type { Learner } from '../../contracts/index.ts';
import { RouteTable } from './patterns.ts';

export interface RouteContext {
  learner: Learner | null;
  params: Record<string, string>;
  url: URL;
  log: Logger;
}

export type RequestHandler = (req: IncomingMessage, res: ServerResponse, context: RouteContext) => void | Promise<void>;

/** Takes over the socket, e.g. with ws's `WebSocketServer({ noServer: true }).handleUpgrade`. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer, context: RouteContext) => void | Promise<void>;

export type ShutdownHook = () => void | Promise<void>;

export class PortalRoutes {
  readonly requests = new RouteTable<Map<string, RequestHandler>>();
  readonly upgrades = new RouteTable<UpgradeHandler>();
  readonly #methods = new Map<string, Map<string, RequestHandler>>();
  readonly #shutdownHooks: ShutdownHook[] = [];

  /** Serves `method` requests to `pattern` (e.g. `/api/workshops/:id/events`) before Astro sees them. */
  on(method: string, pattern: string, handler: RequestHandler): this {
    let methods = this.#methods.get(pattern);
    if (!methods) {
      methods = new Map();
      this.#methods.set(pattern, methods);
      this.requests.add(pattern, methods);
    }
    const verb = method.toUpperCase();
    if (methods.has(verb)) throw new Error(`route ${verb} ${pattern}: already registered`);
    methods.set(verb, handler);
    return this;
  }

  /** Accepts WebSocket (or other) upgrades to `pattern`. */
  upgrade(pattern: string, handler: UpgradeHandler): this {
    this.upgrades.add(pattern, handler);
    return this;
  }

  /**
   * Runs when the portal begins shutting down, before connections are cut: say goodbye to
   * WebSocket clients (close code 1001), end event streams, stop timers.
   */
  onShutdown(hook: ShutdownHook): this {
    this.#shutdownHooks.push(hook);
    return this;
  }

  async shutdown(log: Logger): Promise<void> {
    await Promise.all(
      this.#shutdownHooks.map(async (hook) => {
        try {
          await hook();
        } catch (error) {
          log.warn({ err: error }, 'a shutdown hook failed');
        }
      }),
    );
  }
}
