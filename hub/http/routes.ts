// Routes HTTP requests to the API and the page; errors become JSON with a status that says whose fault it was.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, type Hub } from '../server.js';
import * as api from './api.js';
import { BadRequest } from './query.js';
import { servePage } from './static.js';

export async function hubRoutes(hub: Hub, req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const { pathname } = url;
  const isApi = pathname.startsWith('/api/');
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    if (!isApi && pathname !== '/') return false;
    res.setHeader('allow', 'GET, HEAD');
    sendJson(res, 405, { error: 'method_not_allowed', message: `${req.method} is not allowed here; use GET` });
    return true;
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
        throw new BadRequest('host id is not valid percent-encoding');
      }
      const body = api.host(hub, url, id);
      if (body === null) {
        sendJson(res, 404, { error: 'not_found', message: `no host '${id.slice(0, 100)}' has reported` });
        return true;
      }
      return reply(res, body);
    }
  } catch (error) {
    if (error instanceof BadRequest) {
      sendJson(res, 400, { error: 'bad_request', message: error.message });
      return true;
    }
    throw error;
  }
  if (isApi) return false;
  return servePage(pathname, res);
}

function reply(res: ServerResponse, body: unknown): true {
  sendJson(res, 200, body);
  return true;
}
