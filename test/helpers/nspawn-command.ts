// Runs one host command for the nspawn helpers, its exit returned as data and its whole process group killed on timeout.
import { spawn } from 'node:child_process';
import { once } from 'node:events';

export interface CommandResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface CommandOptions {
  timeoutMs?: number;
  input?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs `cmd args` in a process group of its own: debootstrap and nsenter start children of their own, and a
 * timeout must end them all (SIGKILL to the group), not only the direct child. Resolves on `close`, never rejects
 * for an exit code; a command that cannot be started rejects.
 */
export async function runCommand(cmd: string, args: string[], options: CommandOptions = {}): Promise<CommandResult> {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true, env: options.env ?? process.env });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  // A command that exits without reading its input (most do) closes the pipe first: EPIPE here is no failure,
  // and unhandled it would be an uncaught exception. Its exit code says how it went.
  child.stdin.on('error', () => undefined);
  child.stdin.end(options.input ?? '');
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone between the deadline and the kill.
    }
  }, options.timeoutMs ?? 60_000);
  try {
    const [code, signal] = (await Promise.race([once(child, 'close'), once(child, 'error').then(([e]) => Promise.reject(e))])) as [number | null, NodeJS.Signals | null];
    return { code, signal, stdout, stderr, timedOut };
  } finally {
    clearTimeout(timer);
  }
}

/** One line for an assertion message or an error: how the command ended and the end of what it said. */
export function describeResult(what: string, r: CommandResult): string {
  const end = r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exited ${r.code}`;
  return `${what} ${end}: ${(r.stderr || r.stdout).trim().slice(-1500)}`;
}
