// What the experiments keep, engine-neutral: the pipeline catalog, the experiments with their hosts and events, and
// the running figures of their tagged reports (written by the store's ingest). A store engine implements it.
import type { Promised } from '../../common/promised.js';
import type { LossSums } from '../store/loss-sums.js';

export type ExperimentState = 'draft' | 'running' | 'completed' | 'stopped' | 'aborted';
export type HostState = 'pending' | 'applying' | 'measuring' | 'done' | 'failed' | 'refused' | 'rolled-back';

/** One uploaded version of a template: a name may hold several, each named by the sha256 of its text. */
export interface PipelineRecord {
  name: string;
  sha256: string;
  content: string;
  description: string | null;
  uploadedBy: string;
  uploadedAt: number;
}

/** The template version an experiment runs on one side. */
export interface PipelineRef {
  pipeline: string;
  sha256: string;
}

export interface ExperimentRecord {
  id: string;
  name: string;
  description: string | null;
  /** The definition as accepted (canonical JSON text). */
  spec: string;
  state: ExperimentState;
  revision: number;
  baseline: PipelineRef;
  candidate: PipelineRef;
  createdBy: string;
  createdAt: number;
  startedAt: number | null;
  endedAt: number | null;
  /** JSON text: the verdict, criteria table, who stopped it, which guardrail aborted it (null while running). */
  outcome: string | null;
  /** JSON text: the guardrails' state, kept across hub restarts. */
  guard: string | null;
}

/** One host of an experiment, keyed by (experimentId, agentId). */
export interface ExperimentHostRecord {
  experimentId: string;
  agentId: string;
  hostId: string;
  /** Its place in the rollout order (0-based) and the wave it belongs to (null until its wave starts). */
  order: number;
  wave: number | null;
  state: HostState;
  message: string | null;
  updatedAt: number;
  /** Since when it has held the criteria (applied, measuring, full retention), or null. */
  healthySince: number | null;
}

export interface ExperimentEvent {
  /** Increases with each event added (across experiments): the paging key. */
  id: number;
  experimentId: string;
  at: number;
  kind: string;
  hostId: string | null;
  actor: string | null;
  /** JSON text. */
  detail: string;
}

/** Per experiment, host and side (0 baseline, 1 candidate): running figures over the experiment's tagged reports. */
export interface HostFiguresRecord {
  experimentId: string;
  agentId: string;
  hostId: string;
  side: 0 | 1;
  variant: string;
  reports: number;
  seriesSum: number;
  seriesN: number;
  cpuSum: number;
  cpuN: number;
  restartsMax: number;
  retentionMin: number | null;
  lossyReports: number;
  /** Reports in which a critical process ran on the host. */
  criticalRanReports: number;
  /** Union of the processes this side missed (at most 50 names). */
  missing: string[];
  /** Consecutive latest reports in which this side missed a critical process (0 after a report without a loss). */
  lossStreak: number;
  /**
   * The criticalLoss guardrail's count, on the candidate's side (0 on the baseline's): consecutive latest reports in
   * which the candidate lost a critical process the baseline showed, whichever hub process stored them.
   */
  guardStreak: number;
  /** What the last of those reports lost (at most 50 names; none after a report without a loss). */
  guardLost: string[];
  firstAt: number;
  lastAt: number;
  /** The loss figures' sums (issue 15): all 0 for reports from agents before it. */
  loss: LossSums;
}

/** A host's criticalLoss count as the store keeps it (HostFiguresRecord's guardStreak and guardLost). */
export interface LossStreakRecord {
  agentId: string;
  hostId: string;
  reports: number;
  processes: string[];
}

/** At most this many names are kept in HostFiguresRecord.missing (the first ones missed). */
export const MAX_FIGURES_MISSING = 50;
/** How many events `events()` returns when no limit is given. */
export const DEFAULT_EVENTS_LIMIT = 1000;

/** Fields of an experiment that change after it is created. */
export type ExperimentPatch = Partial<Pick<ExperimentRecord, 'state' | 'revision' | 'startedAt' | 'endedAt' | 'outcome' | 'guard'>>;

/** Writes stored together (the running experiments' buffered changes): hosts, then events, then patches. */
export interface ExperimentWriteSet {
  hosts: readonly ExperimentHostRecord[];
  events: readonly Omit<ExperimentEvent, 'id'>[];
  patches: readonly (readonly [id: string, patch: ExperimentPatch])[];
}

/**
 * The experiment tables' operations, synchronous (SQLite's, and the shape of the engine-neutral ExperimentStore
 * below). Calling rules: every write commits before it returns; the experiments' figures are written by the store's
 * `storeReports` (a report tagged with an experiment id the store holds), never through this.
 */
export interface SyncExperimentStore {
  /** Keeps a version; (name, sha256) is unique: 'exists' leaves the first one as it was. */
  putPipeline(p: PipelineRecord): 'created' | 'exists';
  /** Every version, by name, newest first per name. */
  pipelines(): PipelineRecord[];
  /** That version, or without sha256 the newest version of the name; null when there is none. */
  pipeline(name: string, sha256?: string): PipelineRecord | null;
  /** Experiments (any state) that use this template (every version when sha256 is omitted), by id. */
  pipelineUsers(name: string, sha256?: string): string[];
  /** Deletes that version (every version when sha256 is omitted); returns the rows deleted. */
  deletePipeline(name: string, sha256?: string): number;

  /** The experiment, its hosts and its first event in one transaction; throws (storing nothing) on a duplicate key. */
  createExperiment(experiment: ExperimentRecord, hosts: readonly ExperimentHostRecord[], event: Omit<ExperimentEvent, 'id'>): void;
  /** Newest first. */
  experiments(): ExperimentRecord[];
  experiment(id: string): ExperimentRecord | null;
  /** Sets the fields present in `patch` (an explicit null sets null); an unknown id changes nothing. */
  updateExperiment(id: string, patch: ExperimentPatch): void;
  /** Experiments in these states (the engine's running set at start), newest first. */
  experimentsIn(states: readonly ExperimentState[]): ExperimentRecord[];

  /** The experiment's hosts by their rollout order. */
  hosts(experimentId: string): ExperimentHostRecord[];
  /** Inserts or replaces the host (by experimentId and agentId). */
  putHost(host: ExperimentHostRecord): void;

  /** Returns the new event's id. */
  addEvent(event: Omit<ExperimentEvent, 'id'>): number;
  /**
   * Oldest first: those after `afterId` (default: from the first), of `kind` only when given, at most `limit`
   * (default DEFAULT_EVENTS_LIMIT).
   */
  events(experimentId: string, options?: { afterId?: number; kind?: string; limit?: number }): ExperimentEvent[];
  /** The newest `limit` events, oldest first. */
  latestEvents(experimentId: string, limit: number): ExperimentEvent[];

  /** Per host and side, by host id, agent id and side. */
  figures(experimentId: string): HostFiguresRecord[];
  /** The hosts whose candidate's guardStreak is at least `atLeast` (the criticalLoss guardrail's count), by host id. */
  lossStreaks(experimentId: string, atLeast: number): LossStreakRecord[];

  /** Stores `writes` in one transaction: all of them, or none. */
  applyWrites(writes: ExperimentWriteSet): void;
}

/** What the hub uses: the same operations, each answered by a promise (a write's resolves once it is committed). */
export type ExperimentStore = Promised<SyncExperimentStore>;
