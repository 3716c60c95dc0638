// The hub's storage contract: what ingest and the comparison need, so a server database can be added later.
import type { AccessStore, SyncAccessStore } from '../access/access-store.js';
import type { ExperimentStore, SyncExperimentStore } from '../experiments/experiment-store.js';
import type { ComparisonGroup, GroupBy } from '../compare.js';
import type { Hello, ReportMessage } from '../../protocol/messages.js';
import type { AgentReport } from '../../protocol/report.js';
import type { LossFigures } from './loss-sums.js';
import type { StorePeers } from './peers.js';

export interface AgentRecord {
  agentId: string;
  hostId: string;
  hostKind: 'vm' | 'k8s-node';
  labels: Record<string, string>;
  agentVersion: string;
  variants: { name: string; configHash: string }[];
  firstSeen: number;
  lastSeen: number;
  /** The agent's current sequence (see the hello message). */
  streamId: string;
  /** Highest sequence number stored (and so acknowledged) for this agent in that sequence. */
  lastSeq: number;
}

export interface HelloOutcome {
  agent: AgentRecord;
  /** The agent started a new sequence (its state was lost): its high-water mark starts again at 0. */
  sequenceRestarted: boolean;
}

export interface IncomingReport {
  agentId: string;
  message: ReportMessage;
  receivedAt: number;
}

export type StoreOutcome = 'stored' | 'duplicate';

/** One host's figures for one variant, averaged over a time range. */
export interface VariantPoint {
  agentId: string;
  hostId: string;
  hostKind: 'vm' | 'k8s-node';
  labels: Record<string, string>;
  /** 0 for the pair's A (baseline) side, 1 for B. */
  side: 0 | 1;
  variant: string;
  /** The A variant this was compared against. */
  pairedWith: string;
  reports: number;
  series: number | null;
  /** Worst retention seen in the range (1 when every report had full retention; null when none was known). */
  retentionMin: number | null;
  /** Reports in the range where a running critical process was not visible. */
  lossyReports: number;
  missing: string[];
  cpuPercent: number | null;
  rssBytes: number | null;
  monthlyCostUsd: number | null;
  /**
   * What the variant lost beyond the critical processes (issue 15), over the range: top-K coverage and conservation as
   * means per report, counter resets and flapping as sums (flapping with the hours it covers); every figure null
   * when no report in the range carried it (an agent before issue 15, a store from before schema 5).
   */
  loss: LossFigures;
  lastAt: number;
}

export interface HistoryPoint {
  at: number;
  side: 0 | 1;
  variant: string;
  series: number | null;
  cpuPercent: number | null;
  rssBytes: number | null;
  retention: number | null;
}

export interface FleetHistoryPoint {
  at: number;
  variant: string;
  hosts: number;
  series: number | null;
  cpuPercent: number | null;
  rssBytes: number | null;
}

export interface LatestReport {
  agentId: string;
  seq: number;
  receivedAt: number;
  report: AgentReport;
}

/**
 * The hub's store, engine-neutral: every read and write is asynchronous, so that an engine may do its work on another
 * thread (SQLite's writer and readers) or another machine (PostgreSQL) while the event loop serves the sockets.
 * Calling rules: any method may be called any time before `close()`, and concurrently; `storeReports` is durable when
 * its promise resolves (the hub acknowledges only then), and reports of one agent are stored in the order given.
 */
export interface Store {
  upsertAgent(hello: Hello, now: number): Promise<HelloOutcome>;
  storeReports(items: readonly IncomingReport[]): Promise<StoreOutcome[]>;
  agents(): Promise<AgentRecord[]>;
  latest(agentId: string): Promise<LatestReport | null>;
  latestAll(): Promise<LatestReport[]>;
  /** Per host and side, figures over [from, to). */
  variantPoints(from: number, to: number): Promise<VariantPoint[]>;
  /** compareFleet over variantPoints(from, to), done where the store reads them. */
  comparison(from: number, to: number, groupBy: GroupBy): Promise<ComparisonGroup[]>;
  history(hostId: string, from: number, to: number): Promise<HistoryPoint[]>;
  /** Per variant name and time step over the whole fleet: mean series, CPU and RSS per host. */
  fleetHistory(from: number, to: number): Promise<FleetHistoryPoint[]>;
  /** Rolls raw rows up into fine and coarse buckets and deletes what is past retention. */
  maintain(now: number): Promise<MaintenanceOutcome>;
  /** Credentials, sessions and the audit log (pruned with the coarse history by `maintain`). */
  access: AccessStore;
  /** The pipeline catalog, the experiments and their figures (which `storeReports` keeps for tagged reports). */
  experiments: ExperimentStore;
  /** What other hub processes on this store do (replicas on PostgreSQL); none on SQLite. */
  peers: StorePeers;
  close(): Promise<void>;
}

export interface MaintenanceOutcome {
  rolledUp: number;
  deletedRaw: number;
  deletedRollups: number;
}

/**
 * The SQLite store's own contract: the same operations, synchronous (better-sqlite3 is) but for the window reads. The
 * hub reaches it through `asyncStore()`; the store's own tests and the benches that fill a store call it directly.
 */
export interface SyncStore {
  upsertAgent(hello: Hello, now: number): HelloOutcome;
  storeReports(items: readonly IncomingReport[]): StoreOutcome[];
  agents(): AgentRecord[];
  latest(agentId: string): LatestReport | null;
  latestAll(): LatestReport[];
  /** The window reads answer promises here too: they are planned by window.ts, which both engines share. */
  variantPoints(from: number, to: number): Promise<VariantPoint[]>;
  /** compareFleet over variantPoints(from, to), done where the store reads them. */
  comparison(from: number, to: number, groupBy: GroupBy): Promise<ComparisonGroup[]>;
  history(hostId: string, from: number, to: number): Promise<HistoryPoint[]>;
  fleetHistory(from: number, to: number): Promise<FleetHistoryPoint[]>;
  maintain(now: number): MaintenanceOutcome;
  access: SyncAccessStore;
  experiments: SyncExperimentStore;
  close(): void;
}
