// Creates the pino logger every Phoenix component logs through (to stderr: stdout carries reports).
import { pino, type Logger, type LevelWithSilent, type DestinationStream } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export type LogFormat = 'auto' | 'json' | 'pretty';

export interface LoggerOptions {
  level?: LevelWithSilent;
  /** json: one JSON object a line (for journald, files, collectors); pretty: for people; auto: pretty on a terminal. */
  format?: LogFormat;
  /** Where log lines go; defaults to stderr so that stdout stays free for JSON reports. */
  destination?: DestinationStream;
  name?: string;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const format = options.format ?? 'auto';
  const human = format === 'pretty' || (format === 'auto' && options.destination === undefined && process.stderr.isTTY === true);
  const destination =
    options.destination ??
    (human
      ? pretty({ destination: 2, sync: true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname,name' })
      : pino.destination({ fd: 2, sync: true }));
  return pino(
    {
      name: options.name ?? 'phoenix',
      level: options.level ?? 'info',
      base: { pid: process.pid },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}

/** A logger that discards everything, for tests and library callers that pass none. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
