// Routes HTTP requests to the API and the page. Each API route names the permission it needs: the gate finds who the
// request is (401 without a credential) and whether its role allows it (403); errors become the API's JSON answers.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../access/access.js';
import type { Permission } from '../access/roles.js';
import type { Hub } from '../server.js';
import { sendJson } from './respond.js';
import { BadRequestError, HttpRequestError } from '../errors.js';
import * as api from './api.js';
import * as accessApi from './access-api.js';
import * as experimentApi from './experiment-api.js';
import { authorize, checkWrite, clientAddress, identify } from './gate.js';
import { oidcCallback, oidcLogin, signInWithCode } from './sign-in-pages.js';
import { servePage } from './static.js';
import type { ApiResponse } from './types.js';
import type { PipelineResponse } from './experiment-types.js';

/** What a handler is given: the request, and who it is (null only on the open routes). */
export interface RouteContext {
  hub: Hub;
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The path's parameter (a host id, a token name), percent-decoded. */
  param: string;
  principal: Principal | null;
  remote: string;
}

interface Route {
  method: 'GET' | 'POST' | 'DELETE';
  path: string | RegExp;
  /** What the role must allow; `open`: anyone (the sign-in routes, which check what they are given themselves). */
  needs: Permission | 'open';
  /** Answers with a body (sent as 200, or `status`), or answers itself (a redirect) and returns undefined. */
  handle: (ctx: RouteContext) => ApiResponse | undefined | Promise<ApiResponse | undefined>;
  /** The success status (default 200), or how to tell it from the body. */
  status?: number | ((body: ApiResponse) => number);
  /** What the path's parameter is, for the message when it cannot be decoded. */
  param?: string;
}

const ROUTES: Route[] = [
  { method: 'GET', path: '/api/v1/fleet', needs: 'read', handle: (c) => api.fleet(c.hub, c.url) },
  { method: 'GET', path: '/api/v1/comparison', needs: 'read', handle: (c) => api.comparison(c.hub, c.url) },
  { method: 'GET', path: '/api/v1/fleet/history', needs: 'read', handle: (c) => api.fleetHistory(c.hub, c.url) },
  { method: 'GET', path: '/api/v1/fleet/breakdown', needs: 'read', handle: (c) => api.fleetBreakdown(c.hub, c.url) },
  { method: 'GET', path: /^\/api\/v1\/hosts\/([^/]+)$/, param: 'host id', needs: 'read', handle: (c) => api.host(c.hub, c.url, c.param) },
  { method: 'GET', path: '/api/v1/auth/methods', needs: 'open', handle: accessApi.methods },
  { method: 'GET', path: '/api/v1/session', needs: 'read', handle: accessApi.whoAmI },
  { method: 'POST', path: '/api/v1/session', needs: 'open', handle: accessApi.signIn },
  { method: 'DELETE', path: '/api/v1/session', needs: 'read', handle: accessApi.signOut },
  { method: 'GET', path: '/api/v1/tokens', needs: 'admin', handle: accessApi.listTokens },
  { method: 'POST', path: '/api/v1/tokens', needs: 'admin', handle: accessApi.createToken, status: 201 },
  { method: 'DELETE', path: /^\/api\/v1\/tokens\/([^/]+)$/, param: 'token name', needs: 'admin', handle: accessApi.revokeToken },
  { method: 'GET', path: '/api/v1/audit', needs: 'admin', handle: accessApi.audit },
  { method: 'GET', path: '/api/v1/pipelines', needs: 'read', handle: experimentApi.listPipelines },
  { method: 'POST', path: '/api/v1/pipelines', needs: 'experiment', handle: experimentApi.uploadPipeline, status: (b) => ((b as PipelineResponse).created ? 201 : 200) },
  { method: 'GET', path: /^\/api\/v1\/pipelines\/([^/]+)$/, param: 'template name', needs: 'read', handle: experimentApi.showPipeline },
  { method: 'DELETE', path: /^\/api\/v1\/pipelines\/([^/]+)$/, param: 'template name', needs: 'experiment', handle: experimentApi.deletePipeline },
  { method: 'GET', path: '/api/v1/experiments', needs: 'read', handle: experimentApi.listExperiments },
  { method: 'POST', path: '/api/v1/experiments', needs: 'experiment', handle: experimentApi.createExperiment, status: 201 },
  { method: 'GET', path: /^\/api\/v1\/experiments\/([^/]+)$/, param: 'experiment id', needs: 'read', handle: experimentApi.showExperiment },
  { method: 'POST', path: /^\/api\/v1\/experiments\/([^/]+)\/start$/, param: 'experiment id', needs: 'experiment', handle: experimentApi.startExperiment },
  { method: 'POST', path: /^\/api\/v1\/experiments\/([^/]+)\/stop$/, param: 'experiment id', needs: 'experiment', handle: experimentApi.stopExperiment },
  { method: 'GET', path: '/signin', needs: 'open', handle: signInWithCode },
  { method: 'GET', path: '/auth/oidc/login', needs: 'open', handle: oidcLogin },
  { method: 'GET', path: '/auth/oidc/callback', needs: 'open', handle: oidcCallback },
];

/** The routes for a path (several methods may share it: 405's allow header lists them) and its parameter. */
function match(pathname: string): { routes: Route[]; param: string | undefined } {
  const routes: Route[] = [];
  let param: string | undefined;
  for (const route of ROUTES) {
    if (typeof route.path === 'string') {
      if (route.path === pathname) routes.push(route);
      continue;
    }
    const m = route.path.exec(pathname);
    if (m) {
      routes.push(route);
      param = m[1];
    }
  }
  return { routes, param };
}

export async function hubRoutes(hub: Hub, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const { pathname } = url;
  const { routes, param } = match(pathname);
  const method = req.method === 'HEAD' ? 'GET' : req.method;
  try {
    if (routes.length === 0) {
      if (pathname.startsWith('/api/')) return false;
      if (method !== 'GET') return pathname === '/' ? methodNotAllowed(res, ['GET']) : false;
      return await servePage(pathname, res);
    }
    const route = routes.find((r) => r.method === method);
    if (!route) return methodNotAllowed(res, routes.map((r) => r.method));
    const principal = route.needs === 'open' ? null : await identify(hub.access, req, hub.cookies.session);
    if (route.needs !== 'open') authorize(principal, route.needs);
    if (principal && method !== 'GET') checkWrite(req, principal);
    const body = await route.handle({ hub, req, res, url, param: decodeParam(param, route.param), principal, remote: clientAddress(req) });
    if (body !== undefined) sendJson(res, typeof route.status === 'function' ? route.status(body) : (route.status ?? 200), body);
    return true;
  } catch (error) {
    if (!(error instanceof HttpRequestError)) throw error;
    if (error.status === 401) res.setHeader('www-authenticate', 'Bearer realm="phoenix"');
    if (error.retryAfterS !== undefined) res.setHeader('retry-after', String(error.retryAfterS));
    sendJson(res, error.status, { error: error.kind, message: error.message });
    return true;
  }
}

function decodeParam(param: string | undefined, what = 'the path segment'): string {
  if (param === undefined) return '';
  try {
    return decodeURIComponent(param);
  } catch {
    throw new BadRequestError(`${what} is not valid percent-encoding`);
  }
}

function methodNotAllowed(res: ServerResponse, methods: string[]): true {
  const allowed = [...new Set(methods.flatMap((m) => (m === 'GET' ? ['GET', 'HEAD'] : [m])))];
  res.setHeader('allow', allowed.join(', '));
  sendJson(res, 405, { error: 'method_not_allowed', message: `this path takes ${allowed.join(', ')}` });
  return true;
}
