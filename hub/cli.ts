// phoenix-hub's command line (commander): validates flags, starts the hub, stops it on the shutdown signal.
import { Command, InvalidArgumentError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { exitCodeFor } from '../common/cli-exit.js';
import { UsageError } from '../common/errors.js';
import { createLogger, type Logger } from '../common/logger.js';
import { phoenixVersion } from '../common/paths.js';
import { OidcSignIn } from './access/oidc.js';
import { TokenSet } from './auth.js';
import { loadHubConfig } from './config.js';
import { chooseStore, STORE_ENV } from './store/store-choice.js';
import { addTokenCommand } from './token-cli.js';
import { addExperimentCommands } from './experiment-cli.js';
import { hubRoutes } from './http/routes.js';
import { startHub, type Hub } from './server.js';

export interface HubCliIo {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  shutdown: AbortSignal;
  logger?: Logger;
  /** Told the running hub (tests). */
  onStarted?: (hub: Hub) => void;
}

interface HubFlags {
  port: number;
  host: string;
  dataDir?: string;
  tokenFile?: string;
  adminTokenFile?: string;
  config?: string;
  tlsCert?: string;
  tlsKey?: string;
  store?: string;
  logLevel?: string;
}

/** Commander's parser for a port flag: 0-65535. */
export function port(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535) throw new InvalidArgumentError(`must be a port number 0-65535, got '${value}'`);
  return n;
}

export function defaultDataDir(env: NodeJS.ProcessEnv): string {
  if (env.STATE_DIRECTORY) return env.STATE_DIRECTORY.split(':')[0]!;
  if (env.XDG_DATA_HOME) return path.join(env.XDG_DATA_HOME, 'phoenix-hub');
  return path.join(env.HOME ?? homedir(), '.local', 'share', 'phoenix-hub');
}

function readFlagFile(flag: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new UsageError(`${flag}: cannot read '${file}' (${(error as NodeJS.ErrnoException).code ?? error})`);
  }
}

/** Runs until `io.shutdown` aborts (or a `token`, `experiment` or `pipeline` command is done); returns the exit code (0 ok, 1 failure, 2 bad flags). Never throws. */
export async function main(argv: readonly string[], io: HubCliIo): Promise<number> {
  let job: (() => number | Promise<number>) | null = null;
  const program = new Command('phoenix-hub')
    .description('Collects Phoenix agents\' reports, compares pipeline variants across the fleet, serves the page.')
    .version(phoenixVersion(), '-V, --version')
    .option('-p, --port <port>', 'HTTP/WebSocket port (0 = any free port)', port, 8080)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <dir>', 'where the embedded store lives (default: $STATE_DIRECTORY or ~/.local/share/phoenix-hub)')
    .option('--token-file <file>', 'agent bearer tokens, one per line (required)')
    .option('--admin-token-file <file>', 'the admin token\'s secret (e.g. from a Secret); without it the first start writes one into the data dir')
    .option('--config <file>', 'hub.yaml: page sessions, single sign-on (OpenID Connect) and the store')
    .option('--store <url>', `a PostgreSQL store, postgres://USER:PASSWORD@HOST:5432/DATABASE (default: the embedded SQLite store in the data dir); a password here shows in the process list: prefer $${STORE_ENV} or the config file`)
    .option('--tls-cert <file>', 'PEM certificate: serve https and wss (with --tls-key)')
    .option('--tls-key <file>', 'PEM private key for --tls-cert')
    .addOption(new Option('--log-level <level>', 'log level').choices(['trace', 'debug', 'info', 'warn', 'error', 'silent']))
    .exitOverride()
    .configureOutput({ writeOut: (t) => io.stdout.write(t), writeErr: (t) => io.stderr.write(t) })
    .action(() => {
      job = () => serve(program.opts<HubFlags>(), io);
    });
  addTokenCommand(program, { stdout: io.stdout, env: io.env, defaultDataDir: defaultDataDir(io.env) }, (tokenJob) => (job = tokenJob));
  addExperimentCommands(program, { stdout: io.stdout, env: io.env }, (apiJob) => (job = apiJob));
  try {
    program.parse([...argv], { from: 'user' });
    return await job!();
  } catch (error) {
    return exitCodeFor('phoenix-hub', error, io.stderr);
  }
}

async function serve(flags: HubFlags, io: HubCliIo): Promise<number> {
  if (!flags.tokenFile) throw new UsageError('--token-file is required: a file with one agent token per line (at least 16 characters each)');
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const tokens = TokenSet.fromFile(flags.tokenFile);
  const tls = flags.tlsCert && flags.tlsKey ? { cert: readFlagFile('--tls-cert', flags.tlsCert), key: readFlagFile('--tls-key', flags.tlsKey) } : undefined;
  const adminSecret = flags.adminTokenFile === undefined ? undefined : adminSecretFrom(flags.adminTokenFile);
  const config = flags.config === undefined ? { sessions: {}, oidc: null, store: null } : loadHubConfig(flags.config, io.env);
  const postgres = chooseStore({ ...(flags.store === undefined ? {} : { flag: flags.store }), env: io.env, config: config.store, ...(flags.config ? { configFile: flags.config } : {}) });
  const logger = io.logger ?? createLogger({ name: 'phoenix-hub', level: (flags.logLevel ?? 'info') as 'info' });
  const oidc = config.oidc ? { relyingParty: await OidcSignIn.discover(config.oidc, logger), ...(config.oidc.redirectUrl ? { redirectUrl: config.oidc.redirectUrl } : {}) } : undefined;
  const hub = await startHub({
    port: flags.port,
    host: flags.host,
    dataDir: flags.dataDir ?? defaultDataDir(io.env),
    tokens,
    logger,
    routes: hubRoutes,
    access: { sessions: config.sessions },
    ...(adminSecret === undefined ? {} : { adminSecret }),
    ...(oidc ? { oidc } : {}),
    ...(tls ? { tls } : {}),
    ...(postgres ? { postgres: postgres.location } : {}),
  });
  io.onStarted?.(hub);
  if (!io.shutdown.aborted) await new Promise((resolve) => io.shutdown.addEventListener('abort', resolve, { once: true }));
  await hub.close();
  return 0;
}

/** The operator's admin secret: one line of 16-512 characters without spaces. */
function adminSecretFrom(file: string): string {
  const secret = readFlagFile('--admin-token-file', file).toString('utf8').trim();
  if (!/^\S{16,512}$/.test(secret)) throw new UsageError(`--admin-token-file: '${file}' must hold one token of 16-512 characters without spaces`);
  return secret;
}
