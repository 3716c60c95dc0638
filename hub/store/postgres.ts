// The hub's store on a PostgreSQL server (issue 16): the same tables and guarantees as the embedded SQLite store, for
// several hub replicas on one database. Writes (report batches, hellos, maintenance) go through one pool, reads
// through another, so a comparison over the whole fleet never waits behind a group commit. This file only assembles
// the parts: statements, ingest, reads and maintenance live beside it.
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../common/logger.js';
import { StoreOpenError } from '../errors.js';
import { openPostgres, postgresPool } from './postgres-open.js';
import { postgresAccess } from './postgres-access.js';
import { postgresExperiments } from './postgres-experiments.js';
import { postgresIngest } from './postgres-ingest.js';
import { postgresMaintenance } from './postgres-maintenance.js';
import { ReportAnnouncer } from './postgres-announcer.js';
import { announceAccess, announceExperiments, PostgresPeers } from './postgres-peers.js';
import { postgresWindow } from './postgres-window.js';
import { startPostgresWindowThread } from './postgres-window-thread.js';
import { rows } from './postgres-statements.js';
import { PG } from './postgres-store-sql.js';
import { toAgent, toLatest, type AgentRow, type LatestRow } from './store-sql.js';
import { scrubPassword, type PostgresLocation } from './store-url.js';
import { resolveTiers, type TierOptions } from './tiers.js';
import type { Store } from './types.js';
import type { WindowHearing } from './window-hearing.js';
import { viaThread } from './window-thread.js';

export interface PostgresStoreOptions extends TierOptions {
  location: PostgresLocation;
  logger: Logger;
  /** Connections for writes (report batches, hellos, maintenance, experiments, credentials); default 4. */
  writeConnections?: number;
  /** Connections for reads (the API and the page); default 6. */
  readConnections?: number;
  connectTimeoutMs?: number;
}

/**
 * Opens the store on the database `options.location` names: its schema created, upgraded or checked (see
 * openPostgres). A bad tier configuration is a PHX_STORE_TIERS calling-rule error (checked before connecting); a
 * database that cannot be reached or holds a newer schema is a StoreOpenError without the password.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const tiers = resolveTiers(options);
  const { location, logger } = options;
  const connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
  const write = await openPostgres(location, logger, { max: options.writeConnections ?? 4, connectTimeoutMs });
  const read = postgresPool(location, logger, { max: options.readConnections ?? 6, connectTimeoutMs });
  const replica = randomUUID();
  const peers = new PostgresPeers(location, replica, logger);
  try {
    await peers.start();
  } catch (error) {
    await Promise.all([write.end(), read.end()]);
    throw new StoreOpenError(`cannot listen to the hub store ${location.display} (${scrubPassword((error as Error).message, location)})`);
  }

  const announcer = new ReportAnnouncer(write, replica, logger.child({ component: 'store-peers' }));
  // The window reads here (the experiments' verdicts; the comparison when there is no thread) and in the window thread
  // (the comparison) keep edges and agents' records between reads: both hear where rows were written and who said hello.
  const window = postgresWindow(read, tiers);
  const startThread = () => startPostgresWindowThread(location, options, logger, connectTimeoutMs);
  const thread = await startThread().catch(async (error: unknown) => {
    await Promise.all([peers.close(), write.end(), read.end()]);
    throw error;
  });
  const reads = window.reads;
  const via = viaThread(thread, startThread, reads.comparison, logger);
  const hearing = (): WindowHearing[] => {
    const on = via.hearing();
    return on ? [window, on] : [window];
  };
  const heard = [
    peers.on('reports', (reports) => {
      for (const h of hearing()) for (const r of reports) h.wrote(r.ts);
    }),
    peers.on('agents', (ids) => hearing().forEach((h) => h.changed(ids))),
    peers.on('resync', () => hearing().forEach((h) => h.changedAll())),
  ];
  const ingest = postgresIngest(write, tiers, (reports) => {
    for (const h of hearing()) for (const r of reports) h.wrote(r.ts);
    announcer.add(reports);
  });
  let closed: Promise<void> | null = null;
  return {
    async upsertAgent(hello, now) {
      const outcome = await ingest.upsertAgent(hello, now);
      for (const h of hearing()) h.changed([hello.agentId]);
      announcer.hello(hello.agentId);
      return outcome;
    },
    storeReports: ingest.storeReports,
    agents: async () => (await rows<AgentRow>(read, PG.allAgents)).map(toAgent),
    async latest(agentId) {
      const [row] = await rows<LatestRow>(read, PG.getLatest, [agentId]);
      return row ? toLatest(row) : null;
    },
    latestAll: async () => (await rows<LatestRow>(read, PG.allLatest)).map(toLatest),
    variantPoints: reads.variantPoints,
    comparison: via.comparison,
    history: reads.history,
    fleetHistory: reads.fleetHistory,
    maintain: postgresMaintenance(write, tiers),
    access: postgresAccess(write, (on) => announceAccess(on, replica)),
    experiments: postgresExperiments(write, (on, ids) => announceExperiments(on, replica, ids)),
    peers,
    close: () => (closed ??= Promise.all(heard.map((stop) => stop())).then(() => Promise.all([announcer.close(), via.close()])).then(() => Promise.all([peers.close(), write.end(), read.end()])).then(() => undefined)),
  };
}

