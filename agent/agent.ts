// The agent as a program: owns the daemon, the hub connection and its outbox, OTLP export, the health server,
// and the fan-out of each report to them.
import type { spawn as nodeSpawn } from 'node:child_process';
import { closeAll } from '../common/close-all.js';
import type { Logger } from '../common/logger.js';
import { Notifier, type Listener } from '../common/notifier.js';
import { phoenixVersion } from '../common/paths.js';
import type { AgentReport } from '../protocol/report.js';
import type { AgentConfig } from './config/load.js';
import { AgentDaemon, type MeasurementWindow } from './daemon.js';
import { variantIdentities } from './experiment.js';
import type { OtlpResultsExporter } from './export/otlp.js';
import { startHealthServer, type AgentStatus, type HealthServer } from './health-server.js';
import { agentIdFor } from './hub-client/agent-id.js';
import { HubClient } from './hub-client/client.js';
import { Outbox } from './hub-client/outbox.js';
import { outboxDir } from './paths.js';
import { summarizeReport } from './report/summary.js';
import { AssignmentRunner } from './assignment/runner.js';

export interface AgentDeps {
  logger: Logger;
  /** The collector binary both variants run (see collector/locate.ts). */
  collectorBinary: string;
  /** Replaces child_process.spawn (unit tests with a fake collector). */
  spawn?: typeof nodeSpawn;
}

/** What a running agent tells its listeners. */
export interface AgentEvents {
  /** A report was made and handed to the outbox and the exports. */
  report: [report: AgentReport, window: MeasurementWindow];
}

export interface RunningAgent {
  /** What /status on the health port shows: state, collectors, last report, hub connection and outbox. */
  status(): AgentStatus;
  /** The health endpoint's port, when `health` is configured. */
  readonly healthPort: number | null;
  on<K extends keyof AgentEvents>(event: K, listener: Listener<AgentEvents[K]>): () => void;
  /**
   * Stops the collectors first, then the hub connection, the exports and the health server. Every part is
   * tried; rejects with a CloseError naming each part that failed. Once; later calls return the same promise.
   */
  close(): Promise<void>;
}

/**
 * Starts the agent described by `config`: OTLP export, the hub connection and the health server, then the
 * experiment. Without a schedule its collectors have been spawned when this resolves (readiness is theirs to
 * reach: a collector that exits is restarted with backoff and shows in `status()`). If a part cannot start (a
 * port taken, the health endpoint's address), what had started is closed and the error is thrown.
 */
export async function startAgent(config: AgentConfig, deps: AgentDeps): Promise<RunningAgent> {
  const { logger } = deps;
  const events = new Notifier<AgentEvents>('agent', logger);
  const daemon = new AgentDaemon(config, { logger, collectorBinary: deps.collectorBinary, ...(deps.spawn ? { spawn: deps.spawn } : {}) });
  let otlp: OtlpResultsExporter | null = null;
  let hub: { outbox: Outbox; client: HubClient; runner: AssignmentRunner } | null = null;
  let health: HealthServer | null = null;
  let lastReportAt: string | null = null;

  const status = (): AgentStatus => ({
    version: phoenixVersion(),
    state: daemon.state,
    collectors: daemon.experiment?.statuses() ?? [],
    lastReportAt,
    hub: hub ? { state: hub.client.state, pending: hub.outbox.size, dropped: hub.outbox.dropped, acknowledged: hub.client.acknowledged } : null,
    experiment: { running: daemon.experiment?.pair.experiment ?? null, last: hub?.runner.hello().current ?? null },
  });

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> =>
    (closing ??= closeAll('agent', [
      // First: a switch of pairs under way finishes before the daemon stops the collectors.
      hub && { name: 'assignments', close: () => hub!.runner.close() },
      { name: 'collectors', close: () => daemon.close() },
      hub && { name: 'hub connection', close: () => hub!.client.close() },
      otlp && { name: 'OTLP export', close: () => otlp!.close() },
      health && { name: 'health server', close: () => health!.close() },
    ]).finally(() => events.clear()));

  daemon.on('report', (report, window) => {
    lastReportAt = report.generatedAt;
    otlp?.record(report);
    if (hub) {
      hub.outbox.append(window, report);
      hub.client.notify();
    }
    logger.info({ comparison: report.comparison }, summarizeReport(report).split('\n')[0]);
    events.emit('report', report, window);
  });

  try {
    // Loaded only when configured: the OpenTelemetry SDK and gRPC stack add ~15 MiB to the agent's RSS.
    if (config.otlp) {
      const { OtlpResultsExporter } = await import('./export/otlp.js');
      otlp = new OtlpResultsExporter({ endpoint: config.otlp.endpoint, intervalMs: config.otlp.interval, logger, version: phoenixVersion() });
    }
    if (config.hub) hub = await connectHub(config, logger, daemon, deps.collectorBinary);
    if (config.health) health = await startHealthServer({ host: config.health.host, port: config.health.port, status, logger });
    hub?.client.start();
    await daemon.start();
    hub?.runner.start();
  } catch (error) {
    await close().catch((closeError: unknown) => logger.error({ err: closeError }, 'closing after a failed start failed too'));
    throw error;
  }

  return {
    status,
    healthPort: health?.port ?? null,
    on: (event, listener) => events.on(event, listener),
    close,
  };
}

/** The outbox (durable, in the state dir), the connection that drains it to the hub, and what runs the hub's assignments. */
async function connectHub(
  config: AgentConfig,
  logger: Logger,
  daemon: AgentDaemon,
  collectorBinary: string,
): Promise<{ outbox: Outbox; client: HubClient; runner: AssignmentRunner }> {
  const settings = config.hub!;
  const outbox = new Outbox({ dir: outboxDir(config), logger, maxBytes: settings.outboxMaxBytes });
  const runner = new AssignmentRunner({ config, daemon, collectorBinary, logger, send: (status) => client.sendStatus(status) });
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
    experiments: () => runner.hello(),
  });
  client.on('assign', (assignment) => runner.assign(assignment));
  client.on('withdraw', (experimentId, reason) => runner.withdraw(experimentId, reason));
  return { outbox, client, runner };
}
