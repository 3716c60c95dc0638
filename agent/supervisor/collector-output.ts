// A collector's output relayed through the agent's logger: its JSON log lines keep their fields and levels.
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Logger } from '../../common/logger.js';

/** How many of the collector's last stderr lines are kept for error messages. */
const STDERR_TAIL_LINES = 20;

/** Relays the child's stdout and stderr lines to `log`, keeping the last stderr lines in `stderrTail`. */
export function relayOutput(child: ChildProcess, log: Logger, stderrTail: string[]): void {
  const relay = (stream: 'stdout' | 'stderr') => (line: string) => {
    if (stream === 'stderr') {
      stderrTail.push(line);
      if (stderrTail.length > STDERR_TAIL_LINES) stderrTail.shift();
    }
    relayCollectorLine(log, line);
  };
  if (child.stdout) createInterface({ input: child.stdout }).on('line', relay('stdout'));
  if (child.stderr) createInterface({ input: child.stderr }).on('line', relay('stderr'));
}

// The collector's own info lines are its internals; the agent logs the state changes that matter at info.
const LEVELS: Record<string, 'debug' | 'info' | 'warn' | 'error'> = {
  debug: 'debug',
  info: 'debug',
  warn: 'warn',
  error: 'error',
  dpanic: 'error',
  panic: 'error',
  fatal: 'error',
};

/** The collector logs JSON lines (zap); keep their fields and warning/error levels; anything else is debug. */
function relayCollectorLine(log: Logger, line: string): void {
  if (line.startsWith('{')) {
    try {
      const entry = JSON.parse(line) as Record<string, unknown>;
      const { level, msg, ts: _ts, ...fields } = entry;
      log[LEVELS[String(level)] ?? 'debug']({ collector: fields }, String(msg ?? ''));
      return;
    } catch {
      // not JSON after all
    }
  }
  if (line.trim() !== '') log.debug(line);
}
