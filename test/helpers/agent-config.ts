// Writes an agent config for a test into a temp dir (state dir included) and removes it in teardown.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Test } from 'tap';
import { stringify } from 'yaml';

export interface TestConfig {
  file: string;
  dir: string;
  stateDir: string;
}

/** Fast, fair defaults for tests: free ports, 2 s collection, 30 s expiration; `extra` overrides (its `collector` field by field). */
export async function writeTestConfig(t: Test, extra: Record<string, unknown> = {}): Promise<TestConfig> {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-agent-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const stateDir = path.join(dir, 'state');
  const config = {
    host: { id: 'test-host', labels: { suite: 'integration' } },
    interval: '3s',
    ports: { base: 0 },
    pipeline: { collectionInterval: '2s', metricExpiration: '30s' },
    stateDir,
    log: { level: 'warn' },
    ...extra,
    collector: { startTimeout: '45s', stopGrace: '5s', ...(extra.collector as Record<string, unknown> | undefined) },
  };
  const file = path.join(dir, 'agent.yaml');
  await writeFile(file, stringify(config));
  return { file, dir, stateDir };
}
