// The experiment tables on SQLite (experiments-sql.ts): the pipeline catalog, experiments, their hosts, events and
// figures, each statement prepared once; and the figures' writer that the ingest transaction runs for each stored
// report an experiment tagged.
import type { Database } from 'better-sqlite3';
import type { AgentReport } from '../../protocol/report.js';
import {
  DEFAULT_EVENTS_LIMIT,
  type ExperimentEvent,
  type ExperimentHostRecord,
  type ExperimentRecord,
  type ExperimentWriteSet,
  type SyncExperimentStore,
} from '../experiments/experiment-store.js';
import {
  experimentParams,
  experimentsSql,
  figuresOf,
  newestFirst,
  patchParams,
  toEvent,
  toExperiment,
  toFigures,
  toLossStreak,
  toHost,
  toPipeline,
  unionMissing,
  type EventRow,
  type ExperimentRow,
  type FiguresRow,
  type StreakRow,
  type HostRow,
  type PipelineRow,
} from './experiments-sql.js';
import { SQLITE } from './sql-dialect.js';

export function sqliteExperiments(db: Database): SyncExperimentStore {
  const q = experimentsSql(SQLITE);
  const s = {
    insertPipeline: db.prepare(q.insertPipeline),
    pipelines: db.prepare<[], PipelineRow>(q.pipelines),
    pipeline: db.prepare<{ name: string; sha: string | null }, PipelineRow>(q.pipeline),
    pipelineUsers: db.prepare<{ name: string; sha: string | null }, string>(q.pipelineUsers).pluck(),
    deletePipeline: db.prepare<{ name: string; sha: string | null }>(q.deletePipeline),
    insertExperiment: db.prepare(q.insertExperiment),
    experiments: db.prepare<[], ExperimentRow>(q.experiments),
    experiment: db.prepare<[string], ExperimentRow>(q.experiment),
    inState: db.prepare<[string], ExperimentRow>(q.inState),
    update: db.prepare(q.update),
    insertHost: db.prepare(q.insertHost),
    putHost: db.prepare(q.putHost),
    hosts: db.prepare<[string], HostRow>(q.hosts),
    addEvent: db.prepare(q.addEvent),
    events: db.prepare<{ id: string; after: number; kind: string | null; limit: number }, EventRow>(q.events),
    latestEvents: db.prepare<{ id: string; limit: number }, EventRow>(q.latestEvents),
    figures: db.prepare<[string], FiguresRow>(q.figures),
    lossStreaks: db.prepare<[string, number], StreakRow>(q.lossStreaks),
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
    lossStreaks: (experimentId, atLeast) => s.lossStreaks.all(experimentId, atLeast).map(toLossStreak),
    applyWrites: db.transaction((writes: ExperimentWriteSet) => {
      for (const host of writes.hosts) s.putHost.run(host);
      for (const event of writes.events) addEvent(event);
      for (const [id, patch] of writes.patches) s.update.run(patchParams(id, patch));
    }),
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

/** One prepared upsert per side; the stored missing list is read only for a report that missed processes. */
export function sqliteFiguresWriter(db: Database): FiguresWriter {
  const q = experimentsSql(SQLITE);
  const upsert = db.prepare(q.addFigures);
  const storedMissing = db.prepare<[string, string, number], string>(q.storedMissing).pluck();
  return {
    add(agentId, ts, report) {
      for (const { experimentId, side, missed, params } of figuresOf(agentId, ts, report)) {
        const missing = missed.length > 0 ? unionMissing(storedMissing.get(experimentId, agentId, side), missed) : null;
        upsert.run({ ...params, missing });
      }
    },
  };
}
