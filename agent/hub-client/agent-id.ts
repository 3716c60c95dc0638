// A stable id for this agent: the hub deduplicates reports by (agent id, sequence), so it must survive restarts.
import { randomUUID } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../common/logger.js';

const VALID = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/;

/** Reads `stateDir/agent-id`, creating it on first use. If the state dir is unwritable, an id for this run only. */
export function agentIdFor(stateDir: string, hostId: string, logger: Logger): string {
  const file = path.join(stateDir, 'agent-id');
  try {
    const saved = readFileSync(file, 'utf8').trim();
    if (VALID.test(saved)) return saved;
  } catch {
    // first run
  }
  const prefix = hostId.replace(/[^A-Za-z0-9_.:-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 64) || 'agent';
  const id = `${prefix}-${randomUUID().slice(0, 8)}`;
  try {
    mkdirSync(stateDir, { recursive: true });
    writeFileSync(file, `${id}\n`, { mode: 0o600 });
  } catch (error) {
    logger.warn({ err: error, file }, 'cannot save the agent id; the hub will see a new agent after a restart');
  }
  return id;
}
