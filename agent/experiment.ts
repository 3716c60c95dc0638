// One A/B experiment on this host: two supervised collectors, their rendered pipelines, and a measurement round.
import { createHash } from 'node:crypto';
import { Agent } from 'node:http';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { spawn as nodeSpawn } from 'node:child_process';
import type { AgentConfig } from './config/load.js';
import { TimeoutError } from './errors.js';
import type { Logger } from '../common/logger.js';
import { closeAll, closeAllAtOnce } from '../common/close-all.js';
import { phoenixVersion } from '../common/paths.js';
import { pidFilePath, runtimeDir } from './paths.js';
import { renderPipeline, type PipelineParameters, type VariantPorts } from '../protocol/pipeline/render.js';
import { ownPair, type PairPlan, type VariantPlan } from './pair-plan.js';
import { CollectorProcess, type CollectorStatus } from './supervisor/collector-process.js';
import { PidFile } from './supervisor/pidfile.js';
import { assertPortsFree, fixedPorts, freePorts } from './supervisor/ports.js';
import { CriticalMatcher } from './measure/critical.js';
import { NAME_LABEL, PATH_LABEL, variantView } from './measure/variant-view.js';
import { hostTruth, truthRound } from './measure/loss/truth.js';
import { VariantLossMeter } from './measure/loss/variant-loss.js';
import { hostProcessReader, type HostProcessReader } from './measure/host-processes.js';
import { ResourceSampler } from './measure/resource-usage.js';
import { scrape } from './measure/scrape.js';
import { summarizeTelemetry, wantsTelemetrySample } from './measure/self-telemetry.js';
import { compareVariants } from './report/compare.js';
import { monthlyCost, pricingModel } from './report/cost.js';
import { REPORT_SCHEMA_VERSION, type AgentReport, type VariantReport } from '../protocol/report.js';

export interface RenderedVariant {
  name: string;
  plan: VariantPlan;
  ports: VariantPorts;
  instanceId: string;
  config: string;
  /** Same for the same template and parameters on any run (ports and instance id left out). */
  configHash: string;
}

export interface ExperimentDeps {
  logger: Logger;
  collectorBinary: string;
  /** Replaces child_process.spawn (unit tests with a fake collector). */
  spawn?: typeof nodeSpawn;
}

export interface CreateOptions {
  /** What the pair runs (default: the agent's own pair, from its config). */
  pair?: PairPlan;
  /** The pair's configs as renderVariants made them (and a caller checked them); else rendered now. */
  rendered?: readonly [RenderedVariant, RenderedVariant];
  /** Names the rendered files (`<variant>.<tag>.yaml`), so a new pair never writes over the running one's. */
  fileTag?: string;
}

const hash16 = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 16);

function pipelineParameters(config: AgentConfig, pair: PairPlan, variant: VariantPlan, ports: VariantPorts, instanceId: string): PipelineParameters {
  return {
    ports,
    instanceId,
    collectionIntervalMs: pair.collectionIntervalMs,
    metricExpirationMs: pair.metricExpirationMs,
    rootPath: config.pipeline.rootPath,
    criticalPatterns: pair.criticalPatterns,
    cpuThreshold: variant.cpuThreshold,
    memoryThresholdBytes: variant.memoryThresholdBytes,
  };
}

/** Identifies what a variant runs: its template and parameters, but not the ports or instance id of one run. */
function pipelineHash(template: string, params: PipelineParameters): string {
  const { ports: _ports, instanceId: _instanceId, ...rest } = params;
  return hash16(`${template}\0${JSON.stringify(rest)}`);
}

/** The two variants' names and config hashes of a pair (the agent's own by default), as the hello announces them. */
export async function variantIdentities(config: AgentConfig, pair?: PairPlan): Promise<{ name: string; configHash: string }[]> {
  const plan = pair ?? (await ownPair(config));
  const unused: VariantPorts = { exporter: 0, telemetry: 0, health: 0 };
  return plan.variants.map((v) => ({ name: v.name, configHash: pipelineHash(v.template, pipelineParameters(config, plan, v, unused, '')) }));
}

/** Assigns ports and renders both variants' collector configs (no files written, no ports checked). */
export async function renderVariants(config: AgentConfig, pair?: PairPlan): Promise<[RenderedVariant, RenderedVariant]> {
  const plan = pair ?? (await ownPair(config));
  const rendered: RenderedVariant[] = [];
  for (const [index, variant] of plan.variants.entries()) {
    const ports = config.ports.base === 0 ? await freePorts() : fixedPorts(config.ports.base, index);
    const instanceId = `${config.host.id}/${variant.name}`;
    const params = pipelineParameters(config, plan, variant, ports, instanceId);
    const text = renderPipeline(variant.template, params, variant.source);
    rendered.push({ name: variant.name, plan: variant, ports, instanceId, config: text, configHash: pipelineHash(variant.template, params) });
  }
  return rendered as [RenderedVariant, RenderedVariant];
}

interface VariantRuntime extends RenderedVariant {
  configPath: string;
  collector: CollectorProcess;
  /** What the variant loses beyond the critical processes, from one round to the next; null when `loss.enabled` is false. */
  loss: VariantLossMeter | null;
}

/** What critical retention reads of a scrape when the loss figures are off: names and paths, no pids, no values. */
const RETENTION_SCAN = { collectLabels: [NAME_LABEL, PATH_LABEL] } as const;

/**
 * Calling rules: `Experiment.create()`, then `start()` once, then `measure()` as often as wanted,
 * and `close()` once (it stops both collectors and resolves only when they are gone).
 */
export class Experiment {
  readonly config: AgentConfig;
  readonly pair: PairPlan;
  readonly variants: readonly [VariantRuntime, VariantRuntime];
  readonly #logger: Logger;
  readonly #matcher: CriticalMatcher;
  readonly #sampler: ResourceSampler;
  readonly #hostProcesses: HostProcessReader;
  /** Keeps each exporter's connection open between rounds (four scrapes a round); destroyed by close(). */
  readonly #http = new Agent({ keepAlive: true, maxSockets: 1 });
  #closing: Promise<void> | null = null;

  private constructor(config: AgentConfig, pair: PairPlan, variants: [VariantRuntime, VariantRuntime], logger: Logger) {
    this.config = config;
    this.pair = pair;
    this.variants = variants;
    this.#logger = logger;
    this.#matcher = new CriticalMatcher(pair.criticalPatterns);
    this.#sampler = new ResourceSampler(Math.max(120_000, config.interval * 3));
    this.#hostProcesses = hostProcessReader(procRootOf(config));
    // pidusage measures CPU from one call to the next: prime it whenever a collector (re)starts.
    for (const v of variants) v.collector.on('ready', (pid) => void this.#sampler.sample(pid));
  }

  static async create(config: AgentConfig, deps: ExperimentDeps, options: CreateOptions = {}): Promise<Experiment> {
    const pair = options.pair ?? (await ownPair(config));
    const rendered = options.rendered ?? (await renderVariants(config, pair));
    const dir = runtimeDir(config);
    await mkdir(dir, { recursive: true });
    const pidFile = new PidFile(pidFilePath(config), deps.logger);
    const variants = [] as unknown as [VariantRuntime, VariantRuntime];
    for (const variant of rendered) {
      await assertPortsFree(variant.name, variant.ports);
      const configPath = path.join(dir, options.fileTag ? `${variant.name}.${options.fileTag}.yaml` : `${variant.name}.yaml`);
      await rm(configPath, { force: true });
      await writeFile(configPath, variant.config, { mode: 0o600 });
      const collector = new CollectorProcess({
        variant: variant.name,
        binary: deps.collectorBinary,
        args: ['--config', configPath],
        healthPort: variant.ports.health,
        logger: deps.logger,
        stopGraceMs: config.collector.stopGrace,
        healthIntervalMs: config.collector.healthInterval,
        ...(deps.spawn ? { spawn: deps.spawn } : {}),
      });
      collector.on('spawned', (pid) =>
        pidFile.add({ variant: variant.name, pid, binary: deps.collectorBinary, agentPid: process.pid, startedAt: new Date().toISOString() }),
      );
      collector.on('exited', (pid) => pidFile.remove(pid));
      const loss = config.loss.enabled ? new VariantLossMeter(pair.collectionIntervalMs) : null;
      variants.push({ ...variant, configPath, collector, loss });
    }
    return new Experiment(config, pair, variants, deps.logger);
  }

  start(): void {
    for (const v of this.variants) v.collector.start();
  }

  statuses(): CollectorStatus[] {
    return this.variants.map((v) => v.collector.status());
  }

  /** Both collectors answer their health checks. Rejects (CollectorStartError) if either cannot start. */
  async waitReady(timeoutMs: number): Promise<void> {
    await Promise.all(this.variants.map((v) => v.collector.waitReady(timeoutMs)));
  }

  /**
   * Both exporters serve at least one series (their first scrape is through); polls until `timeoutMs`.
   * Not "a process series": an allowlist variant on a host running none of its processes has none.
   */
  async waitForData(timeoutMs: number, pollMs = 500): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const pending = new Set(this.variants);
    while (pending.size > 0) {
      for (const v of [...pending]) {
        const result = await scrape(`http://127.0.0.1:${v.ports.exporter}/metrics`, { timeoutMs: 5000, agent: this.#http });
        if (result.ok && result.stats.series > 0) pending.delete(v);
      }
      if (pending.size === 0) break;
      if (Date.now() > deadline) {
        throw new TimeoutError(
          `no metrics from ${[...pending].map((v) => `'${v.name}'`).join(' and ')} within ${timeoutMs} ms`,
        );
      }
      await delay(pollMs);
    }
  }

  /** One measurement round over both variants and the host. Never throws for a failed scrape: it is reported. */
  async measure(): Promise<AgentReport> {
    const collectorPids = new Set(this.variants.map((v) => v.collector.pid).filter((p): p is number => p !== null));
    const [host, a, b] = await Promise.all([
      this.#hostProcesses(collectorPids),
      this.#measureVariant(this.variants[0]),
      this.#measureVariant(this.variants[1]),
    ]);
    // A process younger than a collection interval (plus slack) may not have been scraped yet.
    const readAt = Date.now();
    const seenBefore = readAt - this.pair.collectionIntervalMs - 2000;
    const running = this.#matcher.running(host.processes.filter((p) => p.startedAt === null || p.startedAt <= seenBefore));
    const k = this.config.loss.topK;
    // With the loss figures off, the host's read serves critical retention alone: no totals, top consumers or views.
    const round = this.config.loss.enabled ? truthRound(host, seenBefore, k) : null;
    const views = round ? [a, b].map((m) => (m.stats ? variantView(m.stats.labelValues) : null)) : [null, null];
    const pricing = pricingModel(
      this.config.pricing.perThousandSeriesMonth,
      this.config.pricing.perMillionSamples,
      this.pair.collectionIntervalMs,
    );
    const variants = [a, b].map((m, i) => {
      const retention = m.stats ? this.#matcher.retention(running, m.stats.labelValues) : null;
      const loss = round ? this.variants[i]!.loss?.measure(m.stats, views[i] ?? null, round, readAt) : undefined;
      const report: VariantReport = {
        ...m.report,
        criticalRetention: retention ? retention.ratio : null,
        criticalMissing: retention ? retention.missing : running,
        estimatedMonthlyCostUsd: m.report.series === null ? null : monthlyCost(m.report.series, pricing),
        ...(loss ? { loss } : {}),
      };
      return report;
    }) as [VariantReport, VariantReport];
    return {
      schemaVersion: REPORT_SCHEMA_VERSION,
      generatedAt: new Date().toISOString(),
      agent: { version: phoenixVersion(), pid: process.pid },
      host: { id: this.config.host.id, kind: this.config.host.kind, labels: this.config.host.labels, processCount: host.count },
      critical: { patterns: [...this.pair.criticalPatterns], running },
      variants,
      comparison: compareVariants(variants[0], variants[1]),
      pricing,
      ...(round ? { truth: hostTruth(round, k, views.filter((v) => v !== null)) } : {}),
      ...(this.pair.experiment ? { experiment: this.pair.experiment } : {}),
    };
  }

  async #measureVariant(v: VariantRuntime) {
    const status = v.collector.status();
    const [output, telemetry, usage] = await Promise.all([
      scrape(`http://127.0.0.1:${v.ports.exporter}/metrics`, { ...(v.loss ? v.loss.scanOptions() : RETENTION_SCAN), agent: this.#http }),
      scrape(`http://127.0.0.1:${v.ports.telemetry}/metrics`, { capture: wantsTelemetrySample, agent: this.#http }),
      status.pid === null ? null : this.#sampler.sample(status.pid),
    ]);
    if (output.ok || telemetry.ok) v.collector.noteAnswered(status.pid);
    if (!output.ok) this.#logger.warn({ variant: v.name, error: output.error }, 'scrape failed');
    else if (output.stats.errors > 0) {
      this.#logger.warn({ variant: v.name, malformedLines: output.stats.errors, first: output.stats.firstError }, 'malformed exposition lines');
    }
    const stats = output.ok ? output.stats : null;
    const report: Omit<VariantReport, 'criticalRetention' | 'criticalMissing' | 'estimatedMonthlyCostUsd'> = {
      name: v.name,
      configHash: v.configHash,
      pid: status.pid,
      state: status.state,
      restarts: status.restarts,
      lastExit: status.lastExit,
      series: stats?.series ?? null,
      samples: stats?.samples ?? null,
      bytes: stats?.bytes ?? null,
      seriesByMetric: stats?.seriesByMetric ?? {},
      scrape: { ok: output.ok, error: output.ok ? null : output.error, durationMs: output.durationMs, malformedLines: stats?.errors ?? 0 },
      cpuPercent: usage?.cpuPercent ?? null,
      rssBytes: usage?.rssBytes ?? null,
      telemetry: telemetry.ok ? summarizeTelemetry(telemetry.stats.captured) : null,
    };
    return { report, stats };
  }

  /** Stops both collectors and releases the rest; any number of calls, all settling when the first one does. */
  close(): Promise<void> {
    return (this.#closing ??= closeAll('experiment', [
      // Both collectors stop at once: each may take its whole grace period.
      { name: 'collectors', close: () => closeAllAtOnce('collectors', this.variants.map((v) => ({ name: v.name, close: () => v.collector.stop() }))) },
      { name: 'resource sampler', close: () => this.#sampler.close() },
      { name: 'loss meters', close: () => this.variants.forEach((v) => v.loss?.close()) },
      { name: 'scrape connections', close: () => this.#http.destroy() },
    ]));
  }
}

/** The host's /proc seen from a container (under root_path), or undefined: this machine's own. */
function procRootOf(config: AgentConfig): string | undefined {
  return config.pipeline.rootPath ? path.join(config.pipeline.rootPath, 'proc') : undefined;
}
