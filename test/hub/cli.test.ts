// phoenix-hub's command line in-process: flag validation, start and stop, https/wss with a test certificate.
import t from 'tap';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { Agent, request } from 'node:https';
import { main } from '../../hub/cli.js';
import type { Hub } from '../../hub/server.js';
import { silentLogger } from '../../common/logger.js';
import { Outbox } from '../../agent/hub-client/outbox.js';
import { HubClient } from '../../agent/hub-client/client.js';
import { Backoff } from '../../agent/supervisor/backoff.js';
import { captureLogs } from '../helpers/logs.js';
import { helloFor } from '../helpers/ws-client.js';
import { sampleReport } from '../fixtures/report.js';
import { waitFor } from '../helpers/process.js';
import { makeTestCertificate } from '../helpers/tls.js';

const TOKEN = 'cli-token-0123456789abc';

async function run(argv: string[], signal = AbortSignal.abort()): Promise<{ code: number; stderr: string; hub: Hub | null }> {
  const stderr = new PassThrough();
  let err = '';
  stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
  let hub: Hub | null = null;
  const code = await main(argv, { stdout: new PassThrough(), stderr, env: {}, shutdown: signal, logger: silentLogger(), onStarted: (h) => (hub = h) });
  return { code, stderr: err, hub };
}

t.test('bad flags exit 2 naming the flag', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-hubcli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tokens = path.join(dir, 'tokens');
  await writeFile(tokens, `${TOKEN}\n`);
  const cases: [string[], RegExp][] = [
    [['--port', 'http'], /--port.*must be a port number 0-65535, got 'http'/],
    [['--port', '70000'], /got '70000'/],
    [['--data-dir', dir], /--token-file is required/],
    [['--token-file', path.join(dir, 'missing')], /missing: cannot read token file \(ENOENT\)/],
    [['--token-file', tokens, '--tls-cert', tokens], /--tls-cert and --tls-key go together/],
    [['--token-file', tokens, '--tls-cert', path.join(dir, 'no.pem'), '--tls-key', path.join(dir, 'no.key')], /--tls-cert: cannot read/],
    [['--bogus'], /unknown option '--bogus'/],
    [['--token-file', tokens, '--port', '0', '--data-dir', path.join(tokens, 'data')], /cannot open the hub store '.*tokens\/data\/hub\.db'/],
  ];
  for (const [argv, message] of cases) {
    const result = await run(argv);
    t.equal(result.code, 2, argv.join(' '));
    t.match(result.stderr, message);
  }
  await writeFile(path.join(dir, 'short'), 'short\n');
  const short = await run(['--token-file', path.join(dir, 'short')]);
  t.equal(short.code, 2);
  t.match(short.stderr, /short:1: a token must be at least 16 characters/);
});

t.test('starts, serves, stops on the shutdown signal; a taken port is a clear error', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-hubcli-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tokens = path.join(dir, 'tokens');
  await writeFile(tokens, `${TOKEN}\n`);
  const stop = new AbortController();
  let started: Hub | null = null;
  const running = main(['--port', '0', '--data-dir', dir, '--token-file', tokens], {
    stdout: new PassThrough(), stderr: new PassThrough(), env: {}, shutdown: stop.signal, logger: silentLogger(), onStarted: (h) => (started = h),
  });
  const hub = await waitFor('hub started', () => started);
  t.equal((await fetch(`${hub.url}/healthz`)).status, 200);
  const taken = await run(['--port', String(hub.port), '--data-dir', path.join(dir, 'other'), '--token-file', tokens]);
  t.equal(taken.code, 1);
  t.match(taken.stderr, /cannot listen: .*EADDRINUSE/);
  stop.abort();
  t.equal(await running, 0);
  await t.rejects(fetch(`${hub.url}/healthz`), 'no longer listening');
});

t.test('https and wss with a certificate made here; agents verify it unless told otherwise', { timeout: 60_000 }, async (t) => {
  const { dir, cert, key } = await makeTestCertificate(t);
  const tokens = path.join(dir, 'tokens');
  await writeFile(tokens, `${TOKEN}\n`);
  const stop = new AbortController();
  let started: Hub | null = null;
  const running = main(['--port', '0', '--data-dir', path.join(dir, 'data'), '--token-file', tokens, '--tls-cert', cert, '--tls-key', key], {
    stdout: new PassThrough(), stderr: new PassThrough(), env: {}, shutdown: stop.signal, logger: silentLogger(), onStarted: (h) => (started = h),
  });
  // Teardowns run last-registered first: the clients below close before the hub is stopped here.
  t.teardown(async () => {
    stop.abort();
    await running;
  });
  const hub = await waitFor('hub started', () => started);
  t.match(hub.url, /^https:\/\//);
  t.match(hub.agentUrl, /^wss:\/\//);
  const ca = await readFile(cert);
  const status = await new Promise<number>((resolve, reject) =>
    request(`${hub.url}/healthz`, { agent: new Agent({ ca }) }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject).end(),
  );
  t.equal(status, 200, 'https with the CA');

  const { type: _t, v: _v, ...hello } = helloFor('tls-agent', 'tls-host');
  const connect = (extra: Partial<ConstructorParameters<typeof HubClient>[0]>, name: string) => {
    const outbox = new Outbox({ dir: path.join(dir, name), logger: silentLogger() });
    const client = new HubClient({ url: hub.agentUrl, token: TOKEN, hello, outbox, logger: silentLogger(), backoff: new Backoff({ initialMs: 100, maxMs: 300 }), ...extra });
    t.teardown(() => client.close());
    const now = new Date().toISOString();
    outbox.append({ openedAt: now, from: now, to: now }, sampleReport('tls-host'));
    client.start();
    return client;
  };
  const { logger, lines } = captureLogs('debug');
  const untrusted = connect({ logger }, 'untrusted');
  await waitFor('certificate refused', () => lines.find((l) => /self-signed|certificate/i.test(JSON.stringify(l.err ?? ''))), 10_000);
  t.equal(untrusted.acknowledged, 0, 'an unverifiable hub gets nothing');
  const trusted = connect({ ca }, 'trusted');
  await waitFor('delivered with the CA', () => trusted.acknowledged === 1, 10_000);
  const insecure = connect({ insecureSkipVerify: true }, 'insecure');
  await waitFor('delivered when told to skip verification', () => insecure.acknowledged === 1, 10_000);
  t.pass('wss works with the CA, and with insecureSkipVerify only when set');
});
