// The experiment tables on SQLite: the pipeline catalog, experiments, their hosts, events and figures, each statement
// prepared once; and the figures' writer that the ingest transaction runs for each stored report an experiment tagged.
import type { Database } from 'better-sqlite3';
import type { AgentReport } from '../../protocol/report.js';
import { LOSS_COLUMNS, lossOf, type LossColumn, type LossSums } from './loss-sums.js';
import {
  DEFAULT_EVENTS_LIMIT,
  MAX_FIGURES_MISSING,
  type ExperimentEvent,
  type ExperimentHostRecord,
  type ExperimentRecord,
  type ExperimentStore,
  type HostFiguresRecord,
  type PipelineRecord,
} from '../experiments/experiment-store.js';

// Rows: the record's fields whose names are their columns, and the snake_case rest.
interface PipelineRow extends Pick<PipelineRecord, 'name' | 'sha256' | 'content' | 'description'> {
  uploaded_by: string;
  uploaded_at: number;
}
interface ExperimentRow extends Pick<ExperimentRecord, 'id' | 'name' | 'description' | 'spec' | 'state' | 'revision' | 'outcome' | 'guard'> {
  baseline_pipeline: string;
  baseline_sha256: string;
  candidate_pipeline: string;
  candidate_sha256: string;
  created_by: string;
  created_at: number;
  started_at: number | null;
  ended_at: number | null;
}
interface HostRow extends Pick<ExperimentHostRecord, 'wave' | 'state' | 'message'> {
  experiment_id: string;
  agent_id: string;
  host_id: string;
  rollout_order: number;
  updated_at: number;
  healthy_since: number | null;
}
interface EventRow extends Pick<ExperimentEvent, 'id' | 'at' | 'kind' | 'actor' | 'detail'> {
  experiment_id: string;
  host_id: string | null;
}
interface FiguresRow extends Pick<HostFiguresRecord, 'side' | 'variant' | 'reports'>, Record<LossColumn, number> {
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
  first_at: number;
  last_at: number;
}

const toPipeline = (r: PipelineRow): PipelineRecord => ({
  name: r.name, sha256: r.sha256, content: r.content, description: r.description, uploadedBy: r.uploaded_by, uploadedAt: r.uploaded_at,
});
const toExperiment = (r: ExperimentRow): ExperimentRecord => ({
  id: r.id, name: r.name, description: r.description, spec: r.spec, state: r.state, revision: r.revision,
  baseline: { pipeline: r.baseline_pipeline, sha256: r.baseline_sha256 }, candidate: { pipeline: r.candidate_pipeline, sha256: r.candidate_sha256 },
  createdBy: r.created_by, createdAt: r.created_at, startedAt: r.started_at, endedAt: r.ended_at, outcome: r.outcome, guard: r.guard,
});
const toHost = (r: HostRow): ExperimentHostRecord => ({
  experimentId: r.experiment_id, agentId: r.agent_id, hostId: r.host_id, order: r.rollout_order, wave: r.wave, state: r.state,
  message: r.message, updatedAt: r.updated_at, healthySince: r.healthy_since,
});
const toEvent = (r: EventRow): ExperimentEvent => ({
  id: r.id, experimentId: r.experiment_id, at: r.at, kind: r.kind, hostId: r.host_id, actor: r.actor, detail: r.detail,
});
const toFigures = (r: FiguresRow): HostFiguresRecord => ({
  experimentId: r.experiment_id, agentId: r.agent_id, hostId: r.host_id, side: r.side, variant: r.variant, reports: r.reports,
  seriesSum: r.series_sum, seriesN: r.series_n, cpuSum: r.cpu_sum, cpuN: r.cpu_n, restartsMax: r.restarts_max, retentionMin: r.retention_min,
  lossyReports: r.lossy_reports, criticalRanReports: r.critical_ran_reports, missing: JSON.parse(r.missing) as string[],
  lossStreak: r.loss_streak, firstAt: r.first_at, lastAt: r.last_at,
  loss: Object.fromEntries(LOSS_COLUMNS.map(([field, column]) => [field, r[column]])) as unknown as LossSums,
});

const experimentParams = (e: ExperimentRecord) => ({
  id: e.id, name: e.name, description: e.description, spec: e.spec, state: e.state, revision: e.revision,
  baselinePipeline: e.baseline.pipeline, baselineSha256: e.baseline.sha256, candidatePipeline: e.candidate.pipeline, candidateSha256: e.candidate.sha256,
  createdBy: e.createdBy, createdAt: e.createdAt, startedAt: e.startedAt, endedAt: e.endedAt, outcome: e.outcome, guard: e.guard,
});
const HOST_INSERT = `INSERT INTO experiment_hosts (experiment_id, agent_id, host_id, rollout_order, wave, state, message, updated_at, healthy_since)
  VALUES (@experimentId, @agentId, @hostId, @order, @wave, @state, @message, @updatedAt, @healthySince)`;

/** The fields updateExperiment may set, and their columns: each is set only when its flag is 1. */
const PATCHABLE = [['state', 'state'], ['revision', 'revision'], ['startedAt', 'started_at'], ['endedAt', 'ended_at'], ['outcome', 'outcome'], ['guard', 'guard']] as const;
type Patch = Parameters<ExperimentStore['updateExperiment']>[1];
const patchParams = (id: string, patch: Patch) =>
  Object.fromEntries([['id', id], ...PATCHABLE.flatMap(([key]) => [[key, patch[key] ?? null], [`set_${key}`, patch[key] === undefined ? 0 : 1]])]) as Record<string, string | number | null>;

const NEWEST_EXPERIMENTS = 'ORDER BY created_at DESC, id DESC';
const newestFirst = (a: ExperimentRecord, b: ExperimentRecord) => b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
/** One side's template columns match the name (and the version when @sha is not null). */
const USES = (side: 'baseline' | 'candidate') => `(${side}_pipeline = @name AND (@sha IS NULL OR ${side}_sha256 = @sha))`;
const VERSION = 'name = @name AND (@sha IS NULL OR sha256 = @sha)';

export function sqliteExperiments(db: Database): ExperimentStore {
  const s = {
    insertPipeline: db.prepare(
      `INSERT INTO pipelines (name, sha256, content, description, uploaded_by, uploaded_at) VALUES (@name, @sha256, @content, @description, @uploadedBy, @uploadedAt)
       ON CONFLICT (name, sha256) DO NOTHING`,
    ),
    pipelines: db.prepare<[], PipelineRow>('SELECT * FROM pipelines ORDER BY name, uploaded_at DESC, id DESC'),
    pipeline: db.prepare<{ name: string; sha: string | null }, PipelineRow>(`SELECT * FROM pipelines WHERE ${VERSION} ORDER BY uploaded_at DESC, id DESC LIMIT 1`),
    pipelineUsers: db.prepare<{ name: string; sha: string | null }, string>(`SELECT id FROM experiments WHERE ${USES('baseline')} OR ${USES('candidate')} ${NEWEST_EXPERIMENTS}`).pluck(),
    deletePipeline: db.prepare<{ name: string; sha: string | null }>(`DELETE FROM pipelines WHERE ${VERSION}`),
    insertExperiment: db.prepare(
      `INSERT INTO experiments (id, name, description, spec, state, revision, baseline_pipeline, baseline_sha256, candidate_pipeline, candidate_sha256,
         created_by, created_at, started_at, ended_at, outcome, guard)
       VALUES (@id, @name, @description, @spec, @state, @revision, @baselinePipeline, @baselineSha256, @candidatePipeline, @candidateSha256,
         @createdBy, @createdAt, @startedAt, @endedAt, @outcome, @guard)`,
    ),
    experiments: db.prepare<[], ExperimentRow>(`SELECT * FROM experiments ${NEWEST_EXPERIMENTS}`),
    experiment: db.prepare<[string], ExperimentRow>('SELECT * FROM experiments WHERE id = ?'),
    inState: db.prepare<[string], ExperimentRow>(`SELECT * FROM experiments WHERE state = ? ${NEWEST_EXPERIMENTS}`),
    update: db.prepare(`UPDATE experiments SET ${PATCHABLE.map(([key, c]) => `${c} = CASE WHEN @set_${key} = 1 THEN @${key} ELSE ${c} END`).join(', ')} WHERE id = @id`),
    insertHost: db.prepare(HOST_INSERT),
    putHost: db.prepare(
      `${HOST_INSERT} ON CONFLICT (experiment_id, agent_id) DO UPDATE SET
         host_id = excluded.host_id, rollout_order = excluded.rollout_order, wave = excluded.wave, state = excluded.state,
         message = excluded.message, updated_at = excluded.updated_at, healthy_since = excluded.healthy_since`,
    ),
    hosts: db.prepare<[string], HostRow>('SELECT * FROM experiment_hosts WHERE experiment_id = ? ORDER BY rollout_order, agent_id'),
    addEvent: db.prepare('INSERT INTO experiment_events (experiment_id, at, kind, host_id, actor, detail) VALUES (@experimentId, @at, @kind, @hostId, @actor, @detail)'),
    events: db.prepare<{ id: string; after: number; kind: string | null; limit: number }, EventRow>(
      'SELECT * FROM experiment_events WHERE experiment_id = @id AND id > @after AND (@kind IS NULL OR kind = @kind) ORDER BY id LIMIT @limit',
    ),
    latestEvents: db.prepare<{ id: string; limit: number }, EventRow>(
      'SELECT * FROM (SELECT * FROM experiment_events WHERE experiment_id = @id ORDER BY id DESC LIMIT @limit) ORDER BY id',
    ),
    figures: db.prepare<[string], FiguresRow>('SELECT * FROM experiment_figures WHERE experiment_id = ? ORDER BY host_id, agent_id, side'),
  };
  const addEvent = (event: Omit<ExperimentEvent, 'id'>) => Number(s.addEvent.run(event).lastInsertRowid);
  const createExperiment = db.transaction((experiment: ExperimentRecord, hosts: readonly ExperimentHostRecord[], event: Omit<ExperimentEvent, 'id'>) => {
    s.insertExperiment.run(experimentParams(experiment));
    for (const host of hosts) s.insertHost.run(host);
    addEvent(event);
  });
  const version = (name: string, sha256?: string) => ({ name, sha: sha256 ?? null });

  return {
    putPipeline: (p) => (s.insertPipeline.run(p).changes > 0 ? 'created' : 'exists'),
    pipelines: () => s.pipelines.all().map(toPipeline),
    pipeline: (name, sha256) => {
      const row = s.pipeline.get(version(name, sha256));
      return row ? toPipeline(row) : null;
    },
    pipelineUsers: (name, sha256) => s.pipelineUsers.all(version(name, sha256)),
    deletePipeline: (name, sha256) => s.deletePipeline.run(version(name, sha256)).changes,
    createExperiment,
    experiments: () => s.experiments.all().map(toExperiment),
    experiment: (id) => {
      const row = s.experiment.get(id);
      return row ? toExperiment(row) : null;
    },
    updateExperiment: (id, patch) => void s.update.run(patchParams(id, patch)),
    experimentsIn: (states) => [...new Set(states)].flatMap((state) => s.inState.all(state).map(toExperiment)).sort(newestFirst),
    hosts: (experimentId) => s.hosts.all(experimentId).map(toHost),
    putHost: (host) => void s.putHost.run(host),
    addEvent,
    events: (experimentId, options = {}) =>
      s.events.all({ id: experimentId, after: options.afterId ?? 0, kind: options.kind ?? null, limit: options.limit ?? DEFAULT_EVENTS_LIMIT }).map(toEvent),
    latestEvents: (experimentId, limit) => s.latestEvents.all({ id: experimentId, limit }).map(toEvent),
    figures: (experimentId) => s.figures.all(experimentId).map(toFigures),
    batch: (writes) => db.transaction(writes)(),
  };
}

/** Adds the figures of stored reports to their experiments' rows. */
export interface FiguresWriter {
  /**
   * Calling rule: inside the ingest transaction, once per stored (not duplicate) report, `ts` its row's time. A report
   * without a tag, or tagged with an id the store holds no experiment for, adds nothing.
   */
  add(agentId: string, ts: number, report: AgentReport): void;
}

/** The stored list of names with these added (the first ones missed are kept, at most MAX_FIGURES_MISSING), as JSON. */
function unionMissing(stored: string | undefined, names: readonly string[]): string {
  const union = new Set<string>(stored === undefined ? [] : (JSON.parse(stored) as string[]));
  for (const name of [...names].sort()) {
    if (union.size >= MAX_FIGURES_MISSING) break;
    union.add(name);
  }
  return JSON.stringify([...union].sort());
}

const LOSS_COLUMN_LIST = LOSS_COLUMNS.map(([, column]) => column).join(', ');

/** One prepared upsert per side; the stored missing list is read only for a report that missed processes. */
export function sqliteFiguresWriter(db: Database): FiguresWriter {
  // The INSERT's SELECT yields a row only when the experiment exists: a forged or deleted id adds no figures.
  const upsert = db.prepare(
    `INSERT INTO experiment_figures (experiment_id, agent_id, side, host_id, variant, reports, series_sum, series_n, cpu_sum, cpu_n,
       restarts_max, retention_min, lossy_reports, critical_ran_reports, missing, loss_streak, first_at, last_at, ${LOSS_COLUMN_LIST})
     SELECT @experimentId, @agentId, @side, @hostId, @variant, 1, @seriesSum, @seriesN, @cpuSum, @cpuN,
       @restarts, @retention, @lossy, @ran, coalesce(@missing, '[]'), @lossy, @ts, @ts, ${LOSS_COLUMNS.map(([field]) => `@${field}`).join(', ')}
     FROM experiments WHERE id = @experimentId
     ON CONFLICT (experiment_id, agent_id, side) DO UPDATE SET
       host_id = excluded.host_id, variant = excluded.variant, reports = experiment_figures.reports + 1,
       series_sum = experiment_figures.series_sum + excluded.series_sum, series_n = experiment_figures.series_n + excluded.series_n,
       cpu_sum = experiment_figures.cpu_sum + excluded.cpu_sum, cpu_n = experiment_figures.cpu_n + excluded.cpu_n,
       restarts_max = max(experiment_figures.restarts_max, excluded.restarts_max),
       retention_min = min(coalesce(experiment_figures.retention_min, excluded.retention_min), coalesce(excluded.retention_min, experiment_figures.retention_min)),
       lossy_reports = experiment_figures.lossy_reports + excluded.lossy_reports,
       critical_ran_reports = experiment_figures.critical_ran_reports + excluded.critical_ran_reports,
       missing = coalesce(@missing, experiment_figures.missing),
       loss_streak = CASE WHEN excluded.lossy_reports > 0 THEN experiment_figures.loss_streak + 1 ELSE 0 END,
       last_at = excluded.last_at,
       ${LOSS_COLUMNS.map(([, c]) => `${c} = experiment_figures.${c} + excluded.${c}`).join(', ')}`,
  );
  const storedMissing = db
    .prepare<[string, string, number], string>('SELECT missing FROM experiment_figures WHERE experiment_id = ? AND agent_id = ? AND side = ?')
    .pluck();
  return {
    add(agentId, ts, report) {
      const tag = report.experiment;
      if (!tag) return;
      const ran = report.critical.running.length > 0 ? 1 : 0;
      report.variants.forEach((v, side) => {
        const lossy = v.criticalMissing.length > 0;
        upsert.run({
          experimentId: tag.id, agentId, side, hostId: report.host.id, variant: v.name, ts,
          seriesSum: v.series ?? 0, seriesN: v.series === null ? 0 : 1, cpuSum: v.cpuPercent ?? 0, cpuN: v.cpuPercent === null ? 0 : 1,
          restarts: v.restarts, retention: v.criticalRetention, lossy: lossy ? 1 : 0, ran,
          missing: lossy ? unionMissing(storedMissing.get(tag.id, agentId, side), v.criticalMissing) : null,
          ...lossOf(v, report.truth),
        });
      });
    },
  };
}
