// Where the agent keeps its state (pid file, rendered configs, outbox).
import path from 'node:path';
import type { AgentConfig } from './config/load.js';

/** The collectors this agent started (see supervisor/pidfile.ts). */
export function pidFilePath(config: AgentConfig): string {
  return path.join(config.stateDir, 'collectors.json');
}

/** The rendered collector configs: systemd's $RUNTIME_DIRECTORY, else `runtime/` in the state dir. */
export function runtimeDir(config: AgentConfig, env: NodeJS.ProcessEnv = process.env): string {
  return env.RUNTIME_DIRECTORY ? env.RUNTIME_DIRECTORY.split(':')[0]! : path.join(config.stateDir, 'runtime');
}

/** Reports waiting for the hub's acknowledgement (see hub-client/outbox.ts). */
export function outboxDir(config: AgentConfig): string {
  return path.join(config.stateDir, 'outbox');
}
