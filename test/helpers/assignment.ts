// Assignments for tests, a real hub that sends them, and a real in-process agent (real collectors) that runs them.
import type { Test } from 'tap';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../../agent/config/load.js';
import { startAgent, type RunningAgent } from '../../agent/agent.js';
import { templateSha256 } from '../../agent/pair-plan.js';
import { packageRoot } from '../../common/paths.js';
import { TokenSet } from '../../hub/auth.js';
import { startHub, type Hub, type HubOptions } from '../../hub/server.js';
import type { Assignment, AssignmentStatus } from '../../protocol/assignment.js';
import type { AgentReport } from '../../protocol/report.js';
import { writeTestConfig } from './agent-config.js';
import { realCollector } from './collector.js';
import { captureLogs } from './logs.js';
import { waitFor } from './process.js';

export const AGENT_TOKEN = 'assignment-test-token-0123456789';

export const builtinTemplate = (name: string) => readFileSync(path.join(packageRoot(), 'pipelines', `${name}.yaml`), 'utf8');

/** An assignment of two templates (by default the built-in baseline and optimized-b, under names of their own). */
export function makeAssignment(overrides: Partial<Assignment> & { templates?: [string, string]; names?: [string, string] } = {}): Assignment {
  const { templates = [builtinTemplate('baseline'), builtinTemplate('optimized-b')], names = ['exp-base', 'exp-cand'], ...rest } = overrides;
  return {
    experimentId: 'exp-1',
    revision: 1,
    endsAt: null,
    parameters: { collectionIntervalMs: 2000, metricExpirationMs: 30_000 },
    critical: { patterns: ['sshd', 'node'] },
    variants: [0, 1].map((i) => ({
      name: names[i]!,
      template: templates[i]!,
      sha256: templateSha256(templates[i]!),
      parameters: { cpuThreshold: 0.05, memoryThresholdBytes: 256 * 1024 * 1024 },
    })) as Assignment['variants'],
    ...rest,
  };
}

/** Every status the hub heard, and a wait for one. */
export function watchStatuses(hub: Hub): { all: AssignmentStatus[]; next: (pred: (s: AssignmentStatus) => boolean, what: string, ms?: number) => Promise<AssignmentStatus> } {
  const all: AssignmentStatus[] = [];
  hub.on('status', (_agentId, status) => all.push(status));
  return {
    all,
    next: async (pred, what, ms = 120_000) => {
      const from = all.length;
      let found: AssignmentStatus | undefined;
      await waitFor(what, () => (found = all.slice(from).find(pred)) !== undefined, ms, 50);
      return found!;
    },
  };
}

/** Hub options for tests that send an agent assignments by hand (the hub's engine runs none of them). */
export const HAND_DRIVEN: Partial<HubOptions> = { withdrawUnknownExperiments: false };

export async function startTestHub(t: Test, dataDir: string, options: Partial<HubOptions> = {}): Promise<Hub> {
  const hub = await startHub({ port: 0, dataDir, tokens: TokenSet.fromTokens([AGENT_TOKEN]), logger: captureLogs('warn').logger, ...options });
  t.teardown(() => hub.close());
  return hub;
}

export interface TestAgent {
  agent: RunningAgent;
  reports: AgentReport[];
  /** The next report made after now that `pred` accepts. */
  nextReport: (pred: (r: AgentReport) => boolean, what: string, ms?: number) => Promise<AgentReport>;
  pids: () => number[];
}

/** A real agent reporting to `hubUrl`; `file` is a config from writeTestConfig (reuse it to restart on the same state). */
export async function startTestAgent(t: Test, file: string, logLevel: 'debug' | 'info' | 'warn' = 'warn'): Promise<TestAgent> {
  const config = loadConfig(file, { env: { ...process.env, PHOENIX_HUB_TOKEN: AGENT_TOKEN } });
  const logs = captureLogs(logLevel);
  const agent = await startAgent(config, { logger: logs.logger, collectorBinary: realCollector() });
  t.teardown(() => agent.close());
  // On a failure, what the agent logged tells why.
  t.teardown(() => {
    if (!t.passing()) t.comment(`agent log (${logLevel} and above):\n${logs.lines.map((l) => JSON.stringify(l)).join('\n').slice(-20_000)}`);
  });
  const reports: AgentReport[] = [];
  agent.on('report', (r) => reports.push(r));
  return {
    agent,
    reports,
    nextReport: async (pred, what, ms = 120_000) => {
      const from = reports.length;
      let found: AgentReport | undefined;
      await waitFor(what, () => (found = reports.slice(from).find(pred)) !== undefined, ms, 50);
      return found!;
    },
    pids: () => agent.status().collectors.map((c) => c.pid).filter((p): p is number => p !== null).sort(),
  };
}

export async function agentConfigFor(t: Test, hub: Hub, extra: Record<string, unknown> = {}): Promise<{ file: string; stateDir: string }> {
  const { hub: hubExtra, ...rest } = extra as { hub?: Record<string, unknown> };
  return writeTestConfig(t, { interval: '2s', ...rest, hub: { url: hub.agentUrl, ...hubExtra } });
}

/** The hub's connection to the only agent connected, once it said hello. */
export async function onlyConnection(hub: Hub) {
  await waitFor('the agent connected', () => hub.connections.size === 1, 60_000, 50);
  return [...hub.connections.values()][0]!;
}
