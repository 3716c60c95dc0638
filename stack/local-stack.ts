// The main job on one machine: a hub with its embedded store plus one local agent comparing two variants here.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { startAgent, type RunningAgent } from '../agent/agent.js';
import { closeAll } from '../common/close-all.js';
import { locateCollector } from '../agent/collector/locate.js';
import { resolveConfig } from '../agent/config/load.js';
import type { Logger } from '../common/logger.js';
import { parseTokens, TokenSet } from '../hub/auth.js';
import { hubRoutes } from '../hub/http/routes.js';
import { startHub, type Hub } from '../hub/server.js';

/** The built-in variants the local agent may compare against the baseline. */
export const LOCAL_CANDIDATES = ['optimized-a', 'optimized-b', 'optimized-c'] as const;
export type LocalCandidate = (typeof LOCAL_CANDIDATES)[number];

export interface LocalStackOptions {
  dataDir: string;
  port: number;
  host?: string;
  logger: Logger;
  stdout: Writable;
  env: NodeJS.ProcessEnv;
  shutdown: AbortSignal;
  /** Variant B (A is the baseline). */
  candidate?: LocalCandidate;
  interval?: string;
  onStarted?: (hub: Hub) => void;
}

/** A token file in the data dir, made once (0600), so the local agent can authenticate. */
function ensureToken(dataDir: string): { file: string; token: string } {
  const file = path.join(dataDir, 'tokens');
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `# phoenix-hub agent tokens, one per line\n${randomBytes(24).toString('base64url')}\n`, { mode: 0o600 });
  }
  return { file, token: parseTokens(readFileSync(file, 'utf8'), file)[0]! };
}

/**
 * Runs until `shutdown` aborts; returns the exit code. The agent runs in this process (startAgent), and its
 * collectors are stopped before the hub and before this returns.
 */
export async function runLocalStack(options: LocalStackOptions): Promise<number> {
  const { file: tokenFile } = ensureToken(options.dataDir);
  const hub = await startHub({
    port: options.port,
    host: options.host ?? '127.0.0.1',
    dataDir: options.dataDir,
    tokens: TokenSet.fromFile(tokenFile),
    logger: options.logger,
    routes: hubRoutes,
  });
  let agent: RunningAgent | null = null;
  try {
    const agentDir = path.join(options.dataDir, 'local-agent');
    mkdirSync(agentDir, { recursive: true });
    const config = resolveConfig(
      {
        host: { labels: { source: 'local' } },
        interval: options.interval ?? '15s',
        ports: { base: 0 },
        experiment: { variants: ['baseline', options.candidate ?? 'optimized-a'] },
        stateDir: path.join(agentDir, 'state'),
        hub: { url: hub.agentUrl, tokenFile },
      },
      'the local stack',
      agentDir,
      { env: options.env },
    );
    const collector = locateCollector({ env: options.env });
    agent = await startAgent(config, { logger: options.logger, collectorBinary: collector.path });
    // The local user signs in by opening the link: a one-time code, used up on first use, valid 10 minutes.
    const code = hub.access.codes.issue({ principal: 'local', role: 'admin' });
    options.stdout.write(
      `\nPhoenix is running. Open ${hub.url}/signin?code=${code}\n` +
        `(that link signs you in once, within 10 minutes; Ctrl-C stops the hub, the agent and its collectors)\n\n`,
    );
    options.onStarted?.(hub);
    if (!options.shutdown.aborted) await new Promise((resolve) => options.shutdown.addEventListener('abort', resolve, { once: true }));
    return 0;
  } finally {
    // The agent (its collectors, its hub connection) first, then the hub; each tried whatever the other does.
    await closeAll('local stack', [agent && { name: 'agent', close: () => agent!.close() }, { name: 'hub', close: () => hub.close() }]);
  }
}
