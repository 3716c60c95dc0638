// Runs phoenix-agent's CLI in-process and captures what it prints.
import { PassThrough } from 'node:stream';
import { main } from '../../agent/cli.js';
import { silentLogger, type Logger } from '../../common/logger.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCli(argv: string[], options: { env?: NodeJS.ProcessEnv; logger?: Logger; signal?: AbortSignal } = {}): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await main(argv, {
    stdout,
    stderr,
    env: options.env ?? process.env,
    shutdown: options.signal ?? new AbortController().signal,
    logger: options.logger ?? silentLogger(),
  });
  return { code, stdout: out, stderr: err };
}
