// The agent's connection to the hub: hello, then the outbox in order; reconnects with backoff; detects dead links.
import WebSocket from 'ws';
import type { Logger } from '../../common/logger.js';
import { CallingRuleError } from '../../common/errors.js';
import { Backoff } from '../supervisor/backoff.js';
import { CloseCode, PROTOCOL_VERSION, parseHubMessage, type Hello, type ProtocolVersion } from '../../protocol/messages.js';
import type { Assignment, AssignmentStatus, HelloExperiments } from '../../protocol/assignment.js';
import { Notifier, type Listener } from '../../common/notifier.js';
import type { Outbox } from './outbox.js';

/** What the hub asks of this agent (protocol version 2). */
export interface HubClientEvents {
  assign: [assignment: Assignment];
  withdraw: [experimentId: string, reason: string];
}

export interface HubClientOptions {
  url: string;
  token: string;
  /** The hello to send; the stream id comes from the outbox. */
  hello: Omit<Hello, 'type' | 'v' | 'streamId' | 'experiments'>;
  /** The hello's experiment part, read at each connection (where the agent stands changes). */
  experiments?: () => HelloExperiments;
  outbox: Outbox;
  logger: Logger;
  /** PEM CA bundle to verify a wss:// hub with (else the system's). */
  ca?: Buffer;
  /** Accept a hub certificate that cannot be verified. Off unless set explicitly. */
  insecureSkipVerify?: boolean;
  backoff?: Backoff;
  pingIntervalMs?: number;
  /** No pong within this after a ping: the connection is dead (a silent network cut). */
  pongTimeoutMs?: number;
  maxInFlight?: number;
}

export type HubClientState = 'connecting' | 'connected' | 'backoff' | 'closed';

/**
 * Calling rules: `start()` once; `notify()` after each `outbox.append()`; `close()` once (resolves when
 * the socket is closed and no timer is left). `state`, `version` and `acknowledged` tell where it is.
 * Versions: each connection says hello at version 2; a hub that refuses it (4426: a version-1 hub) is spoken
 * to at version 1 on the next connection, and at 2 again after any other disconnect (the hub may be upgraded).
 * Events (HubClientEvents): an assignment or a withdrawal from the hub, already validated.
 */
export class HubClient {
  readonly #o: Required<Omit<HubClientOptions, 'ca' | 'insecureSkipVerify' | 'backoff' | 'experiments'>> &
    Pick<HubClientOptions, 'ca' | 'insecureSkipVerify' | 'experiments'>;
  readonly #events: Notifier<HubClientEvents>;
  #version: ProtocolVersion = PROTOCOL_VERSION;
  readonly #backoff: Backoff;
  readonly #log: Logger;
  #ws: WebSocket | null = null;
  #state: HubClientState = 'closed';
  #lastSent = 0;
  #retryTimer: NodeJS.Timeout | null = null;
  #pingTimer: NodeJS.Timeout | null = null;
  #pongTimer: NodeJS.Timeout | null = null;
  #closing = false;
  #started = false;
  acknowledged = 0;

  constructor(options: HubClientOptions) {
    this.#o = { pingIntervalMs: 10_000, pongTimeoutMs: 10_000, maxInFlight: 32, ...options };
    this.#backoff = options.backoff ?? new Backoff();
    this.#log = options.logger.child({ component: 'hub-client', hub: options.url });
    this.#events = new Notifier('hub client', this.#log);
  }

  get state(): HubClientState {
    return this.#state;
  }

  /** The protocol version of the current (or next) connection. */
  get version(): ProtocolVersion {
    return this.#version;
  }

  on<K extends keyof HubClientEvents>(event: K, listener: Listener<HubClientEvents[K]>): () => void {
    return this.#events.on(event, listener);
  }

  /** Tells the hub where this agent stands with an assignment; false when not connected at version 2 (the next hello says it). */
  sendStatus(status: AssignmentStatus): boolean {
    const ws = this.#ws;
    if (this.#state !== 'connected' || this.#version < 2 || !ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify({ type: 'status', v: 2, status }));
    return true;
  }

  start(): void {
    if (this.#started) throw new CallingRuleError('PHX_CALLING_RULE', 'hub client: start() may be called only once');
    this.#started = true;
    this.#connect();
  }

  /** A report was appended to the outbox: send it now if connected. */
  notify(): void {
    if (this.#state === 'connected') this.#pump();
  }

  #setState(state: HubClientState): void {
    if (this.#state === state) return;
    this.#state = state;
  }

  #connect(): void {
    if (this.#closing) return;
    this.#setState('connecting');
    const ws = new WebSocket(this.#o.url, {
      headers: { authorization: `Bearer ${this.#o.token}` },
      handshakeTimeout: 10_000,
      maxPayload: 1024 * 1024,
      perMessageDeflate: false,
      ...(this.#o.ca ? { ca: this.#o.ca } : {}),
      rejectUnauthorized: this.#o.insecureSkipVerify !== true,
    });
    this.#ws = ws;
    ws.on('open', () => {
      this.#lastSent = 0;
      const experiments = this.#version >= 2 && this.#o.experiments ? { experiments: this.#o.experiments() } : {};
      ws.send(JSON.stringify({ type: 'hello', v: this.#version, ...this.#o.hello, streamId: this.#o.outbox.streamId, ...experiments }));
      this.#setState('connected');
      this.#log.info({ pending: this.#o.outbox.size, protocol: this.#version }, 'connected to the hub');
      this.#startPing(ws);
      this.#pump();
    });
    ws.on('message', (data) => this.#onMessage(data.toString()));
    ws.on('pong', () => {
      if (this.#pongTimer) clearTimeout(this.#pongTimer);
      this.#pongTimer = null;
    });
    ws.on('error', (error) => this.#log.debug({ err: error }, 'hub connection error'));
    ws.on('unexpected-response', (_req, res) => {
      this.#log.warn({ status: res.statusCode }, 'the hub refused the WebSocket upgrade');
      ws.terminate();
    });
    ws.on('close', (code, reason) => this.#onClose(ws, code, reason.toString()));
  }

  #onMessage(text: string): void {
    const parsed = parseHubMessage(text, [this.#version]);
    if (!parsed.ok) {
      this.#log.warn({ reason: parsed.reason }, 'malformed message from the hub; reconnecting');
      this.#ws?.terminate();
      return;
    }
    const message = parsed.message;
    if (message.type === 'ack') {
      this.#backoff.reset();
      this.#o.outbox.ack(message.seq);
      this.acknowledged = Math.max(this.acknowledged, message.seq);
      this.#pump();
    } else if (message.type === 'assign') {
      this.#events.emit('assign', message.assignment);
    } else if (message.type === 'withdraw') {
      this.#events.emit('withdraw', message.experimentId, message.reason);
    } else {
      this.#log.warn({ code: message.code, message: message.message }, 'the hub reported an error');
    }
  }

  /** Sends pending reports in order, keeping at most maxInFlight unacknowledged. */
  #pump(): void {
    const ws = this.#ws;
    if (!ws || ws.readyState !== WebSocket.OPEN) return;
    const inFlight = Math.max(0, this.#lastSent - this.acknowledged);
    const room = this.#o.maxInFlight - inFlight;
    if (room <= 0) return;
    for (const message of this.#o.outbox.pending(this.#lastSent, room)) {
      // The outbox may hold reports made while another version was spoken: each goes at this connection's.
      ws.send(JSON.stringify(message.v === this.#version ? message : { ...message, v: this.#version }));
      this.#lastSent = message.seq;
    }
  }

  #startPing(ws: WebSocket): void {
    this.#stopPing();
    this.#pingTimer = setInterval(() => {
      if (this.#pongTimer) return; // still waiting for the previous one
      ws.ping();
      this.#pongTimer = setTimeout(() => {
        this.#log.warn({ pongTimeoutMs: this.#o.pongTimeoutMs }, 'no pong from the hub; the connection is dead');
        ws.terminate();
      }, this.#o.pongTimeoutMs);
    }, this.#o.pingIntervalMs);
  }

  #stopPing(): void {
    if (this.#pingTimer) clearInterval(this.#pingTimer);
    if (this.#pongTimer) clearTimeout(this.#pongTimer);
    this.#pingTimer = null;
    this.#pongTimer = null;
  }

  #onClose(ws: WebSocket, code: number, reason: string): void {
    if (this.#ws !== ws) return;
    this.#ws = null;
    this.#stopPing();
    if (this.#closing) {
      this.#setState('closed');
      return;
    }
    // Refused for good (logged as an error): a wrong token, or a hub that speaks not even version 1.
    const refused = code === CloseCode.unauthorized || (code === CloseCode.unsupportedVersion && this.#version === 1);
    if (code === CloseCode.unsupportedVersion && this.#version > 1) {
      this.#version = 1;
      this.#log.warn({ code, reason }, 'the hub speaks an older protocol; speaking version 1 to it (no experiments)');
    } else if (code !== CloseCode.unsupportedVersion) {
      this.#version = PROTOCOL_VERSION;
    }
    const wait = this.#backoff.next();
    (refused ? this.#log.error.bind(this.#log) : this.#log.warn.bind(this.#log))(
      { code, reason, retryInMs: wait, pending: this.#o.outbox.size },
      refused ? 'the hub refused this agent; check the token and versions' : 'disconnected from the hub; reconnecting',
    );
    this.#setState('backoff');
    this.#retryTimer = setTimeout(() => {
      this.#retryTimer = null;
      this.#connect();
    }, wait);
  }

  async close(): Promise<void> {
    this.#closing = true;
    if (this.#retryTimer) clearTimeout(this.#retryTimer);
    this.#retryTimer = null;
    this.#stopPing();
    const ws = this.#ws;
    if (ws && ws.readyState !== WebSocket.CLOSED) {
      const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close(CloseCode.normal, 'agent stopping');
      const force = setTimeout(() => ws.terminate(), 2000);
      await closed;
      clearTimeout(force);
    }
    this.#ws = null;
    this.#setState('closed');
    this.#events.clear();
  }
}
