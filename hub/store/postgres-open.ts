// Opens the hub's store on a PostgreSQL server (issue 16): a connection pool to the URL, the schema applied or checked.
import pg from 'pg';
import type { Logger } from '../../common/logger.js';
import { StoreOpenError } from '../errors.js';
import { applyPostgresSchema } from './postgres-schema.js';
import { NUMERIC_TYPES } from './postgres-statements.js';
import { scrubPassword, type PostgresLocation } from './store-url.js';

export interface PostgresOpenOptions {
  /** Connections in the pool (default 10). */
  max?: number;
  /** How long a connection attempt may take (default 10 s). */
  connectTimeoutMs?: number;
}

/** A failure of the client or the server as a StoreOpenError naming the database, the password scrubbed from it. */
function openError(location: PostgresLocation, error: unknown): StoreOpenError {
  if (error instanceof StoreOpenError) return error;
  const code = (error as { code?: string }).code ?? 'error';
  const message = scrubPassword((error as Error).message ?? String(error), location);
  return new StoreOpenError(`cannot open the hub store ${location.display} (${code}: ${message})`);
}

/**
 * A pool to the database with the schema in place. Calling rules: the caller owns the pool and ends it (`pool.end()`);
 * an idle connection the server drops is logged (without the password) and replaced by the pool, not thrown.
 * Throws StoreOpenError when the server cannot be reached, refuses the credentials, or holds a newer schema.
 */
export async function openPostgres(location: PostgresLocation, logger: Logger, options: PostgresOpenOptions = {}): Promise<pg.Pool> {
  const pool = postgresPool(location, logger, options);
  try {
    const client = await pool.connect();
    try {
      const { from, to } = await applyPostgresSchema(client, location.display);
      if (from !== to) logger.info({ store: location.display, from, to }, from === null ? 'store schema created' : 'store schema upgraded');
    } finally {
      client.release();
    }
    return pool;
  } catch (error) {
    await pool.end().catch(() => undefined);
    throw openError(location, error);
  }
}

/**
 * A pool to the database (no schema check: openPostgres makes the first), BIGINT and NUMERIC read as numbers. Calling
 * rules as openPostgres'.
 */
export function postgresPool(location: PostgresLocation, logger: Logger, options: PostgresOpenOptions = {}): pg.Pool {
  const pool = new pg.Pool({
    connectionString: location.url,
    max: options.max ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    application_name: 'phoenix-hub',
    types: NUMERIC_TYPES,
  });
  pool.on('error', (error) => logger.warn({ store: location.display, err: scrubPassword(error.message, location) }, 'an idle store connection failed; the pool opens another'));
  return pool;
}
