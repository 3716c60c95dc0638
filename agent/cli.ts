// phoenix-agent's command line (commander): parses flags, loads config, runs the library, maps errors to exit codes.
import { Command, Option } from 'commander';
import type { Writable } from 'node:stream';
import { loadConfig, type AgentConfig } from './config/load.js';
import { locateCollector } from './collector/locate.js';
import { AgentDaemon, type MeasurementWindow } from './daemon.js';
import { variantIdentities } from './experiment.js';
import type { AgentReport } from '../protocol/report.js';
import { exitCodeFor } from '../common/cli-exit.js';
import { agentIdFor } from './hub-client/agent-id.js';
import { HubClient } from './hub-client/client.js';
import { Outbox } from './hub-client/outbox.js';
import path from 'node:path';
import { createLogger, type Logger } from '../common/logger.js';
import { startHealthServer, type AgentStatus, type HealthServer } from './health-server.js';
import { runOnce } from './once.js';
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
  const daemon = new AgentDaemon(config, { logger, collectorBinary: binary });
  // Loaded only when configured: the OpenTelemetry SDK and gRPC stack add ~15 MiB to the agent's RSS.
  const otlp = config.otlp
    ? new (await import('./export/otlp.js')).OtlpResultsExporter({ endpoint: config.otlp.endpoint, intervalMs: config.otlp.interval, logger, version: phoenixVersion() })
    : null;
  const hub = config.hub ? await connectHub(config, logger) : null;
  let lastReportAt: string | null = null;
  const status = (): AgentStatus => ({
    version: phoenixVersion(),
    state: daemon.state,
    collectors: daemon.experiment?.statuses() ?? [],
    lastReportAt,
    hub: hub ? { state: hub.client.state, pending: hub.outbox.size, dropped: hub.outbox.dropped, acknowledged: hub.client.acknowledged } : null,
  });
  daemon.on('report', (report: AgentReport, window: MeasurementWindow) => {
    lastReportAt = report.generatedAt;
    otlp?.record(report);
    if (hub) {
      hub.outbox.append(window, report);
      hub.client.notify();
    }
    logger.info({ comparison: report.comparison }, summarizeReport(report).split('\n')[0]);
    if (flags.json) void write(io.stdout, `${JSON.stringify(report)}\n`);
  });
  let health: HealthServer | null = null;
  try {
    if (config.health) health = await startHealthServer({ host: config.health.host, port: config.health.port, status, logger });
    hub?.client.start();
    await daemon.start();
    if (!io.shutdown.aborted) await new Promise((resolve) => io.shutdown.addEventListener('abort', resolve, { once: true }));
    logger.info('stopping: collectors first, then the hub connection and exports');
  } finally {
    await daemon.close();
    await hub?.client.close();
    await otlp?.close();
    await health?.close();
  }
  return 0;
}

/** The outbox (durable, in the state dir) and the connection that drains it to the hub. */
async function connectHub(config: AgentConfig, logger: Logger): Promise<{ outbox: Outbox; client: HubClient }> {
  const settings = config.hub!;
  const outbox = new Outbox({ dir: path.join(config.stateDir, 'outbox'), logger, maxBytes: settings.outboxMaxBytes });
  const client = new HubClient({
    url: settings.url,
    token: settings.token,
    outbox,
    logger,
    ...(settings.ca ? { ca: settings.ca } : {}),
    insecureSkipVerify: settings.insecureSkipVerify,
    hello: {
      agentId: settings.agentId ?? agentIdFor(config.stateDir, config.host.id, logger),
      hostId: config.host.id,
      hostKind: config.host.kind,
      labels: config.host.labels,
      agentVersion: phoenixVersion(),
      variants: await variantIdentities(config),
    },
  });
  return { outbox, client };
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
