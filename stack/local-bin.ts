#!/usr/bin/env node
// `npm start`: the hub and a local agent on this machine, page URL printed; Ctrl-C stops everything.
import { Command } from 'commander';
import { UsageError } from '../common/errors.js';
import { exitOnSignals } from '../common/signals.js';
import { createLogger } from '../common/logger.js';
import { defaultDataDir, port } from '../hub/cli.js';
import { LOCAL_CANDIDATES, runLocalStack, type LocalCandidate } from './local-stack.js';
import { exitCodeFor } from '../common/cli-exit.js';

const program = new Command('phoenix-local')
  .description('Start a Phoenix hub with its embedded store and one local agent comparing baseline against an optimized variant')
  .option('-p, --port <port>', 'hub port (0 = any free port)', port, 8080)
  .option('--data-dir <dir>', 'hub data directory', defaultDataDir(process.env))
  .option('--candidate <variant>', `variant B: ${LOCAL_CANDIDATES.join(', ')}`, 'optimized-a')
  .exitOverride((error) => process.exit(error.exitCode === 0 ? 0 : 2));
program.parse();
const flags = program.opts<{ port: number; dataDir: string; candidate: string }>();
const isCandidate = (name: string): name is LocalCandidate => (LOCAL_CANDIDATES as readonly string[]).includes(name);
if (!isCandidate(flags.candidate)) {
  process.exit(exitCodeFor('phoenix-local', new UsageError(`--candidate must be one of ${LOCAL_CANDIDATES.join(', ')}, got '${flags.candidate}'`), process.stderr));
}
const shutdown = exitOnSignals('phoenix-local');
const code = await runLocalStack({
  dataDir: flags.dataDir,
  port: flags.port,
  candidate: flags.candidate,
  logger: createLogger({ name: 'phoenix' }),
  stdout: process.stdout,
  env: process.env,
  shutdown,
}).catch((error: unknown) => exitCodeFor('phoenix-local', error, process.stderr));
process.exit(code);
