// `phoenix-hub token create|list|revoke` through the CLI's main() in-process, on a real store file: the secret is
// printed once and stored only as its sha256; list never shows it; bad flags exit 2 naming the value. And the first
// admin token: written mode 0600 and its path logged (never the secret), or taken from --admin-token-file.
import t, { type Test } from 'tap';
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../hub/cli.js';
import type { Hub } from '../../hub/server.js';
import { silentLogger, type Logger } from '../../common/logger.js';
import { bearer } from '../helpers/hub-api.js';
import { call, signIn, startAccessHub, AGENT_TOKEN } from '../helpers/access-hub.js';
import { captureLogs } from '../helpers/logs.js';
import { startPostgres } from '../helpers/postgres.js';
import { waitFor } from '../helpers/process.js';

const SECRET = /^phx_t_[A-Za-z0-9_-]{43}$/m;

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-token-cli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs a `phoenix-hub` command line to its end; HOME is a temp dir, so a misread --data-dir cannot reach the real one. */
async function run(home: string, argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const [stdout, stderr] = [new PassThrough(), new PassThrough()];
  let [out, err] = ['', ''];
  stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  const code = await main(argv, { stdout, stderr, env: { HOME: home }, shutdown: new AbortController().signal, logger: silentLogger() });
  return { code, stdout: out, stderr: err };
}

/** Starts `phoenix-hub` (serve) through main(); it stops when the returned function (or teardown) is called. */
async function serve(t: Test, dir: string, argv: string[], logger: Logger = silentLogger()): Promise<{ hub: Hub; stop: () => Promise<number> }> {
  const tokenFile = path.join(dir, 'agent-tokens');
  await writeFile(tokenFile, `${AGENT_TOKEN}\n`);
  const shutdown = new AbortController();
  let started: Hub | null = null;
  let stderr = '';
  const errors = new PassThrough().setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const running = main(['--port', '0', '--token-file', tokenFile, ...argv], { stdout: new PassThrough(), stderr: errors, env: { HOME: dir }, shutdown: shutdown.signal, logger, onStarted: (h) => (started = h) });
  const stop = () => {
    shutdown.abort();
    return running;
  };
  t.teardown(stop);
  const hub = await Promise.race([waitFor('hub started', () => started), running.then((code) => Promise.reject(new Error(`exit ${code}: ${stderr}`)))]);
  return { hub, stop };
}

/** Every file of the store (the database and its WAL), as bytes. */
async function storeBytes(dataDir: string): Promise<Buffer> {
  const files = (await readdir(dataDir)).filter((f) => f.startsWith('hub.db'));
  return Buffer.concat(await Promise.all(files.map((f) => readFile(path.join(dataDir, f)))));
}

t.test('token create prints the secret once; the store holds only its sha256', async (t) => {
  const dir = await tempDir(t);
  const created = await run(dir, ['token', 'create', '--role', 'viewer', '--name', 'alice', '--expires', '30d', '--data-dir', dir]);
  t.equal(created.code, 0, created.stderr);
  const secret = SECRET.exec(created.stdout)?.[0];
  t.ok(secret, 'the secret is printed');
  t.equal(created.stdout.split(secret!).length, 2, 'once');
  const expires = /expires (\S+)\)/.exec(created.stdout)?.[1];
  t.ok(Math.abs(Date.parse(expires!) - (Date.now() + 30 * 86_400_000)) < 60_000, `expires in 30 days (${expires})`);

  const db = new Database(path.join(dir, 'hub.db'), { readonly: true });
  t.teardown(() => db.close());
  const row = db.prepare('SELECT * FROM api_tokens WHERE name = ?').get('alice') as Record<string, unknown>;
  t.match(row, { name: 'alice', role: 'viewer', hash: createHash('sha256').update(secret!).digest('hex'), created_by: /^cli:/ });
  const everything = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((r) => db.prepare(`SELECT * FROM "${r.name}"`).all());
  t.notOk(JSON.stringify(everything).includes(secret!), 'no table holds the secret');
  t.equal((await storeBytes(dir)).indexOf(secret!), -1, 'nor any byte of the store files');
});

t.test('token list (and --json) shows name, role, created, last used and expiry, never the secret; revoke removes it', async (t) => {
  const dir = await tempDir(t);
  const secret = SECRET.exec((await run(dir, ['token', 'create', '--role', 'experimenter', '--name', 'bob', '--data-dir', dir])).stdout)![0];
  const before = await run(dir, ['token', 'list', '--data-dir', dir]);
  t.match(before.stdout, /^NAME +ROLE +CREATED +CREATED BY +LAST USED +EXPIRES\nbob +experimenter +\d{4}-\d\d-\d\dT\S+Z +cli:\S+ +- +-\n$/, before.stdout);

  // Used by a hub running on the same store, the token's last use shows in the list.
  const { hub } = await startAccessHub(t, { dataDir: dir });
  t.equal((await call(hub, 'GET', '/api/v1/fleet', bearer(secret))).status, 200);
  const listed = await run(dir, ['token', 'list', '--json', '--data-dir', dir]);
  t.equal(listed.code, 0);
  const bob = (JSON.parse(listed.stdout) as Record<string, unknown>[]).find((r) => r.name === 'bob');
  t.same(Object.keys(bob!).sort(), ['createdAt', 'createdBy', 'expiresAt', 'lastUsedAt', 'name', 'role']);
  t.match(bob, { role: 'experimenter', expiresAt: null, lastUsedAt: Number });
  t.ok(Math.abs((bob!.lastUsedAt as number) - Date.now()) < 60_000, 'last used just now');
  const table = await run(dir, ['token', 'list', '--data-dir', dir]);
  t.match(table.stdout, /^bob +experimenter +\S+ +cli:\S+ +\d{4}-\d\d-\d\dT\S+Z +-$/m, 'the table shows the last use too');
  for (const out of [before.stdout, listed.stdout, table.stdout]) t.notOk(out.includes(secret), 'no secret in the list');

  const revoked = await run(dir, ['token', 'revoke', 'bob', '--data-dir', dir]);
  t.same([revoked.code, revoked.stdout], [0, "revoked 'bob' (0 page sessions ended)\n"]);
  t.notOk(JSON.parse((await run(dir, ['token', 'list', '--json', '--data-dir', dir])).stdout).some((r: { name: string }) => r.name === 'bob'));
  t.equal((await call(hub, 'GET', '/api/v1/fleet', bearer(secret))).status, 401, 'the running hub refuses it at once');
});

t.test('bad flags and refusals exit 2 naming the value, and change nothing', async (t) => {
  const dir = await tempDir(t);
  t.equal((await run(dir, ['token', 'create', '--role', 'viewer', '--name', 'alice', '--data-dir', dir])).code, 0);
  const cases: [string[], RegExp][] = [
    [['create', '--role', 'root', '--name', 'x'], /argument 'root' is invalid\. Allowed choices are viewer, experimenter, admin/],
    [['create', '--role', 'viewer', '--name', 'x', '--expires', 'soon'], /must be a duration such as 30d or 12h, at most 3650d, got 'soon'/],
    [['create', '--role', 'viewer', '--name', 'x', '--expires', '99999999999999999d'], /at most 3650d, got '99999999999999999d'/],
    [['create', '--role', 'viewer', '--name', 'x', '--expires', '0s'], /got '0s'/],
    [['create', '--role', 'viewer', '--name', 'bad name!'], /a token name is 1-64 letters.*got 'bad name!'/],
    [['create', '--role', 'viewer', '--name', 'alice'], /a token named 'alice' exists already/],
    [['create', '--role', 'viewer'], /required option '--name <name>' not specified/],
    [['revoke', 'nobody'], /no token named 'nobody'/],
    [['revoke', '../etc'], /got '\.\.\/etc'/],
  ];
  for (const [argv, message] of cases) {
    const result = await run(dir, ['token', ...argv, '--data-dir', dir]);
    t.equal(result.code, 2, argv.join(' '));
    t.match(result.stderr, message, argv.join(' '));
    t.equal(result.stdout, '', 'nothing printed on stdout');
  }
  const names = JSON.parse((await run(dir, ['token', 'list', '--json', '--data-dir', dir])).stdout).map((r: { name: string }) => r.name);
  t.same(names, ['alice'], 'only the first token exists');
});

t.test('--data-dir before or after the subcommand, or none ($HOME\'s default), names one store', async (t) => {
  const dir = await tempDir(t);
  t.equal((await run(dir, ['--data-dir', dir, 'token', 'create', '--role', 'viewer', '--name', 'front'])).code, 0);
  t.match((await run(dir, ['token', 'list', '--data-dir', dir])).stdout, /^front /m, 'given before `token`, read after');
  t.equal((await run(dir, ['token', 'create', '--role', 'viewer', '--name', 'home'])).code, 0);
  t.ok((await stat(path.join(dir, '.local', 'share', 'phoenix-hub', 'hub.db'))).isFile(), 'without --data-dir: the default under $HOME');
  t.notMatch((await run(dir, ['token', 'list', '--data-dir', dir])).stdout, /^home /m);
});

t.test('first start: an admin token written mode 0600 in the data dir; its path is logged, its secret never', async (t) => {
  const dir = await tempDir(t);
  const logs = captureLogs('trace');
  const first = await serve(t, dir, ['--data-dir', dir], logs.logger);
  const file = path.join(dir, 'admin-token');
  t.equal((await stat(file)).mode & 0o777, 0o600, 'mode 0600');
  const secret = (await readFile(file, 'utf8')).trim();
  t.match(secret, SECRET);
  const told = logs.lines.find((l) => l.file === file);
  t.match(told, { level: 40, token: 'admin', msg: /its secret is in this file/ }, 'the log says where');
  t.notOk(JSON.stringify(logs.lines).includes(secret), 'no log line holds the secret');
  t.equal((await call(first.hub, 'GET', '/api/v1/tokens', bearer(secret))).status, 200, 'it is an admin token');
  t.equal(await first.stop(), 0);

  const again = captureLogs('trace');
  const second = await serve(t, dir, ['--data-dir', dir], again.logger);
  t.equal((await readFile(file, 'utf8')).trim(), secret, 'the next start keeps it');
  t.notOk(again.lines.some((l) => l.file === file), 'and does not announce a new one');
  t.equal((await call(second.hub, 'GET', '/api/v1/tokens', bearer(secret))).status, 200);
});

t.test('--admin-token-file: that secret is the admin token; a changed file replaces it and ends its sessions', async (t) => {
  const dir = await tempDir(t);
  const adminFile = path.join(dir, 'admin-secret');
  const [first, second] = ['operator-secret-one-0123456789', 'operator-secret-two-0123456789'];
  await writeFile(adminFile, `${first}\n`);
  const a = await serve(t, dir, ['--data-dir', dir, '--admin-token-file', adminFile]);
  t.equal((await call(a.hub, 'GET', '/api/v1/tokens', bearer(first))).status, 200, "the operator's secret is an admin token");
  await t.rejects(stat(path.join(dir, 'admin-token')), { code: 'ENOENT' }, 'no admin token file is written');
  const session = await signIn(a.hub, first);
  t.equal(await a.stop(), 0);

  await writeFile(adminFile, `${second}\n`);
  const b = await serve(t, dir, ['--data-dir', dir, '--admin-token-file', adminFile]);
  t.equal((await call(b.hub, 'GET', '/api/v1/tokens', bearer(first))).status, 401, 'the old secret is refused');
  t.equal((await call(b.hub, 'GET', '/api/v1/tokens', bearer(second))).status, 200, 'the new one is the admin token');
  t.equal((await call(b.hub, 'GET', '/api/v1/fleet', { cookie: session.cookie })).status, 401, "the old secret's session has ended");
  const byHub = (await b.hub.access.auditLog({ limit: 100 })).filter((e) => e.actor === 'hub').map((e) => [e.action, e.target]);
  t.same(byHub, [['token.create', 'admin'], ['token.revoke', 'admin'], ['token.create', 'admin']], 'the hub recorded each replacement, newest first');

  await writeFile(adminFile, 'short\n');
  const bad = await run(dir, ['--port', '0', '--data-dir', dir, '--token-file', path.join(dir, 'agent-tokens'), '--admin-token-file', adminFile]);
  t.equal(bad.code, 2);
  t.match(bad.stderr, /--admin-token-file: '.*admin-secret' must hold one token of 16-512 characters/);
});

t.test('on a PostgreSQL store: tokens made, listed and revoked in that database, which a hub on it honours at once', { timeout: 120_000 }, async (t) => {
  const server = await startPostgres(t);
  const dir = await tempDir(t);
  const { hub } = await serve(t, dir, ['--store', server.url, '--data-dir', path.join(dir, 'hub')]);
  const made = await run(dir, ['--store', server.url, 'token', 'create', '--name', 'ops', '--role', 'viewer']);
  t.equal(made.code, 0, made.stderr);
  const secret = SECRET.exec(made.stdout)?.[0];
  t.ok(secret, 'the secret is printed');
  t.equal((await call(hub, 'GET', '/api/v1/fleet', bearer(secret!))).status, 200, 'the hub on that database takes it');
  const listed = await run(dir, ['token', 'list', '--store', server.url, '--json']);
  t.equal(listed.code, 0, listed.stderr);
  t.same((JSON.parse(listed.stdout) as { name: string }[]).map((x) => x.name).sort(), ['admin', 'ops'], '--store after the subcommand too; the hub\'s first admin token is there as well');
  const revoked = await run(dir, ['--store', server.url, 'token', 'revoke', 'ops']);
  t.equal(revoked.code, 0, revoked.stderr);
  t.equal((await call(hub, 'GET', '/api/v1/fleet', bearer(secret!))).status, 401, 'revoked: refused at once');
  const bad = await run(dir, ['--store', 'postgres://phoenix:hunter2@127.0.0.1/x?sslmode=maybe', 'token', 'list']);
  t.equal(bad.code, 2, 'a bad store URL is exit 2');
  t.notMatch(bad.stderr, /hunter2/, 'without its password');
});
