// No secret in any log: a real hub, started by its CLI with logs captured at trace level, goes through every sign-in
// and credential path; then everything it wrote is searched for every secret issued or presented during the run.
import t from 'tap';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { main } from '../../../hub/cli.js';
import type { Hub } from '../../../hub/server.js';
import { newSecret } from '../../../hub/access/secrets.js';
import { bearer } from '../../helpers/hub-api.js';
import { AGENT_TOKEN, call, closedWithin, openLive, pageHeaders, sessionSetCookie, cookiePair, signIn } from '../../helpers/access-hub.js';
import { captureLogs } from '../../helpers/logs.js';
import { waitFor } from '../../helpers/process.js';
import { helloFor, openSocket, reportFor } from '../../helpers/ws-client.js';

t.test('everything the hub logs during sign-ins, token changes and live feeds holds none of the secrets', { timeout: 60_000 }, async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-no-secrets-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const tokenFile = path.join(dir, 'agent-tokens');
  await writeFile(tokenFile, `${AGENT_TOKEN}\n`);
  const logs = captureLogs('trace');
  let written = '';
  const capture = () => new PassThrough().setEncoding('utf8').on('data', (d: string) => (written += d));
  const shutdown = new AbortController();
  let started: Hub | null = null;
  const running = main(['--port', '0', '--data-dir', dir, '--token-file', tokenFile, '--log-level', 'trace'], {
    stdout: capture(), stderr: capture(), env: { HOME: dir }, shutdown: shutdown.signal, logger: logs.logger, onStarted: (h) => (started = h),
  });
  t.teardown(() => {
    shutdown.abort();
    return running;
  });
  const hub = await waitFor('hub started', () => started);
  /** Every secret of the run: what the hub issued and what clients presented. */
  const secrets = new Map<string, string>([['the agent token', AGENT_TOKEN]]);
  const keep = (what: string, secret: string) => (secrets.set(what, secret), secret);

  const adminToken = keep('the first admin token', (await readFile(path.join(dir, 'admin-token'), 'utf8')).trim());

  // An agent reports.
  const agent = await openSocket(hub.agentUrl, AGENT_TOKEN);
  t.teardown(() => agent.ws.close());
  agent.ws.send(JSON.stringify(helloFor('agent-1', 'host-1')));
  agent.ws.send(JSON.stringify(reportFor('host-1', 1)));
  await agent.waitForMessage((m) => m.type === 'ack' && m.seq === 1);

  // The page signs in with the admin token.
  const admin = await signIn(hub, adminToken);
  keep('the admin session id', admin.id);
  keep("the admin session's CSRF token", admin.csrf);
  t.equal((await call(hub, 'POST', '/api/v1/tokens', { cookie: admin.cookie, origin: hub.url, 'x-csrf-token': keep('a wrong CSRF token', newSecret('x')) }, { name: 'x', role: 'viewer' })).status, 403);

  // Tokens made through the API (with the page's session, and with a bearer), used, signed in with, revoked.
  const made = async (name: string, headers: Record<string, string>) => {
    const answer = await call(hub, 'POST', '/api/v1/tokens', headers, { name, role: 'viewer', expires: '1d' });
    t.equal(answer.status, 201, `token ${name} made`);
    return keep(`the API token ${name}`, String(answer.body!.secret));
  };
  const carol = await made('carol', pageHeaders(hub, admin, true));
  const dave = await made('dave', bearer(adminToken));
  t.equal((await call(hub, 'GET', '/api/v1/comparison', bearer(carol))).status, 200);
  const carolSession = await signIn(hub, carol);
  keep("carol's session id", carolSession.id);
  keep("carol's CSRF token", carolSession.csrf);
  const { feed } = await openLive(t, hub, { cookie: carolSession.cookie, origin: hub.url });
  t.equal((await call(hub, 'DELETE', '/api/v1/tokens/carol', pageHeaders(hub, admin, true))).status, 200);
  t.equal((await closedWithin(feed!, 2_000)).code, 4401, "carol's live feed ended with her token");
  t.equal((await call(hub, 'DELETE', '/api/v1/tokens/dave', bearer(adminToken))).status, 200);

  // A one-time code; the session it opens, signed out.
  const code = keep('a one-time code', hub.access.codes.issue({ principal: 'local-user', role: 'viewer' }));
  const visit = () => fetch(`${hub.url}/signin?code=${code}`, { redirect: 'manual' });
  const byCode = cookiePair(sessionSetCookie((await visit()).headers)!);
  keep("the code's session id", byCode.slice(byCode.indexOf('=') + 1));
  const who = await call(hub, 'GET', '/api/v1/session', { cookie: byCode });
  const codeCsrf = keep("the code session's CSRF token", String(who.body!.csrfToken));
  t.equal((await call(hub, 'DELETE', '/api/v1/session', { cookie: byCode, origin: hub.url, 'x-csrf-token': codeCsrf })).status, 200);
  t.equal((await call(hub, 'GET', '/api/v1/audit', pageHeaders(hub, admin))).status, 200);

  // The failures last: five (the limiter's burst) are evaluated, counted and logged; the sixth is a 429. A forged
  // cookie and a used code are refused without counting against the address's token attempts.
  t.equal((await (await openSocket(hub.agentUrl, keep('a wrong agent token', 'wrong-agent-token-0123456789'))).closed).code, 4401);
  for (const wrong of [newSecret('t'), 'not-a-token-but-long-enough-0123']) {
    t.equal((await call(hub, 'POST', '/api/v1/session', { origin: hub.url }, { token: keep(`a wrong sign-in ${wrong.slice(0, 4)}`, wrong) })).status, 401);
  }
  t.equal((await call(hub, 'GET', '/api/v1/fleet', bearer(keep('a wrong bearer', newSecret('t'))))).status, 401);
  t.equal((await call(hub, 'GET', '/api/v1/fleet', { cookie: `phx_session=${keep('a forged cookie', newSecret('s'))}` })).status, 401);
  t.equal((await call(hub, 'GET', '/api/v1/fleet', bearer(dave))).status, 401);
  t.equal((await call(hub, 'GET', '/api/v1/fleet', { authorization: `Basic ${keep('a basic credential', Buffer.from('admin:hunter2-long-enough').toString('base64'))}` })).status, 401);
  t.equal((await visit()).headers.get('location'), '/?signin=code', 'the code used again');
  t.equal((await call(hub, 'GET', '/api/v1/fleet', bearer(keep('a limited bearer', newSecret('t'))))).status, 429, 'the sixth');

  shutdown.abort();
  t.equal(await running, 0);

  const everything = `${logs.lines.map((l) => JSON.stringify(l)).join('\n')}\n${written}`;
  t.equal(logs.logger.level, 'trace', 'the hub logged at trace level');
  for (const msg of ['signed in', 'sign-in refused', 'hub listening', 'hub stopped']) t.ok(logs.lines.some((l) => l.msg === msg), `logged: ${msg}`);
  t.ok(logs.lines.some((l) => l.msg === 'signed in' && l.principal === 'carol'), 'the sign-ins are logged with who, so a secret beside them would be caught');
  for (const [what, secret] of secrets) {
    // Also without its kind's prefix, in case something logs the random part alone.
    const core = secret.replace(/^phx_[tscx]_/, '');
    t.notOk(everything.includes(secret) || everything.includes(core), `${what} is in no log`);
  }
});
