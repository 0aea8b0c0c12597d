// Sending statements to a Learning Record Store: POST a list to its Statements Resource with the
// version header and basic auth. The answer is classified for the outbox: delivered, worth
// trying again later (the LRS or the network is unwell, or refuses our credentials), or refused
// for what the statements say (trying again would only be refused again).

import type { XapiConfig } from '../config.ts';
import { XAPI_VERSION, type Statement } from './spec.ts';

export type LrsAnswer =
  | { delivered: true }
  | {
      delivered: false;
      /** True: the same statements may be accepted later. False: the LRS refused what they say. */
      retry: boolean;
      /** HTTP status, or null when no answer came. */
      status: number | null;
      message: string;
    };

export interface Lrs {
  /** Where statements are sent, for logs (no credentials in it). */
  readonly statementsUrl: string;
  send(statements: readonly Statement[], signal: AbortSignal): Promise<LrsAnswer>;
}

const REQUEST_TIMEOUT_MS = 15_000;
/** Answers that say "not now" rather than "not this": the statements wait and go again. */
const TRANSIENT = new Set([401, 403, 404, 408, 425, 429]);
const MAX_ERROR_BODY = 300;

/** The Statements Resource of the LRS at XAPI_ENDPOINT (its base, e.g. https://lrs.example.com/xapi/). */
export function statementsUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (!/\/statements\/?$/.test(url.pathname)) url.pathname = `${url.pathname.replace(/\/+$/, '')}/statements`;
  return url.toString();
}

export function createLrs(config: XapiConfig, options: { timeoutMs?: number } = {}): Lrs {
  const target = statementsUrl(config.endpoint);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-experience-api-version': XAPI_VERSION };
  if (config.username !== null) {
    headers.authorization = `Basic ${Buffer.from(`${config.username}:${config.password ?? ''}`).toString('base64')}`;
  }
  const timeoutMs = options.timeoutMs ?? REQUEST_TIMEOUT_MS;

  return {
    statementsUrl: target,
    async send(statements, signal) {
      let response: Response;
      try {
        response = await fetch(target, {
          method: 'POST',
          headers,
          body: JSON.stringify(statements),
          signal: AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]),
        });
      } catch (error) {
        const reason = (error as Error).name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : (error as Error).message;
        return { delivered: false, retry: true, status: null, message: `POST ${target}: ${reason}` };
      }
      const body = await response.text().catch(() => '');
      if (response.ok) return { delivered: true };
      const message = `POST ${target}: ${response.status} ${response.statusText}${body ? `: ${body.slice(0, MAX_ERROR_BODY)}` : ''}`;
      return { delivered: false, retry: response.status >= 500 || TRANSIENT.has(response.status), status: response.status, message };
    },
  };
}
