// Tells the other replicas which reports this one stored and which agents said hello to it, after the batches commit, a
// few times a second. Not inside each batch's transaction: a transaction that notifies takes one lock for the whole
// database at its commit and holds it until its commit is flushed, so every replica's batches queued behind each
// other's fsyncs (at 10,000 agents x 5 s over 2 replicas the acks fell further behind each second). Here the notices go
// in a transaction of their own that does not wait for its flush (a notice is a hint: a lost one costs a live page
// one report, which the next one mends; a lost hello, another replica's labels for a minute).
import type pg from 'pg';
import type { Logger } from '../../common/logger.js';
import { CHANNELS, MAX_PAYLOAD } from './postgres-peers.js';
import { transaction } from './postgres-statements.js';
import type { StoredElsewhere } from './peers.js';

/** How long stored reports wait to be announced together. */
export const ANNOUNCE_EVERY_MS = 50;

/** Notices of `entries` under `key`, each payload under PostgreSQL's 8,000 bytes. */
export function chunkedNotices(from: string, key: string, entries: readonly unknown[]): string[] {
  const notices: string[] = [];
  let chunk: unknown[] = [];
  let size = 0;
  for (const entry of entries) {
    const bytes = Buffer.byteLength(JSON.stringify(entry)) + 1;
    if (size + bytes > MAX_PAYLOAD - 100 && chunk.length > 0) {
      notices.push(JSON.stringify({ from, [key]: chunk }));
      chunk = [];
      size = 0;
    }
    chunk.push(entry);
    size += bytes;
  }
  if (chunk.length > 0) notices.push(JSON.stringify({ from, [key]: chunk }));
  return notices;
}

/** The notices' payloads for `reports`: each under PostgreSQL's 8,000 bytes. */
export const reportNotices = (from: string, reports: readonly StoredElsewhere[]): string[] =>
  chunkedNotices(from, 'reports', reports.map((r) => [r.agentId, r.hostId, r.seq, r.ts]));

/** Calling rules: `add()` and `hello()` only what committed; `close()` once (it sends what is left). */
export class ReportAnnouncer {
  readonly #pool: pg.Pool;
  readonly #from: string;
  readonly #log: Logger;
  #pending: StoredElsewhere[] = [];
  #hellos = new Set<string>();
  #timer: NodeJS.Timeout | null = null;
  #sending: Promise<void> | null = null;

  constructor(pool: pg.Pool, from: string, logger: Logger) {
    this.#pool = pool;
    this.#from = from;
    this.#log = logger;
  }

  add(reports: readonly StoredElsewhere[]): void {
    if (reports.length === 0) return;
    this.#pending.push(...reports);
    this.#timer ??= setTimeout(() => void this.#flush(), ANNOUNCE_EVERY_MS);
  }

  /** An agent's hello was stored (its host, kind or labels may have changed). */
  hello(agentId: string): void {
    this.#hellos.add(agentId);
    this.#timer ??= setTimeout(() => void this.#flush(), ANNOUNCE_EVERY_MS);
  }

  async #flush(): Promise<void> {
    this.#timer = null;
    await this.#sending;
    const reports = this.#pending;
    const hellos = [...this.#hellos];
    this.#pending = [];
    this.#hellos.clear();
    if (reports.length === 0 && hellos.length === 0) return;
    this.#sending = transaction(this.#pool, async (client) => {
      await client.query('SET LOCAL synchronous_commit = off');
      const notify = 'SELECT pg_notify($1, n) FROM unnest($2::text[]) AS n';
      if (hellos.length > 0) await client.query(notify, [CHANNELS.agents, chunkedNotices(this.#from, 'ids', hellos)]);
      if (reports.length > 0) await client.query(notify, [CHANNELS.reports, reportNotices(this.#from, reports)]);
    }).catch((error: unknown) => {
      this.#log.warn(
        { err: error, reports: reports.length, hellos: hellos.length },
        "cannot tell the other replicas of reports and hellos stored; their pages catch up at those agents' next reports, their agents' labels within a minute",
      );
    });
    await this.#sending;
    this.#sending = null;
  }

  async close(): Promise<void> {
    if (this.#timer) clearTimeout(this.#timer);
    await this.#flush();
  }
}
