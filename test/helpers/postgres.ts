// A real PostgreSQL server for the store tests (issue 16): bench/postgres-server.ts's, removed in t.teardown.
import type { Test } from 'tap';
import { createPostgresServer, type PostgresServer } from '../../bench/postgres-server.js';

export { postgresBinDir, type PostgresServer } from '../../bench/postgres-server.js';

/** A new cluster, started, with a database and a password-protected superuser of their own; gone after the test. */
export async function startPostgres(t: Test): Promise<PostgresServer> {
  const server = await createPostgresServer();
  t.teardown(() => server.remove());
  return server;
}
