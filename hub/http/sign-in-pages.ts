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

/** Refusals the limiter has slowed are answered as one; the page says "try again later". */
function slowed(c: RouteContext): boolean {
  return c.hub.access.limiter.waitFor(c.remote) > 0;
}

/** GET /signin?code=…: a one-time code (printed by `npm start`) opens a session once, within its 10 minutes. */
export function signInWithCode(c: RouteContext): undefined {
  onlyParams(c.url, ['code']);
  if (slowed(c)) return redirect(c.res, '/?signin=slowed');
  const grant = c.hub.access.codes.redeem(c.url.searchParams.get('code') ?? '');
  if (!grant) {
    c.hub.access.refused(c.remote, 'code', 'unknown, used or expired one-time code');
    return redirect(c.res, '/?signin=code');
  }
  const { id } = c.hub.access.signIn('code', grant, c.remote);
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
  const { url, pending } = oidc.relyingParty.begin(oidc.redirectUrl);
  oidc.pending.keep(pending);
  const secure = oidc.redirectUrl.startsWith('https:');
  return redirect(c.res, url.href, [setCookie(OIDC_COOKIE, pending.state, { secure, maxAgeS: 600, sameSite: 'Lax', path: '/auth/oidc' })]);
}

/** GET /auth/oidc/callback: the provider's answer; a session with the role the person's claim maps to. */
export async function oidcCallback(c: RouteContext): Promise<undefined> {
  const oidc = relyingParty(c);
  const secure = oidc.redirectUrl.startsWith('https:');
  const clear = setCookie(OIDC_COOKIE, '', { secure, maxAgeS: 0, sameSite: 'Lax', path: '/auth/oidc' });
  if (slowed(c)) return redirect(c.res, '/?signin=slowed', [clear]);
  // The state must be the one this browser began with (its cookie) and one the hub began (its pending list).
  const state = c.url.searchParams.get('state') ?? '';
  const pending = cookieValue(c.req, OIDC_COOKIE) === state ? oidc.pending.take(state) : null;
  if (!pending) {
    c.hub.access.refused(c.remote, 'oidc', 'state_mismatch');
    return redirect(c.res, '/?signin=state_mismatch', [clear]);
  }
  try {
    const identity = await oidc.relyingParty.finish(c.url, pending);
    const { id } = c.hub.access.signIn('oidc', { principal: identity.name, role: identity.role }, c.remote);
    return redirect(c.res, '/', [clear, sessionCookie(c, id)]);
  } catch (error) {
    if (!(error instanceof OidcError)) throw error;
    c.hub.access.refused(c.remote, 'oidc', error.reason ?? 'exchange_failed');
    return redirect(c.res, `/?signin=${error.reason ?? 'exchange_failed'}`, [clear]);
  }
}
