// Hub replicas on one PostgreSQL database telling each other what they did (issue 16): experiment and credential
// changes are announced with pg_notify inside the transaction that makes them (so they are heard only once committed,
// and never when rolled back), stored reports and hellos just after their commits (postgres-announcer.ts); ids only.
// Each replica listens on a connection of its own, which also holds the advisory lock of the replica that
// leads the jobs run once (it is released when that connection or process is gone). A lost connection is made again,
// with backoff, and the replica told to read again what it keeps ('resync').
import pg from 'pg';
import type { Logger } from '../../common/logger.js';
import { Notifier } from '../../common/notifier.js';
import type { StorePeerEvents, StorePeers } from './peers.js';
import type { Queryable } from './postgres-statements.js';
import { scrubPassword, type PostgresLocation } from './store-url.js';

export const CHANNELS = { reports: 'phoenix_reports', agents: 'phoenix_agents', experiments: 'phoenix_experiments', access: 'phoenix_access' } as const;
/** The advisory lock the leading replica holds on its listening connection: "phx" and 4. */
export const LEADER_LOCK = 0x7068_7804;
/** A notification's payload stays under PostgreSQL's limit (8,000 bytes) with room to spare. */
export const MAX_PAYLOAD = 7000;
const RETRY_MS = { first: 250, max: 10_000 };
/** How often the leading replica checks that its connection (and so its lock) is still there, and how long it waits. */
const LEADER_CHECK_MS = 5000;

/** Announces experiments `from` created or changed. */
export async function announceExperiments(on: Queryable, from: string, ids: readonly string[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 50) await on.query('SELECT pg_notify($1, $2)', [CHANNELS.experiments, JSON.stringify({ from, ids: ids.slice(i, i + 50) })]);
}

/** Announces that `from` ended a credential. */
export async function announceAccess(on: Queryable, from: string): Promise<void> {
  await on.query('SELECT pg_notify($1, $2)', [CHANNELS.access, JSON.stringify({ from })]);
}

/**
 * This replica's ears. Calling rules: `start()` once (resolves once it listens; rejects when it cannot connect),
 * `close()` once; listeners hear only other replicas' notices.
 */
export class PostgresPeers implements StorePeers {
  readonly shared = true;
  readonly #location: PostgresLocation;
  readonly #id: string;
  readonly #log: Logger;
  readonly #events: Notifier<StorePeerEvents>;
  #client: pg.Client | null = null;
  #leading = false;
  /** When the leading connection last answered. */
  #checkedAt = 0;
  #retryMs = RETRY_MS.first;
  #retry: NodeJS.Timeout | null = null;
  #closed = false;

  constructor(location: PostgresLocation, replicaId: string, logger: Logger) {
    this.#location = location;
    this.#id = replicaId;
    this.#log = logger.child({ component: 'store-peers' });
    this.#events = new Notifier<StorePeerEvents>('store peers', this.#log);
  }

  on<K extends keyof StorePeerEvents>(event: K, listener: (...args: StorePeerEvents[K]) => void): () => void {
    return this.#events.on(event, listener);
  }

  async start(): Promise<void> {
    await this.#connect();
  }

  async leads(): Promise<boolean> {
    const client = this.#client;
    if (!client) return false;
    if (this.#leading) {
      // The lock is the connection's: while leading, the connection is checked every few seconds (a silent cut ends it).
      if (Date.now() - this.#checkedAt < LEADER_CHECK_MS) return true;
      try {
        await client.query('SELECT 1');
        this.#checkedAt = Date.now();
        return client === this.#client;
      } catch (error) {
        this.#lost(client, error as Error);
        return false;
      }
    }
    try {
      const { rows } = await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1) AS got', [LEADER_LOCK]);
      // Held by this connection's session: gone with it (a crash, a lost network), when another replica takes over.
      this.#leading = client === this.#client && rows[0]?.got === true;
      this.#checkedAt = Date.now();
      if (this.#leading) this.#log.info('this replica leads the jobs run once');
      return this.#leading;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    const client = this.#client;
    this.#client = null;
    await client?.end().catch(() => undefined);
  }

  async #connect(): Promise<void> {
    const client = new pg.Client({
      connectionString: this.#location.url,
      application_name: 'phoenix-hub-peers',
      connectionTimeoutMillis: 10_000,
      query_timeout: LEADER_CHECK_MS,
      // Both ends probe an idle connection: a cut one is ended within about half a minute, on the server too, which
      // then releases the leader's lock for another replica.
      keepAlive: true,
      options: '-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3',
    });
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, null));
    client.on('notification', (n) => this.#heard(n.channel, n.payload));
    await client.connect();
    for (const channel of Object.values(CHANNELS)) await client.query(`LISTEN ${channel}`);
    if (this.#closed) {
      await client.end();
      return;
    }
    this.#client = client;
    this.#leading = false;
    this.#retryMs = RETRY_MS.first;
  }

  #lost(client: pg.Client, error: Error | null): void {
    if (client !== this.#client || this.#closed) return;
    this.#client = null;
    this.#leading = false;
    this.#log.warn({ store: this.#location.display, err: error ? scrubPassword(error.message, this.#location) : 'closed' }, 'lost the connection that hears other replicas; connecting again');
    client.end().catch(() => undefined);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#closed || this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#connect().then(
        () => {
          this.#log.info({ store: this.#location.display }, 'hearing other replicas again');
          this.#events.emit('resync');
        },
        (error: Error) => {
          this.#log.warn({ store: this.#location.display, err: scrubPassword(error.message, this.#location), retryMs: this.#retryMs }, 'cannot hear other replicas yet');
          this.#retryMs = Math.min(this.#retryMs * 2, RETRY_MS.max);
          this.#schedule();
        },
      );
    }, this.#retryMs);
  }

  #heard(channel: string, payload: string | undefined): void {
    let notice: { from?: unknown; reports?: unknown; ids?: unknown };
    try {
      notice = JSON.parse(payload ?? '') as typeof notice;
    } catch {
      this.#log.warn({ channel }, 'a notice that is not JSON; ignored');
      return;
    }
    if (notice.from === this.#id) return;
    if (channel === CHANNELS.reports && Array.isArray(notice.reports)) {
      const reports = (notice.reports as unknown[]).flatMap((r) =>
        Array.isArray(r) && typeof r[0] === 'string' && typeof r[1] === 'string' && typeof r[2] === 'number'
          ? // A replica before the report's time was told: 0 (every window edge read before it is read again).
            [{ agentId: r[0], hostId: r[1], seq: r[2], ts: typeof r[3] === 'number' && Number.isFinite(r[3]) ? r[3] : 0 }]
          : [],
      );
      if (reports.length > 0) this.#events.emit('reports', reports);
    } else if ((channel === CHANNELS.experiments || channel === CHANNELS.agents) && Array.isArray(notice.ids)) {
      const ids = (notice.ids as unknown[]).filter((id): id is string => typeof id === 'string');
      if (ids.length === 0) return;
      if (channel === CHANNELS.agents) this.#events.emit('agents', ids);
      else this.#events.emit('experiments', ids);
    } else if (channel === CHANNELS.access) {
      this.#events.emit('access');
    }
  }
}
