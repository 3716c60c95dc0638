// The hub process: HTTP (API, page, health) and the agents' WebSocket on one port, over the embedded store.
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { WebSocketServer } from 'ws';
import type { Logger } from '../common/logger.js';
import { Notifier, type Listener } from '../common/notifier.js';
import { requestUrl, sendJson } from './http/respond.js';
import { ListenError } from '../common/errors.js';
import { closeAll } from '../common/close-all.js';
import { AGENT_PATH, CloseCode, MAX_MESSAGE_BYTES, PROTOCOL_VERSIONS, type ProtocolVersion, type ReportMessage } from '../protocol/messages.js';
import type { AssignmentStatus } from '../protocol/assignment.js';
import { AgentConnection } from './agent-connection.js';
import { FleetView } from './fleet-view.js';
import { LiveFeed } from './live.js';
import type { TokenSet } from './auth.js';
import { IngestQueue } from './ingest-queue.js';
import { openSqliteHubStore } from './store/sqlite-window-thread.js';
import type { Store } from './store/types.js';
import { StoreOpenError } from './errors.js';
import { openPostgresStore } from './store/postgres.js';
import type { PostgresLocation } from './store/store-url.js';
import { Access, type AccessOptions } from './access/access.js';
import { ensureAdmin, type AdminBootstrap } from './access/bootstrap.js';
import type { OidcSignIn } from './access/oidc.js';
import { PendingSignIns } from './access/pending-sign-ins.js';
import { sessionCookieName } from './http/gate.js';
import { OIDC_CALLBACK_PATH } from './access/oidc-config.js';
import { PipelineCatalog } from './experiments/catalog.js';
import { ExperimentEngine } from './experiments/engine.js';
import { startHubTimers } from './hub-timers.js';
import { upgradeHandler } from './upgrade.js';
import { openFileLimits } from '../common/open-files.js';

/** Below this open-file limit the hub says at start that it caps the agents it holds. */
const FEW_FILES = 4096;

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
  /** A PostgreSQL database to keep the store in, instead of the SQLite file in `dataDir` (issue 16). */
  postgres?: PostgresLocation;
  /** Session times and the failed sign-in limiter (tests shorten them); the clock. */
  access?: Omit<AccessOptions, 'store' | 'logger'>;
  /** The admin token's secret, from a file the operator gives (a Secret); without it the hub writes one on first start. */
  adminSecret?: string;
  /** Single sign-on: the discovered provider, and the callback URL registered with it (default: the hub's URL). */
  oidc?: { relyingParty: OidcSignIn; redirectUrl?: string };
  /** The protocol versions to speak (default all this code knows; [1] makes it behave as a version-1 hub, for tests). */
  protocolVersions?: readonly ProtocolVersion[];
  /**
   * An agent that runs an experiment this hub is not running is told to withdraw it (default true). false leaves
   * such an agent alone: for tests that send an agent assignments by hand.
   */
  withdrawUnknownExperiments?: boolean;
  /** Extra HTTP routes (the API and the page); return false to fall through to 404. */
  routes?: (hub: Hub, req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;
}

/** What a hub tells its listeners. */
export interface HubEvents {
  /** A report was newly stored (not a duplicate); also for one whose connection closed while it was stored. */
  report: [agentId: string, message: ReportMessage];
  /** An agent said hello on a connection (version 2: with where it stands with experiments). */
  hello: [agentId: string, connection: AgentConnection];
  /** An agent's word on an assignment (version 2). */
  status: [agentId: string, status: AssignmentStatus];
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
  /** The pipeline templates experiments may use: the built-ins and the uploaded ones. */
  catalog: PipelineCatalog;
  /** The experiments: created, rolled out, judged and ended here. */
  experiments: ExperimentEngine;
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

/** The store `options` name: a PostgreSQL database, or the SQLite file in the data directory. */
async function openStore(options: HubOptions, logger: Logger): Promise<Store> {
  if (options.postgres) {
    // The data directory holds no store then, but still the first admin token the hub may write.
    try {
      mkdirSync(options.dataDir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw new StoreOpenError(`cannot create the hub's data directory '${options.dataDir}' (${(error as NodeJS.ErrnoException).code ?? error})`);
    }
    const store = await openPostgresStore({ location: options.postgres, logger });
    logger.info({ store: options.postgres.display }, 'store: PostgreSQL');
    return store;
  }
  const file = path.join(options.dataDir, 'hub.db');
  // On the event loop, but for the comparison (a window thread): the writer and reader threads (sqlite-threads.ts)
  // measured slower here so far (BENCHMARKS.md, "Store engines").
  const store = await openSqliteHubStore({ file }, logger);
  logger.info({ store: file }, 'store: SQLite');
  return store;
}

/**
 * Starts the hub. Calling rules: `close()` once; it stops accepting, closes agent connections (1001),
 * flushes pending reports to the store, then closes the store.
 */
export async function startHub(options: HubOptions): Promise<Hub> {
  const logger = options.logger.child({ component: 'hub' });
  const store = options.store ?? (await openStore(options, logger));
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
    versions: options.protocolVersions ?? PROTOCOL_VERSIONS,
  };
  const access = new Access({ ...options.access, store: store.access, logger });
  let adminBootstrap: AdminBootstrap;
  let catalog: PipelineCatalog;
  let experiments: ExperimentEngine;
  try {
    adminBootstrap = await ensureAdmin(access, options.dataDir, options.adminSecret);
    catalog = new PipelineCatalog(store.experiments);
    experiments = await ExperimentEngine.open({ store, catalog, connections: byAgentId, access, logger, withdrawUnknown: options.withdrawUnknownExperiments ?? true });
  } catch (error) {
    await store.close();
    throw error;
  }
  if (adminBootstrap.made === 'file') {
    logger.warn({ file: adminBootstrap.file, token: adminBootstrap.name }, 'no admin credential: made one; its secret is in this file (mode 0600), not in any log');
  }
  const secureCookies = options.tls !== undefined || (options.oidc?.redirectUrl?.startsWith('https:') ?? false);
  const cookies = { secure: secureCookies, session: sessionCookieName(secureCookies) };
  const live = new LiveFeed(logger);
  const revalidateLive = () => live.revalidate((p) => access.stillValid(p));
  /** Live feed checks started by an 'ended' event (a failure is logged); closing awaits them before the store. */
  const revalidating = new Set<Promise<void>>();
  access.on('ended', () => {
    const run = revalidateLive().then(
      () => undefined,
      (error: unknown) => logger.error({ err: error }, 'closing the live feeds of ended credentials failed'),
    );
    revalidating.add(run);
    void run.finally(() => revalidating.delete(run));
  });
  const fleetView = new FleetView(store);
  events.on('report', (agentId, message) => fleetView.reportStored(agentId, message.report));
  events.on('report', (agentId, message) => live.reportStored(agentId, message.report.host.id, message.seq));
  events.on('report', (agentId, message) => experiments.onReport(agentId, message));
  events.on('hello', (agentId, connection) => experiments.onHello(agentId, connection));
  events.on('status', (agentId, status) => experiments.onStatus(agentId, status));
  // Other hub processes on the same store (replicas on PostgreSQL): their reports reach the pages here, their
  // experiments the agents here, their revocations the live feeds here.
  const peerSubscriptions = [
    store.peers.on('reports', (reports) => {
      for (const r of reports) {
        fleetView.storedElsewhere(r.agentId);
        live.reportStored(r.agentId, r.hostId, r.seq);
      }
    }),
    store.peers.on('experiments', (ids) => experiments.changedElsewhere(ids)),
    store.peers.on('access', () => revalidateLive()),
    store.peers.on('resync', () => {
      fleetView.forget();
      return Promise.all([experiments.resync(), revalidateLive()]);
    }),
  ];
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
  server.on('upgrade', upgradeHandler({ logger, wss, connections: allConnections, maxPendingAgents, live, access, sessionCookie: cookies.session }));

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

  const timers = startHubTimers({
    connections: allConnections,
    live,
    access,
    store,
    experiments,
    logger,
    revalidateLive,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    maintenanceMs: options.maintenanceMs ?? 60_000,
  });

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
    catalog,
    experiments,
    cookies,
    oidc: options.oidc
      ? { relyingParty: options.oidc.relyingParty, pending: new PendingSignIns(), redirectUrl: options.oidc.redirectUrl ?? `${scheme}://${shownHost}:${port}${OIDC_CALLBACK_PATH}` }
      : null,
    on: (event, listener) => events.on(event, listener),
    close() {
      closing ??= (async () => {
        ready = false;
        const timersStopped = timers.close();
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
        for (const unsubscribe of peerSubscriptions) unsubscribe();
        try {
          await closeAll('hub', [
            { name: 'timers', close: () => timersStopped },
            { name: 'agent WebSocket server', close: () => wss.close() },
            { name: 'ingest queue', close: () => queue.close() },
            { name: 'experiments', close: () => experiments.close() },
            { name: 'live feed checks', close: () => Promise.all(revalidating) },
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
  const files = openFileLimits();
  logger.info({ url: hub.url, agentUrl: hub.agentUrl, dataDir: options.dataDir, openFileLimit: files?.soft ?? null }, 'hub listening');
  if (files && files.soft < FEW_FILES) {
    logger.warn({ openFileLimit: files.soft }, 'this process may open few files: each agent connection is one, so the hub holds fewer agents than that at once; raise its hard limit (LimitNOFILE= in its unit, the container\'s nofile ulimit)');
  }
  return hub;
}
