// `phoenix-hub token create|list|revoke`: manages users' API tokens in the hub's store (the SQLite file or the
// PostgreSQL database the hub runs on), beside a running hub or without one. A revocation ends the token's sessions and live feeds at once (the hub checks every second).
import { Command, InvalidArgumentError, Option } from 'commander';
import { randomUUID } from 'node:crypto';
import { userInfo } from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { parseDuration } from '../common/duration.js';
import { promised } from '../common/promised.js';
import { UsageError } from '../common/errors.js';
import { silentLogger } from '../common/logger.js';
import { Access, type Actor } from './access/access.js';
import type { AccessStore, TokenRecord } from './access/access-store.js';
import { ROLES, type Role } from './access/roles.js';
import { MAX_EXPIRY_MS } from './access/tokens.js';
import { HttpRequestError } from './errors.js';
import { loadHubConfig } from './config.js';
import { openPostgres } from './store/postgres-open.js';
import { postgresAccess } from './store/postgres-access.js';
import { announceAccess } from './store/postgres-peers.js';
import { openSqliteAccessStore } from './store/sqlite.js';
import { chooseStore } from './store/store-choice.js';
import type { PostgresLocation } from './store/store-url.js';

export interface TokenCliIo {
  stdout: Writable;
  env: NodeJS.ProcessEnv;
  defaultDataDir: string;
}

const expiry = (value: string): number => {
  const ms = parseDuration(value);
  if (ms === null || ms <= 0 || ms > MAX_EXPIRY_MS) throw new InvalidArgumentError(`must be a duration such as 30d or 12h, at most 3650d, got '${value}'`);
  return ms;
};

const iso = (ms: number | null) => (ms === null ? '-' : new Date(ms).toISOString());

/** Where the token commands find the hub's store: its data directory, or the PostgreSQL database it runs on. */
interface StorePlace {
  dataDir: string;
  postgres: PostgresLocation | null;
}

/**
 * The store's access tables as the command-line user sees them: the SQLite file in the data directory (WAL lets this
 * write beside a running hub), or the PostgreSQL database (a revocation is announced to the replicas at once).
 */
async function openAccess(place: StorePlace): Promise<{ access: AccessStore; close(): Promise<void> }> {
  if (place.postgres) {
    const pool = await openPostgres(place.postgres, silentLogger(), { max: 1 });
    const from = `cli-${randomUUID()}`;
    return { access: postgresAccess(pool, (on) => announceAccess(on, from)), close: () => pool.end() };
  }
  const store = openSqliteAccessStore(path.join(place.dataDir, 'hub.db'));
  return { access: promised(store.access), close: async () => store.close() };
}

/**
 * Runs `job` on the store's access tables as the command-line user (the hub's own Access over them); a refusal (a
 * taken name, an unknown one) is exit 2. The store is closed once the job has settled.
 */
async function withAccess<T>(place: StorePlace, job: (access: Access, actor: Actor) => Promise<T>): Promise<T> {
  const store = await openAccess(place);
  try {
    const access = new Access({ store: store.access, logger: silentLogger() });
    return await job(access, { name: `cli:${userInfo().username}`, role: null, remote: 'local' });
  } catch (error) {
    if (error instanceof HttpRequestError) throw new UsageError(error.message);
    throw error;
  } finally {
    await store.close();
  }
}

function table(tokens: TokenRecord[]): string {
  const rows = [['NAME', 'ROLE', 'CREATED', 'CREATED BY', 'LAST USED', 'EXPIRES'], ...tokens.map((t) => [t.name, t.role, iso(t.createdAt), t.createdBy, iso(t.lastUsedAt), iso(t.expiresAt)])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n') + '\n';
}

/** The `token` command; `schedule` receives what to run once the arguments are parsed (so the CLI owns the exit). */
export function addTokenCommand(program: Command, io: TokenCliIo, schedule: (job: () => Promise<number>) => void): void {
  const token = program.command('token').description('manage the API tokens of users (viewer, experimenter, admin)');
  const dataDirOption = () => new Option('--data-dir <dir>', 'the hub\'s data directory (default: $STATE_DIRECTORY or ~/.local/share/phoenix-hub)');
  // The program has a --data-dir of its own, which commander gives `--data-dir` to wherever it stands on the line
  // (`token revoke alice --data-dir D` too): take the subcommand's, else the program's, else the default.
  const dataDirOf = (flags: { dataDir?: string }) => flags.dataDir ?? program.opts<{ dataDir?: string }>().dataDir ?? io.defaultDataDir;
  // The store as the hub chooses it: the program's --store or --config, or $PHOENIX_HUB_STORE; else the data dir's.
  const placeOf = (flags: { dataDir?: string }): StorePlace => {
    const { store, config } = program.opts<{ store?: string; config?: string }>();
    const storeConfig = config === undefined ? null : loadHubConfig(config, io.env).store;
    const chosen = chooseStore({ ...(store === undefined ? {} : { flag: store }), env: io.env, config: storeConfig, ...(config ? { configFile: config } : {}) });
    return { dataDir: dataDirOf(flags), postgres: chosen?.location ?? null };
  };
  token
    .command('create')
    .description('make a token; its secret is printed this once and kept only as a hash')
    .requiredOption('--name <name>', 'what the token is called (token list, the audit log, token revoke)')
    .addOption(new Option('--role <role>', 'what it may do').choices(ROLES).makeOptionMandatory())
    .option('--expires <duration>', 'how long it lasts, e.g. 30d (default: until revoked)', expiry)
    .addOption(dataDirOption())
    .action((flags: { name: string; role: Role; expires?: number; dataDir?: string }) =>
      schedule(() =>
        withAccess(placeOf(flags), async (access, actor) => {
          const made = await access.createToken(actor, { name: flags.name, role: flags.role, ...(flags.expires ? { expiresInMs: flags.expires } : {}) });
          io.stdout.write(`token '${made.token.name}' (${made.token.role}, expires ${iso(made.token.expiresAt)}); its secret, shown only now:\n${made.secret}\n`);
          return 0;
        }),
      ),
    );
  token
    .command('list')
    .description('list the tokens: names, roles, created, last used, expiry (never secrets)')
    .option('--json', 'as JSON')
    .addOption(dataDirOption())
    .action((flags: { json?: boolean; dataDir?: string }) =>
      schedule(() =>
        withAccess(placeOf(flags), async (access) => {
          const tokens = await access.tokens.list();
          io.stdout.write(flags.json ? `${JSON.stringify(tokens, null, 2)}\n` : table(tokens));
          return 0;
        }),
      ),
    );
  token
    .command('revoke')
    .description('delete a token; its page sessions and live feeds end at once')
    .argument('<name>', 'the token\'s name')
    .addOption(dataDirOption())
    .action((name: string, flags: { dataDir?: string }) =>
      schedule(() =>
        withAccess(placeOf(flags), async (access, actor) => {
          const { sessionsEnded } = await access.revokeToken(actor, name);
          io.stdout.write(`revoked '${name}' (${sessionsEnded} page session${sessionsEnded === 1 ? '' : 's'} ended)\n`);
          return 0;
        }),
      ),
    );
}
