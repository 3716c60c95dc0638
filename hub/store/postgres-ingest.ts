// The PostgreSQL store's writes from agents: hellos, and batches of reports in one transaction each (durable when
// the promise resolves). Several replicas may store for one agent over time (it reconnects to another): the agents'
// rows, locked for the transaction, hold the high-water mark, and a replica whose running totals for an agent are not
// where the database's stand loads them again before placing that agent's reports.
import type pg from 'pg';
import type { Hello } from '../../protocol/messages.js';
import { StoreRetryError } from '../errors.js';
import { claimedTime, IngestBatch } from './ingest-batch.js';
import { LivePositions } from './positions.js';
import { addPostgresFigures } from './postgres-experiments.js';
import { MARK_KEY_LIST, marksFrom, reloadPositions, readMarks } from './postgres-reads.js';
import type { StoredElsewhere } from './peers.js';
import { changes, rows, transaction } from './postgres-statements.js';
import { PG } from './postgres-store-sql.js';
import { helloParams, toAgent, type AgentRow } from './store-sql.js';
import { MARK_KEYS, type Tiers } from './tiers.js';
import { toRow } from './totals.js';
import type { HelloOutcome, IncomingReport, StoreOutcome } from './types.js';

/** The advisory lock between ingest (shared) and maintenance (exclusive): "phx" and 2. */
export const ROLLUP_LOCK = 0x7068_7802;

/**
 * Why most batches need not wait for maintenance. A pass at time `now` rolls raw rows only below `now - rollupDelayMs`
 * (tiers.ts), and a row a batch writes can be missed by a pass only if it lies in a bucket the pass rolls while the
 * batch is uncommitted. A batch whose every report is placed at or after `started - (rollupDelayMs - LIVE_SLACK_MS)`
 * (its reports' times can only be raised when placed) and that commits within LIVE_WITHIN_MS of `started` is clear of
 * every pass that runs meanwhile, if the replicas' clocks agree within LIVE_SLACK_MS - LIVE_WITHIN_MS (25 s; NTP keeps
 * them within milliseconds). Such a batch skips the lock; a slower one takes it before committing and checks the marks
 * again (IngestBatch.recheck); late reports (an agent's outbox emptying) take it first, as every batch did before.
 */
export const LIVE_SLACK_MS = 30_000;
export const LIVE_WITHIN_MS = 5_000;

/** Whether a batch begun at `started` holds only reports recent enough to be stored without the lock (see above). */
export function isLiveBatch(items: readonly IncomingReport[], started: number, rollupDelayMs: number): boolean {
  if (rollupDelayMs <= LIVE_SLACK_MS) return false;
  const earliest = started - (rollupDelayMs - LIVE_SLACK_MS);
  return items.every(({ message, receivedAt }) => claimedTime(message, receivedAt) >= earliest);
}

export interface PostgresIngest {
  upsertAgent(hello: Hello, now: number): Promise<HelloOutcome>;
  storeReports(items: readonly IncomingReport[]): Promise<StoreOutcome[]>;
}

/** An agent's row as a batch locks it, with the tiers' marks (by their meta keys). */
interface LockedAgent {
  agent_id: string;
  stream_id: string;
  last_seq: number;
  marks: Record<string, number> | null;
}

/** Where this replica's running totals of an agent stand: its sequence and high-water mark when it last stored for it. */
const standing = (row: { stream_id: string; last_seq: number }) => `${row.stream_id}\u0000${row.last_seq}`;

/** `announce` hears, once each batch has committed, which reports it stored (for the other replicas). */
export function postgresIngest(pool: pg.Pool, tiers: Tiers, announce: (reports: readonly StoredElsewhere[]) => void): PostgresIngest {
  const live = new LivePositions();
  /** Per agent, where `live` stands (see `standing`); an agent not here is loaded on its first report. */
  const known = new Map<string, string>();

  return {
    async upsertAgent(hello, now) {
      const [row] = await rows<AgentRow & { previous_stream: string | null }>(pool, PG.hello, helloParams(hello, now));
      // A new agent has stored nothing anywhere yet: there is nothing of it to load before its first report here.
      if (row!.previous_stream === null) known.set(row!.agent_id, standing(row!));
      return { agent: toAgent(row!), sequenceRestarted: row!.previous_stream !== null && row!.previous_stream !== hello.streamId };
    },

    async storeReports(items) {
      if (items.length === 0) return [];
      const started = Date.now();
      const recent = isLiveBatch(items, started, tiers.rollupDelayMs);
      const { outcomes, batch, stored, announced } = await transaction(pool, async (client) => {
        // Maintenance waits for the batches being stored that hold late reports, and they for it: a late report is
        // never missed by a rollup. A batch of recent reports goes without (see LIVE_SLACK_MS).
        if (!recent) await client.query('SELECT pg_advisory_xact_lock_shared($1)', [ROLLUP_LOCK]);
        const agentIds = [...new Set(items.map((i) => i.agentId))].sort();
        const lockedRows = await rows<LockedAgent>(client, PG.lockAgents, [agentIds, MARK_KEY_LIST]);
        const locked = new Map(lockedRows.map((r) => [r.agent_id, r]));
        // Every row carries the marks; a batch of agents the store has no row for (none said hello) reads them alone.
        const marks = lockedRows[0] ? marksFrom(new Map(Object.entries(lockedRows[0].marks ?? {}))) : await readMarks(client);
        const stale = [...locked.values()].filter((r) => known.get(r.agent_id) !== standing(r)).map((r) => r.agent_id);
        if (stale.length > 0) await reloadPositions(client, live, tiers, stale);
        for (const id of stale) known.set(id, standing(locked.get(id)!));

        const batch = new IngestBatch(live, marks, tiers.fine);
        const highWater = new Map([...locked.values()].map((r) => [r.agent_id, r.last_seq]));
        const samples: Record<string, unknown>[] = [];
        const critical: Record<string, unknown>[] = [];
        const latest = new Map<string, Record<string, unknown>>();
        const agents = new Map<string, { agent_id: string; last_seq: number; last_seen: number }>();
        const announced: StoredElsewhere[] = [];
        const tagged: { agentId: string; ts: number; item: IncomingReport }[] = [];
        const outcomes: StoreOutcome[] = [];
        for (const item of items) {
          const { agentId, message, receivedAt } = item;
          // Delivery is in order per agent: anything at or below the high-water mark was stored already.
          if (message.seq <= (highWater.get(agentId) ?? 0)) {
            outcomes.push('duplicate');
            continue;
          }
          highWater.set(agentId, message.seq);
          const { ts, sides } = batch.place(agentId, message, receivedAt);
          for (const { position: p, values, changed } of sides) {
            samples.push({ ts, agent_id: agentId, side: p.side, seq: message.seq, variant: p.variant, paired_with: p.pairedWith, ...values, ...toRow(p.totals) });
            if (changed) critical.push({ agent_id: agentId, side: p.side, ts, retention: changed.retention, missing: changed.missing });
          }
          if (message.report.experiment) tagged.push({ agentId, ts, item });
          // The report as an object, not its text: json_populate_recordset gives a text column the JSON value's own
          // text, so the report is written out once (as text in the array it would be encoded twice, escaped).
          latest.set(agentId, { agent_id: agentId, seq: message.seq, received_at: receivedAt, report: message.report });
          agents.set(agentId, { agent_id: agentId, last_seq: message.seq, last_seen: receivedAt });
          announced.push({ agentId, hostId: message.report.host.id, seq: message.seq, ts });
          outcomes.push('stored');
        }
        if (samples.length > 0) {
          await changes(client, PG.writeBatch, [JSON.stringify(samples), JSON.stringify(critical), JSON.stringify([...latest.values()]), JSON.stringify([...agents.values()])]);
          for (const { agentId, ts, item } of tagged) await addPostgresFigures(client, agentId, ts, item.message.report);
          if (recent && (batch.dirtyChanged || Date.now() - started > LIVE_WITHIN_MS)) {
            await client.query('SELECT pg_advisory_xact_lock_shared($1)', [ROLLUP_LOCK]);
            if (!batch.recheck(await readMarks(client))) {
              throw new StoreRetryError(`a batch of ${items.length} reports took ${Date.now() - started} ms and a maintenance pass pruned past its earliest meanwhile; not stored, the agents send them again`);
            }
          }
          if (batch.dirtyChanged) await changes(client, PG.markDirty, [MARK_KEYS.dirtyFine[0], batch.dirtyFine]);
        }
        return { outcomes, batch, stored: agents, announced };
      });
      batch.commit();
      announce(announced);
      for (const [agentId, row] of stored) {
        const stream = known.get(agentId)?.split('\u0000')[0];
        if (stream !== undefined) known.set(agentId, standing({ stream_id: stream, last_seq: row.last_seq }));
      }
      return outcomes;
    },
  };
}
