// The hub's JSON API: /api/v1/fleet, /api/v1/comparison, /api/v1/hosts/:id.
import type { Hub } from '../server.js';
import { compareFleet } from '../compare.js';
import { BadRequest, groupByParam, onlyParams, windowParam } from './query.js';

export function fleet(hub: Hub, url: URL): unknown {
  onlyParams(url, []);
  const hosts = hub.store.agents().map((agent) => {
    const last = hub.fleetView.get(agent.agentId);
    return {
      hostId: agent.hostId,
      agentId: agent.agentId,
      kind: agent.hostKind,
      labels: agent.labels,
      agentVersion: agent.agentVersion,
      connected: hub.connections.has(agent.agentId),
      lastSeen: new Date(agent.lastSeen).toISOString(),
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

export function comparison(hub: Hub, url: URL, now = Date.now()): unknown {
  onlyParams(url, ['window', 'groupBy']);
  const windowMs = windowParam(url);
  const groupBy = groupByParam(url);
  const from = now - windowMs;
  return {
    window: url.searchParams.get('window') ?? '1h',
    from: new Date(from).toISOString(),
    to: new Date(now).toISOString(),
    groupBy: url.searchParams.get('groupBy') ?? 'none',
    groups: compareFleet(hub.store.variantPoints(from, now + 1), groupBy),
  };
}

export function fleetHistory(hub: Hub, url: URL, now = Date.now()): unknown {
  onlyParams(url, ['window']);
  const windowMs = windowParam(url);
  return { from: new Date(now - windowMs).toISOString(), to: new Date(now).toISOString(), points: hub.store.fleetHistory(now - windowMs, now + 1) };
}

export function host(hub: Hub, url: URL, hostId: string, now = Date.now()): unknown | null {
  onlyParams(url, ['window']);
  const windowMs = windowParam(url, '24h');
  if (hostId.length === 0 || hostId.length > 253) throw new BadRequest(`host id must be 1-253 characters, got ${hostId.length} ('${hostId.slice(0, 40)}…')`);
  const agents = hub.store.agents().filter((a) => a.hostId === hostId);
  if (agents.length === 0) return null;
  const latest = agents.map((a) => hub.store.latest(a.agentId)).filter((l) => l !== null).sort((x, y) => y.receivedAt - x.receivedAt)[0];
  return {
    hostId,
    agents: agents.map((a) => ({ ...a, connected: hub.connections.has(a.agentId), firstSeen: new Date(a.firstSeen).toISOString(), lastSeen: new Date(a.lastSeen).toISOString() })),
    latest: latest ? { seq: latest.seq, receivedAt: new Date(latest.receivedAt).toISOString(), report: latest.report } : null,
    history: hub.store.history(hostId, now - windowMs, now + 1),
  };
}
