// A pino logger whose lines a test can read back.
import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../common/logger.js';

export interface CapturedLogs {
  logger: Logger;
  lines: Record<string, unknown>[];
}

export function captureLogs(level: 'trace' | 'debug' | 'info' | 'warn' = 'debug'): CapturedLogs {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      callback();
    },
  });
  return { logger: createLogger({ level, destination }), lines };
}
