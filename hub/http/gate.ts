// The door of every request: who it is (a bearer token or the page's session cookie), whether its role allows what
// it asks, and, for a write made with the page's cookie, that it comes from the hub's own page (Origin, CSRF token).
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Access, Principal } from '../access/access.js';
import type { FailureLimiter } from '../access/limiter.js';
import { allows, type Permission } from '../access/roles.js';
import { bearerToken } from '../auth.js';
import { HttpRequestError } from '../errors.js';

export const SESSION_COOKIE = 'phx_session';
/** Under TLS the session cookie carries the __Host- prefix: no other host (a sibling subdomain) can set or shadow it. */
export const SECURE_SESSION_COOKIE = '__Host-phx_session';

/** The session cookie's name for a hub whose page is served over https (at the hub or a proxy in front) or not. */
export const sessionCookieName = (secure: boolean) => (secure ? SECURE_SESSION_COOKIE : SESSION_COOKIE);
export const CSRF_HEADER = 'x-csrf-token';

/** The client's address, as the limiter and the audit log know it. */
export function clientAddress(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

/** A cookie's value from the request's Cookie header, or undefined. */
export function cookieValue(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface CookieOptions {
  secure: boolean;
  /** Seconds; 0 deletes the cookie. */
  maxAgeS: number;
  sameSite?: 'Strict' | 'Lax';
  path?: string;
}

export function setCookie(name: string, value: string, options: CookieOptions): string {
  const attributes = [`${name}=${value}`, `Path=${options.path ?? '/'}`, 'HttpOnly', `SameSite=${options.sameSite ?? 'Strict'}`, `Max-Age=${options.maxAgeS}`];
  if (options.secure) attributes.push('Secure');
  return attributes.join('; ');
}

/**
 * Whether the request's Origin is the hub itself (a browser always sends it on a write and a WebSocket upgrade):
 * null when there is none (a command-line client). Compared with the Host the browser addressed.
 */
export function sameOrigin(req: IncomingMessage): boolean | null {
  const origin = req.headers.origin;
  if (origin === undefined) return null;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/**
 * 429 while `remote` has failed too many sign-ins. Checked before a credential is looked up and again once the lookup
 * has answered: lookups under way at once are then judged as if made one after another, so a burst of parallel
 * guesses gets no more answers than the same guesses in a row.
 */
export function checkLimit(limiter: FailureLimiter, remote: string): void {
  const wait = limiter.waitFor(remote);
  if (wait > 0) throw new HttpRequestError('too_many_requests', `too many failed sign-ins from ${remote}; try again in ${wait} s`, { retryAfterS: wait });
}

/**
 * Who the request is: null when it presents no credential. A bearer token that is not valid is refused (401) and
 * counted against the address; an address that has failed too often gets 429 for any bearer token (so guessing
 * learns nothing). A session cookie is never counted or slowed: its id is 256 random bits, and a page elsewhere must
 * not be able to lock a signed-in user out by making their browser fail on purpose. Resolves once the use (and a
 * refusal's audit entry) is stored.
 */
export async function identify(access: Access, req: IncomingMessage, cookieName: string): Promise<Principal | null> {
  const authorization = req.headers.authorization;
  if (authorization !== undefined) {
    const remote = clientAddress(req);
    checkLimit(access.limiter, remote);
    const secret = bearerToken(authorization);
    const principal = secret === undefined ? null : await access.bearer(secret);
    checkLimit(access.limiter, remote);
    if (principal) return principal;
    await access.refused(remote, 'bearer', secret ? 'unknown or expired token' : 'not a bearer token');
    throw new HttpRequestError('unauthorized', secret ? 'the bearer token is not valid (unknown, revoked or expired)' : "the Authorization header must be 'Bearer <token>'");
  }
  const cookie = cookieValue(req, cookieName);
  if (cookie === undefined) return null;
  const principal = await access.cookie(cookie);
  // An ended or unknown session: sign in again (a stale cookie is no attack; a forged one finds nothing either).
  if (!principal) throw new HttpRequestError('unauthorized', 'the session has ended; sign in again');
  return principal;
}

/** The principal, if its role allows `permission`: 401 without one, 403 with a role that does not allow it. */
export function authorize(principal: Principal | null, permission: Permission): Principal {
  if (!principal) throw new HttpRequestError('unauthorized', 'sign in, or send an API token as Authorization: Bearer <token>');
  if (!allows(principal.role, permission)) {
    throw new HttpRequestError('forbidden', `${principal.name} has the ${principal.role} role, which does not allow this (${permission} is needed)`);
  }
  return principal;
}

/** A write made with the page's cookie must come from the page: its Origin the hub's, its CSRF token the session's. */
export function checkWrite(req: IncomingMessage, principal: Principal): void {
  if (principal.kind !== 'session') return;
  if (sameOrigin(req) !== true) throw new HttpRequestError('forbidden', `a write with the page's session must come from the hub's own page (Origin ${String(req.headers.origin).slice(0, 100)})`);
  const sent = req.headers[CSRF_HEADER];
  const expected = Buffer.from(principal.session.csrf);
  const given = Buffer.from(typeof sent === 'string' ? sent : '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new HttpRequestError('forbidden', `the ${CSRF_HEADER} header is missing or not this session's`);
}
