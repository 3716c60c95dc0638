// The experiments and pipeline catalog API's response bodies, declared once (the page is checked against them).
import type { ExperimentState, HostState } from '../experiments/experiment-store.js';

type IsoTime = string;

/** One template in the catalog (a built-in, or a version an experimenter uploaded). */
export interface PipelineInfo {
  name: string;
  sha256: string;
  builtin: boolean;
  description: string | null;
  uploadedBy: string;
  /** null for a built-in. */
  uploadedAt: IsoTime | null;
  /** Experiments that use this version. */
  usedBy: string[];
}

/** GET /api/v1/pipelines */
export interface PipelineListResponse {
  pipelines: PipelineInfo[];
}

/** POST /api/v1/pipelines (201 when new; 200 when this text was uploaded under this name before), GET /api/v1/pipelines/:name */
export interface PipelineResponse {
  pipeline: PipelineInfo & { content: string };
  created?: boolean;
  /** Every version under this name, newest first (GET). */
  versions?: PipelineInfo[];
}

/** DELETE /api/v1/pipelines/:name */
export interface PipelineDeletedResponse {
  deleted: number;
}

/** One criterion of an experiment, met or not, with its value. */
export interface CriterionResult {
  /** The criterion's field in the definition (the loss ones since issue 15: judged on the candidate's worst host). */
  name: 'reduction' | 'retention' | 'cpuRatio' | 'restarts' | 'topCpuCoverage' | 'topRssCoverage' | 'cpuConservation' | 'rssConservation' | 'flapping' | 'switches';
  /** What is asked, e.g. ">= 50%". */
  wanted: string;
  /**
   * The figure judged: the fleet's (reduction, cpuRatio), a share of hosts (retention), the worst host's (restarts;
   * processes shown for top*Coverage; the ratio for *Conservation; per hour for flapping and switches).
   */
  value: number | null;
  /** The value as shown, e.g. "93%". */
  shown: string;
  /** null: not enough data yet. */
  met: boolean | null;
}

export interface ExperimentResults {
  verdict: 'passed' | 'failed' | 'pending';
  summary: string;
  criteria: CriterionResult[];
  /** Hosts whose figures the results are computed over (measured under this experiment). */
  hosts: number;
  /** Fleet figures over those hosts. */
  reduction: number | null;
  baselineSeries: number;
  candidateSeries: number;
}

export interface ExperimentHostView {
  hostId: string;
  agentId: string;
  wave: number | null;
  state: HostState;
  message: string | null;
  updatedAt: IsoTime;
  healthySince: IsoTime | null;
  connected: boolean;
}

export interface ExperimentWaveView {
  wave: number;
  size: number;
  startedAt: IsoTime | null;
  results: ExperimentResults | null;
}

export interface ExperimentEventView {
  id: number;
  at: IsoTime;
  kind: string;
  hostId: string | null;
  actor: string | null;
  detail: Record<string, unknown>;
}

/** An experiment in the list. */
export interface ExperimentSummary {
  id: string;
  name: string;
  state: ExperimentState;
  /** The outcome once it ended: passed or failed (completed), stopped, aborted; the live verdict while running. */
  verdict: 'passed' | 'failed' | 'pending' | 'stopped' | 'aborted';
  /** The target, as written (e.g. "kind=vm, env=prod"). */
  target: string;
  baseline: { pipeline: string; sha256: string };
  candidate: { pipeline: string; sha256: string };
  hosts: number;
  hostStates: Partial<Record<HostState, number>>;
  waves: { started: number; total: number };
  createdBy: string;
  createdAt: IsoTime;
  startedAt: IsoTime | null;
  endedAt: IsoTime | null;
  endsAt: IsoTime | null;
}

/** GET /api/v1/experiments */
export interface ExperimentListResponse {
  experiments: ExperimentSummary[];
}

export interface ExperimentDetail extends ExperimentSummary {
  description: string | null;
  /** The definition as accepted, defaults filled in. */
  definition: Record<string, unknown>;
  results: ExperimentResults;
  waves: ExperimentSummary['waves'] & { list: ExperimentWaveView[] };
  hostList: ExperimentHostView[];
  events: ExperimentEventView[];
  /** Why it ended: who stopped it, which guardrail aborted it (hosts, processes), the final criteria. */
  outcome: Record<string, unknown> | null;
  /** On a pass: the exact candidate that passed, to take to production. */
  passed: { pipeline: string; sha256: string; content: string; parameters: Record<string, unknown> } | null;
}

/** GET/POST /api/v1/experiments/:id, POST /api/v1/experiments (201), POST …/start, POST …/stop */
export interface ExperimentResponse {
  experiment: ExperimentDetail;
}
