// GET /api/v1/fleet/breakdown: per group and variant, what every host's latest report says per metric (series by
// metric name) and per pipeline stage (the collector's own counters: points accepted, each processor's in and out,
// points sent), summed over the hosts, with how many hosts each sum covers (issue 15, point 5).
// `breakdownFleet` is the pure aggregation; `LatestVariants` keeps what it reads of each agent's latest report, so a
// request parses only the reports stored since the one before (the fleet endpoint's FleetView does the same).
import type { GroupBy } from './compare.js';
import type { AgentReport, PipelineTelemetry } from '../protocol/report.js';
import type { AgentRecord, Store } from './store/types.js';

/** What the breakdown reads of one variant of a host's latest report. */
export interface BreakdownVariantInput {
  name: string;
  seriesByMetric: Record<string, number>;
  telemetry: PipelineTelemetry | null;
}

/** One host (one agent) with its latest report's two variants, A (baseline side) first. */
export interface BreakdownHost {
  agentId: string;
  hostId: string;
  kind: AgentRecord['hostKind'];
  labels: Record<string, string>;
  variants: BreakdownVariantInput[];
}

/** A sum over the hosts that reported the figure. */
export interface StageSum {
  points: number;
  hosts: number;
}

/** One processor's counters summed over the hosts whose variant runs it. */
export interface ProcessorSum {
  processor: string;
  incoming: number;
  outgoing: number;
  hosts: number;
}

/** One variant on one side of the pairs in a group. */
export interface VariantBreakdown {
  /** 0: the A (baseline) side of the hosts' pairs, 1: the B (candidate) side; a name run on both sides is two entries. */
  side: 0 | 1;
  variant: string;
  /** Hosts whose latest report ran it on this side. */
  hosts: number;
  /** Series per metric name summed over those hosts, by name. */
  seriesByMetric: Record<string, number>;
  /** The sum of every metric's series (the variant's series over the group). */
  totalSeries: number;
  /** Hosts whose report carried the collector's own telemetry (null from a collector whose telemetry was unreadable). */
  telemetryHosts: number;
  /** Points the receiver accepted, and the exporter sent, since each collector started; null when no host knew it. */
  acceptedPoints: StageSum | null;
  sentPoints: StageSum | null;
  /** Each processor's items in and out, in pipeline order (as the first host to run it lists it). */
  processors: ProcessorSum[];
}

export interface BreakdownGroup {
  /** "all", a host kind, or "label=value" ("label=(none)" for hosts without it), as the comparison names them. */
  key: string;
  /** Hosts with a latest report in the group. */
  hosts: number;
  /** Side A first, then B; by name within a side. */
  variants: VariantBreakdown[];
}

/** GET /api/v1/fleet/breakdown?groupBy= */
export interface FleetBreakdownResponse {
  generatedAt: string;
  /** 'none', 'kind' or 'label:NAME', as asked for. */
  groupBy: string;
  groups: BreakdownGroup[];
}

function groupKey(host: BreakdownHost, groupBy: GroupBy): string {
  if (groupBy.kind === 'none') return 'all';
  if (groupBy.kind === 'kind') return host.kind;
  // hasOwn: a label named like an Object.prototype member is only there when the agent sent it.
  return `${groupBy.name}=${Object.hasOwn(host.labels, groupBy.name) ? host.labels[groupBy.name] : '(none)'}`;
}

/** A variant's running sums; metric names in a Map (a name like __proto__ is a metric like any other). */
interface Sums {
  side: 0 | 1;
  variant: string;
  hosts: number;
  metrics: Map<string, number>;
  telemetryHosts: number;
  accepted: StageSum | null;
  sent: StageSum | null;
  processors: Map<string, ProcessorSum>;
}

const addStage = (sum: StageSum | null, points: number | null): StageSum | null =>
  points === null ? sum : { points: (sum?.points ?? 0) + points, hosts: (sum?.hosts ?? 0) + 1 };

function add(sums: Sums, variant: BreakdownVariantInput): void {
  sums.hosts += 1;
  for (const [metric, series] of Object.entries(variant.seriesByMetric)) sums.metrics.set(metric, (sums.metrics.get(metric) ?? 0) + series);
  const telemetry = variant.telemetry;
  if (!telemetry) return;
  sums.telemetryHosts += 1;
  sums.accepted = addStage(sums.accepted, telemetry.acceptedPoints);
  sums.sent = addStage(sums.sent, telemetry.sentPoints);
  for (const p of telemetry.processors) {
    const sum = sums.processors.get(p.processor);
    if (sum) {
      sum.incoming += p.incoming;
      sum.outgoing += p.outgoing;
      sum.hosts += 1;
    } else {
      sums.processors.set(p.processor, { processor: p.processor, incoming: p.incoming, outgoing: p.outgoing, hosts: 1 });
    }
  }
}

const byCodeUnits = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0);

function finish(sums: Sums): VariantBreakdown {
  const metrics = [...sums.metrics].sort(([x], [y]) => byCodeUnits(x, y));
  return {
    side: sums.side,
    variant: sums.variant,
    hosts: sums.hosts,
    seriesByMetric: Object.fromEntries(metrics),
    totalSeries: metrics.reduce((total, [, n]) => total + n, 0),
    telemetryHosts: sums.telemetryHosts,
    acceptedPoints: sums.accepted,
    sentPoints: sums.sent,
    processors: [...sums.processors.values()],
  };
}

/** Per group (sorted by key) and per side and variant, the hosts' latest reports summed. */
export function breakdownFleet(hosts: readonly BreakdownHost[], groupBy: GroupBy): BreakdownGroup[] {
  const groups = new Map<string, { hosts: number; variants: Map<string, Sums> }>();
  for (const host of hosts) {
    const key = groupKey(host, groupBy);
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { hosts: 0, variants: new Map() }));
    group.hosts += 1;
    host.variants.forEach((variant, index) => {
      const side = index === 0 ? 0 : 1;
      const id = `${side}\u0000${variant.name}`;
      let sums = group.variants.get(id);
      if (!sums) {
        sums = { side, variant: variant.name, hosts: 0, metrics: new Map(), telemetryHosts: 0, accepted: null, sent: null, processors: new Map() };
        group.variants.set(id, sums);
      }
      add(sums, variant);
    });
  }
  return [...groups]
    .sort(([x], [y]) => byCodeUnits(x, y))
    .map(([key, group]) => ({
      key,
      hosts: group.hosts,
      variants: [...group.variants.values()].sort((x, y) => x.side - y.side || byCodeUnits(x.variant, y.variant)).map(finish),
    }));
}

/** What the breakdown keeps of a report: its variants' metrics and telemetry, nothing else. */
export function breakdownVariants(report: AgentReport): BreakdownVariantInput[] {
  return report.variants.map((v) => ({ name: v.name, seriesByMetric: v.seriesByMetric, telemetry: v.telemetry }));
}

/**
 * Each agent's latest report as the breakdown reads it, kept between requests: an agent whose stream and sequence are
 * as they were is not read again; the first request, and one that finds many agents moved on, reads every agent's at
 * once. Calling rules: one per store.
 */
export class LatestVariants {
  readonly #store: Store;
  /** Per agent: the mark (stream and sequence) it was read at, and its latest report's variants (null: it has none). */
  readonly #kept = new Map<string, { mark: string; variants: BreakdownVariantInput[] | null }>();
  #loaded = false;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Every agent that has a stored report, with its latest report's variants. */
  async hosts(): Promise<BreakdownHost[]> {
    // The agents first: a report stored between the two reads leaves an older mark, which is read again next time.
    const agents = await this.#store.agents();
    const mark = (a: AgentRecord) => `${a.streamId}\u0000${a.lastSeq}`;
    const moved = agents.filter((a) => this.#kept.get(a.agentId)?.mark !== mark(a));
    if (!this.#loaded || moved.length > MOVED_FOR_ONE_READ) {
      const all = new Map((await this.#store.latestAll()).map((l) => [l.agentId, l]));
      for (const a of agents) {
        const latest = all.get(a.agentId);
        this.#kept.set(a.agentId, { mark: mark(a), variants: latest ? breakdownVariants(latest.report) : null });
      }
      this.#loaded = true;
    } else {
      const latests = await Promise.all(moved.map((a) => this.#store.latest(a.agentId)));
      moved.forEach((a, i) => {
        const latest = latests[i];
        this.#kept.set(a.agentId, { mark: mark(a), variants: latest ? breakdownVariants(latest.report) : null });
      });
    }
    const hosts: BreakdownHost[] = [];
    for (const agent of agents) {
      const variants = this.#kept.get(agent.agentId)?.variants;
      if (variants) hosts.push({ agentId: agent.agentId, hostId: agent.hostId, kind: agent.hostKind, labels: agent.labels, variants });
    }
    return hosts;
  }
}

/** More agents than this moved on since the last request: one read of every latest report, not one read each. */
const MOVED_FOR_ONE_READ = 64;

const kept = new WeakMap<Store, LatestVariants>();

/** The store's LatestVariants, made at its first use. */
export function latestVariantsOf(store: Store): LatestVariants {
  let latest = kept.get(store);
  if (!latest) kept.set(store, (latest = new LatestVariants(store)));
  return latest;
}
