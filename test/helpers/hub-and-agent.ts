// A real hub (embedded store, API and page) and a real agent reporting to it (in-process, real collectors); both
// stopped in teardown, the agent first.
import type { Test } from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { main as agentMain } from '../../agent/cli.js';
import { silentLogger } from '../../common/logger.js';
import { TokenSet } from '../../hub/auth.js';
import { hubRoutes } from '../../hub/http/routes.js';
import { startHub, type Hub } from '../../hub/server.js';
import { writeTestConfig } from './agent-config.js';
import { realCollector } from './collector.js';

const TOKEN = 'hub-and-agent-token-0123456789';

/** `config` is the agent's (over writeTestConfig's defaults); its `hub` section is filled in. `agentStderr()` is what `run` printed. */
export async function startHubAndAgent(t: Test, config: Record<string, unknown>): Promise<{ hub: Hub; agentStderr: () => string }> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'phx-hub-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const hub = await startHub({ port: 0, dataDir, tokens: TokenSet.fromTokens([TOKEN]), logger: silentLogger(), routes: hubRoutes });
  t.teardown(() => hub.close());
  const tokenFile = path.join(dataDir, 'agent-token');
  await writeFile(tokenFile, `${TOKEN}\n`);
  const { file } = await writeTestConfig(t, { ...config, hub: { url: hub.agentUrl, tokenFile } });

  const stop = new AbortController();
  const stderr = new PassThrough();
  let printed = '';
  stderr.setEncoding('utf8').on('data', (d: string) => (printed += d));
  const agent = agentMain(['run', '--config', file, '--otelcol', realCollector()], {
    stdout: new PassThrough(),
    stderr,
    env: process.env,
    shutdown: stop.signal,
    logger: silentLogger(),
  });
  // Registered after the hub's: tap runs teardowns last in, first out, so the agent stops before its hub.
  t.teardown(async () => {
    stop.abort();
    await agent;
  });
  return { hub, agentStderr: () => printed };
}
