// The hub's HTTP API and live feed as the page reads them: each response body declared once, returned by
// hub/http/api.ts and checked against the page (hub/page/*.js) by `npm run typecheck` (tsconfig.page.json).
// Kept in hub/, not protocol/: the page is the hub's own code, served by it; protocol/ is what agents and the hub share.
import type { ComparisonGroup } from '../compare.js';
import type { HostReportSummary } from '../fleet-view.js';
import type { AgentRecord, FleetHistoryPoint, HistoryPoint } from '../store/types.js';
import type { AgentReport } from '../../protocol/report.js';

/** A time as `Date.prototype.toISOString()` writes it (UTC, milliseconds). */
export type IsoTime = string;

/** One host in GET /api/v1/fleet: its agent's record and what its latest report showed (null/[] before any report). */
export interface FleetHost {
  hostId: string;
  agentId: string;
  kind: AgentRecord['hostKind'];
  labels: Record<string, string>;
  agentVersion: string;
  connected: boolean;
  lastSeen: IsoTime;
  lastSeq: number;
  processCount: number | null;
  criticalRunning: string[];
  /** The pair's A (baseline) side first, then B. */
  variants: HostReportSummary['variants'];
  cardinalityReduction: number | null;
}

export interface FleetTotals {
  hosts: number;
  connected: number;
  vm: number;
  k8sNode: number;
  /** Hosts where any variant's latest report missed a running critical process. */
  withLosses: number;
}

/** GET /api/v1/fleet */
export interface FleetResponse {
  generatedAt: IsoTime;
  totals: FleetTotals;
  hosts: FleetHost[];
}

/** GET /api/v1/comparison?window=&groupBy= */
export interface ComparisonResponse {
  /** The window as asked for ('1h' when none was). */
  window: string;
  from: IsoTime;
  to: IsoTime;
  /** 'none', 'kind' or 'label:NAME', as asked for. */
  groupBy: string;
  groups: ComparisonGroup[];
}

/** GET /api/v1/fleet/history?window= */
export interface FleetHistoryResponse {
  from: IsoTime;
  to: IsoTime;
  points: FleetHistoryPoint[];
}

/** An agent of a host in GET /api/v1/hosts/:id: its stored record, times as ISO strings. */
export interface HostAgent extends Omit<AgentRecord, 'firstSeen' | 'lastSeen'> {
  connected: boolean;
  firstSeen: IsoTime;
  lastSeen: IsoTime;
}

/** GET /api/v1/hosts/:id?window= */
export interface HostResponse {
  hostId: string;
  agents: HostAgent[];
  /** The newest report of any of the host's agents, as the agent sent it. */
  latest: { seq: number; receivedAt: IsoTime; report: AgentReport } | null;
  history: HistoryPoint[];
}

/** Every 200 body the API sends. */
export type ApiResponse = FleetResponse | ComparisonResponse | FleetHistoryResponse | HostResponse;

/** What went wrong, for programs; `message` says it for people, naming the bad value. */
export type ErrorKind = 'bad_request' | 'not_found' | 'method_not_allowed' | 'internal';

/** The body of every API error (400, 404, 405, 500). */
export interface ErrorResponse {
  error: ErrorKind;
  message: string;
}

/** Live feed (ws /api/v1/live), sent once on connecting. */
export interface LiveHello {
  type: 'hello';
  /** Pages connected, this one included. */
  clients: number;
}

/** Live feed: reports were stored for these hosts (batched, at most every 250 ms); the page re-reads the API. */
export interface LiveReports {
  type: 'reports';
  hosts: string[];
  at: IsoTime;
}

export type LiveMessage = LiveHello | LiveReports;

/** `GET /healthz`: the process is alive. */
export interface HealthResponse {
  status: 'ok';
}

/** `GET /readyz`: 200 once listening, 503 while starting or stopping; `agents` connected. */
export interface ReadinessResponse {
  status: 'ready' | 'starting';
  agents: number;
}
