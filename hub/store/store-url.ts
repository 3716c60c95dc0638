// Where the hub's store is on a PostgreSQL server (issue 16): a postgres:// URL checked before any connection is made,
// and the form of it that may be shown (its password never is).
import { ConfigError, showValue } from '../../common/errors.js';

export interface PostgresLocation {
  /** The URL as given, password included: for the client only, never for a log line or a message. */
  url: string;
  /** The same URL with the password replaced by "***": what logs and errors name. */
  display: string;
  /** The password, so that a message from the server or the client can be scrubbed of it. */
  password: string;
}

const SSL_MODES = ['disable', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
/** Query parameters the hub passes on to the client; any other is refused, not silently ignored. */
const PARAMETERS: Readonly<Record<string, (value: string) => boolean>> = {
  sslmode: (v) => (SSL_MODES as readonly string[]).includes(v),
  application_name: (v) => /^[\x20-\x7e]{1,63}$/.test(v),
  connect_timeout: (v) => /^[1-9]\d{0,3}$/.test(v),
};

/** `url` with its password shown as "***" (a URL that does not parse is not shown at all). */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(a URL that does not parse)';
  }
}

/**
 * Checks a store URL: postgres:// or postgresql://, a host, one database name, only known query parameters with valid
 * values. Throws ConfigError naming `source` and the problem, never the password.
 */
export function parsePostgresUrl(text: string, source: string): PostgresLocation {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not shown: whatever it is, it may hold a password.
    throw new ConfigError(`${source}: the store must be a URL such as postgres://USER:PASSWORD@HOST:5432/DATABASE; the value given does not parse as a URL (not shown: it may hold a password)`);
  }
  const display = redactUrl(text);
  const bad = (problem: string) => new ConfigError(`${source}: store URL ${display}: ${problem}`);
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') throw bad(`the scheme must be postgres:// or postgresql://, got '${url.protocol.slice(0, -1)}://'`);
  if (!url.hostname) throw bad('it names no host');
  if (!url.username) throw bad('it names no user');
  const database = decodeURIComponent(url.pathname.slice(1));
  if (!database || database.includes('/')) throw bad(`the path must be one database name, got '${url.pathname}'`);
  if (url.hash) throw bad('it has a fragment (#…), which means nothing to a database');
  for (const [name, value] of url.searchParams) {
    const check = Object.hasOwn(PARAMETERS, name) ? PARAMETERS[name] : undefined;
    if (!check) throw bad(`unknown query parameter '${name}' (allowed: ${Object.keys(PARAMETERS).join(', ')})`);
    if (url.searchParams.getAll(name).length > 1) throw bad(`query parameter '${name}' given more than once`);
    if (!check(value)) throw bad(`${name} ${showValue(value)} is not valid${name === 'sslmode' ? ` (one of ${SSL_MODES.join(', ')})` : ''}`);
  }
  return { url: text, display, password: decodeURIComponent(url.password) };
}

/** `message` with every occurrence of the password (as given and URL-encoded) replaced by "***". */
export function scrubPassword(message: string, location: PostgresLocation): string {
  if (!location.password) return message;
  let out = message;
  for (const form of new Set([location.password, encodeURIComponent(location.password)])) out = out.split(form).join('***');
  return out;
}
