// The agent's own health endpoint: /healthz (alive), /readyz (measuring, or waiting for its window), /status (JSON).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PortInUseError } from './errors.js';
import { ListenError } from '../common/errors.js';
import type { AssignmentStatus } from '../protocol/assignment.js';
import type { Logger } from '../common/logger.js';
import type { CollectorStatus } from './supervisor/collector-process.js';

export interface AgentStatus {
  version: string;
  /** 'idle' between scheduled windows, 'running' inside one, 'closed' while stopping. */
  state: 'idle' | 'running' | 'closed';
  collectors: CollectorStatus[];
  lastReportAt: string | null;
  hub: { state: string; pending: number; dropped: number; acknowledged: number } | null;
  /** The hub's experiment whose pair runs now (null: the agent's own pair), and the latest word on an assignment. */
  experiment: { running: { id: string; revision: number } | null; last: AssignmentStatus | null };
}

export interface Readiness {
  ready: boolean;
  reason: string;
}

/** Ready while every collector of the open window runs, or while waiting for a scheduled window. */
export function readiness(status: AgentStatus): Readiness {
  if (status.state === 'closed') return { ready: false, reason: 'stopping' };
  if (status.state === 'idle') return { ready: true, reason: 'waiting for the next experiment window' };
  const notRunning = status.collectors.filter((c) => c.state !== 'running');
  if (notRunning.length > 0) return { ready: false, reason: notRunning.map((c) => `${c.variant} is ${c.state}`).join('; ') };
  return { ready: true, reason: 'both collectors running' };
}

export interface HealthServerOptions {
  host: string;
  /** 0 picks a free port. */
  port: number;
  status: () => AgentStatus;
  logger: Logger;
}

export interface HealthServer {
  port: number;
  close(): Promise<void>;
}

function send(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  res.end(`${JSON.stringify(body)}\n`);
}

function handle(options: HealthServerOptions, req: IncomingMessage, res: ServerResponse): void {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return send(res, 405, { error: 'method_not_allowed' });
  }
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') return send(res, 200, { status: 'ok' });
  if (path === '/readyz') {
    const r = readiness(options.status());
    return send(res, r.ready ? 200 : 503, { status: r.ready ? 'ready' : 'not ready', reason: r.reason });
  }
  if (path === '/status') return send(res, 200, options.status());
  send(res, 404, { error: 'not_found', paths: ['/healthz', '/readyz', '/status'] });
}

/** Starts listening; a taken port is a PortInUseError naming it. Calling rules: `close()` once. */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const server: Server = createServer((req, res) => handle(options, req, res));
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' || error.code === 'EACCES' ? new PortInUseError(null, 'health endpoint', options.port, options.host) : new ListenError('agent health endpoint', options.host, options.port, error)),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  options.logger.info({ host: options.host, port }, 'agent health endpoint listening (/healthz, /readyz, /status)');
  return {
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
