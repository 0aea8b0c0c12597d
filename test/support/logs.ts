// A logger whose lines tests can read back, for asserting what the portal logged.

import { Writable } from 'node:stream';
import type { LogLevel } from '../../src/server/config.ts';
import { createLogger, type Logger } from '../../src/server/log.ts';

export interface CapturedLogs {
  log: Logger;
  lines: () => Array<Record<string, unknown>>;
  text: () => string;
}

export function captureLogs(level: LogLevel = 'debug'): CapturedLogs {
  const chunks: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  const log = createLogger({ level, destination });
  const text = () => chunks.join('');
  return {
    log,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}
