// The hub's config file (--config hub.yaml): page sessions, single sign-on and the store. Flags cover the rest; a value in the
// file is validated here, and an error names the file, the field and the value (exit 2).
import { parseDuration } from '../common/duration.js';
import { ConfigError, showValue } from '../common/errors.js';
import { readYamlMapping } from '../common/yaml-file.js';
import { parseOidcConfig, type OidcConfig } from './access/oidc-config.js';
import type { SessionTimes } from './access/sessions.js';
import { parseStoreConfig, type StoreConfig } from './store/store-choice.js';

export interface HubConfig {
  sessions: Partial<SessionTimes>;
  oidc: OidcConfig | null;
  /** A PostgreSQL store (issue 16); null: the embedded SQLite store. */
  store: StoreConfig | null;
}

const KEYS = ['sessions', 'oidc', 'store'];
const SESSION_KEYS: Record<string, keyof SessionTimes> = { idle: 'idleMs', absolute: 'absoluteMs' };
const MIN_SESSION_MS = 60_000;
const MAX_SESSION_MS = 30 * 86_400_000;

export function loadHubConfig(file: string, env: NodeJS.ProcessEnv): HubConfig {
  return resolveHubConfig(readYamlMapping(file), file, env);
}

/** Validates a parsed config (from the file or a test). */
export function resolveHubConfig(record: Record<string, unknown>, source: string, env: NodeJS.ProcessEnv): HubConfig {
  const unknown = Object.keys(record).find((k) => !KEYS.includes(k));
  if (unknown) throw new ConfigError(`${source}: unknown field '${unknown}' (allowed: ${KEYS.join(', ')})`);
  return {
    sessions: parseSessions(record.sessions, source),
    oidc: record.oidc === undefined || record.oidc === null ? null : parseOidcConfig(record.oidc, source, env),
    store: parseStoreConfig(record.store, source),
  };
}

function parseSessions(raw: unknown, source: string): Partial<SessionTimes> {
  if (raw === undefined || raw === null) return {};
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${source}: sessions must be a mapping with idle and absolute, got ${showValue(raw)}`);
  const times: Partial<SessionTimes> = {};
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    const field = SESSION_KEYS[key];
    if (!field) throw new ConfigError(`${source}: unknown field 'sessions.${key}' (allowed: idle, absolute)`);
    const ms = typeof value === 'string' ? parseDuration(value) : null;
    if (ms === null || ms < MIN_SESSION_MS || ms > MAX_SESSION_MS) {
      throw new ConfigError(`${source}: sessions.${key} must be a duration from 1m to 30d such as '30m' or '12h', got ${showValue(value)}`);
    }
    times[field] = ms;
  }
  if (times.idleMs !== undefined && times.absoluteMs !== undefined && times.idleMs > times.absoluteMs) {
    throw new ConfigError(`${source}: sessions.idle (${raw && (raw as Record<string, unknown>).idle}) is longer than sessions.absolute (${(raw as Record<string, unknown>).absolute}); a session ends at the absolute expiry anyway`);
  }
  return times;
}
