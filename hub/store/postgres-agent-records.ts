// The agents' host ids, kinds and labels as a replica's window reads need them, kept between reads: reading and
// parsing every agent's row for each comparison (an open page asks every second) cost ~30 ms of the event loop at
// 10,000 agents. Only a hello changes them; this replica hears of its own and of the others' (their notices), and reads
// just those agents again. A notice may be lost (a notice is a hint), so everything is read again now and then too.
import type { Queryable } from './postgres-statements.js';
import { rows } from './postgres-statements.js';
import { PG } from './postgres-store-sql.js';
import { toAgent, type AgentRow } from './store-sql.js';
import type { AgentRecord } from './types.js';

/** How long the records are kept before every one is read again (whatever was or was not heard). */
export const AGENT_RECORDS_REFRESH_MS = 60_000;

/** Calling rules: `changed()` after the hello is committed (its own) or heard (another replica's). */
export class AgentRecords {
  readonly #on: Queryable;
  readonly #refreshMs: number;
  #all: Map<string, AgentRecord> | null = null;
  #loadedAt = 0;
  #loading: Promise<Map<string, AgentRecord>> | null = null;
  #dirty = new Set<string>();
  /** Moved by changedAll(): a full read begun before it is not kept. */
  #generation = 0;

  constructor(on: Queryable, refreshMs = AGENT_RECORDS_REFRESH_MS) {
    this.#on = on;
    this.#refreshMs = refreshMs;
  }

  /** These agents said hello (their records may have changed). */
  changed(agentIds: Iterable<string>): void {
    for (const id of agentIds) this.#dirty.add(id);
  }

  /** Anything may have changed (notices were missed): everything is read again at the next call. */
  changedAll(): void {
    this.#all = null;
    this.#generation += 1;
  }

  /** Every agent's record, by agent id. The map is this object's: read it, do not keep it past the read. */
  async get(now = Date.now()): Promise<ReadonlyMap<string, AgentRecord>> {
    if (!this.#all || now - this.#loadedAt >= this.#refreshMs) return this.#loadAll(now);
    if (this.#dirty.size === 0) return this.#all;
    const all = this.#all;
    // Taken before the read: a hello heard while it runs is read at the next call.
    const ids = [...this.#dirty];
    this.#dirty.clear();
    for (const row of await rows<AgentRow>(this.#on, PG.agentsIn, [ids])) all.set(row.agent_id, toAgent(row));
    return all;
  }

  #loadAll(now: number): Promise<Map<string, AgentRecord>> {
    this.#loading ??= (async () => {
      this.#dirty.clear();
      const generation = this.#generation;
      try {
        const all = new Map((await rows<AgentRow>(this.#on, PG.allAgents)).map((r) => [r.agent_id, toAgent(r)]));
        if (generation === this.#generation) {
          this.#all = all;
          this.#loadedAt = now;
        }
        return all;
      } finally {
        this.#loading = null;
      }
    })();
    return this.#loading;
  }
}
