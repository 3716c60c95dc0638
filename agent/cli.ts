// phoenix-agent's command line (commander): turns flags into a config, runs the agent (agent.ts), maps errors to exit codes.
import { Command, Option } from 'commander';
import type { Writable } from 'node:stream';
import { loadConfig, type AgentConfig } from './config/load.js';
import { locateCollector } from './collector/locate.js';
import { exitCodeFor } from '../common/cli-exit.js';
import { createLogger, type Logger } from '../common/logger.js';
import { runOnce } from './once.js';
import { startAgent } from './agent.js';
import { phoenixVersion } from '../common/paths.js';
import { summarizeReport } from './report/summary.js';
import { validatePipelines } from './validate.js';

export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** Resolves/aborts when the process is asked to stop (SIGTERM/SIGINT); see bin.ts. */
  shutdown: AbortSignal;
  /** Overrides the logger (tests). */
  logger?: Logger;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;

interface RunFlags {
  config?: string;
  once?: boolean;
  json?: boolean;
  otelcol?: string;
  logLevel?: (typeof LOG_LEVELS)[number];
}

function write(stream: Writable, text: string): Promise<void> {
  return new Promise((resolve) => (stream.write(text) ? resolve() : stream.once('drain', () => resolve())));
}

function setup(flags: RunFlags, io: CliIo): { config: AgentConfig; logger: Logger; binary: string } {
  const config = loadConfig(flags.config, { env: io.env });
  const logger = io.logger ?? createLogger({ level: flags.logLevel ?? config.log.level, format: config.log.format });
  const located = locateCollector({ flag: flags.otelcol, configBinary: config.collector.binary, configSource: config.source, env: io.env });
  logger.debug({ collector: located }, 'collector binary');
  return { config, logger, binary: located.path };
}

async function runCommand(flags: RunFlags, io: CliIo): Promise<number> {
  const { config, logger, binary } = setup(flags, io);
  if (flags.once) {
    const report = await runOnce(config, { logger, collectorBinary: binary, signal: io.shutdown });
    await write(io.stdout, flags.json ? `${JSON.stringify(report, null, 2)}\n` : `${summarizeReport(report)}\n`);
    return 0;
  }
  const agent = await startAgent(config, { logger, collectorBinary: binary });
  if (flags.json) agent.on('report', (report) => void write(io.stdout, `${JSON.stringify(report)}\n`));
  try {
    if (!io.shutdown.aborted) await new Promise((resolve) => io.shutdown.addEventListener('abort', resolve, { once: true }));
    logger.info('stopping: collectors first, then the hub connection and exports');
  } finally {
    await agent.close();
  }
  return 0;
}

async function validateCommand(flags: RunFlags, io: CliIo): Promise<number> {
  const { config, logger, binary } = setup(flags, io);
  const results = await validatePipelines(config, binary, logger);
  for (const r of results) await write(io.stdout, `${r.ok ? 'ok' : 'INVALID'}  ${r.variant}  (${r.templatePath})${r.ok ? '' : `\n  ${r.error}`}\n`);
  return results.every((r) => r.ok) ? 0 : 2;
}

/** Runs the CLI; returns the exit code (0 ok, 1 failure, 2 bad flags/config, 3 no collector). Never throws. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  const program = new Command('phoenix-agent')
    .description('Runs two OpenTelemetry Collector pipeline variants side by side and measures what each costs and keeps.')
    .version(phoenixVersion(), '-V, --version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
    });
  const common = (cmd: Command) =>
    cmd
      .option('-c, --config <file>', 'agent config file (YAML); defaults apply without one')
      .option('--otelcol <path>', 'collector binary (else: collector.binary, $PHOENIX_OTELCOL, cached build, otelcol-contrib on PATH)')
      .addOption(new Option('--log-level <level>', 'log level (logs go to stderr)').choices(LOG_LEVELS));
  let exitCode = 0;
  common(program.command('run').description('run the A/B experiment (a daemon unless --once)'))
    .option('--once', 'measure one full round, print the report, stop the collectors and exit')
    .option('--json', 'print reports as JSON on stdout (with --once: one document; else one line per interval)')
    .action(async (flags: RunFlags) => {
      exitCode = await runCommand(flags, io);
    });
  common(program.command('validate').description('validate the config, then render and validate both pipelines with the collector')).action(
    async (flags: RunFlags) => {
      exitCode = await validateCommand(flags, io);
    },
  );
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    return exitCodeFor('phoenix-agent', error, io.stderr);
  }
}
