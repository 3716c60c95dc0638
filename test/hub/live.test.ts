// LiveFeed with real WebSocket clients on a real HTTP server (port 0): the hello, batched fan-out of stored
// reports, read-only (1008), the heartbeat letting a silent page go, the 500-page limit (503), close() closing all,
// revalidate() closing (4401) the pages whose principal no longer holds.
import t, { type Test } from 'tap';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';
import { silentLogger } from '../../common/logger.js';
import type { LiveMessage } from '../../hub/http/types.js';
import { LIVE_PATH, LiveFeed, MAX_LIVE_CLIENTS, MAX_LIVE_PER_PRINCIPAL } from '../../hub/live.js';
import { waitFor } from '../helpers/process.js';
import type { Principal } from '../../hub/access/access.js';

/** A page's principal (the hub's gate has let it in; these tests are about the feed itself): a token named `name`. */
const viewer = (name: string): Principal => ({
  kind: 'token',
  name,
  role: 'viewer',
  token: { name, role: 'viewer', createdAt: 0, createdBy: 'test', lastUsedAt: null, expiresAt: null },
});

interface Page {
  ws: WebSocket;
  messages: LiveMessage[];
  /** Pings received from the hub. */
  pings: number;
  closed: Promise<{ code: number; reason: string }>;
}

/** A feed behind a real HTTP server's upgrade handler, as the hub serves it; both closed in teardown. */
async function liveServer(t: Test): Promise<{ feed: LiveFeed; url: string }> {
  const feed = new LiveFeed(silentLogger());
  const server = createServer((_req, res) => res.writeHead(404).end());
  let pages = 0;
  server.on('upgrade', (req, socket, head) => {
    // `?as=NAME` opens the page as that principal; otherwise each page is a principal of its own.
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === LIVE_PATH) feed.upgrade(req, socket, head, viewer(url.searchParams.get('as') ?? `page-${(pages += 1)}`));
    else socket.destroy();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.teardown(async () => {
    feed.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
  return { feed, url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}${LIVE_PATH}` };
}

/** Connects a page and waits for its hello (the feed counts it from then on); closed in teardown. */
async function openPage(t: Test, url: string, options: WebSocket.ClientOptions = {}): Promise<Page> {
  const ws = new WebSocket(url, options);
  const page: Page = { ws, messages: [], pings: 0, closed: once(ws, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) })) };
  ws.on('message', (data) => page.messages.push(JSON.parse(data.toString()) as LiveMessage));
  ws.on('ping', () => (page.pings += 1));
  t.teardown(() => ws.terminate());
  await once(ws, 'open');
  await waitFor('the hello', () => page.messages.length > 0);
  return page;
}

const reportsOf = (page: Page) => page.messages.filter((m) => m.type === 'reports');

t.test('a page is greeted with the number of pages connected', async (t) => {
  const { feed, url } = await liveServer(t);
  const first = await openPage(t, url);
  const second = await openPage(t, url);
  t.same(first.messages, [{ type: 'hello', clients: 1 }]);
  t.same(second.messages, [{ type: 'hello', clients: 2 }]);
  t.equal(feed.clients, 2);
});

t.test('stored reports reach every page, batched: one message per 250 ms naming each host once', async (t) => {
  const { feed, url } = await liveServer(t);
  const pages = [await openPage(t, url), await openPage(t, url), await openPage(t, url)];
  const started = Date.now();
  feed.reportStored('a1', 'host-1', 1);
  feed.reportStored('a2', 'host-2', 1);
  feed.reportStored('a1', 'host-1', 2);
  feed.reportStored('a3', 'host-1', 1); // a second agent on the same host
  await waitFor('the batch on every page', () => pages.every((p) => reportsOf(p).length === 1));
  t.ok(Date.now() - started >= 240, `sent after the batch window (${Date.now() - started} ms)`);
  for (const page of pages) {
    const [message] = reportsOf(page);
    t.same(message && message.type === 'reports' && message.hosts, ['host-1', 'host-2'], 'each host once');
    t.ok(message?.type === 'reports' && Math.abs(Date.parse(message.at) - Date.now()) < 5_000, 'stamped with the time it was sent');
  }
  feed.reportStored('a2', 'host-2', 2);
  await waitFor('the next batch', () => pages.every((p) => reportsOf(p).length === 2));
  t.same(pages.map((p) => (reportsOf(p)[1] as { hosts: string[] }).hosts), [['host-2'], ['host-2'], ['host-2']], 'a later report, a new message with only its host');
});

t.test('the feed is read-only: a page that sends anything is closed with 1008', async (t) => {
  const { feed, url } = await liveServer(t);
  const talker = await openPage(t, url);
  const listener = await openPage(t, url);
  talker.ws.send('hello?');
  await waitFor('the talker closed', () => talker.ws.readyState === WebSocket.CLOSED);
  t.same(await talker.closed, { code: 1008, reason: 'the live feed is read-only' });
  await waitFor('the talker forgotten', () => feed.clients === 1);
  feed.reportStored('a1', 'host-1', 1);
  await waitFor('the listener still fed', () => reportsOf(listener).length === 1);
});

t.test('heartbeat: a page that does not answer a ping is let go at the next; one that answers stays', async (t) => {
  const { feed, url } = await liveServer(t);
  const healthy = await openPage(t, url);
  const silent = await openPage(t, url, { autoPong: false });
  t.equal(feed.responsive, 2, 'new pages count as answering');
  feed.heartbeat();
  t.equal(feed.responsive, 0, 'each ping has to be answered');
  await waitFor('both pinged', () => healthy.pings === 1 && silent.pings === 1);
  await waitFor("the healthy page's pong", () => feed.responsive === 1);
  feed.heartbeat();
  await waitFor('the silent page let go', () => silent.ws.readyState === WebSocket.CLOSED);
  t.equal((await silent.closed).code, 1006, 'the silent page is terminated, without a close frame');
  await waitFor('the silent page forgotten', () => feed.clients === 1);
  await waitFor('the healthy page pinged again', () => healthy.pings === 2);
  await waitFor("the healthy page's second pong", () => feed.responsive === 1);
  feed.heartbeat();
  await waitFor('a third ping', () => healthy.pings === 3);
  t.equal(healthy.ws.readyState, WebSocket.OPEN, 'the healthy page stays through every heartbeat');
  t.equal(feed.clients, 1);
});

t.test(`at most ${MAX_LIVE_CLIENTS} pages: one more is refused with 503; a freed place can be taken`, { timeout: 120_000 }, async (t) => {
  const { feed, url } = await liveServer(t);
  const pages: Page[] = [];
  // 50 at a time: the machine is small, and the limit is about pages connected, not how fast they came.
  while (pages.length < MAX_LIVE_CLIENTS) pages.push(...(await Promise.all(Array.from({ length: Math.min(50, MAX_LIVE_CLIENTS - pages.length) }, () => openPage(t, url)))));
  t.equal(feed.clients, MAX_LIVE_CLIENTS);
  t.equal(Math.max(...pages.map((p) => (p.messages[0] as { clients: number }).clients)), MAX_LIVE_CLIENTS, 'the last greeted as page 500');

  const refused = new WebSocket(url);
  refused.on('error', () => undefined); // terminate() below, while still connecting, reports itself as an error
  const outcome = await Promise.race([
    once(refused, 'unexpected-response').then(([, response]) => (response as { statusCode: number }).statusCode),
    once(refused, 'open').then(() => 'connected'),
  ]);
  t.equal(outcome, 503, 'page 501 is refused before the upgrade');
  refused.terminate();
  t.equal(feed.clients, MAX_LIVE_CLIENTS, 'and not counted');

  feed.reportStored('a1', 'host-1', 1);
  await waitFor('the batch on all 500 pages', () => pages.every((p) => reportsOf(p).length === 1), 20_000);

  pages[0]!.ws.close();
  await waitFor('a place freed', () => feed.clients === MAX_LIVE_CLIENTS - 1);
  const late = await openPage(t, url);
  t.same(late.messages, [{ type: 'hello', clients: MAX_LIVE_CLIENTS }], 'the freed place is taken');
});

t.test(`at most ${MAX_LIVE_PER_PRINCIPAL} pages per principal: one more is refused with 429; others are not affected`, async (t) => {
  const { feed, url } = await liveServer(t);
  for (let i = 0; i < MAX_LIVE_PER_PRINCIPAL; i++) await openPage(t, `${url}?as=greedy`);
  const refused = new WebSocket(`${url}?as=greedy`);
  refused.on('error', () => undefined);
  const outcome = await Promise.race([
    once(refused, 'unexpected-response').then(([, response]) => (response as { statusCode: number }).statusCode),
    once(refused, 'open').then(() => 'connected'),
  ]);
  refused.terminate();
  t.equal(outcome, 429, `page ${MAX_LIVE_PER_PRINCIPAL + 1} of one principal is refused before the upgrade`);
  const other = await openPage(t, `${url}?as=someone-else`);
  t.same(other.messages, [{ type: 'hello', clients: MAX_LIVE_PER_PRINCIPAL + 1 }], 'another principal still gets a place');
  t.equal(feed.clients, MAX_LIVE_PER_PRINCIPAL + 1);
});

t.test('close() closes every page with 1001 and sends no pending batch', async (t) => {
  const { feed, url } = await liveServer(t);
  const pages = [await openPage(t, url), await openPage(t, url), await openPage(t, url)];
  feed.reportStored('a1', 'host-1', 1);
  feed.close();
  await waitFor('every page closed', () => pages.every((p) => p.ws.readyState === WebSocket.CLOSED));
  const closes = await Promise.all(pages.map((p) => p.closed));
  t.same(closes, pages.map(() => ({ code: 1001, reason: 'hub shutting down' })));
  t.same(pages.map((p) => reportsOf(p).length), [0, 0, 0], 'no page receives the batch pending at close()');
  await waitFor('every page forgotten', () => feed.clients === 0);
});

t.test('revalidate: checks every page at once and closes (4401) only those whose principal no longer holds', async (t) => {
  const { feed, url } = await liveServer(t);
  const [kept, ended, left] = [await openPage(t, `${url}?as=kept`), await openPage(t, `${url}?as=ended`), await openPage(t, `${url}?as=left`)];
  // The checks are held until released: all three are under way at once, not one after another.
  const started: string[] = [];
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const revalidated = feed.revalidate(async (p) => {
    started.push(p.name);
    await released;
    return p.name === 'kept';
  });
  t.same(started.sort(), ['ended', 'kept', 'left'], 'every check started at once');
  // One page leaves while its check is under way: it is not closed a second time, nor counted.
  left.ws.close(1000, 'bye');
  await waitFor('the page that left forgotten', () => feed.clients === 2);
  release();
  t.equal(await revalidated, 1, 'one feed closed');
  t.same(await ended.closed, { code: 4401, reason: 'signed out' });
  t.same(await left.closed, { code: 1000, reason: 'bye' }, 'the page that left closed as it did');
  t.equal(kept.ws.readyState, WebSocket.OPEN, 'the page whose principal holds stays');
  t.equal(feed.clients, 1);
});

t.test('revalidate: two at once close a page once; a failing check leaves its page open and rejects', async (t) => {
  const { feed, url } = await liveServer(t);
  const [ended, unsure, kept] = [await openPage(t, `${url}?as=ended`), await openPage(t, `${url}?as=unsure`), await openPage(t, `${url}?as=kept`)];
  const later = () => new Promise((resolve) => setImmediate(resolve));
  const endedOnly = async (p: Principal) => (await later(), p.name !== 'ended');
  t.same(await Promise.all([feed.revalidate(endedOnly), feed.revalidate(endedOnly)]).then(([a, b]) => a + b), 1, 'two revalidations at once: the page is closed (and counted) once');
  t.same(await ended.closed, { code: 4401, reason: 'signed out' });

  const failing = async (p: Principal) => {
    await later();
    if (p.name === 'unsure') throw new Error('store unreachable');
    return false;
  };
  await t.rejects(feed.revalidate(failing), { message: 'store unreachable' }, 'a failed check rejects');
  t.same(await kept.closed, { code: 4401, reason: 'signed out' }, 'once the others are checked (and closed)');
  t.equal(unsure.ws.readyState, WebSocket.OPEN, 'the page whose check failed stays open');
  t.equal(feed.clients, 1);
});
