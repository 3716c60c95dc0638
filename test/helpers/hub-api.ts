// Reads a running hub's JSON API over HTTP, as the page or a user with curl does, typed by the hub's own shapes.
import type { Role } from '../../hub/access/roles.js';
import type { ComparisonGroup, PairComparison } from '../../hub/compare.js';
import type { Hub } from '../../hub/server.js';
import type { AgentReport } from '../../protocol/report.js';

/** A hub's URL and an API token to read it with. */
export interface ApiTarget {
  url: string;
  token: string;
}

const made = new WeakMap<Hub, Map<Role, Promise<string>>>();

/**
 * An API token of `role` for an in-process hub (made once per hub and role, as an admin would with `token create`);
 * resolves once it is stored. Callers at once share the one making.
 */
export function apiToken(hub: Hub, role: Role = 'viewer'): Promise<string> {
  const mine = made.get(hub) ?? new Map<Role, Promise<string>>();
  made.set(hub, mine);
  let secret = mine.get(role);
  if (secret === undefined) {
    secret = hub.access.createToken({ name: 'test', role: 'admin', remote: 'local' }, { name: `test-${role}`, role }).then((m) => m.secret);
    mine.set(role, secret);
  }
  return secret;
}

/** An in-process hub as an API target, read with a viewer token. */
export async function apiTarget(hub: Hub): Promise<ApiTarget> {
  return { url: hub.url, token: await apiToken(hub) };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** GET `path` of the hub as JSON; null for a 404, and any other status but 200 is an error naming the URL and the hub's answer. */
export async function getJson<T>(hub: ApiTarget, path: string): Promise<T | null> {
  const url = `${hub.url}${path}`;
  const res = await fetch(url, { headers: { accept: 'application/json', ...bearer(hub.token) } });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The fleet-wide comparison's one pair (GET /api/v1/comparison), or null while no host has reported both variants. */
export async function onlyPair(hub: ApiTarget): Promise<PairComparison | null> {
  const body = await getJson<{ groups: ComparisonGroup[] }>(hub, '/api/v1/comparison');
  const pairs = (body?.groups ?? []).flatMap((g) => g.pairs);
  if (pairs.length > 1) throw new Error(`expected one compared pair, got ${pairs.map((p) => `${p.baseline}/${p.candidate}`).join(', ')}`);
  return pairs[0] ?? null;
}

/** The newest report the hub stored for `hostId` (GET /api/v1/hosts/:id), as the agent sent it; null before its first. */
export async function latestReport(hub: ApiTarget, hostId: string): Promise<AgentReport | null> {
  const body = await getJson<{ latest: { report: AgentReport } | null }>(hub, `/api/v1/hosts/${encodeURIComponent(hostId)}`);
  return body?.latest?.report ?? null;
}

/** A link that signs a browser into an in-process hub with `role` (a one-time code, as `npm start` prints). */
export function signInUrl(hub: Hub, role: Role = 'viewer', name = `tester-${role}`): string {
  return `${hub.url}/signin?code=${hub.access.codes.issue({ principal: name, role })}`;
}
