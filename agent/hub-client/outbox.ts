// The agent's durable outbox: reports wait on disk, in sequence order, until the hub acknowledges them.
import { mkdirSync, readdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { writeDurably } from '../durable-write.js';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { Logger } from '../../common/logger.js';
import { ConfigError } from '../../common/errors.js';
import { PROTOCOL_VERSION, type ReportMessage } from '../../protocol/messages.js';
import type { AgentReport } from '../../protocol/report.js';

export interface OutboxOptions {
  dir: string;
  logger: Logger;
  /** Bound on the reports kept; when a new one does not fit, the oldest are dropped (and counted). */
  maxBytes?: number;
  /** Reports kept in memory while the disk refuses writes. */
  maxMemoryReports?: number;
}

interface Entry {
  seq: number;
  bytes: number;
  /** Set when the report could not be written to disk and lives only in memory. */
  inMemory?: string;
}

const FILE = /^(\d{16})\.json$/;
const fileName = (seq: number) => `${String(seq).padStart(16, '0')}.json`;

/**
 * Calling rules: `append()` each report; `pending()` lists what to send, oldest first; `ack(seq)`
 * removes everything up to seq. Sequence numbers only grow, across restarts (the counter is on disk).
 * A disk that refuses writes (full, read-only) is logged once per episode; reports then wait in memory.
 */
export class Outbox {
  readonly dir: string;
  readonly #logger: Logger;
  readonly #maxBytes: number;
  readonly #maxMemory: number;
  #entries: Entry[] = [];
  #bytes = 0;
  #nextSeq = 1;
  #diskFailing = false;
  #streamId = '';
  dropped = 0;

  constructor(options: OutboxOptions) {
    this.dir = options.dir;
    this.#logger = options.logger.child({ component: 'outbox' });
    this.#maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
    this.#maxMemory = options.maxMemoryReports ?? 1000;
    this.#load();
  }

  #load(): void {
    try {
      mkdirSync(this.dir, { recursive: true });
      for (const name of readdirSync(this.dir).sort()) {
        const match = FILE.exec(name);
        if (!match) continue;
        const seq = Number(match[1]);
        const bytes = statSync(path.join(this.dir, name)).size;
        this.#entries.push({ seq, bytes });
        this.#bytes += bytes;
      }
      this.#streamId = this.#readOptional('stream-id');
      const saved = Number(this.#readOptional('next-seq'));
      if (Number.isSafeInteger(saved) && saved > 0) this.#nextSeq = saved;
    } catch (error) {
      this.#diskError(error, 'cannot read the outbox');
    }
    if (!/^[A-Za-z0-9_-]{8,64}$/.test(this.#streamId)) {
      // A new sequence (first start, or the state was lost): name it, so the hub does not take 1, 2, 3… for repeats.
      this.#streamId = randomBytes(12).toString('base64url');
      this.#nextSeq = Math.max(1, (this.#entries.at(-1)?.seq ?? 0) + 1);
      try {
        writeDurably(path.join(this.dir, 'stream-id'), `${this.#streamId}\n`);
      } catch (error) {
        this.#diskError(error, 'cannot write the outbox; keeping reports in memory until the disk recovers');
      }
    }
    const last = this.#entries.at(-1)?.seq ?? 0;
    this.#nextSeq = Math.max(this.#nextSeq, last + 1);
    if (this.#entries.length > 0) this.#logger.info({ pending: this.#entries.length, nextSeq: this.#nextSeq }, 'outbox holds reports from before');
  }

  get size(): number {
    return this.#entries.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Names this outbox's sequence of numbers (see the hello message). */
  get streamId(): string {
    return this.#streamId;
  }

  #readOptional(name: string): string {
    try {
      return readFileSync(path.join(this.dir, name), 'utf8').trim();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw new ConfigError(`stateDir: cannot read the outbox's ${path.join(this.dir, name)} (${(error as NodeJS.ErrnoException).code ?? error})`, { cause: error });
    }
  }

  get nextSeq(): number {
    return this.#nextSeq;
  }

  append(window: ReportMessage['window'], report: AgentReport): ReportMessage {
    const message: ReportMessage = { type: 'report', v: PROTOCOL_VERSION, seq: this.#nextSeq, window, report };
    const text = JSON.stringify(message);
    const bytes = Buffer.byteLength(text);
    this.#nextSeq += 1;
    this.#makeRoom(bytes);
    const entry: Entry = { seq: message.seq, bytes };
    try {
      writeDurably(path.join(this.dir, 'next-seq'), `${this.#nextSeq}\n`);
      writeDurably(path.join(this.dir, fileName(message.seq)), text);
      if (this.#diskFailing) this.#logger.info('outbox writes work again');
      this.#diskFailing = false;
    } catch (error) {
      this.#diskError(error, 'cannot write the outbox; keeping reports in memory until the disk recovers');
      entry.inMemory = text;
      const inMemory = this.#entries.filter((e) => e.inMemory !== undefined);
      if (inMemory.length >= this.#maxMemory) this.#drop(1, 'in-memory outbox full');
    }
    this.#entries.push(entry);
    this.#bytes += bytes;
    return message;
  }

  #makeRoom(bytes: number): void {
    let drop = 0;
    let freed = 0;
    while (drop < this.#entries.length && this.#bytes - freed + bytes > this.#maxBytes) freed += this.#entries[drop++]!.bytes;
    if (drop > 0) this.#drop(drop, `outbox over its ${this.#maxBytes}-byte bound`);
  }

  #drop(count: number, why: string): void {
    const victims = this.#entries.splice(0, count);
    for (const e of victims) this.#remove(e);
    this.dropped += count;
    this.#logger.warn({ dropped: count, droppedTotal: this.dropped, oldestKept: this.#entries[0]?.seq ?? null }, `${why}: dropped the oldest reports`);
  }

  /** Up to `limit` pending reports with seq > `after`, oldest first. */
  pending(after: number, limit: number): ReportMessage[] {
    const out: ReportMessage[] = [];
    for (const entry of this.#entries) {
      if (out.length >= limit) break;
      if (entry.seq <= after) continue;
      try {
        const text = entry.inMemory ?? readFileSync(path.join(this.dir, fileName(entry.seq)), 'utf8');
        out.push(JSON.parse(text) as ReportMessage);
      } catch (error) {
        this.#logger.error({ err: error, seq: entry.seq }, 'unreadable outbox entry; skipping it');
        this.#entries = this.#entries.filter((e) => e !== entry);
        this.#bytes -= entry.bytes;
      }
    }
    return out;
  }

  /** The hub stored everything up to `seq`. */
  ack(seq: number): void {
    while (this.#entries.length > 0 && this.#entries[0]!.seq <= seq) this.#remove(this.#entries.shift()!);
  }

  #remove(entry: Entry): void {
    this.#bytes -= entry.bytes;
    if (entry.inMemory !== undefined) return;
    try {
      unlinkSync(path.join(this.dir, fileName(entry.seq)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.#diskError(error, 'cannot remove an acknowledged report');
    }
  }

  #diskError(error: unknown, message: string): void {
    if (this.#diskFailing) return;
    this.#diskFailing = true;
    this.#logger.error({ err: error, dir: this.dir, code: (error as NodeJS.ErrnoException).code }, message);
  }
}
