// What the API shows of an experiment: a summary for the list, and the whole of one (results, waves, hosts, events).
import type { AgentConnection } from '../agent-connection.js';
import type { ExperimentDetail, ExperimentEventView, ExperimentSummary, ExperimentWaveView } from '../http/experiment-types.js';
import type { Store } from '../store/types.js';
import type { StoredDefinition } from './assignment.js';
import type { ExperimentHostRecord, ExperimentRecord, HostState } from './experiment-store.js';
import { experimentResults } from './results.js';
import { waveSizes } from './rollout.js';
import type { ExperimentSpec } from './spec.js';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
/** How many events the detail shows (the newest); the API pages none yet. */
const MAX_EVENTS = 500;

/** The target as people write it: "kind=vm, env=prod, team in (a,b), 3 named hosts". */
export function describeTarget(target: ExperimentSpec['target']): string {
  const parts: string[] = [];
  if (target.kind) parts.push(`kind=${target.kind}`);
  for (const m of target.labels ?? []) {
    parts.push(m.op === '=' || m.op === '!=' ? `${m.name}${m.op}${m.values[0]}` : `${m.name} ${m.op} (${m.values.join(',')})`);
  }
  if (target.hosts && target.hosts.length > 0) parts.push(`${target.hosts.length} named host${target.hosts.length === 1 ? '' : 's'}`);
  return parts.join(', ') || 'every host';
}

/**
 * `runningVerdict` gives a running experiment's verdict so far (called only while it runs; an ended one's verdict is
 * in its outcome).
 */
export function experimentSummary(
  record: ExperimentRecord,
  hosts: readonly ExperimentHostRecord[],
  runningVerdict: () => ExperimentSummary['verdict'],
): ExperimentSummary {
  const spec = (JSON.parse(record.spec) as StoredDefinition).definition;
  const hostStates: Partial<Record<HostState, number>> = {};
  for (const h of hosts) hostStates[h.state] = (hostStates[h.state] ?? 0) + 1;
  const waves = new Set(hosts.map((h) => h.wave).filter((w): w is number => w !== null));
  const outcome = record.outcome ? (JSON.parse(record.outcome) as { verdict?: ExperimentSummary['verdict'] }) : null;
  const verdict = outcome?.verdict ?? (record.state === 'running' ? runningVerdict() : 'pending');
  const duration = spec.duration ?? null;
  return {
    id: record.id,
    name: record.name,
    state: record.state,
    verdict,
    target: describeTarget(spec.target),
    baseline: record.baseline,
    candidate: record.candidate,
    hosts: hosts.length,
    hostStates,
    waves: { started: waves.size, total: waveSizes(hosts.length, spec.rollout).length },
    createdBy: record.createdBy,
    createdAt: iso(record.createdAt)!,
    startedAt: iso(record.startedAt),
    endedAt: iso(record.endedAt),
    endsAt: record.startedAt === null || duration === null ? null : iso(record.startedAt + duration),
  };
}

export async function experimentDetail(
  record: ExperimentRecord,
  hosts: readonly ExperimentHostRecord[],
  store: Pick<Store, 'experiments'>,
  connections: ReadonlyMap<string, AgentConnection>,
): Promise<ExperimentDetail> {
  const stored = JSON.parse(record.spec) as StoredDefinition;
  const spec = stored.definition;
  const sizes = waveSizes(hosts.length, spec.rollout);
  const [figures, waveEvents, latest] = await Promise.all([
    store.experiments.figures(record.id),
    store.experiments.events(record.id, { kind: 'wave', limit: sizes.length }),
    store.experiments.latestEvents(record.id, MAX_EVENTS),
  ]);
  const waveStarts = new Map(
    waveEvents.map((e) => [(JSON.parse(e.detail) as { wave: number }).wave, e.at]),
  );
  const waveList: ExperimentWaveView[] = sizes.map((size, wave) => {
    const agents = new Set(hosts.filter((h) => h.wave === wave).map((h) => h.agentId));
    const started = waveStarts.get(wave) ?? null;
    return { wave, size, startedAt: iso(started), results: started === null ? null : experimentResults(figures.filter((f) => agents.has(f.agentId)), spec) };
  });
  const results = experimentResults(figures, spec);
  const summary = experimentSummary(record, hosts, () => results.verdict);
  const outcome = record.outcome ? (JSON.parse(record.outcome) as Record<string, unknown>) : null;
  const eventViews: ExperimentEventView[] = latest.map((e) => ({
    id: e.id,
    at: iso(e.at)!,
    kind: e.kind,
    hostId: e.hostId,
    actor: e.actor,
    detail: JSON.parse(e.detail) as Record<string, unknown>,
  }));
  const passed =
    record.state === 'completed' && outcome?.verdict === 'passed'
      ? {
          pipeline: stored.templates.candidate.pipeline,
          sha256: stored.templates.candidate.sha256,
          content: stored.templates.candidate.content,
          parameters: { ...spec.parameters, ...spec.candidate.parameters, criticalPatterns: spec.critical.patterns },
        }
      : null;
  return {
    ...summary,
    description: record.description,
    definition: JSON.parse(JSON.stringify(spec)) as Record<string, unknown>,
    results,
    waves: { ...summary.waves, list: waveList },
    hostList: hosts.map((h) => ({
      hostId: h.hostId,
      agentId: h.agentId,
      wave: h.wave,
      state: h.state,
      message: h.message,
      updatedAt: iso(h.updatedAt)!,
      healthySince: iso(h.healthySince),
      connected: connections.has(h.agentId),
    })),
    events: eventViews,
    outcome,
    passed,
  };
}
