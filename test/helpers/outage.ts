// A real agent reporting to a real hub the test stops and starts, and what the hub stored: shared by the
// outage tests (each in its own file, so each gets the whole per-file timeout).
import type { Test } from 'tap';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { main as agentMain } from '../../agent/cli.js';
import { silentLogger, type Logger } from '../../common/logger.js';
import { autoPort } from '../../agent/supervisor/ports.js';
import { TokenSet } from '../../hub/auth.js';
import { startHub, type Hub } from '../../hub/server.js';
import { realCollector } from './collector.js';
import { writeTestConfig } from './agent-config.js';
import { waitFor } from './process.js';
import { rowsPerSeq } from './stored-rows.js';

export const TOKEN = 'durable-token-0123456789';

/**
 * How many reports the hub must find already stored when the agent sends again: those stored but not acknowledged
 * when the hub stopped (the agent resends from its oldest unacknowledged). Read after the hub has stopped, from the
 * store's rows and the agent's outbox (a report stays there, one file each, until acknowledged).
 */
export async function storedButUnacknowledged(dataDir: string, stateDir: string): Promise<{ lastStored: number; acknowledged: number; mustResend: number }> {
  const lastStored = rowsPerSeq(dataDir).at(-1)?.seq ?? 0;
  const pending = (await readdir(path.join(stateDir, 'outbox'))).filter((f) => /^\d+\.json$/.test(f)).map((f) => Number(f.slice(0, -5)));
  // Nothing pending: everything made was acknowledged, and nothing is stored that was not made.
  const acknowledged = pending.length === 0 ? lastStored : Math.min(...pending) - 1;
  return { lastStored, acknowledged, mustResend: Math.max(0, lastStored - acknowledged) };
}

/**
 * A real agent (in-process, real collectors) reporting to a real hub on a fixed port, which the test stops and
 * starts again. `produced()` is how many reports the agent has made (its outbox's sequence counter); `ingested()`
 * is what the running hub's ingest queue counted since it started: reports newly stored, and repeats it dropped.
 */
export async function outageRig(t: Test, options: { interval: string; hub?: Record<string, unknown>; logger?: Logger }) {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'phx-outage-'));
  t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const port = await autoPort();
  const tokens = TokenSet.fromTokens([TOKEN]);
  let hub: Hub | null = await startHub({ port, dataDir, tokens, logger: silentLogger() });
  const tokenFile = path.join(dataDir, 'token');
  await writeFile(tokenFile, TOKEN);
  const { file, stateDir } = await writeTestConfig(t, { interval: options.interval, host: { id: 'outage-host' }, hub: { url: hub.agentUrl, tokenFile, ...options.hub } });
  const stop = new AbortController();
  const agent = agentMain(['run', '--config', file, '--otelcol', realCollector()], {
    stdout: new PassThrough(), stderr: new PassThrough(), env: process.env, shutdown: stop.signal, logger: options.logger ?? silentLogger(),
  });
  t.teardown(async () => {
    stop.abort();
    await agent;
    await hub?.close();
  });
  const lastSeq = async () => (await hub?.store.agents())?.[0]?.lastSeq ?? 0;
  return {
    dataDir,
    stateDir,
    lastSeq,
    ingested: () => ({ stored: hub!.queue.stored, duplicates: hub!.queue.duplicates }),
    produced: async () => Number((await readFile(path.join(stateDir, 'outbox', 'next-seq'), 'utf8')).trim()) - 1,
    stopHub: async () => {
      await hub!.close();
      hub = null;
    },
    startHub: async () => {
      hub = await startHub({ port, dataDir, tokens, logger: silentLogger() });
    },
    delivered: (target: number) => waitFor(`reports up to ${target} delivered`, async () => (await lastSeq()) >= target, 60_000, 200),
  };
}
