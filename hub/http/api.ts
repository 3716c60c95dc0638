// The hub's JSON API: /api/v1/fleet, /api/v1/comparison, /api/v1/fleet/history, /api/v1/hosts/:id.
// Each handler returns its response type from ./types.ts, so a changed shape fails the build here and in the page.
import type { Hub } from '../server.js';
import { breakdownFleet, latestVariantsOf, type FleetBreakdownResponse } from '../fleet-breakdown.js';
import { BadRequestError, NotFoundError } from '../errors.js';
import { groupByParam, onlyParams, windowParam } from './query.js';
import type { ComparisonResponse, FleetHistoryResponse, FleetHost, FleetResponse, HostAgent, HostResponse, Manageability } from './types.js';

const iso = (ms: number) => new Date(ms).toISOString();

/** How recently an agent must have been heard of to count as connected to another replica of a shared store. */
export const ELSEWHERE_CONNECTED_MS = 120_000;

/**
 * Connected to this hub, or (replicas on one store, which each see only their own sockets) heard of by another one
 * within ELSEWHERE_CONNECTED_MS: its hello or a report stored there.
 */
function connected(hub: Hub, agent: { agentId: string; lastSeen: number }): boolean {
  return hub.connections.has(agent.agentId) || (hub.store.peers.shared && Date.now() - agent.lastSeen < ELSEWHERE_CONNECTED_MS);
}

/** Whether the agent's connection takes experiments (null: not connected, or no hello yet). */
function manageability(hub: Hub, agentId: string): Manageability | null {
  const connection = hub.connections.get(agentId);
  return connection?.hello ? { manageable: connection.manageable, reason: connection.unmanageableReason } : null;
}

export async function fleet(hub: Hub, url: URL): Promise<FleetResponse> {
  onlyParams(url, []);
  const [agents, summaries] = await Promise.all([hub.store.agents(), hub.fleetView.summaries()]);
  const hosts = agents.map((agent): FleetHost => {
    const last = summaries.get(agent.agentId);
    return {
      hostId: agent.hostId,
      agentId: agent.agentId,
      kind: agent.hostKind,
      labels: agent.labels,
      agentVersion: agent.agentVersion,
      connected: connected(hub, agent),
      experiments: manageability(hub, agent.agentId),
      lastSeen: iso(agent.lastSeen),
      lastSeq: agent.lastSeq,
      processCount: last?.processCount ?? null,
      criticalRunning: last?.criticalRunning ?? [],
      variants: last?.variants ?? [],
      cardinalityReduction: last?.cardinalityReduction ?? null,
    };
  });
  return {
    generatedAt: new Date().toISOString(),
    totals: {
      hosts: hosts.length,
      connected: hosts.filter((h) => h.connected).length,
      vm: hosts.filter((h) => h.kind === 'vm').length,
      k8sNode: hosts.filter((h) => h.kind === 'k8s-node').length,
      withLosses: hosts.filter((h) => h.variants.some((v) => v.criticalMissing.length > 0)).length,
    },
    hosts,
  };
}

export async function comparison(hub: Hub, url: URL, now = Date.now()): Promise<ComparisonResponse> {
  onlyParams(url, ['window', 'groupBy']);
  const windowMs = windowParam(url);
  const groupBy = groupByParam(url);
  const from = now - windowMs;
  return {
    window: url.searchParams.get('window') ?? '1h',
    from: iso(from),
    to: iso(now),
    groupBy: url.searchParams.get('groupBy') ?? 'none',
    groups: await hub.store.comparison(from, now + 1, groupBy),
  };
}

/** Per group and variant, the hosts' latest reports summed per metric and per pipeline stage. */
export async function fleetBreakdown(hub: Hub, url: URL): Promise<FleetBreakdownResponse> {
  onlyParams(url, ['groupBy']);
  const groupBy = groupByParam(url);
  return {
    generatedAt: new Date().toISOString(),
    groupBy: url.searchParams.get('groupBy') ?? 'none',
    groups: breakdownFleet(await latestVariantsOf(hub.store).hosts(), groupBy),
  };
}

export async function fleetHistory(hub: Hub, url: URL, now = Date.now()): Promise<FleetHistoryResponse> {
  onlyParams(url, ['window']);
  const windowMs = windowParam(url);
  return { from: iso(now - windowMs), to: iso(now), points: await hub.store.fleetHistory(now - windowMs, now + 1) };
}

/** Throws NotFoundError for a host no agent has reported for. */
export async function host(hub: Hub, url: URL, hostId: string, now = Date.now()): Promise<HostResponse> {
  onlyParams(url, ['window']);
  const windowMs = windowParam(url, '24h');
  if (hostId.length === 0 || hostId.length > 253) throw new BadRequestError(`host id must be 1-253 characters, got ${hostId.length} ('${hostId.slice(0, 40)}…')`);
  const agents = (await hub.store.agents()).filter((a) => a.hostId === hostId);
  if (agents.length === 0) throw new NotFoundError(`no host '${hostId.slice(0, 100)}' has reported`);
  const [latests, history] = await Promise.all([Promise.all(agents.map((a) => hub.store.latest(a.agentId))), hub.store.history(hostId, now - windowMs, now + 1)]);
  const latest = latests.filter((l) => l !== null).sort((x, y) => y.receivedAt - x.receivedAt)[0];
  return {
    hostId,
    agents: agents.map((a): HostAgent => ({ ...a, connected: connected(hub, a), experiments: manageability(hub, a.agentId), firstSeen: iso(a.firstSeen), lastSeen: iso(a.lastSeen) })),
    latest: latest ? { seq: latest.seq, receivedAt: iso(latest.receivedAt), report: latest.report } : null,
    history,
  };
}
