// Routes HTTP requests to the API and the page; errors become JSON with a status that says whose fault it was.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Hub } from '../server.js';
import { sendJson } from './respond.js';
import { BadRequestError, HttpRequestError } from '../errors.js';
import * as api from './api.js';
import { servePage } from './static.js';
import type { ApiResponse, ErrorResponse } from './types.js';

export async function hubRoutes(hub: Hub, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const { pathname } = url;
  const isApi = pathname.startsWith('/api/');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    if (!isApi && pathname !== '/') return false;
    res.setHeader('allow', 'GET, HEAD');
    return fail(res, 405, { error: 'method_not_allowed', message: `${req.method} is not allowed here; use GET` });
  }
  try {
    if (pathname === '/api/v1/fleet') return reply(res, api.fleet(hub, url));
    if (pathname === '/api/v1/comparison') return reply(res, api.comparison(hub, url));
    if (pathname === '/api/v1/fleet/history') return reply(res, api.fleetHistory(hub, url));
    const hostMatch = /^\/api\/v1\/hosts\/([^/]+)$/.exec(pathname);
    if (hostMatch) {
      let id: string;
      try {
        id = decodeURIComponent(hostMatch[1]!);
      } catch {
        throw new BadRequestError('host id is not valid percent-encoding');
      }
      return reply(res, api.host(hub, url, id));
    }
  } catch (error) {
    if (error instanceof HttpRequestError) return fail(res, error.status, { error: error.kind, message: error.message });
    throw error;
  }
  if (isApi) return false;
  return servePage(pathname, res);
}

function reply(res: ServerResponse, body: ApiResponse): true {
  sendJson(res, 200, body);
  return true;
}

function fail(res: ServerResponse, status: 400 | 404 | 405, body: ErrorResponse): true {
  sendJson(res, status, body);
  return true;
}
