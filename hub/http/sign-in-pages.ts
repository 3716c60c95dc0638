// The sign-ins a browser makes by navigating, not by calling the API: the one-time code link that `npm start`
// prints, and single sign-on's round trip through the OpenID provider. Each ends in a redirect to the page: with
// the session cookie on success, with `?signin=<reason>` (which the page explains) on failure.
import type { ServerResponse } from 'node:http';
import { OidcError } from '../access/oidc-errors.js';
import { HttpRequestError } from '../errors.js';
import { cookieValue, setCookie } from './gate.js';
import { sessionCookie } from './access-api.js';
import { onlyParams } from './query.js';
import type { RouteContext } from './routes.js';
import { SECURITY_HEADERS } from './respond.js';

/** Binds a single sign-on to the browser that began it; Lax, so the provider's redirect back carries it. */
const OIDC_COOKIE = 'phx_oidc';

function redirect(res: ServerResponse, location: string, cookies: string[] = []): undefined {
  res.writeHead(303, { location, 'cache-control': 'no-store', ...(cookies.length ? { 'set-cookie': cookies } : {}), ...SECURITY_HEADERS });
  res.end();
  return undefined;
}

/**
 * These sign-ins are plain GETs, which a page elsewhere can make a browser send: their failures count in a bucket of
 * their own (so they cannot slow the address's token sign-ins or API calls), and once it is empty they are answered
 * "try again later" without being looked at, logged or recorded again.
 */
function slowed(c: RouteContext): boolean {
  return c.hub.access.navigationLimiter.waitFor(c.remote) > 0;
}

/** GET /signin?code=…: a one-time code (printed by `npm start`) opens a session once, within its 10 minutes. */
export async function signInWithCode(c: RouteContext): Promise<undefined> {
  onlyParams(c.url, ['code']);
  if (slowed(c)) return redirect(c.res, '/?signin=slowed');
  const grant = c.hub.access.codes.redeem(c.url.searchParams.get('code') ?? '');
  if (!grant) {
    await c.hub.access.refused(c.remote, 'code', 'unknown, used or expired one-time code', c.hub.access.navigationLimiter);
    return redirect(c.res, '/?signin=code');
  }
  const { id } = await c.hub.access.signIn('code', grant, c.remote);
  return redirect(c.res, '/', [sessionCookie(c, id)]);
}

function relyingParty(c: RouteContext) {
  if (!c.hub.oidc) throw new HttpRequestError('not_found', 'single sign-on is not configured on this hub');
  return c.hub.oidc;
}

/** GET /auth/oidc/login: off to the OpenID provider (authorization code with PKCE). */
export function oidcLogin(c: RouteContext): undefined {
  onlyParams(c.url, []);
  const oidc = relyingParty(c);
  // Each start holds a place in the pending list: one address may start a few at once, then one a second.
  const wait = c.hub.access.startLimiter.waitFor(c.remote);
  if (wait > 0) throw new HttpRequestError('too_many_requests', `too many sign-ins started from ${c.remote}; try again in ${wait} s`, { retryAfterS: wait });
  c.hub.access.startLimiter.failed(c.remote);
  const { url, pending } = oidc.relyingParty.begin(oidc.redirectUrl);
  oidc.pending.keep(pending);
  const secure = c.hub.cookies.secure;
  return redirect(c.res, url.href, [setCookie(OIDC_COOKIE, pending.state, { secure, maxAgeS: 600, sameSite: 'Lax', path: '/auth/oidc' })]);
}

/** GET /auth/oidc/callback: the provider's answer; a session with the role the person's claim maps to. */
export async function oidcCallback(c: RouteContext): Promise<undefined> {
  const oidc = relyingParty(c);
  const secure = c.hub.cookies.secure;
  const clear = setCookie(OIDC_COOKIE, '', { secure, maxAgeS: 0, sameSite: 'Lax', path: '/auth/oidc' });
  if (slowed(c)) return redirect(c.res, '/?signin=slowed', [clear]);
  // The state must be the one this browser began with (its cookie) and one the hub began (its pending list).
  const state = c.url.searchParams.get('state') ?? '';
  const pending = cookieValue(c.req, OIDC_COOKIE) === state ? oidc.pending.take(state) : null;
  if (!pending) {
    await c.hub.access.refused(c.remote, 'oidc', 'state_mismatch', c.hub.access.navigationLimiter);
    return redirect(c.res, '/?signin=state_mismatch', [clear]);
  }
  try {
    const identity = await oidc.relyingParty.finish(c.url, pending);
    const { id } = await c.hub.access.signIn('oidc', { principal: identity.name, role: identity.role }, c.remote);
    return redirect(c.res, '/', [clear, sessionCookie(c, id)]);
  } catch (error) {
    if (!(error instanceof OidcError)) throw error;
    await c.hub.access.refused(c.remote, 'oidc', error.reason ?? 'exchange_failed', c.hub.access.navigationLimiter);
    return redirect(c.res, `/?signin=${error.reason ?? 'exchange_failed'}`, [clear]);
  }
}
