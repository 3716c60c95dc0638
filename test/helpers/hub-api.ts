// Reads a running hub's JSON API over HTTP, as the page or a user with curl does, typed by the hub's own shapes.
import type { ComparisonGroup, PairComparison } from '../../hub/compare.js';
import type { AgentReport } from '../../protocol/report.js';

/** GET `url` as JSON; null for a 404, and any other status but 200 is an error naming the URL and the hub's answer. */
export async function getJson<T>(url: string): Promise<T | null> {
  const res = await fetch(url, { headers: { accept: 'application/json' } });
  if (res.status === 404) return null;
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** The fleet-wide comparison's one pair (GET /api/v1/comparison), or null while no host has reported both variants. */
export async function onlyPair(hubUrl: string): Promise<PairComparison | null> {
  const body = await getJson<{ groups: ComparisonGroup[] }>(`${hubUrl}/api/v1/comparison`);
  const pairs = (body?.groups ?? []).flatMap((g) => g.pairs);
  if (pairs.length > 1) throw new Error(`expected one compared pair, got ${pairs.map((p) => `${p.baseline}/${p.candidate}`).join(', ')}`);
  return pairs[0] ?? null;
}

/** The newest report the hub stored for `hostId` (GET /api/v1/hosts/:id), as the agent sent it; null before its first. */
export async function latestReport(hubUrl: string, hostId: string): Promise<AgentReport | null> {
  const body = await getJson<{ latest: { report: AgentReport } | null }>(`${hubUrl}/api/v1/hosts/${encodeURIComponent(hostId)}`);
  return body?.latest?.report ?? null;
}
