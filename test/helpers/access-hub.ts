// A real hub for the access tests (temp data dir, port 0, closed in teardown) and the calls a page or a client makes
// of it: sign in with a token, call the API with a cookie or a bearer, open the live feed and see how it ends.
import type { Test } from 'tap';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import { silentLogger } from '../../common/logger.js';
import { TokenSet } from '../../hub/auth.js';
import { hubRoutes } from '../../hub/http/routes.js';
import { LIVE_PATH } from '../../hub/live.js';
import { startHub, type Hub, type HubOptions } from '../../hub/server.js';

/** The agents' token (the hub's --token-file): it speaks the agent protocol and nothing else. */
export const AGENT_TOKEN = 'access-agent-token-0123456789';

/** A hub with the API and page routes over a fresh temp dir (or `dataDir`), closed and the dir removed in teardown. */
export async function startAccessHub(t: Test, options: Partial<Omit<HubOptions, 'port'>> = {}): Promise<{ hub: Hub; dataDir: string }> {
  const dataDir = options.dataDir ?? (await mkdtemp(path.join(tmpdir(), 'phx-access-')));
  if (!options.dataDir) t.teardown(() => rm(dataDir, { recursive: true, force: true }));
  const hub = await startHub({ tokens: TokenSet.fromTokens([AGENT_TOKEN]), logger: silentLogger(), routes: hubRoutes, maintenanceMs: 3_600_000, ...options, port: 0, dataDir });
  t.teardown(() => hub.close());
  return { hub, dataDir };
}

export interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown> | null;
}

/** One API request; `json` is sent as the body. The answer's body is its JSON (null when there is none). */
export async function call(hub: Hub, method: string, target: string, headers: Record<string, string> = {}, json?: unknown): Promise<Answer> {
  const res = await fetch(`${hub.url}${target}`, {
    method,
    redirect: 'manual',
    headers: { ...(json === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  const text = await res.text();
  const isJson = (res.headers.get('content-type') ?? '').startsWith('application/json');
  return { status: res.status, headers: res.headers, body: isJson && text ? (JSON.parse(text) as Record<string, unknown>) : null };
}

/** A page's signed-in session: the cookie pair to send back, the Set-Cookie it came in, its CSRF token. */
export interface PageSession {
  /** `phx_session=<id>`, as a browser sends it. */
  cookie: string;
  id: string;
  setCookie: string;
  csrf: string;
}

/** The session cookie among a response's Set-Cookie headers, or null. */
export function sessionSetCookie(headers: Headers): string | null {
  return headers.getSetCookie().find((c) => c.startsWith('phx_session=')) ?? null;
}

/** The cookie pair (`name=value`) a browser would send back for a Set-Cookie line. */
export const cookiePair = (setCookie: string): string => setCookie.split(';')[0]!;

/** Signs in with an API token as the hub's own page does (its Origin); throws unless the hub opened a session. */
export async function signIn(hub: Hub, token: string): Promise<PageSession> {
  const answer = await call(hub, 'POST', '/api/v1/session', { origin: hub.url }, { token });
  const setCookie = sessionSetCookie(answer.headers);
  if (answer.status !== 200 || !setCookie) throw new Error(`sign-in: HTTP ${answer.status} ${JSON.stringify(answer.body)}`);
  const cookie = cookiePair(setCookie);
  return { cookie, id: cookie.slice(cookie.indexOf('=') + 1), setCookie, csrf: String(answer.body!.csrfToken) };
}

/** What the page sends with a read (`write`: and with a write: its Origin and CSRF token). */
export function pageHeaders(hub: Hub, session: PageSession, write = false): Record<string, string> {
  return { cookie: session.cookie, ...(write ? { origin: hub.url, 'x-csrf-token': session.csrf } : {}) };
}

export interface LiveFeedClient {
  ws: WebSocket;
  closed: Promise<{ code: number; reason: string }>;
}

/**
 * Asks for the live feed with `headers`: `status` 101 and the open feed, or the HTTP status the upgrade was refused
 * with. An open feed is terminated in teardown.
 */
export async function openLive(t: Test, hub: Hub, headers: Record<string, string>): Promise<{ status: number; feed: LiveFeedClient | null }> {
  const ws = new WebSocket(`${hub.url.replace(/^http/, 'ws')}${LIVE_PATH}`, { headers });
  t.teardown(() => ws.terminate());
  ws.on('error', () => undefined);
  // Not events.once: it would reject on the error a refused handshake emits.
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  return new Promise((resolve) => {
    ws.once('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode ?? 0, feed: null });
      ws.terminate();
    });
    ws.once('open', () => resolve({ status: 101, feed: { ws, closed } }));
    void closed.then(() => resolve({ status: 0, feed: null }));
  });
}

/** Resolves with the feed's close, or rejects when it stays open `ms` longer. */
export async function closedWithin(feed: LiveFeedClient, ms: number): Promise<{ code: number; reason: string; afterMs: number }> {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the live feed stayed open for ${ms} ms`)), ms)));
  try {
    const closed = await Promise.race([feed.closed, timeout]);
    return { ...closed, afterMs: Date.now() - started };
  } finally {
    clearTimeout(timer);
  }
}
