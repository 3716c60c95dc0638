// Which store the hub runs on (hub/store/store-choice.ts, issue 16): one of --store, $PHOENIX_HUB_STORE and hub.yaml's
// store: names a PostgreSQL database, or none does (the embedded store); two are refused; the password from the URL or
// from a file of its own, and never in a message. Then the hub itself: its command line refusing a bad store with exit
// 2, and a hub on a real server logging no line with the password, also while the server is down and after it is back.
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../../hub/cli.js';
import { resolveHubConfig } from '../../../hub/config.js';
import type { Hub } from '../../../hub/server.js';
import { chooseStore, STORE_ENV } from '../../../hub/store/store-choice.js';
import { captureLogs } from '../../helpers/logs.js';
import { startPostgres } from '../../helpers/postgres.js';
import { waitFor } from '../../helpers/process.js';
import { helloFor, openSocket, reportFor } from '../../helpers/ws-client.js';

const URL_WITH = 'postgres://phoenix:s3cret-pw@db.example:5432/phoenix';
const URL_WITHOUT = 'postgres://phoenix@db.example:5432/phoenix';

t.test('none named: the embedded store; one: that database, with where it was named', async (t) => {
  t.equal(chooseStore({ env: {} }), null);
  t.match(chooseStore({ flag: URL_WITH, env: {} }), { source: '--store', location: { display: 'postgres://phoenix:***@db.example:5432/phoenix', password: 's3cret-pw' } });
  t.match(chooseStore({ env: { [STORE_ENV]: ` ${URL_WITH}\n` } }), { source: '$PHOENIX_HUB_STORE', location: { url: URL_WITH } });
  t.equal(chooseStore({ env: { [STORE_ENV]: '  ' } }), null, 'an empty variable names nothing');
  const config = resolveHubConfig({ store: URL_WITH }, 'hub.yaml', {}).store;
  t.match(chooseStore({ env: {}, config, configFile: 'hub.yaml' }), { source: 'hub.yaml: store.url', location: { password: 's3cret-pw' } });
});

t.test('refused (exit 2), never showing the password: two places, a bad URL, a password twice, a bad config field', async (t) => {
  t.throws(() => chooseStore({ flag: URL_WITH, env: { [STORE_ENV]: URL_WITH } }), { exitCode: 2, message: /the store is named in --store and \$PHOENIX_HUB_STORE: keep one/ });
  const config = { url: URL_WITH };
  t.throws(() => chooseStore({ env: { [STORE_ENV]: URL_WITH }, config, configFile: 'hub.yaml' }), { message: /\$PHOENIX_HUB_STORE and hub\.yaml: store\.url: keep one/ });
  for (const bad of ['mysql://phoenix:s3cret-pw@db/x', 'postgres://phoenix:s3cret-pw@db/x?sslmode=maybe', 'not a url s3cret-pw']) {
    const error = (() => {
      try {
        chooseStore({ flag: bad, env: {} });
      } catch (e) {
        return e as Error & { exitCode?: number };
      }
      return null;
    })();
    t.equal(error?.exitCode, 2, bad.replace('s3cret-pw', '***'));
    t.notMatch(error?.message ?? '', /s3cret-pw/, 'the password is not in the message');
    t.match(error?.message ?? '', /^--store: /, 'the message names where the store was given');
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-store-choice-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const configFile = path.join(dir, 'hub.yaml');
  t.throws(() => chooseStore({ env: {}, config: { url: URL_WITH, passwordFile: 'pw' }, configFile }), { message: /holds a password and store\.passwordFile names another: keep one/ });
  t.throws(() => chooseStore({ env: {}, config: { url: URL_WITHOUT, passwordFile: 'missing' }, configFile }), { message: /store\.passwordFile: cannot read .*missing.* \(ENOENT\)/ });
  await writeFile(path.join(dir, 'empty'), '\n');
  t.throws(() => chooseStore({ env: {}, config: { url: URL_WITHOUT, passwordFile: 'empty' }, configFile }), { message: /is empty: it must hold the database password/ });
  t.throws(() => resolveHubConfig({ store: { url: URL_WITH, pool: 3 } }, 'hub.yaml', {}), { message: "hub.yaml: unknown field 'store.pool' (allowed: url, passwordFile)" });
  t.throws(() => resolveHubConfig({ store: { passwordFile: 'pw' } }, 'hub.yaml', {}), { message: /store\.url must be a postgres:\/\/ URL/ });
  t.throws(() => resolveHubConfig({ store: 5432 }, 'hub.yaml', {}), { message: /store must be a postgres:\/\/ URL or a mapping/ });
});

t.test('the password from a file beside the config, URL-encoded into the URL the client gets', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-store-choice-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  await writeFile(path.join(dir, 'pw'), 'p@ss/w:rd%\n');
  const choice = chooseStore({ env: {}, config: { url: URL_WITHOUT, passwordFile: 'pw' }, configFile: path.join(dir, 'hub.yaml') })!;
  t.equal(choice.location.password, 'p@ss/w:rd%');
  t.equal(new URL(choice.location.url).password, encodeURIComponent('p@ss/w:rd%'));
  t.equal(choice.location.display, 'postgres://phoenix:***@db.example:5432/phoenix');
});

t.test('the hub on PostgreSQL: no log line holds the password, while the server runs, is down and is back', { timeout: 120_000 }, async (t) => {
  const server = await startPostgres(t);
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-store-choice-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tokenFile = path.join(dir, 'tokens');
  const AGENT_TOKEN = 'store-choice-agent-token-0123';
  await writeFile(tokenFile, `${AGENT_TOKEN}\n`);
  const logs = captureLogs('trace');
  let written = '';
  const capture = () => new PassThrough().setEncoding('utf8').on('data', (d: string) => (written += d));
  const shutdown = new AbortController();
  let started: Hub | null = null;
  const running = main(['--port', '0', '--data-dir', dir, '--token-file', tokenFile, '--log-level', 'trace'], {
    stdout: capture(), stderr: capture(), env: { HOME: dir, [STORE_ENV]: server.url }, shutdown: shutdown.signal, logger: logs.logger, onStarted: (h) => (started = h),
  });
  t.teardown(() => {
    shutdown.abort();
    return running;
  });
  const hub = await waitFor('hub started', () => started, 30_000);
  t.ok(logs.lines.some((l) => l.msg === 'store: PostgreSQL' && String(l.store).includes(':***@127.0.0.1')), 'the store is named, its password shown as ***');

  const agent = await openSocket(hub.agentUrl, AGENT_TOKEN);
  t.teardown(() => agent.ws.close());
  agent.ws.send(JSON.stringify(helloFor('agent-1', 'host-1')));
  agent.ws.send(JSON.stringify(reportFor('host-1', 1)));
  await agent.waitForMessage((m) => m.type === 'ack' && m.seq === 1);

  // The server goes away: what the hub logs about it must not carry the password either.
  await server.stop();
  agent.ws.send(JSON.stringify(reportFor('host-1', 2)));
  await waitFor('a failure logged', () => logs.lines.some((l) => (l.level as number) >= 40 && l.msg !== 'store: PostgreSQL'), 30_000);
  await server.start();
  // As an agent's outbox does: connect again and send what was not acknowledged.
  const again = await openSocket(hub.agentUrl, AGENT_TOKEN);
  t.teardown(() => again.ws.close());
  again.ws.send(JSON.stringify(helloFor('agent-1', 'host-1')));
  for (const seq of [2, 3]) again.ws.send(JSON.stringify(reportFor('host-1', seq)));
  await again.waitForMessage((m) => m.type === 'ack' && m.seq === 3, 30_000);
  t.equal((await hub.store.agents())[0]!.lastSeq, 3, 'stored once the server was back');

  shutdown.abort();
  t.equal(await running, 0);
  const everything = `${JSON.stringify(logs.lines)}\n${written}`;
  t.ok(logs.lines.length > 10, `${logs.lines.length} log lines read`);
  for (const form of [server.password, encodeURIComponent(server.password)]) t.notOk(everything.includes(form), 'the password in no log line and no output');
});
