// The experiment tables on PostgreSQL (experiments-sql.ts): the pipeline catalog, experiments, their hosts, events and
// figures; and the figures' writer that the ingest transaction runs for each stored report an experiment tagged.
import type pg from 'pg';
import type { AgentReport } from '../../protocol/report.js';
import { DEFAULT_EVENTS_LIMIT, type ExperimentEvent, type ExperimentStore } from '../experiments/experiment-store.js';
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
import { arrays, changes, compile, compileAll, rows, transaction, type Queryable } from './postgres-statements.js';
import { POSTGRES } from './sql-dialect.js';

const q = experimentsSql(POSTGRES);
const s = { ...compileAll('phx_exp_', q), addEvent: compile('phx_exp_addEvent', `${q.addEvent} RETURNING id`) };

const version = (name: string, sha256?: string) => ({ name, sha: sha256 ?? null });
const addEvent = async (on: Queryable, event: Omit<ExperimentEvent, 'id'>) => (await rows<{ id: number }>(on, s.addEvent, { ...event }))[0]!.id;

/** The experiment store over `pool`; `onChanged` runs inside each transaction that created or changed experiments. */
export function postgresExperiments(pool: pg.Pool, onChanged: (on: Queryable, ids: readonly string[]) => Promise<void> = async () => undefined): ExperimentStore {
  return {
    putPipeline: async (p) => ((await changes(pool, s.insertPipeline, { ...p })) > 0 ? 'created' : 'exists'),
    pipelines: async () => (await rows<PipelineRow>(pool, s.pipelines)).map(toPipeline),
    pipeline: async (name, sha256) => {
      const [row] = await rows<PipelineRow>(pool, s.pipeline, version(name, sha256));
      return row ? toPipeline(row) : null;
    },
    pipelineUsers: async (name, sha256) => (await arrays<[string]>(pool, s.pipelineUsers, version(name, sha256))).map((r) => r[0]),
    deletePipeline: (name, sha256) => changes(pool, s.deletePipeline, version(name, sha256)),
    createExperiment: (experiment, hosts, event) =>
      transaction(pool, async (client) => {
        await changes(client, s.insertExperiment, experimentParams(experiment));
        // Announced in the transaction: heard only if it commits.
        await onChanged(client, [experiment.id]);
        for (const host of hosts) await changes(client, s.insertHost, { ...host });
        await addEvent(client, event);
      }),
    experiments: async () => (await rows<ExperimentRow>(pool, s.experiments)).map(toExperiment),
    experiment: async (id) => {
      const [row] = await rows<ExperimentRow>(pool, s.experiment, [id]);
      return row ? toExperiment(row) : null;
    },
    updateExperiment: (id, patch) =>
      transaction(pool, async (client) => {
        await changes(client, s.update, patchParams(id, patch));
        await onChanged(client, [id]);
      }),
    experimentsIn: async (states) =>
      (await Promise.all([...new Set(states)].map((state) => rows<ExperimentRow>(pool, s.inState, [state])))).flat().map(toExperiment).sort(newestFirst),
    hosts: async (experimentId) => (await rows<HostRow>(pool, s.hosts, [experimentId])).map(toHost),
    putHost: async (host) => void (await changes(pool, s.putHost, { ...host })),
    addEvent: (event) => addEvent(pool, event),
    events: async (experimentId, options = {}) =>
      (await rows<EventRow>(pool, s.events, { id: experimentId, after: options.afterId ?? 0, kind: options.kind ?? null, limit: options.limit ?? DEFAULT_EVENTS_LIMIT })).map(toEvent),
    latestEvents: async (experimentId, limit) => (await rows<EventRow>(pool, s.latestEvents, { id: experimentId, limit })).map(toEvent),
    figures: async (experimentId) => (await rows<FiguresRow>(pool, s.figures, [experimentId])).map(toFigures),
    lossStreaks: async (experimentId, atLeast) => (await rows<StreakRow>(pool, s.lossStreaks, [experimentId, atLeast])).map(toLossStreak),
    applyWrites: (writes) =>
      transaction(pool, async (client) => {
        for (const host of writes.hosts) await changes(client, s.putHost, { ...host });
        for (const event of writes.events) await addEvent(client, event);
        for (const [id, patch] of writes.patches) await changes(client, s.update, patchParams(id, patch));
        // What other processes follow: a state or its fields changed, a wave started (not each host's status).
        const changed = new Set([...writes.patches.map(([id]) => id), ...writes.events.filter((e) => e.kind === 'wave').map((e) => e.experimentId)]);
        if (changed.size > 0) await onChanged(client, [...changed]);
      }),
  };
}

/**
 * Adds a stored report's figures to its experiment's rows, on the ingest transaction's client. Calling rule: once per
 * stored (not duplicate) report, in the ingest transaction; an untagged report, or one tagged with an id the store holds
 * no experiment for, adds nothing.
 */
export async function addPostgresFigures(client: Queryable, agentId: string, ts: number, report: AgentReport): Promise<void> {
  for (const { experimentId, side, missed, params } of figuresOf(agentId, ts, report)) {
    const stored = missed.length > 0 ? (await arrays<[string]>(client, s.storedMissing, [experimentId, agentId, side]))[0]?.[0] : undefined;
    await changes(client, s.addFigures, { ...params, missing: missed.length > 0 ? unionMissing(stored, missed) : null });
  }
}
