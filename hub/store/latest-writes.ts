// Each agent's latest report, written to SQLite's file at most once a minute per agent (issue 16). The row is the
// hub's display snapshot, not what an ack promises (the samples and the sequence mark are, in the same transaction):
// rewriting its ~3 KB for every report was a fifth of what storing a report cost the loop (a 4 KB page of the file
// written per report; storing 2,000 agents every 5 s for 2 minutes, in batches of 20: 93 -> 74 us a report). The newer
// reports between are kept here, as their text, and answered from here; a quiet agent's is written by maintenance, and
// everything at close. A crash loses at most a minute of the snapshot, never a report.
import type { LatestReport } from './types.js';

/** A latest report as the file holds it: its text made once, kept as text (10,000 of them are ~33 MB the collector of
 * garbage never walks; as objects they were half again as much live heap, walked at every full collection). */
export interface LatestText {
  agentId: string;
  seq: number;
  receivedAt: number;
  /** The report, as JSON. */
  text: string;
}

/** The report a kept text holds. */
export const fromText = (l: LatestText): LatestReport => ({ agentId: l.agentId, seq: l.seq, receivedAt: l.receivedAt, report: JSON.parse(l.text) as LatestReport['report'] });

/** How stale the file's latest report of an agent may get while it keeps reporting. */
export const LATEST_WRITE_EVERY_MS = 60_000;

/** A batch's latest reports, kept until its transaction commits (dropped when it does not). */
export interface LatestStaging {
  /** Whether this report's row is written in the batch's transaction (the file's is old, or unknown to this process). */
  due(latest: LatestText): boolean;
  /** The batch's transaction committed: what it wrote and what it kept take effect. */
  commit(): void;
}

/**
 * Calling rules: `stage()` for a batch, its `due()` for every stored report in order, then its `commit()` once the
 * transaction committed (a failed transaction's staging is dropped). `newest`/`overlay` answer reads with what is
 * kept; `quiet(now)` and `drain()` hand over what must be written now, to be told back with `written()`.
 */
export class LatestWrites {
  readonly #everyMs: number;
  /** Per agent: the receivedAt of the row in the file, as far as this process wrote it. */
  readonly #written = new Map<string, number>();
  /** Per agent: a report newer than the file's row. */
  readonly #kept = new Map<string, LatestText>();

  constructor(everyMs = LATEST_WRITE_EVERY_MS) {
    this.#everyMs = everyMs;
  }

  stage(): LatestStaging {
    // Per agent, the batch's report written, and the one newer than it.
    const written = new Map<string, LatestText>();
    const kept = new Map<string, LatestText>();
    return {
      due: (latest) => {
        const writtenAt = written.get(latest.agentId)?.receivedAt ?? this.#written.get(latest.agentId);
        const due = writtenAt === undefined || latest.receivedAt - writtenAt >= this.#everyMs;
        // An agent's reports come in order: a later one replaces what the batch had of it.
        kept.delete(latest.agentId);
        (due ? written : kept).set(latest.agentId, latest);
        return due;
      },
      commit: () => {
        this.written([...written.values()]);
        for (const latest of kept.values()) this.#kept.set(latest.agentId, latest);
      },
    };
  }

  /** These were written to the file (each the newest of its agent at the time). */
  written(latests: readonly LatestText[]): void {
    for (const latest of latests) {
      this.#written.set(latest.agentId, latest.receivedAt);
      if ((this.#kept.get(latest.agentId)?.receivedAt ?? -Infinity) <= latest.receivedAt) this.#kept.delete(latest.agentId);
    }
  }

  /** The agent's report newer than the file's row, if one is kept. */
  newest(agentId: string): LatestReport | undefined {
    const kept = this.#kept.get(agentId);
    return kept && fromText(kept);
  }

  /** The file's rows with every kept report in place of its agent's. */
  overlay(rows: readonly LatestReport[]): LatestReport[] {
    if (this.#kept.size === 0) return [...rows];
    return rows.map((row) => {
      const kept = this.#kept.get(row.agentId);
      return kept ? fromText(kept) : row;
    });
  }

  /** Kept reports of agents that have not reported for `everyMs` (gone quiet): the file gets them now. */
  quiet(now: number): LatestText[] {
    return [...this.#kept.values()].filter((latest) => now - latest.receivedAt >= this.#everyMs);
  }

  /** Every kept report (at close). */
  drain(): LatestText[] {
    return [...this.#kept.values()];
  }
}
