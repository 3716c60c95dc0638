// The one mapping from what a CLI's work threw to its exit code and the line its user reads on stderr.
import { CommanderError } from 'commander';
import { PhoenixError } from './errors.js';

/**
 * 0 for help or version, 2 for a flag commander refused (it has printed why), a coded error's own exit code
 * with its message, and 1 with the stack for anything unexpected (a bug: the stack is what a report needs).
 */
export function exitCodeFor(program: string, error: unknown, stderr: { write(text: string): unknown }): number {
  if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : 2;
  if (error instanceof PhoenixError) {
    stderr.write(`${program}: ${error.message}\n`);
    return error.exitCode;
  }
  stderr.write(`${program}: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  return 1;
}
