// The API of the access model: how to sign in, who am I, sign in with a token and out, API tokens, the audit log.
import type { Principal } from '../access/access.js';
import { actorOf } from '../access/access.js';
import type { AuditEntry, TokenRecord } from '../access/access-store.js';
import { isRole, ROLES, allows, type Permission } from '../access/roles.js';
import { parseDuration } from '../../common/duration.js';
import { HttpRequestError } from '../errors.js';
import { fields, readJson, stringField } from './body.js';
import { checkLimit, cookieValue, sameOrigin, setCookie } from './gate.js';
import { intParam, onlyParams } from './query.js';
import type { RouteContext } from './routes.js';
import type {
  AuditEntryInfo, AuditResponse, AuthMethodsResponse, SessionResponse, SignedOutResponse, TokenCreatedResponse, TokenInfo,
  TokenListResponse, TokenRevokedResponse,
} from './types.js';

const PERMISSIONS: Permission[] = ['read', 'experiment', 'admin'];
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function methods(c: RouteContext): AuthMethodsResponse {
  onlyParams(c.url, []);
  return { token: true, oidc: c.hub.oidc ? { displayName: c.hub.oidc.relyingParty.displayName, url: '/auth/oidc/login' } : null };
}

export function sessionInfo(principal: Principal, idleTimeoutMs: number): SessionResponse {
  const session = principal.kind === 'session' ? principal.session : null;
  return {
    name: principal.name,
    role: principal.role,
    via: session ? session.via : 'bearer',
    permissions: PERMISSIONS.filter((p) => allows(principal.role, p)),
    csrfToken: session?.csrf ?? null,
    expiresAt: iso(session ? session.expiresAt : principal.kind === 'token' ? principal.token.expiresAt : null),
    idleTimeoutMs: session ? idleTimeoutMs : null,
  };
}

export function whoAmI(c: RouteContext): SessionResponse {
  onlyParams(c.url, []);
  return sessionInfo(c.principal!, c.hub.access.sessions.times.idleMs);
}

/** The session cookie for `id`, or the one that deletes it. */
export function sessionCookie(c: RouteContext, id: string | null): string {
  return setCookie(c.hub.cookies.session, id ?? '', { secure: c.hub.cookies.secure, maxAgeS: id ? Math.floor(c.hub.access.sessions.times.absoluteMs / 1000) : 0 });
}

/** POST /api/v1/session {token}: the page's sign-in with an API token; a session cookie on success. */
export async function signIn(c: RouteContext): Promise<SessionResponse> {
  onlyParams(c.url, []);
  // Only the hub's own page signs in with a cookie: a form elsewhere cannot sign a browser into an attacker's account.
  if (sameOrigin(c.req) === false) throw new HttpRequestError('forbidden', 'a sign-in must come from the hub\'s own page');
  checkLimit(c.hub.access.limiter, c.remote);
  const token = stringField(fields(await readJson(c.req), ['token']), 'token');
  const principal = await c.hub.access.bearer(token);
  checkLimit(c.hub.access.limiter, c.remote);
  if (!principal || principal.kind !== 'token') {
    await c.hub.access.refused(c.remote, 'token', 'unknown or expired token');
    throw new HttpRequestError('unauthorized', 'that token is not valid (unknown, revoked or expired)');
  }
  // A browser signing in again leaves no session of its own behind.
  const previous = cookieValue(c.req, c.hub.cookies.session);
  const earlier = previous === undefined ? null : await c.hub.access.cookie(previous);
  if (earlier?.kind === 'session') await c.hub.access.signOut(earlier, c.remote);
  const { id, session } = await c.hub.access.signIn('token', { principal: principal.name, role: principal.role, credential: principal.token.name, endsBy: principal.token.expiresAt }, c.remote);
  c.res.setHeader('set-cookie', sessionCookie(c, id));
  return sessionInfo({ kind: 'session', name: session.principal, role: session.role, session }, c.hub.access.sessions.times.idleMs);
}

/** DELETE /api/v1/session: ends the page's session (and its live feed); the cookie is deleted. */
export async function signOut(c: RouteContext): Promise<SignedOutResponse> {
  onlyParams(c.url, []);
  const principal = c.principal!;
  if (principal.kind !== 'session') throw new HttpRequestError('bad_request', 'a bearer token has no session to end; revoke the token instead');
  await c.hub.access.signOut(principal, c.remote);
  c.res.setHeader('set-cookie', sessionCookie(c, null));
  return { signedOut: true };
}

export const tokenInfo = (t: TokenRecord): TokenInfo => ({
  name: t.name, role: t.role, createdAt: iso(t.createdAt)!, createdBy: t.createdBy, lastUsedAt: iso(t.lastUsedAt), expiresAt: iso(t.expiresAt),
});

export async function listTokens(c: RouteContext): Promise<TokenListResponse> {
  onlyParams(c.url, []);
  return { tokens: (await c.hub.access.tokens.list()).map(tokenInfo) };
}

/** POST /api/v1/tokens {name, role, expires?}: `expires` a duration ("30d"); answered once the token and its audit entry are stored. */
export async function createToken(c: RouteContext): Promise<TokenCreatedResponse> {
  onlyParams(c.url, []);
  const body = fields(await readJson(c.req), ['name', 'role'], ['expires']);
  const name = stringField(body, 'name', 64);
  if (!isRole(body.role)) throw new HttpRequestError('bad_request', `'role' must be one of ${ROLES.join(', ')}, got ${JSON.stringify(body.role)?.slice(0, 40)}`);
  let expiresInMs: number | undefined;
  if (body.expires !== undefined) {
    const text = stringField(body, 'expires', 32);
    expiresInMs = parseDuration(text) ?? undefined;
    if (expiresInMs === undefined || expiresInMs <= 0) throw new HttpRequestError('bad_request', `'expires' must be a duration such as 30d or 12h, got '${text}'`);
  }
  const made = await c.hub.access.createToken(actorOf(c.principal!, c.remote), { name, role: body.role, ...(expiresInMs ? { expiresInMs } : {}) });
  return { token: tokenInfo(made.token), secret: made.secret };
}

export async function revokeToken(c: RouteContext): Promise<TokenRevokedResponse> {
  onlyParams(c.url, []);
  const { sessionsEnded } = await c.hub.access.revokeToken(actorOf(c.principal!, c.remote), c.param);
  return { revoked: c.param, sessionsEnded };
}

const auditInfo = (e: AuditEntry): AuditEntryInfo => ({ ...e, at: iso(e.at)! });

/** GET /api/v1/audit?limit=100&before=<id>&action=<action> */
export async function audit(c: RouteContext): Promise<AuditResponse> {
  onlyParams(c.url, ['limit', 'before', 'action']);
  const limit = intParam(c.url, 'limit', 100, 1, 1000);
  const before = c.url.searchParams.has('before') ? intParam(c.url, 'before', 0, 1, Number.MAX_SAFE_INTEGER) : undefined;
  const action = c.url.searchParams.get('action') ?? undefined;
  if (action !== undefined && !/^[a-z][a-z.-]{0,63}$/.test(action)) throw new HttpRequestError('bad_request', `action must be an action name such as token.create, got '${action.slice(0, 60)}'`);
  const entries = await c.hub.access.auditLog({ limit, ...(before ? { beforeId: before } : {}), ...(action ? { action } : {}) });
  return { entries: entries.map(auditInfo), next: entries.length === limit ? entries.at(-1)!.id : null };
}
