// The portal's one logger: structured JSON lines (pino). Every part gets a child logger with its
// `component`; secrets are redacted by key wherever they appear, so a careless `log.info({ config })`
// or `log.info({ headers })` still prints no cookie, token or password.

import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger } from 'pino';

const SECRET_KEYS = [
  'authorization',
  'cookie',
  'set-cookie',
  'password',
  'token',
  'secret',
  'clientSecret',
  'sessionSecret',
  'client_secret',
  'refresh_token',
  'access_token',
  'id_token',
];

const REDACT_PATHS = SECRET_KEYS.flatMap((key) => {
  const safe = /^[A-Za-z_$][\w$]*$/.test(key) ? key : `["${key}"]`;
  const child = safe.startsWith('[') ? safe : `.${safe}`;
  return [safe, `*${child}`, `*.*${child}`];
});

export interface LoggerOptions {
  level: LogLevel;
  /** Where lines go; standard output when absent. Tests pass a stream to read them back. */
  destination?: DestinationStream;
}

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'formicary' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    },
    options.destination,
  );
}
