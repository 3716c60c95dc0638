// The SQLite store's writes from agents: hellos, and batches of reports in one transaction each (durable on return).
import type { Database } from 'better-sqlite3';
import type { Hello } from '../../protocol/messages.js';
import { IngestBatch } from './ingest-batch.js';
import type { LatestStaging, LatestText, LatestWrites } from './latest-writes.js';
import type { FiguresWriter } from './sqlite-experiments.js';
import type { LivePositions } from './positions.js';
import type { Statements } from './sqlite-statements.js';
import { helloParams, toAgent } from './store-sql.js';
import { MARK_KEYS, type Marks } from './tiers.js';
import { toValues } from './totals.js';
import type { HelloOutcome, IncomingReport, StoreOutcome } from './types.js';
import type { WindowHearing } from './window-hearing.js';

export interface SqliteIngest {
  upsertAgent(hello: Hello, now: number): HelloOutcome;
  storeReports(items: readonly IncomingReport[]): StoreOutcome[];
  /** Writes these latest reports (kept ones maintenance or close hands over), in one transaction. */
  writeLatest(latests: readonly LatestText[]): void;
}

/**
 * `live`, `marks.dirtyFine` and `latest` advance only after a batch commits; `hear` hears of every hello, and where each
 * committed batch wrote from; `figures` adds each stored report an experiment tagged to that experiment's figures, in
 * the same transaction.
 */
export function sqliteIngest(
  db: Database,
  stmt: Statements,
  live: LivePositions,
  marks: Marks,
  fineBucketMs: number,
  hear: Pick<WindowHearing, 'wrote' | 'changed'>,
  figures: FiguresWriter,
  latest: LatestWrites,
): SqliteIngest {
  const writeOne = (l: LatestText) => stmt.latest.run(l.agentId, l.seq, l.receivedAt, l.text);
  const writeMany = db.transaction((latests: readonly LatestText[]) => {
    for (const l of latests) writeOne(l);
  });
  const storeMany = db.transaction((items: readonly IncomingReport[], batch: IngestBatch, staging: LatestStaging) => {
    const outcomes: StoreOutcome[] = [];
    for (const { agentId, message, receivedAt } of items) {
      // Delivery is in order per agent: anything at or below the high-water mark was stored already.
      if (message.seq <= (stmt.lastSeq.get(agentId)?.last_seq ?? 0)) {
        outcomes.push('duplicate');
        continue;
      }
      const { ts, sides } = batch.place(agentId, message, receivedAt);
      for (const { position: p, values, changed } of sides) {
        stmt.sample.run(ts, agentId, p.side, message.seq, p.variant, p.pairedWith, values.series, values.retention, values.cpu, values.rss, values.cost, ...toValues(p.totals));
        if (changed) stmt.change.run(agentId, p.side, ts, changed.retention, changed.missing);
      }
      figures.add(agentId, ts, message.report);
      const newest = { agentId, seq: message.seq, receivedAt, text: JSON.stringify(message.report) };
      if (staging.due(newest)) writeOne(newest);
      stmt.advance.run(message.seq, receivedAt, agentId);
      outcomes.push('stored');
    }
    if (batch.dirtyChanged) stmt.setMeta.run(MARK_KEYS.dirtyFine[0], batch.dirtyFine);
    return outcomes;
  });

  return {
    upsertAgent(hello, now) {
      const before = stmt.getAgent.get(hello.agentId);
      hear.changed([hello.agentId]);
      stmt.upsertAgent.run(helloParams(hello, now));
      return { agent: toAgent(stmt.getAgent.get(hello.agentId)!), sequenceRestarted: before !== undefined && before.stream_id !== hello.streamId };
    },
    storeReports(items) {
      if (items.length === 0) return [];
      const batch = new IngestBatch(live, marks, fineBucketMs);
      const staging = latest.stage();
      const outcomes = storeMany(items, batch, staging);
      batch.commit();
      staging.commit();
      if (batch.lowestTs !== Infinity) hear.wrote(batch.lowestTs);
      return outcomes;
    },
    writeLatest(latests) {
      if (latests.length === 0) return;
      writeMany(latests);
      latest.written(latests);
    },
  };
}
