// The page's live channel: a read-only WebSocket that says "new reports stored" (batched), so pages refresh.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../common/logger.js';
import type { Principal } from './access/access.js';
import type { LiveMessage } from './http/types.js';

export const LIVE_PATH = '/api/v1/live';
/** The close code of a live feed whose session or token ended (signed out, revoked, expired): sign in again. */
export const LIVE_SIGNED_OUT = 4401;
/** Pages connected at once; one more is refused with HTTP 503 before the upgrade. */
export const MAX_LIVE_CLIENTS = 500;
/** Pages one principal (a token, a session) may have connected at once, so that one credential cannot take every place. */
export const MAX_LIVE_PER_PRINCIPAL = 10;
const BATCH_MS = 250;
const MAX_BUFFERED = 256 * 1024;

/**
 * Calling rules: `upgrade()` for each request to LIVE_PATH whose principal may read, `reportStored()` for each stored
 * report, `revalidate()` when credentials may have ended (several may run at once; await it or catch its failure),
 * `close()` once. Browsers only listen: anything they send closes their connection.
 */
export class LiveFeed {
  readonly #wss = new WebSocketServer({ noServer: true, maxPayload: 1024, perMessageDeflate: false });
  /** Each page's socket and who opened it. */
  readonly #clients = new Map<WebSocket, Principal>();
  readonly #logger: Logger;
  #pending = new Map<string, { hostId: string; seq: number }>();
  /** Pages that answered the last ping. */
  readonly #alive = new Set<WebSocket>();
  #timer: NodeJS.Timeout | null = null;

  constructor(logger: Logger) {
    this.#logger = logger.child({ component: 'live' });
  }

  get clients(): number {
    return this.#clients.size;
  }

  /** Pages the next heartbeat keeps: those that answered the last ping, or joined since. */
  get responsive(): number {
    return this.#alive.size;
  }

  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer, principal: Principal): void {
    if (this.#clients.size >= MAX_LIVE_CLIENTS) {
      socket.end('HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    let mine = 0;
    for (const other of this.#clients.values()) if (samePrincipal(other, principal)) mine += 1;
    if (mine >= MAX_LIVE_PER_PRINCIPAL) {
      socket.end('HTTP/1.1 429 Too Many Requests\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => {
      this.#clients.set(ws, principal);
      this.#alive.add(ws);
      ws.on('pong', () => this.#alive.add(ws));
      ws.on('message', () => ws.close(1008, 'the live feed is read-only'));
      ws.on('error', () => ws.terminate());
      ws.once('close', () => {
        this.#clients.delete(ws);
        this.#alive.delete(ws);
      });
      ws.send(encode({ type: 'hello', clients: this.#clients.size }));
    });
  }

  /**
   * Checks every feed's principal (all at once) and closes those that no longer hold (LIVE_SIGNED_OUT), each as soon
   * as its check answers; resolves with how many it closed. A feed that closed meanwhile (the page left, the heartbeat,
   * another revalidation, close()) is left alone. A check that fails leaves its feed open; the first failure rejects,
   * once every check has settled.
   */
  async revalidate(stillValid: (principal: Principal) => Promise<boolean>): Promise<number> {
    let ended = 0;
    const checks = [...this.#clients].map(async ([ws, principal]) => {
      if (await stillValid(principal)) return;
      if (this.#clients.get(ws) !== principal || ws.readyState !== ws.OPEN) return;
      ended += 1;
      this.#clients.delete(ws);
      this.#alive.delete(ws);
      ws.close(LIVE_SIGNED_OUT, 'signed out');
      setTimeout(() => ws.terminate(), 2000).unref();
    });
    const failed = (await Promise.allSettled(checks)).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return ended;
  }

  /** Heartbeat tick: a page gone without closing (a laptop lid, a dropped network) is let go. */
  heartbeat(): void {
    for (const ws of this.#clients.keys()) {
      if (!this.#alive.has(ws)) {
        ws.terminate();
        continue;
      }
      this.#alive.delete(ws);
      ws.ping();
    }
  }

  reportStored(agentId: string, hostId: string, seq: number): void {
    this.#pending.set(agentId, { hostId, seq });
    this.#timer ??= setTimeout(() => this.#flush(), BATCH_MS);
  }

  #flush(): void {
    this.#timer = null;
    const hosts = [...new Set([...this.#pending.values()].map((p) => p.hostId))];
    this.#pending = new Map();
    const text = encode({ type: 'reports', hosts, at: new Date().toISOString() });
    for (const ws of this.#clients.keys()) {
      if (ws.bufferedAmount > MAX_BUFFERED) {
        this.#logger.debug('dropping a page that does not read its live feed');
        ws.terminate();
        continue;
      }
      ws.send(text);
    }
  }

  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    for (const ws of this.#clients.keys()) ws.close(1001, 'hub shutting down');
    this.#wss.close();
  }
}

const samePrincipal = (a: Principal, b: Principal) =>
  a.kind === 'token' ? b.kind === 'token' && a.token.name === b.token.name : b.kind === 'session' && a.session.idHash === b.session.idHash;

/** The one way a live message is written, so each is checked against the page's LiveMessage type. */
function encode(message: LiveMessage): string {
  return JSON.stringify(message);
}
