// The experiment tables' SQL (the pipeline catalog, experiments, their hosts, events and figures) in the dialect-neutral
// form of sql-dialect.ts, their rows as records, and the figures a tagged report adds; sqlite-experiments.ts and
// postgres-experiments.ts run them.
import type { AgentReport } from '../../protocol/report.js';
import { candidateLost } from '../experiments/guardrails.js';
import { LOSS_COLUMNS, lossOf, type LossColumn, type LossSums } from './loss-sums.js';
import type { Dialect } from './sql-dialect.js';
import {
  MAX_FIGURES_MISSING,
  type ExperimentEvent,
  type ExperimentHostRecord,
  type ExperimentRecord,
  type ExperimentPatch,
  type HostFiguresRecord,
  type LossStreakRecord,
  type PipelineRecord,
} from '../experiments/experiment-store.js';

// Rows: the record's fields whose names are their columns, and the snake_case rest.
export interface PipelineRow extends Pick<PipelineRecord, 'name' | 'sha256' | 'content' | 'description'> {
  uploaded_by: string;
  uploaded_at: number;
}
export interface ExperimentRow extends Pick<ExperimentRecord, 'id' | 'name' | 'description' | 'spec' | 'state' | 'revision' | 'outcome' | 'guard'> {
  baseline_pipeline: string;
  baseline_sha256: string;
  candidate_pipeline: string;
  candidate_sha256: string;
  created_by: string;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
}
export interface HostRow extends Pick<ExperimentHostRecord, 'wave' | 'state' | 'message'> {
  experiment_id: string;
  agent_id: string;
  host_id: string;
  rollout_order: number;
  updated_at: number;
  healthy_since: number | null;
}
export interface EventRow extends Pick<ExperimentEvent, 'id' | 'at' | 'kind' | 'actor' | 'detail'> {
  experiment_id: string;
  host_id: string | null;
}
export interface FiguresRow extends Pick<HostFiguresRecord, 'side' | 'variant' | 'reports'>, Record<LossColumn, number> {
  experiment_id: string;
  agent_id: string;
  host_id: string;
  series_sum: number;
  series_n: number;
  cpu_sum: number;
  cpu_n: number;
  restarts_max: number;
  retention_min: number | null;
  lossy_reports: number;
  critical_ran_reports: number;
  missing: string;
  loss_streak: number;
  guard_streak: number;
  guard_lost: string;
  first_at: number;
  last_at: number;
}

export const toPipeline = (r: PipelineRow): PipelineRecord => ({
  name: r.name, sha256: r.sha256, content: r.content, description: r.description, uploadedBy: r.uploaded_by, uploadedAt: r.uploaded_at,
});
export const toExperiment = (r: ExperimentRow): ExperimentRecord => ({
  id: r.id, name: r.name, description: r.description, spec: r.spec, state: r.state, revision: r.revision,
  baseline: { pipeline: r.baseline_pipeline, sha256: r.baseline_sha256 }, candidate: { pipeline: r.candidate_pipeline, sha256: r.candidate_sha256 },
  createdBy: r.created_by, createdAt: r.created_at, startedAt: r.started_at, endedAt: r.ended_at, outcome: r.outcome, guard: r.guard,
});
export const toHost = (r: HostRow): ExperimentHostRecord => ({
  experimentId: r.experiment_id, agentId: r.agent_id, hostId: r.host_id, order: r.rollout_order, wave: r.wave, state: r.state,
  message: r.message, updatedAt: r.updated_at, healthySince: r.healthy_since,
});
export const toEvent = (r: EventRow): ExperimentEvent => ({
  id: r.id, experimentId: r.experiment_id, at: r.at, kind: r.kind, hostId: r.host_id, actor: r.actor, detail: r.detail,
});
export interface StreakRow {
  agent_id: string;
  host_id: string;
  guard_streak: number;
  guard_lost: string;
}
export const toLossStreak = (r: StreakRow): LossStreakRecord => ({ agentId: r.agent_id, hostId: r.host_id, reports: r.guard_streak, processes: JSON.parse(r.guard_lost) as string[] });
export const toFigures = (r: FiguresRow): HostFiguresRecord => ({
  experimentId: r.experiment_id, agentId: r.agent_id, hostId: r.host_id, side: r.side, variant: r.variant, reports: r.reports,
  seriesSum: r.series_sum, seriesN: r.series_n, cpuSum: r.cpu_sum, cpuN: r.cpu_n, restartsMax: r.restarts_max, retentionMin: r.retention_min,
  lossyReports: r.lossy_reports, criticalRanReports: r.critical_ran_reports, missing: JSON.parse(r.missing) as string[],
  lossStreak: r.loss_streak, guardStreak: r.guard_streak, guardLost: JSON.parse(r.guard_lost) as string[], firstAt: r.first_at, lastAt: r.last_at,
  loss: Object.fromEntries(LOSS_COLUMNS.map(([field, column]) => [field, r[column]])) as unknown as LossSums,
});

export const experimentParams = (e: ExperimentRecord) => ({
  id: e.id, name: e.name, description: e.description, spec: e.spec, state: e.state, revision: e.revision,
  baselinePipeline: e.baseline.pipeline, baselineSha256: e.baseline.sha256, candidatePipeline: e.candidate.pipeline, candidateSha256: e.candidate.sha256,
  createdBy: e.createdBy, createdAt: e.createdAt, startedAt: e.startedAt, endedAt: e.endedAt, outcome: e.outcome, guard: e.guard,
});
const HOST_INSERT = `INSERT INTO experiment_hosts (experiment_id, agent_id, host_id, rollout_order, wave, state, message, updated_at, healthy_since)
  VALUES (@experimentId, @agentId, @hostId, @order, @wave, @state, @message, @updatedAt, @healthySince)`;

/** The fields updateExperiment may set, and their columns: each is set only when its flag is 1. */
const PATCHABLE = [['state', 'state'], ['revision', 'revision'], ['startedAt', 'started_at'], ['endedAt', 'ended_at'], ['outcome', 'outcome'], ['guard', 'guard']] as const;
export const patchParams = (id: string, patch: ExperimentPatch) =>
  Object.fromEntries([['id', id], ...PATCHABLE.flatMap(([key]) => [[key, patch[key] ?? null], [`set_${key}`, patch[key] === undefined ? 0 : 1]])]) as Record<string, string | number | null>;

const NEWEST_EXPERIMENTS = 'ORDER BY created_at DESC, id DESC';
export const newestFirst = (a: ExperimentRecord, b: ExperimentRecord) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
/** One side's template columns match the name (and the version when @sha is not null). */
const USES = (side: 'baseline' | 'candidate') => `(${side}_pipeline = @name AND (CAST(@sha AS TEXT) IS NULL OR ${side}_sha256 = @sha))`;
const VERSION = 'name = @name AND (CAST(@sha AS TEXT) IS NULL OR sha256 = @sha)';

/** The stored list of names with these added (the first ones missed are kept, at most MAX_FIGURES_MISSING), as JSON. */
export function unionMissing(stored: string | undefined, names: readonly string[]): string {
  const union = new Set<string>(stored === undefined ? [] : (JSON.parse(stored) as string[]));
  for (const name of [...names].sort()) {
    if (union.size >= MAX_FIGURES_MISSING) break;
    union.add(name);
  }
  return JSON.stringify([...union].sort());
}

const LOSS_COLUMN_LIST = LOSS_COLUMNS.map(([, column]) => column).join(', ');

/** What one side of a tagged report adds to its experiment's figures: the upsert's values but the missing list. */
export interface FiguresAdd {
  experimentId: string;
  side: number;
  /** The processes it missed (the stored list is read and extended only when there are any). */
  missed: readonly string[];
  params: Record<string, string | number | null>;
}

/** The figures a stored report adds, one per side; none for a report without an experiment's tag. */
export function figuresOf(agentId: string, ts: number, report: AgentReport): FiguresAdd[] {
  const tag = report.experiment;
  if (!tag) return [];
  const ran = report.critical.running.length > 0 ? 1 : 0;
  const lost = candidateLost(report);
  return report.variants.map((v, side) => {
    const lossy = v.criticalMissing.length > 0;
    const guardLost = side === 1 ? lost : [];
    return {
      experimentId: tag.id,
      side,
      missed: v.criticalMissing,
      params: {
        experimentId: tag.id, agentId, side, hostId: report.host.id, variant: v.name, ts,
        seriesSum: v.series ?? 0, seriesN: v.series === null ? 0 : 1, cpuSum: v.cpuPercent ?? 0, cpuN: v.cpuPercent === null ? 0 : 1,
        restarts: v.restarts, retention: v.criticalRetention, lossy: lossy ? 1 : 0, ran, missing: null,
        guardLossy: guardLost.length > 0 ? 1 : 0, guardLost: JSON.stringify(guardLost.slice(0, MAX_FIGURES_MISSING)),
        ...lossOf(v, report.truth),
      },
    };
  });
}

/** Every statement of the experiment tables, in dialect `d`. */
export function experimentsSql(d: Dialect) {
  return {
    insertPipeline: `INSERT INTO pipelines (name, sha256, content, description, uploaded_by, uploaded_at) VALUES (@name, @sha256, @content, @description, @uploadedBy, @uploadedAt)
       ON CONFLICT (name, sha256) DO NOTHING`,
    pipelines: `SELECT * FROM pipelines ORDER BY name, uploaded_at DESC, id DESC`,
    pipeline: `SELECT * FROM pipelines WHERE ${VERSION} ORDER BY uploaded_at DESC, id DESC LIMIT 1`,
    pipelineUsers: `SELECT id FROM experiments WHERE ${USES('baseline')} OR ${USES('candidate')} ${NEWEST_EXPERIMENTS}`,
    deletePipeline: `DELETE FROM pipelines WHERE ${VERSION}`,
    insertExperiment: `INSERT INTO experiments (id, name, description, spec, state, revision, baseline_pipeline, baseline_sha256, candidate_pipeline, candidate_sha256,
         created_by, created_at, started_at, ended_at, outcome, guard)
       VALUES (@id, @name, @description, @spec, @state, @revision, @baselinePipeline, @baselineSha256, @candidatePipeline, @candidateSha256,
         @createdBy, @createdAt, @startedAt, @endedAt, @outcome, @guard)`,
    experiments: `SELECT * FROM experiments ${NEWEST_EXPERIMENTS}`,
    experiment: `SELECT * FROM experiments WHERE id = ?`,
    inState: `SELECT * FROM experiments WHERE state = ? ${NEWEST_EXPERIMENTS}`,
    update: `UPDATE experiments SET ${PATCHABLE.map(([key, c]) => `${c} = CASE WHEN @set_${key} = 1 THEN @${key} ELSE ${c} END`).join(', ')} WHERE id = @id`,
    insertHost: HOST_INSERT,
    putHost: `${HOST_INSERT} ON CONFLICT (experiment_id, agent_id) DO UPDATE SET
         host_id = excluded.host_id, rollout_order = excluded.rollout_order, wave = excluded.wave, state = excluded.state,
         message = excluded.message, updated_at = excluded.updated_at, healthy_since = excluded.healthy_since`,
    hosts: `SELECT * FROM experiment_hosts WHERE experiment_id = ? ORDER BY rollout_order, agent_id`,
    addEvent: `INSERT INTO experiment_events (experiment_id, at, kind, host_id, actor, detail) VALUES (@experimentId, @at, @kind, @hostId, @actor, @detail)`,
    events: `SELECT * FROM experiment_events WHERE experiment_id = @id AND id > @after AND (CAST(@kind AS TEXT) IS NULL OR kind = @kind) ORDER BY id LIMIT @limit`,
    latestEvents: `SELECT * FROM (SELECT * FROM experiment_events WHERE experiment_id = @id ORDER BY id DESC LIMIT @limit) AS newest ORDER BY id`,
    figures: `SELECT * FROM experiment_figures WHERE experiment_id = ? ORDER BY host_id, agent_id, side`,
    // The INSERT's SELECT yields a row only when the experiment exists: a forged or deleted id adds no figures.
    addFigures: `INSERT INTO experiment_figures (experiment_id, agent_id, side, host_id, variant, reports, series_sum, series_n, cpu_sum, cpu_n,
       restarts_max, retention_min, lossy_reports, critical_ran_reports, missing, loss_streak, first_at, last_at, ${LOSS_COLUMN_LIST}, guard_streak, guard_lost)
     SELECT @experimentId, @agentId, @side, @hostId, @variant, 1, @seriesSum, @seriesN, @cpuSum, @cpuN,
       @restarts, @retention, @lossy, @ran, coalesce(@missing, '[]'), @lossy, @ts, @ts, ${LOSS_COLUMNS.map(([field]) => `@${field}`).join(', ')}, @guardLossy, @guardLost
     FROM experiments WHERE id = @experimentId
     ON CONFLICT (experiment_id, agent_id, side) DO UPDATE SET
       host_id = excluded.host_id, variant = excluded.variant, reports = experiment_figures.reports + 1,
       series_sum = experiment_figures.series_sum + excluded.series_sum, series_n = experiment_figures.series_n + excluded.series_n,
       cpu_sum = experiment_figures.cpu_sum + excluded.cpu_sum, cpu_n = experiment_figures.cpu_n + excluded.cpu_n,
       restarts_max = ${d.greatest('experiment_figures.restarts_max', 'excluded.restarts_max')},
       retention_min = ${d.least('coalesce(experiment_figures.retention_min, excluded.retention_min)', 'coalesce(excluded.retention_min, experiment_figures.retention_min)')},
       lossy_reports = experiment_figures.lossy_reports + excluded.lossy_reports,
       critical_ran_reports = experiment_figures.critical_ran_reports + excluded.critical_ran_reports,
       missing = coalesce(@missing, experiment_figures.missing),
       loss_streak = CASE WHEN excluded.lossy_reports > 0 THEN experiment_figures.loss_streak + 1 ELSE 0 END,
       guard_streak = CASE WHEN excluded.guard_streak > 0 THEN experiment_figures.guard_streak + 1 ELSE 0 END,
       guard_lost = excluded.guard_lost,
       last_at = excluded.last_at,
       ${LOSS_COLUMNS.map(([, c]) => `${c} = experiment_figures.${c} + excluded.${c}`).join(', ')}`,
    lossStreaks: `SELECT agent_id, host_id, guard_streak, guard_lost FROM experiment_figures
       WHERE experiment_id = ? AND side = 1 AND guard_streak >= ? ORDER BY host_id, agent_id`,
    storedMissing: `SELECT missing FROM experiment_figures WHERE experiment_id = ? AND agent_id = ? AND side = ?`,
  };
}
