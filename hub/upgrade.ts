// The hub's WebSocket upgrades: agents on AGENT_PATH (refused while too many wait for their hello), the page's live
// feed on LIVE_PATH (same origin, a credential that may read), anything else 404. Never throws out of the event.
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { WebSocketServer } from 'ws';
import type { Logger } from '../common/logger.js';
import { AGENT_PATH, CloseCode } from '../protocol/messages.js';
import type { Access } from './access/access.js';
import type { AgentConnection } from './agent-connection.js';
import { HttpRequestError } from './errors.js';
import { authorize, identify, sameOrigin } from './http/gate.js';
import { requestUrl } from './http/respond.js';
import { LIVE_PATH, type LiveFeed } from './live.js';

export interface UpgradeOptions {
  logger: Logger;
  wss: WebSocketServer;
  connections: ReadonlySet<AgentConnection>;
  maxPendingAgents: number;
  live: LiveFeed;
  access: Access;
  sessionCookie: string;
}

export function upgradeHandler(o: UpgradeOptions) {
  return (req: IncomingMessage, socket: Socket, head: Buffer): void => {
    socket.on('error', (error) => o.logger.debug({ err: error }, 'upgrade socket error'));
    const pathname = requestUrl(req)?.pathname;
    if (pathname === undefined) {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    if (pathname === AGENT_PATH) {
      o.wss.handleUpgrade(req, socket, head, (ws) => {
        let pending = 0;
        for (const c of o.connections) if (c.pending) pending += 1;
        if (pending >= o.maxPendingAgents) {
          o.logger.warn({ pending, remote: req.socket.remoteAddress }, 'too many agent connections waiting for hello; refusing one');
          ws.close(CloseCode.tryAgainLater, 'too many connections waiting for hello; try again later');
          setTimeout(() => ws.terminate(), 2000).unref();
          return;
        }
        o.wss.emit('connection', ws, req);
      });
      return;
    }
    if (pathname === LIVE_PATH) {
      // The credential is looked up in the store first (a socket gone meanwhile, or a closed feed, ws handles).
      upgradeLive(o, req, socket, head).catch((error: unknown) => refuseLive(o, socket, error));
      return;
    }
    socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  };
}

/** A page's socket: its Origin must be the hub (a browser always sends it), its session (or token) may read. */
async function upgradeLive(o: UpgradeOptions, req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
  if (sameOrigin(req) === false) throw new HttpRequestError('forbidden', 'the live feed is only for the hub\'s own page');
  const principal = authorize(await identify(o.access, req, o.sessionCookie), 'read');
  o.live.upgrade(req, socket, head, principal);
}

/** A refusal is its status; anything else (the store busy or full) a 500, logged: never thrown out of the event. */
function refuseLive(o: UpgradeOptions, socket: Socket, error: unknown): void {
  if (!(error instanceof HttpRequestError)) o.logger.error({ err: error, path: LIVE_PATH }, 'live feed upgrade failed');
  const [status, text] = error instanceof HttpRequestError ? [error.status, error.kind] : [500, 'internal'];
  socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
}
