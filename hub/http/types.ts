// The hub's HTTP API and live feed as the page reads them: each response body declared once, returned by
// hub/http/api.ts and checked against the page (hub/page/*.js) by `npm run typecheck` (tsconfig.page.json).
// Kept in hub/, not protocol/: the page is the hub's own code, served by it; protocol/ is what agents and the hub share.
import type { AuditEntry, SignInMethod } from '../access/access-store.js';
import type { Permission, Role } from '../access/roles.js';
import type { HttpErrorKind } from '../errors.js';
import type { ComparisonGroup } from '../compare.js';
import type { HostReportSummary } from '../fleet-view.js';
import type { FleetBreakdownResponse } from '../fleet-breakdown.js';
import type { AgentRecord, FleetHistoryPoint, HistoryPoint } from '../store/types.js';
import type { AgentReport } from '../../protocol/report.js';
import type {
  ExperimentListResponse, ExperimentResponse, PipelineDeletedResponse, PipelineListResponse, PipelineResponse,
} from './experiment-types.js';

export type * from './experiment-types.js';
/** The comparison's parts, for the page to name: a pair, a variant's summary, and its loss figures (issue 15). */
export type { PairComparison, VariantSummary, HostLoss } from '../compare.js';
export type { BlindSpotSummary, CoverageSpread, LossSpread, LossSummary } from '../compare-loss.js';
export type { BreakdownGroup, FleetBreakdownResponse, ProcessorSum, StageSum, VariantBreakdown } from '../fleet-breakdown.js';

/** A time as `Date.prototype.toISOString()` writes it (UTC, milliseconds). */
export type IsoTime = string;

/** A connected agent takes experiments (a version-2 agent that accepts them), or why not. */
export interface Manageability {
  manageable: boolean;
  reason: string | null;
}

/** One host in GET /api/v1/fleet: its agent's record and what its latest report showed (null/[] before any report). */
export interface FleetHost {
  hostId: string;
  agentId: string;
  kind: AgentRecord['hostKind'];
  labels: Record<string, string>;
  agentVersion: string;
  /** Connected to this hub, or to another replica of its store (heard of there in the last 2 minutes). */
  connected: boolean;
  /** Whether the hub may run experiments on it, and why not (null while it is not connected: unknown). */
  experiments: Manageability | null;
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
  /**
   * Per group, per variant pair. Each variant's `loss` (LossSummary) holds what it loses beyond the critical processes
   * over the window — top-K CPU and RSS coverage, CPU and RSS conservation, flapping and name switches per hour (each
   * the median host and the worst), counter resets — and each pair's `blindSpots` what neither variant shows; a figure
   * no host's agent reported is null (older agents), and the verdict then says nothing of it.
   */
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
  experiments: Manageability | null;
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

/** GET /api/v1/auth/methods (open): how the sign-in form may sign in. */
export interface AuthMethodsResponse {
  token: true;
  /** Single sign-on, when the hub has an OpenID provider configured: the button's text and where it goes. */
  oidc: { displayName: string; url: string } | null;
}

/** GET /api/v1/session: who the request is. POST /api/v1/session (a sign-in) answers the same for the new session. */
export interface SessionResponse {
  name: string;
  role: Role;
  /** How: an API token on each request (`bearer`), or a page session opened by `token`, `oidc` or `code`. */
  via: 'bearer' | SignInMethod;
  /** What the role allows, so the page shows only that. */
  permissions: Permission[];
  /** A session's CSRF token: sent back as the x-csrf-token header with every write. Null for a bearer token. */
  csrfToken: string | null;
  /** When it ends at the latest (a session's absolute expiry, a token's expiry), or null. */
  expiresAt: IsoTime | null;
  /** A session ends when unused this long (ms), or null. */
  idleTimeoutMs: number | null;
}

/** DELETE /api/v1/session */
export interface SignedOutResponse {
  signedOut: true;
}

/** A token as the API shows it: never its secret. */
export interface TokenInfo {
  name: string;
  role: Role;
  createdAt: IsoTime;
  createdBy: string;
  lastUsedAt: IsoTime | null;
  expiresAt: IsoTime | null;
}

/** GET /api/v1/tokens (admin) */
export interface TokenListResponse {
  tokens: TokenInfo[];
}

/** POST /api/v1/tokens (admin): the secret, shown this once. */
export interface TokenCreatedResponse {
  token: TokenInfo;
  secret: string;
}

/** DELETE /api/v1/tokens/:name (admin) */
export interface TokenRevokedResponse {
  revoked: string;
  sessionsEnded: number;
}

/** An audit entry, times as ISO strings. */
export interface AuditEntryInfo extends Omit<AuditEntry, 'at'> {
  at: IsoTime;
}

/** GET /api/v1/audit?limit=&before=&action= (admin): newest first; `next` is the `before` of the next page. */
export interface AuditResponse {
  entries: AuditEntryInfo[];
  next: number | null;
}

/** Every 200 body the API sends. */
export type ApiResponse =
  | FleetResponse
  | ComparisonResponse
  | FleetHistoryResponse
  | FleetBreakdownResponse
  | HostResponse
  | AuthMethodsResponse
  | SessionResponse
  | SignedOutResponse
  | TokenListResponse
  | TokenCreatedResponse
  | TokenRevokedResponse
  | AuditResponse
  | PipelineListResponse
  | PipelineResponse
  | PipelineDeletedResponse
  | ExperimentListResponse
  | ExperimentResponse;

/** What went wrong, for programs; `message` says it for people, naming the bad value. */
export type ErrorKind = HttpErrorKind | 'method_not_allowed' | 'internal';

/** The body of every API error (400, 401, 403, 404, 405, 409, 413, 415, 429, 500). */
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
