// Which store the hub runs on (issue 16): the embedded SQLite file in its data directory, unless one of `--store`,
// $PHOENIX_HUB_STORE or hub.yaml's `store:` names a PostgreSQL database. Only one may: two would leave it unclear
// which database the hub writes to. The password may be in the URL or, from the config file, in a file of its own.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, showValue } from '../../common/errors.js';
import { parsePostgresUrl, type PostgresLocation } from './store-url.js';

/** The environment variable that may hold the store's URL (a Kubernetes Secret's, say). */
export const STORE_ENV = 'PHOENIX_HUB_STORE';

/** hub.yaml's `store:` as written: the URL, and where its password is when the URL holds none. */
export interface StoreConfig {
  url: string;
  /** A file holding the password (trimmed), relative to the config file's folder. */
  passwordFile?: string;
}

const CONFIG_KEYS = ['url', 'passwordFile'];

/** Checks hub.yaml's `store:` (a URL, or a mapping with url and passwordFile); ConfigError naming `source` and the field. */
export function parseStoreConfig(raw: unknown, source: string): StoreConfig | null {
  if (raw === undefined || raw === null) return null;
  if (typeof raw === 'string') return { url: raw };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ConfigError(`${source}: store must be a postgres:// URL or a mapping with url and passwordFile, got ${showValue(raw)}`);
  const record = raw as Record<string, unknown>;
  const unknown = Object.keys(record).find((k) => !CONFIG_KEYS.includes(k));
  if (unknown) throw new ConfigError(`${source}: unknown field 'store.${unknown}' (allowed: ${CONFIG_KEYS.join(', ')})`);
  if (typeof record.url !== 'string') throw new ConfigError(`${source}: store.url must be a postgres:// URL (not shown: it may hold a password)`);
  if (record.passwordFile !== undefined && (typeof record.passwordFile !== 'string' || record.passwordFile === '')) {
    throw new ConfigError(`${source}: store.passwordFile must be a file path, got ${showValue(record.passwordFile)}`);
  }
  return { url: record.url, ...(record.passwordFile === undefined ? {} : { passwordFile: record.passwordFile }) };
}

export interface StoreChoice {
  location: PostgresLocation;
  /** Where it was given: `--store`, $PHOENIX_HUB_STORE, or the config file's store.url. */
  source: string;
}

/**
 * The PostgreSQL database the hub is told to use, or null for the embedded store. `config` comes with the config
 * file's path (`configFile`), against which a relative passwordFile is read. Throws ConfigError (exit 2) when more than
 * one place names a store, when a URL is not valid, or when a password is given twice or cannot be read; no message
 * shows a password.
 */
export function chooseStore(given: { flag?: string; env: NodeJS.ProcessEnv; config?: StoreConfig | null; configFile?: string }): StoreChoice | null {
  const fromEnv = given.env[STORE_ENV]?.trim() || undefined;
  const named = [
    ...(given.flag !== undefined ? [{ source: '--store', url: given.flag }] : []),
    ...(fromEnv !== undefined ? [{ source: `$${STORE_ENV}`, url: fromEnv }] : []),
    ...(given.config ? [{ source: `${given.configFile ?? 'the config file'}: store.url`, url: given.config.url }] : []),
  ];
  if (named.length > 1) throw new ConfigError(`the store is named in ${named.map((n) => n.source).join(' and ')}: keep one, so that it is clear which database the hub uses`);
  const [choice] = named;
  if (!choice) return null;
  const location = parsePostgresUrl(choice.url, choice.source);
  // Only the config file has a passwordFile, and when it names the store no other place does.
  const passwordFile = given.config?.passwordFile;
  if (passwordFile === undefined) return { location, source: choice.source };
  if (location.password) throw new ConfigError(`${choice.source}: the URL holds a password and store.passwordFile names another: keep one`);
  const file = path.resolve(path.dirname(given.configFile ?? '.'), passwordFile);
  let password: string;
  try {
    password = readFileSync(file, 'utf8').trim();
  } catch (error) {
    throw new ConfigError(`${given.configFile}: store.passwordFile: cannot read ${showValue(file, 500)} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`, { cause: error });
  }
  if (password === '') throw new ConfigError(`${given.configFile}: store.passwordFile ${showValue(file, 500)} is empty: it must hold the database password`);
  const url = new URL(choice.url);
  url.password = encodeURIComponent(password);
  return { location: parsePostgresUrl(url.toString(), choice.source), source: choice.source };
}
