// A real PostgreSQL server for the store's tests and benchmarks (issue 16): Debian's postgresql package, a cluster made
// by initdb in a temporary directory, started by pg_ctl on a free loopback port with password (SCRAM) authentication,
// stopped and removed by `remove()`. The server refuses to run as root, so under root it runs as the package's
// `postgres` user. test/helpers/postgres.ts ties it to a test's teardown.
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface PostgresServer {
  /** postgres://USER:PASSWORD@127.0.0.1:PORT/DATABASE */
  url: string;
  password: string;
  port: number;
  /** Stops the server (fast shutdown: open sessions are ended) and keeps its files, so that start() brings it back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** A new empty database on this server, its URL (the same user and password). */
  createDatabase(): Promise<string>;
}

const USER = 'phoenix';
const DATABASE = 'phoenix';

/** The newest installed major version's binaries (PHOENIX_PG_BIN overrides). */
export function postgresBinDir(): string {
  const given = process.env.PHOENIX_PG_BIN;
  if (given) return given;
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((v) => /^\d+$/.test(v) && existsSync(path.join(root, v, 'bin', 'initdb'))) : [];
  if (majors.length === 0) throw new Error(`no PostgreSQL server under ${root}: the test set-up (test/setup/ensure-tools.sh) installs Debian's postgresql`);
  return path.join(root, String(Math.max(...majors.map(Number))), 'bin');
}

/** Who the server runs as: the caller, or the package's postgres user when the caller is root. */
function serverUser(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null;
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Runs a PostgreSQL program in `cwd` (the server's user may not enter the caller's), as `as` when given. */
function run(bin: string, args: string[], cwd: string, as: { uid: number; gid: number } | null, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(bin, args, { ...(as ?? {}), cwd, env: { PATH: process.env.PATH, LC_ALL: 'C', ...env }, timeout: 120_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${path.basename(bin)} ${args.join(' ')}: ${stderr.trim() || error.message}`)) : resolve(stdout),
    ),
  );
}

/** A new cluster, started, with a database and a password-protected superuser of their own. */
export async function createPostgresServer(): Promise<PostgresServer & { remove(): Promise<void> }> {
  const bin = postgresBinDir();
  const as = serverUser();
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-pg-'));
  const data = path.join(dir, 'data');
  const password = randomBytes(12).toString('base64url');
  const pwfile = path.join(dir, 'pwfile');
  await writeFile(pwfile, `${password}\n`, { mode: 0o600 });
  if (as) {
    chownSync(dir, as.uid, as.gid);
    chownSync(pwfile, as.uid, as.gid);
  }
  await run(path.join(bin, 'initdb'), ['-D', data, '-U', USER, '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-locale', '--no-sync'], dir, as);
  const port = await freePort();
  const pgCtl = path.join(bin, 'pg_ctl');
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir}`;
  let running = false;
  const start = async () => {
    await run(pgCtl, ['-D', data, '-l', path.join(dir, 'server.log'), '-w', '-t', '60', '-o', options, 'start'], dir, as);
    running = true;
  };
  const stop = async () => {
    if (!running) return;
    await run(pgCtl, ['-D', data, '-m', 'fast', '-w', '-t', '60', 'stop'], dir, as);
    running = false;
  };
  const remove = async () => {
    await stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await start();
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const createdb = (name: string) => run(path.join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', USER, name], dir, null, { PGPASSWORD: password });
  const urlOf = (name: string) => `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${name}`;
  await createdb(DATABASE);
  let made = 0;
  const createDatabase = async () => {
    const name = `${DATABASE}_${++made}`;
    await createdb(name);
    return urlOf(name);
  };
  return { url: urlOf(DATABASE), password, port, stop, start, createDatabase, remove };
}
