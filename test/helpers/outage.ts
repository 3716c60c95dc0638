// A real agent reporting to a real hub the test stops and starts, and what the hub stored: shared by the
// outage tests (each in its own file, so each gets the whole per-file timeout).
import type { Test } from 'tap';
import Database from 'better-sqlite3';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
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

export const TOKEN = 'durable-token-0123456789';

/** The sequence numbers stored for an agent (side A rows: one per report), read beside the running hub. */
export function storedSeqs(dataDir: string, order: 'seq' | 'ts' = 'seq'): number[] {
  const db = new Database(path.join(dataDir, 'hub.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare<[], { seq: number }>(`SELECT seq FROM samples WHERE side = 0 ORDER BY ${order}`).all().map((r) => r.seq);
  } finally {
    db.close();
  }
}

export const contiguous = (seqs: number[]) => seqs.every((s, i) => s === i + 1);

/**
 * A real agent (in-process, real collectors) reporting to a real hub on a fixed port, which the test stops and
 * starts again. `produced()` is how many reports the agent has made (its outbox's sequence counter).
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
  const lastSeq = () => hub?.store.agents()[0]?.lastSeq ?? 0;
  return {
    dataDir,
    stateDir,
    lastSeq,
    produced: async () => Number((await readFile(path.join(stateDir, 'outbox', 'next-seq'), 'utf8')).trim()) - 1,
    stopHub: async () => {
      await hub!.close();
      hub = null;
    },
    startHub: async () => {
      hub = await startHub({ port, dataDir, tokens, logger: silentLogger() });
    },
    delivered: (target: number) => waitFor(`reports up to ${target} delivered`, () => lastSeq() >= target, 60_000, 200),
  };
}
