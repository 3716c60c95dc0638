// The hub process: HTTP (API, page, health) and the agents' WebSocket on one port, over the embedded store.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import type { Logger } from '../common/logger.js';
import { Notifier, type Listener } from '../common/notifier.js';
import { requestUrl, sendJson } from './http/respond.js';
import { ListenError } from '../common/errors.js';
import { closeAll } from '../common/close-all.js';
import { AGENT_PATH, CloseCode, MAX_MESSAGE_BYTES, type ReportMessage } from '../protocol/messages.js';
import { AgentConnection } from './agent-connection.js';
import { FleetView } from './fleet-view.js';
import { LIVE_PATH, LiveFeed } from './live.js';
import type { TokenSet } from './auth.js';
import { IngestQueue } from './ingest-queue.js';
import { openSqliteStore } from './store/sqlite.js';
import type { Store } from './store/types.js';
import { Access, type AccessOptions } from './access/access.js';
import { ensureAdmin, type AdminBootstrap } from './access/bootstrap.js';
import type { OidcSignIn } from './access/oidc.js';
import { PendingSignIns } from './access/pending-sign-ins.js';
import { authorize, identify, sameOrigin, sessionCookieName } from './http/gate.js';
import { HttpRequestError } from './errors.js';
import { OIDC_CALLBACK_PATH } from './access/oidc-config.js';

export interface HubOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  dataDir: string;
  tokens: TokenSet;
  logger: Logger;
  tls?: { cert: Buffer; key: Buffer };
  helloTimeoutMs?: number;
  heartbeatMs?: number;
  maintenanceMs?: number;
  ratePerSecond?: number;
  rateBurst?: number;
  /** Bytes queued for an agent that does not read its acks before it is disconnected (4413; default 1 MiB). */
  maxBufferedBytes?: number;
  /** Connections allowed to wait for their hello at once; more are closed with 1013 (default 1024). */
  maxPendingAgents?: number;
  /** The store to use instead of the SQLite file in `dataDir` (the hub closes it). */
  store?: Store;
  /** Session times and the failed sign-in limiter (tests shorten them); the clock. */
  access?: Omit<AccessOptions, 'store' | 'logger'>;
  /** The admin token's secret, from a file the operator gives (a Secret); without it the hub writes one on first start. */
  adminSecret?: string;
  /** Single sign-on: the discovered provider, and the callback URL registered with it (default: the hub's URL). */
  oidc?: { relyingParty: OidcSignIn; redirectUrl?: string };
  /** Extra HTTP routes (the API and the page); return false to fall through to 404. */
  routes?: (hub: Hub, req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;
}

/** What a hub tells its listeners. */
export interface HubEvents {
  /** A report was newly stored (not a duplicate); also for one whose connection closed while it was stored. */
  report: [agentId: string, message: ReportMessage];
}

export interface Hub {
  /** http(s)://host:port */
  url: string;
  /** ws(s)://host:port/ws/agent */
  agentUrl: string;
  port: number;
  store: Store;
  queue: IngestQueue;
  /** The connections whose agents have said hello, by agent id (a newer one for the same id replaces the older). */
  connections: ReadonlyMap<string, AgentConnection>;
  /** Each agent's latest report as the fleet view shows it (kept in memory, updated as reports are stored). */
  fleetView: FleetView;
  /** Users' credentials, sessions and the audit log. */
  access: Access;
  /** What the first start did about an admin credential (a file it wrote, or the operator's secret). */
  adminBootstrap: AdminBootstrap;
  /**
   * How the page's session cookie is set: `secure` when the page is served over https, by the hub or by a proxy in
   * front of it (the single sign-on callback URL is https); `session` its name (`__Host-` prefixed then).
   */
  cookies: { secure: boolean; session: string };
  /** Single sign-on, when configured: the provider, the sign-ins under way, the callback URL. */
  oidc: { relyingParty: OidcSignIn; pending: PendingSignIns; redirectUrl: string } | null;
  /** Subscribes to the hub's events (HubEvents); returns the unsubscribe. */
  on<K extends keyof HubEvents>(event: K, listener: Listener<HubEvents[K]>): () => void;
  close(): Promise<void>;
}

/**
 * Starts the hub. Calling rules: `close()` once; it stops accepting, closes agent connections (1001),
 * flushes pending reports to the store, then closes the store.
 */
export async function startHub(options: HubOptions): Promise<Hub> {
  const logger = options.logger.child({ component: 'hub' });
  const store = options.store ?? openSqliteStore({ file: path.join(options.dataDir, 'hub.db') });
  const queue = new IngestQueue(store, logger);
  const byAgentId = new Map<string, AgentConnection>();
  /** Every open agent connection, also those still waiting for their hello. */
  const allConnections = new Set<AgentConnection>();
  const maxPendingAgents = options.maxPendingAgents ?? 1024;
  const events = new Notifier<HubEvents>('hub', logger);
  const sockets = new Set<Socket>();
  let ready = false;

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES, perMessageDeflate: false });
  const context = {
    store,
    queue,
    tokens: options.tokens,
    logger,
    byAgentId,
    helloTimeoutMs: options.helloTimeoutMs ?? 10_000,
    ratePerSecond: options.ratePerSecond ?? 20,
    rateBurst: options.rateBurst ?? 200,
    maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
    events,
  };
  const access = new Access({ ...options.access, store: store.access, logger });
  let adminBootstrap: AdminBootstrap;
  try {
    adminBootstrap = ensureAdmin(access, options.dataDir, options.adminSecret);
  } catch (error) {
    store.close();
    throw error;
  }
  if (adminBootstrap.made === 'file') {
    logger.warn({ file: adminBootstrap.file, token: adminBootstrap.name }, 'no admin credential: made one; its secret is in this file (mode 0600), not in any log');
  }
  const secureCookies = options.tls !== undefined || (options.oidc?.redirectUrl?.startsWith('https:') ?? false);
  const cookies = { secure: secureCookies, session: sessionCookieName(secureCookies) };
  const live = new LiveFeed(logger);
  const revalidateLive = () => live.revalidate((p) => access.stillValid(p));
  access.on('ended', revalidateLive);
  const fleetView = new FleetView(store);
  events.on('report', (agentId, message) => fleetView.reportStored(agentId, message.report));
  events.on('report', (agentId, message) => live.reportStored(agentId, message.report.host.id, message.seq));
  wss.on('connection', (ws, req) => {
    const connection = new AgentConnection(ws, req, context);
    allConnections.add(connection);
    ws.once('close', () => allConnections.delete(connection));
  });

  let hub: Hub;
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = requestUrl(req);
    if (!url) return sendJson(res, 400, { error: 'bad_request', message: 'the request target is not a valid path' });
    try {
      if (url.pathname === '/healthz') return sendJson(res, 200, { status: 'ok' });
      if (url.pathname === '/readyz') return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'starting', agents: byAgentId.size });
      if (options.routes && (await options.routes(hub, req, res, url))) return;
      sendJson(res, 404, { error: 'not_found', message: `no such path: ${url.pathname.slice(0, 200)}` });
    } catch (error) {
      logger.error({ err: error, path: url.pathname }, 'request failed');
      if (!res.headersSent) sendJson(res, 500, { error: 'internal', message: 'internal error' });
      else res.destroy();
    }
  };
  const server: Server = options.tls ? createHttpsServer({ cert: options.tls.cert, key: options.tls.key }, handle) : createHttpServer(handle);
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('upgrade', (req, socket: Socket, head) => {
    socket.on('error', (error) => logger.debug({ err: error }, 'upgrade socket error'));
    const pathname = requestUrl(req)?.pathname;
    if (pathname === undefined) {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    if (pathname === AGENT_PATH) {
      wss.handleUpgrade(req, socket, head, (ws) => {
        let pending = 0;
        for (const c of allConnections) if (c.pending) pending += 1;
        if (pending >= maxPendingAgents) {
          logger.warn({ pending, remote: req.socket.remoteAddress }, 'too many agent connections waiting for hello; refusing one');
          ws.close(CloseCode.tryAgainLater, 'too many connections waiting for hello; try again later');
          setTimeout(() => ws.terminate(), 2000).unref();
          return;
        }
        wss.emit('connection', ws, req);
      });
      return;
    }
    if (pathname === LIVE_PATH) {
      try {
        // A page's socket: its Origin must be the hub (a browser always sends it), its session (or token) may read.
        if (sameOrigin(req) === false) throw new HttpRequestError('forbidden', 'the live feed is only for the hub\'s own page');
        const principal = authorize(identify(access, req, cookies.session), 'read');
        live.upgrade(req, socket, head, principal);
      } catch (error) {
        // A refusal is its status; anything else (the store busy or full) a 500, logged: never thrown out of the event.
        if (!(error instanceof HttpRequestError)) logger.error({ err: error, path: pathname }, 'live feed upgrade failed');
        const [status, text] = error instanceof HttpRequestError ? [error.status, error.kind] : [500, 'internal'];
        socket.end(`HTTP/1.1 ${status} ${text}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
      }
      return;
    }
    socket.end('HTTP/1.1 404 Not Found\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (error) {
    await closeAll('hub', [
      { name: 'live feed', close: () => live.close() },
      { name: 'agent WebSocket server', close: () => wss.close() },
      { name: 'ingest queue', close: () => queue.close() },
      { name: 'store', close: () => store.close() },
    ]).catch((closeError: unknown) => logger.error({ err: closeError }, 'closing after a failed listen failed too'));
    throw new ListenError('hub', options.host ?? '127.0.0.1', options.port, error);
  }
  const { port } = server.address() as AddressInfo;
  const host = options.host ?? '127.0.0.1';
  const shownHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  const scheme = options.tls ? 'https' : 'http';

  const heartbeat = setInterval(() => {
    for (const c of allConnections) c.heartbeat();
    live.heartbeat();
    // Sessions expire by time too, not only by sign-out.
    revalidateLive();
  }, options.heartbeatMs ?? 15_000);
  // A token revoked by the token command (another process) shows as a new revision of the access tables.
  // Checked every second, with the live feeds whose sessions may have expired by time.
  let accessRevision = access.revision();
  const revocations = setInterval(() => {
    try {
      const revision = access.revision();
      if (revision !== accessRevision) {
        accessRevision = revision;
        revalidateLive();
        return;
      }
      // Sessions (and tokens) also end by time: those that may have are read again, so a feed closes within a second.
      live.revalidate((p) => !access.mayHaveExpired(p) || access.stillValid(p));
    } catch (error) {
      logger.error({ err: error }, 'checking for revoked credentials failed');
    }
  }, 1000);
  const maintenance = setInterval(() => {
    try {
      const result = store.maintain(Date.now());
      if (result.rolledUp + result.deletedRaw + result.deletedRollups > 0) logger.debug(result, 'store maintenance');
      access.sweep();
    } catch (error) {
      logger.error({ err: error }, 'store maintenance failed');
    }
  }, options.maintenanceMs ?? 60_000);

  let closing: Promise<void> | null = null;
  hub = {
    url: `${scheme}://${shownHost}:${port}`,
    agentUrl: `${scheme === 'https' ? 'wss' : 'ws'}://${shownHost}:${port}${AGENT_PATH}`,
    port,
    store,
    queue,
    connections: byAgentId,
    fleetView,
    access,
    adminBootstrap,
    cookies,
    oidc: options.oidc
      ? { relyingParty: options.oidc.relyingParty, pending: new PendingSignIns(), redirectUrl: options.oidc.redirectUrl ?? `${scheme}://${shownHost}:${port}${OIDC_CALLBACK_PATH}` }
      : null,
    on: (event, listener) => events.on(event, listener),
    close() {
      closing ??= (async () => {
        ready = false;
        clearInterval(heartbeat);
        clearInterval(maintenance);
        clearInterval(revocations);
        // Phase 1: stop accepting, let connections go.
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const c of allConnections) c.ws.close(CloseCode.goingAway, 'hub shutting down');
        server.closeIdleConnections();
        const deadline = setTimeout(() => {
          for (const c of allConnections) c.ws.terminate();
          for (const s of sockets) s.destroy();
        }, 2000);
        live.close();
        await closed;
        clearTimeout(deadline);
        // Phase 2: whatever was received is stored, then the store is released; each part tried whatever the others do.
        try {
          await closeAll('hub', [
            { name: 'agent WebSocket server', close: () => wss.close() },
            { name: 'ingest queue', close: () => queue.close() },
            { name: 'store', close: () => store.close() },
          ]);
        } finally {
          events.clear();
          access.close();
        }
        logger.info('hub stopped');
      })();
      return closing;
    },
  };
  ready = true;
  logger.info({ url: hub.url, agentUrl: hub.agentUrl, dataDir: options.dataDir }, 'hub listening');
  return hub;
}
