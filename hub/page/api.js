// The page's calls to the hub's API: the one place its answers are taken to be what hub/http/types.ts (and
// experiment-types.ts) say. Writes
// carry the session's CSRF token; a 401 on a call made signed in means the session ended, and is told to the page.
// @ts-check

/**
 * @typedef {import('../http/types.js').FleetResponse} FleetResponse
 * @typedef {import('../http/types.js').ComparisonResponse} ComparisonResponse
 * @typedef {import('../http/types.js').FleetHistoryResponse} FleetHistoryResponse
 * @typedef {import('../http/types.js').FleetBreakdownResponse} FleetBreakdownResponse
 * @typedef {import('../http/types.js').HostResponse} HostResponse
 * @typedef {import('../http/types.js').AuthMethodsResponse} AuthMethodsResponse
 * @typedef {import('../http/types.js').SessionResponse} SessionResponse
 * @typedef {import('../http/types.js').SignedOutResponse} SignedOutResponse
 * @typedef {import('../http/types.js').TokenListResponse} TokenListResponse
 * @typedef {import('../http/types.js').TokenCreatedResponse} TokenCreatedResponse
 * @typedef {import('../http/types.js').TokenRevokedResponse} TokenRevokedResponse
 * @typedef {import('../http/types.js').AuditResponse} AuditResponse
 * @typedef {import('../http/types.js').ErrorResponse} ErrorResponse
 * @typedef {import('../http/experiment-types.js').PipelineListResponse} PipelineListResponse
 * @typedef {import('../http/experiment-types.js').PipelineResponse} PipelineResponse
 * @typedef {import('../http/experiment-types.js').PipelineDeletedResponse} PipelineDeletedResponse
 * @typedef {import('../http/experiment-types.js').ExperimentListResponse} ExperimentListResponse
 * @typedef {import('../http/experiment-types.js').ExperimentResponse} ExperimentResponse
 * @typedef {import('../access/roles.js').Role} Role
 */

/** An answer other than 2xx: its status and the hub's message. */
export class ApiError extends Error {
  /** @param {number} status @param {string} message */
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

/** The session's CSRF token (null signed out), sent as x-csrf-token with every write. @type {string | null} */
let csrfToken = null;
/** Told when a call made signed in answers 401. */
let sessionEnded = () => {};

/**
 * @param {'GET' | 'POST' | 'DELETE'} method
 * @param {string} path
 * @param {unknown} [body] sent as JSON
 * @returns {Promise<unknown>}
 */
async function call(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = { accept: 'application/json' };
  if (method !== 'GET' && csrfToken !== null) headers['x-csrf-token'] = csrfToken;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const answer = /** @type {unknown} */ (await res.json().catch(() => null));
  if (!res.ok) throw new ApiError(res.status, /** @type {ErrorResponse | null} */ (answer)?.message || `HTTP ${res.status}`);
  return answer;
}

/** A call made signed in: its 401 says the session ended (signed out elsewhere, revoked, expired). @type {typeof call} */
async function signedIn(method, path, body) {
  try {
    return await call(method, path, body);
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) sessionEnded();
    throw error;
  }
}

const q = encodeURIComponent;

export const api = {
  /** @param {() => void} listener called for each 401 of a call made signed in */
  onSessionEnded: (listener) => void (sessionEnded = listener),
  /** @param {SessionResponse | null} session the one signed in, whose CSRF token writes send; null when signed out */
  useSession: (session) => void (csrfToken = session?.csrfToken ?? null),

  /** @returns {Promise<AuthMethodsResponse>} */
  methods: () => /** @type {Promise<AuthMethodsResponse>} */ (call('GET', '/api/v1/auth/methods')),
  /** Who is signed in, or null when no one is. @returns {Promise<SessionResponse | null>} */
  session: () =>
    /** @type {Promise<SessionResponse>} */ (call('GET', '/api/v1/session')).catch((error) => {
      if (error instanceof ApiError && error.status === 401) return null;
      throw error;
    }),
  /** @param {string} token @returns {Promise<SessionResponse>} */
  signIn: (token) => /** @type {Promise<SessionResponse>} */ (call('POST', '/api/v1/session', { token })),
  /** @returns {Promise<SignedOutResponse>} */
  signOut: () => /** @type {Promise<SignedOutResponse>} */ (signedIn('DELETE', '/api/v1/session')),

  /** @returns {Promise<FleetResponse>} */
  fleet: () => /** @type {Promise<FleetResponse>} */ (signedIn('GET', '/api/v1/fleet')),
  /** @param {string} window @param {string} groupBy @returns {Promise<ComparisonResponse>} */
  comparison: (window, groupBy) => /** @type {Promise<ComparisonResponse>} */ (signedIn('GET', `/api/v1/comparison?window=${q(window)}&groupBy=${q(groupBy)}`)),
  /** @param {string} window @returns {Promise<FleetHistoryResponse>} */
  fleetHistory: (window) => /** @type {Promise<FleetHistoryResponse>} */ (signedIn('GET', `/api/v1/fleet/history?window=${q(window)}`)),
  /** Per group and variant, the hosts' latest reports per metric and per stage. @param {string} groupBy @returns {Promise<FleetBreakdownResponse>} */
  fleetBreakdown: (groupBy) => /** @type {Promise<FleetBreakdownResponse>} */ (signedIn('GET', `/api/v1/fleet/breakdown?groupBy=${q(groupBy)}`)),
  /** @param {string} hostId @param {string} window @returns {Promise<HostResponse>} */
  host: (hostId, window) => /** @type {Promise<HostResponse>} */ (signedIn('GET', `/api/v1/hosts/${q(hostId)}?window=${q(window)}`)),

  /** @returns {Promise<TokenListResponse>} */
  tokens: () => /** @type {Promise<TokenListResponse>} */ (signedIn('GET', '/api/v1/tokens')),
  /** @param {{ name: string, role: Role, expires?: string }} request @returns {Promise<TokenCreatedResponse>} */
  createToken: (request) => /** @type {Promise<TokenCreatedResponse>} */ (signedIn('POST', '/api/v1/tokens', request)),
  /** @param {string} name @returns {Promise<TokenRevokedResponse>} */
  revokeToken: (name) => /** @type {Promise<TokenRevokedResponse>} */ (signedIn('DELETE', `/api/v1/tokens/${q(name)}`)),
  /** Newest first; `before` is the previous page's `next`. @param {number | null} before @returns {Promise<AuditResponse>} */
  audit: (before) => /** @type {Promise<AuditResponse>} */ (signedIn('GET', `/api/v1/audit?limit=50${before === null ? '' : `&before=${before}`}`)),

  /** @returns {Promise<PipelineListResponse>} */
  pipelines: () => /** @type {Promise<PipelineListResponse>} */ (signedIn('GET', '/api/v1/pipelines')),
  /** One template's newest version, or the version `sha256`. @param {string} name @param {string} [sha256] @returns {Promise<PipelineResponse>} */
  pipeline: (name, sha256) => /** @type {Promise<PipelineResponse>} */ (signedIn('GET', `/api/v1/pipelines/${q(name)}${sha256 ? `?sha256=${q(sha256)}` : ''}`)),
  /** @param {{ name: string, content: string, description?: string }} upload @returns {Promise<PipelineResponse>} */
  uploadPipeline: (upload) => /** @type {Promise<PipelineResponse>} */ (signedIn('POST', '/api/v1/pipelines', upload)),
  /** Every version, or the version `sha256`. @param {string} name @param {string} [sha256] @returns {Promise<PipelineDeletedResponse>} */
  deletePipeline: (name, sha256) => /** @type {Promise<PipelineDeletedResponse>} */ (signedIn('DELETE', `/api/v1/pipelines/${q(name)}${sha256 ? `?sha256=${q(sha256)}` : ''}`)),

  /** @returns {Promise<ExperimentListResponse>} */
  experiments: () => /** @type {Promise<ExperimentListResponse>} */ (signedIn('GET', '/api/v1/experiments')),
  /** @param {string} id @returns {Promise<ExperimentResponse>} */
  experiment: (id) => /** @type {Promise<ExperimentResponse>} */ (signedIn('GET', `/api/v1/experiments/${q(id)}`)),
  /** The definition as YAML or JSON text, or as an object; `start`: run it at once, else keep it a draft. @param {string | Record<string, unknown>} definition @param {boolean} start @returns {Promise<ExperimentResponse>} */
  createExperiment: (definition, start) => /** @type {Promise<ExperimentResponse>} */ (signedIn('POST', '/api/v1/experiments', { definition, start })),
  /** @param {string} id @returns {Promise<ExperimentResponse>} */
  startExperiment: (id) => /** @type {Promise<ExperimentResponse>} */ (signedIn('POST', `/api/v1/experiments/${q(id)}/start`, {})),
  /** @param {string} id @returns {Promise<ExperimentResponse>} */
  stopExperiment: (id) => /** @type {Promise<ExperimentResponse>} */ (signedIn('POST', `/api/v1/experiments/${q(id)}/stop`, {})),
};
