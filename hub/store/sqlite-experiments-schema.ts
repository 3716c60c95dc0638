// The experiment tables: the pipeline catalog, experiments with their hosts and events, and their tagged reports' figures.
import { LOSS_COLUMNS, lossColumnType } from './loss-sums.js';

/** experiment_figures' loss sums (issue 15, schema 5): [column, declaration], named as the sums' columns. */
export const LOSS_FIGURES_COLUMNS = LOSS_COLUMNS.map(([, column, type]) => [column, lossColumnType(type)] as const);

/**
 * experiment_figures' guardrail streak (schema 7), kept by the database so that it continues on whichever replica an
 * agent reports to: on the candidate's side, the consecutive latest reports in which it lost a critical process the
 * baseline showed, and what the last of them lost (a JSON list).
 */
export const GUARD_FIGURES_COLUMNS = [
  ['guard_streak', 'INTEGER NOT NULL DEFAULT 0'],
  ['guard_lost', "TEXT NOT NULL DEFAULT '[]'"],
] as const;

export const EXPERIMENTS_DDL = `
-- id orders the versions of a name (newest first); (name, sha256) is a version.
CREATE TABLE IF NOT EXISTS pipelines (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL, sha256 TEXT NOT NULL, content TEXT NOT NULL, description TEXT,
  uploaded_by TEXT NOT NULL, uploaded_at INTEGER NOT NULL,
  UNIQUE (name, sha256)
);
CREATE TABLE IF NOT EXISTS experiments (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, description TEXT, spec TEXT NOT NULL, state TEXT NOT NULL, revision INTEGER NOT NULL,
  baseline_pipeline TEXT NOT NULL, baseline_sha256 TEXT NOT NULL, candidate_pipeline TEXT NOT NULL, candidate_sha256 TEXT NOT NULL,
  created_by TEXT NOT NULL, created_at INTEGER NOT NULL, started_at INTEGER, ended_at INTEGER, outcome TEXT, guard TEXT
);
CREATE INDEX IF NOT EXISTS experiments_state ON experiments(state, created_at);
CREATE INDEX IF NOT EXISTS experiments_baseline ON experiments(baseline_pipeline, baseline_sha256);
CREATE INDEX IF NOT EXISTS experiments_candidate ON experiments(candidate_pipeline, candidate_sha256);
CREATE TABLE IF NOT EXISTS experiment_hosts (
  experiment_id TEXT NOT NULL, agent_id TEXT NOT NULL, host_id TEXT NOT NULL, rollout_order INTEGER NOT NULL, wave INTEGER,
  state TEXT NOT NULL, message TEXT, updated_at INTEGER NOT NULL, healthy_since INTEGER,
  PRIMARY KEY (experiment_id, agent_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS experiment_hosts_order ON experiment_hosts(experiment_id, rollout_order);
CREATE TABLE IF NOT EXISTS experiment_events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, experiment_id TEXT NOT NULL, at INTEGER NOT NULL, kind TEXT NOT NULL,
  host_id TEXT, actor TEXT, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS experiment_events_key ON experiment_events(experiment_id, id);
-- Per experiment, agent and side: running figures over its tagged reports (missing: a JSON list of names), the loss sums last.
CREATE TABLE IF NOT EXISTS experiment_figures (
  experiment_id TEXT NOT NULL, agent_id TEXT NOT NULL, side INTEGER NOT NULL, host_id TEXT NOT NULL, variant TEXT NOT NULL,
  reports INTEGER NOT NULL, series_sum REAL NOT NULL, series_n INTEGER NOT NULL, cpu_sum REAL NOT NULL, cpu_n INTEGER NOT NULL,
  restarts_max INTEGER NOT NULL, retention_min REAL, lossy_reports INTEGER NOT NULL, critical_ran_reports INTEGER NOT NULL,
  missing TEXT NOT NULL, loss_streak INTEGER NOT NULL, first_at INTEGER NOT NULL, last_at INTEGER NOT NULL,
  ${LOSS_FIGURES_COLUMNS.map(([column, type]) => `${column} ${type}`).join(', ')},
  ${GUARD_FIGURES_COLUMNS.map(([column, type]) => `${column} ${type}`).join(', ')},
  PRIMARY KEY (experiment_id, agent_id, side)
) WITHOUT ROWID;
`;
