// What other hub processes on the same store do, as they do it (issue 16): engine-neutral. A store that only one
// process writes (SQLite) has no peers; on PostgreSQL the replicas tell each other (postgres-peers.ts).

/** A report another process stored: enough for a live page to say which host moved. */
export interface StoredElsewhere {
  agentId: string;
  hostId: string;
  seq: number;
  /** Where the report was placed in time (a window edge read before it may no longer hold); 0 when not told. */
  ts: number;
}

export interface StorePeerEvents {
  /** Reports another process stored (committed). */
  reports: [reports: readonly StoredElsewhere[]];
  /** Agents that said hello to another process (their host, kind or labels may have changed). */
  agents: [agentIds: readonly string[]];
  /** Experiments another process created or changed (started, widened, ended). */
  experiments: [ids: readonly string[]];
  /** Another process ended a credential (a token revoked, a session ended). */
  access: [];
  /** Notices may have been missed (the connection that hears them was lost and is back): read again what is kept. */
  resync: [];
}

export interface StorePeers {
  /** Whether other processes write to this store too. */
  readonly shared: boolean;
  on<K extends keyof StorePeerEvents>(event: K, listener: (...args: StorePeerEvents[K]) => void): () => void;
  /**
   * Whether this process leads the jobs that must run once across all of them (the experiments' ticks): true for a
   * store with no peers; on a shared store one process at a time, another taking over when it is gone.
   */
  leads(): Promise<boolean>;
}

/** The peers of a store no other process writes: none, and this process leads. */
export const NO_PEERS: StorePeers = {
  shared: false,
  on: () => () => undefined,
  leads: async () => true,
};
