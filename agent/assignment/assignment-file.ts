// The assignment this agent runs, kept in its state directory so that it survives a restart.
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../common/logger.js';
import { assignmentSchema, type Assignment } from '../../protocol/assignment.js';
import type { AgentConfig } from '../config/load.js';
import { writeDurably } from '../durable-write.js';
import { checkAssignment } from './check.js';

export function assignmentFile(config: AgentConfig): string {
  return path.join(config.stateDir, 'assignment.json');
}

/** Keeps `assignment` (durably: a crash leaves the old file or the new one). */
export function saveAssignment(config: AgentConfig, assignment: Assignment): void {
  writeDurably(assignmentFile(config), `${JSON.stringify(assignment)}\n`);
}

export function removeAssignment(config: AgentConfig): void {
  rmSync(assignmentFile(config), { force: true });
}

/**
 * The kept assignment, checked again as if the hub had just sent it (the file is input too); null when there is
 * none. One that cannot be read or fails the checks is logged, removed and not run.
 */
export function loadAssignment(config: AgentConfig, logger: Logger): Assignment | null {
  const file = assignmentFile(config);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    logger.warn({ err: error, file }, 'cannot read the kept assignment; running the agent’s own pair');
    return null;
  }
  try {
    const assignment = assignmentSchema.parse(JSON.parse(text));
    checkAssignment(assignment);
    return assignment;
  } catch (error) {
    logger.warn({ err: error, file }, 'the kept assignment is not valid; removing it and running the agent’s own pair');
    removeAssignment(config);
    return null;
  }
}
