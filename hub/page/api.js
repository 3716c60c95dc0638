// The page's reads of the hub's API: the one place its answers are taken to be what hub/http/types.ts says.
// @ts-check

/**
 * @typedef {import('../http/types.js').FleetResponse} FleetResponse
 * @typedef {import('../http/types.js').ComparisonResponse} ComparisonResponse
 * @typedef {import('../http/types.js').FleetHistoryResponse} FleetHistoryResponse
 * @typedef {import('../http/types.js').HostResponse} HostResponse
 * @typedef {import('../http/types.js').ErrorResponse} ErrorResponse
 */

/**
 * The one place the hub's answers are taken to be what hub/http/types.ts says; everything after is checked.
 * @param {string} path
 * @returns {Promise<unknown>}
 */
async function getJson(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  const body = await res.json();
  if (!res.ok) throw new Error(/** @type {ErrorResponse} */ (body).message || `HTTP ${res.status}`);
  return body;
}

export const api = {
  /** @returns {Promise<FleetResponse>} */
  fleet: () => /** @type {Promise<FleetResponse>} */ (getJson('/api/v1/fleet')),
  /** @param {string} window @param {string} groupBy @returns {Promise<ComparisonResponse>} */
  comparison: (window, groupBy) =>
    /** @type {Promise<ComparisonResponse>} */ (getJson(`/api/v1/comparison?window=${encodeURIComponent(window)}&groupBy=${encodeURIComponent(groupBy)}`)),
  /** @param {string} window @returns {Promise<FleetHistoryResponse>} */
  fleetHistory: (window) => /** @type {Promise<FleetHistoryResponse>} */ (getJson(`/api/v1/fleet/history?window=${encodeURIComponent(window)}`)),
  /** @param {string} hostId @param {string} window @returns {Promise<HostResponse>} */
  host: (hostId, window) => /** @type {Promise<HostResponse>} */ (getJson(`/api/v1/hosts/${encodeURIComponent(hostId)}?window=${encodeURIComponent(window)}`)),
};
