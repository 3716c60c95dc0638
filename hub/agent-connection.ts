// One agent's WebSocket: authenticate, expect hello, then store each report durably and acknowledge it.
import type { IncomingMessage } from 'node:http';
import type { WebSocket, RawData } from 'ws';
import {
  CloseCode,
  parseAgentMessage,
  type CloseCodeName,
  type Hello,
  type HubMessage,
  type ProtocolVersion,
  type ReportMessage,
} from '../protocol/messages.js';
import type { Assignment } from '../protocol/assignment.js';
import type { Logger } from '../common/logger.js';
import { bearerToken, type TokenSet } from './auth.js';
import type { IngestQueue } from './ingest-queue.js';
import type { HelloOutcome, Store } from './store/types.js';
import type { Notifier } from '../common/notifier.js';
import type { HubEvents } from './server.js';

const MAX_CLOSE_REASON_BYTES = 123;

/** A close reason within the protocol's 123 bytes, cut at a character boundary. */
export function closeReason(text: string): string {
  if (Buffer.byteLength(text) <= MAX_CLOSE_REASON_BYTES) return text;
  let out = '';
  for (const ch of text) {
    if (Buffer.byteLength(out + ch) > MAX_CLOSE_REASON_BYTES - 3) break;
    out += ch;
  }
  return `${out}...`;
}

export interface AgentConnectionContext {
  store: Store;
  queue: IngestQueue;
  tokens: TokenSet;
  logger: Logger;
  /** Live connections by agent id; a newer connection for the same id replaces the older one. */
  byAgentId: Map<string, AgentConnection>;
  helloTimeoutMs: number;
  /** Token bucket per connection: sustained messages a second, and the burst allowed. */
  ratePerSecond: number;
  rateBurst: number;
  /** A client that does not read its acks is dropped when this much is queued for it. */
  maxBufferedBytes: number;
  /** Where a newly stored report, and an agent's word on an assignment, are announced. */
  events: Notifier<HubEvents>;
  /** The protocol versions this hub speaks (all of PROTOCOL_VERSIONS, unless a test makes it an older hub). */
  versions: readonly ProtocolVersion[];
}

/** Every message this hub sends, at the version the connection speaks. */
type Outgoing = HubMessage extends infer M ? (M extends HubMessage ? Omit<M, 'v'> : never) : never;

/** Each assignment's message text, while the assignment is in use (its run holds it). */
const ASSIGN_TEXTS = new WeakMap<Assignment, string>();

export class AgentConnection {
  readonly ws: WebSocket;
  readonly remote: string;
  readonly #ctx: AgentConnectionContext;
  #log: Logger;
  #hello: Hello | null = null;
  /** The connection's version: its hello's; before the hello, the newest this hub speaks. */
  #version: ProtocolVersion;
  #helloTimer: NodeJS.Timeout | null;
  #tokens: number;
  #refilledAt = Date.now();
  /** The agent sent something (a message or a ping of its own) since the last heartbeat: it needs no ping. */
  #heard = true;
  /** A ping was sent and its pong has not come. */
  #awaitingPong = false;
  #closed = false;
  /** Messages that came while the hello was being stored: handled, in order, once it is. */
  #held: [RawData, boolean][] | null = null;
  /** Kept to check again on every heartbeat: a token removed from the file ends the connection. */
  readonly #token: string | undefined;

  constructor(ws: WebSocket, req: IncomingMessage, ctx: AgentConnectionContext) {
    this.ws = ws;
    this.#ctx = ctx;
    this.remote = `${req.socket.remoteAddress}:${req.socket.remotePort}`;
    this.#log = ctx.logger.child({ connection: this.remote });
    this.#version = Math.max(...ctx.versions) as ProtocolVersion;
    this.#tokens = ctx.rateBurst;
    this.#helloTimer = setTimeout(() => this.refuse('helloTimeout', `no hello within ${ctx.helloTimeoutMs} ms`), ctx.helloTimeoutMs);
    ws.on('close', () => this.#onClose());
    ws.on('error', (error) => this.#log.warn({ err: error }, 'agent connection error'));
    ws.on('pong', () => (this.#awaitingPong = false));
    ws.on('ping', () => (this.#heard = true));
    this.#token = bearerToken(req.headers.authorization);
    if (!ctx.tokens.verify(this.#token)) {
      this.refuse('unauthorized', req.headers.authorization ? 'invalid token' : 'no bearer token');
      return;
    }
    ws.on('message', (data, isBinary) => this.#onMessage(data, isBinary));
  }

  get agentId(): string | null {
    return this.#hello?.agentId ?? null;
  }

  /** The hello the agent said (null before it). */
  get hello(): Hello | null {
    return this.#hello;
  }

  /** The agent speaks version 2 and said it takes experiments: the hub may send it assignments. */
  get manageable(): boolean {
    return this.#hello !== null && this.#version >= 2 && this.#hello.experiments?.accepts === true;
  }

  /** Why the hub may not send it assignments (null when it may, or before its hello). */
  get unmanageableReason(): string | null {
    if (this.#hello === null || this.manageable) return null;
    return this.#version < 2 ? 'a version-1 agent: it takes no experiments' : (this.#hello.experiments?.reason ?? 'it takes no experiments');
  }

  /**
   * Sends an assignment (false when the connection is closed or cannot carry one: a version-1 agent). A wave sends
   * the same assignment object to every host: its text is made once (version 2 is the only one that carries it).
   */
  assign(assignment: Assignment): boolean {
    if (this.#closed || this.#version < 2) return false;
    let text = ASSIGN_TEXTS.get(assignment);
    if (text === undefined) ASSIGN_TEXTS.set(assignment, (text = JSON.stringify({ type: 'assign', assignment, v: 2 } satisfies HubMessage)));
    return this.#sendText(text);
  }

  /** Tells the agent to go back to its own pair (false when the connection cannot carry it). */
  withdraw(experimentId: string, reason: string): boolean {
    if (this.#closed || this.#version < 2) return false;
    return this.#send({ type: 'withdraw', experimentId, reason });
  }

  /** Closes with a specific code, after logging why. */
  refuse(code: CloseCodeName, reason: string): void {
    if (this.#closed) return;
    this.#log.warn({ closeCode: CloseCode[code], reason, agentId: this.agentId }, `refusing agent connection: ${code}`);
    this.#send({ type: 'error', code, message: reason });
    this.#closeWith(CloseCode[code], `${code}: ${reason}`);
  }

  /** Waiting for its hello (it counts against the hub's limit of such connections). */
  get pending(): boolean {
    return this.#hello === null && !this.#closed;
  }

  /**
   * Heartbeat tick: a revoked token ends the connection. An agent heard from since the last tick is alive and is not
   * pinged (10,000 pings are 10,000 socket writes: ~40 ms of the loop each second of a 15-slice heartbeat); a silent
   * one is pinged, and dropped if it did not answer the previous tick's ping.
   */
  heartbeat(): void {
    if (this.#closed) return;
    if (!this.#ctx.tokens.verify(this.#token)) {
      this.refuse('unauthorized', 'token revoked');
      return;
    }
    if (this.#heard) {
      this.#heard = false;
      this.#awaitingPong = false;
      return;
    }
    if (this.#awaitingPong) {
      this.#log.warn({ agentId: this.agentId }, 'agent did not answer ping; dropping the connection');
      this.ws.terminate();
      return;
    }
    this.#awaitingPong = true;
    this.ws.ping();
  }

  #closeWith(code: number, reason: string): void {
    this.#closed = true;
    this.ws.close(code, closeReason(reason));
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  #onMessage(data: RawData, isBinary: boolean): void {
    if (this.#closed) return;
    this.#heard = true;
    if (this.#held) {
      if (this.#held.length >= this.#ctx.rateBurst) return this.refuse('rateLimited', `more than ${this.#ctx.rateBurst} messages before the hello was stored`);
      this.#held.push([data, isBinary]);
      return;
    }
    if (!this.#take()) return this.refuse('rateLimited', `more than ${this.#ctx.ratePerSecond} messages a second`);
    if (isBinary) return this.refuse('malformed', 'binary frames are not part of the protocol');
    const parsed = parseAgentMessage(data.toString(), this.#hello ? [this.#version] : this.#ctx.versions);
    if (!parsed.ok) return this.refuse(parsed.code, parsed.reason);
    const message = parsed.message;
    if (message.type === 'hello') {
      if (this.#hello) return this.refuse('unexpected', 'a second hello');
      this.#onHello(message);
      return;
    }
    if (!this.#hello) return this.refuse('unexpected', `${message.type} before hello`);
    if (message.type === 'status') {
      this.#ctx.events.emit('status', this.#hello.agentId, message.status);
      return;
    }
    if (message.report.host.id !== this.#hello.hostId) {
      return this.refuse('malformed', `report for host '${message.report.host.id.slice(0, 64)}' on a connection that said hello as '${this.#hello.hostId}'`);
    }
    this.#onReport(message);
  }

  #onHello(hello: Hello): void {
    if (this.#helloTimer) clearTimeout(this.#helloTimer);
    this.#helloTimer = null;
    this.#log = this.#ctx.logger.child({ connection: this.remote, agentId: hello.agentId, hostId: hello.hostId });
    // Until the store has the agent (its stream, its high-water mark), nothing after the hello is handled.
    this.#held = [];
    this.#ctx.store.upsertAgent(hello, Date.now()).then(
      (outcome) => {
        const held = this.#held ?? [];
        this.#held = null;
        if (this.#closed) return;
        this.#helloStored(hello, outcome);
        for (const [data, isBinary] of held) this.#onMessage(data, isBinary);
      },
      (error: unknown) => {
        this.#held = null;
        this.#log.error({ err: error }, 'cannot record the agent');
        this.refuse('storage', 'the hub cannot store data right now; try again later');
      },
    );
  }

  #helloStored(hello: Hello, outcome: HelloOutcome): void {
    this.#hello = hello;
    this.#version = hello.v as ProtocolVersion;
    const previous = this.#ctx.byAgentId.get(hello.agentId);
    if (previous && previous !== this) previous.refuse('replaced', 'a newer connection for this agent id');
    this.#ctx.byAgentId.set(hello.agentId, this);
    if (outcome.sequenceRestarted) {
      this.#log.warn({ streamId: hello.streamId }, 'agent started a new sequence (its state was lost); counting its reports from 1 again');
    }
    this.#log.info(
      { lastSeq: outcome.agent.lastSeq, variants: hello.variants.map((v) => v.name), protocol: hello.v, manageable: this.manageable },
      'agent connected',
    );
    this.#ctx.events.emit('hello', hello.agentId, this);
  }

  #onReport(message: ReportMessage): void {
    const agentId = this.#hello!.agentId;
    this.#ctx.queue.submit({ agentId, message, receivedAt: Date.now() }).then(
      (outcome) => {
        // Listeners hear of every stored report, also one whose connection closed while it was being stored.
        if (outcome === 'stored') this.#ctx.events.emit('report', agentId, message);
        if (!this.#closed) this.#send({ type: 'ack', seq: message.seq });
      },
      // Acks are cumulative: once one report is not stored, no later one may be acknowledged on this
      // connection. Closing it makes the agent reconnect and send everything from the first unstored report.
      () => this.refuse('storage', `report ${message.seq} not stored; the hub cannot store data right now`),
    );
  }

  #send(message: Outgoing): boolean {
    return this.#sendText(JSON.stringify({ ...message, v: this.#version }));
  }

  #sendText(text: string): boolean {
    if (this.ws.readyState !== this.ws.OPEN) return false;
    if (this.ws.bufferedAmount > this.#ctx.maxBufferedBytes) {
      // It reads nothing, so nothing more is queued for it: the close frame goes after what it has not read, and
      // #closeWith ends the socket 2 s later whether or not the frame got through.
      this.#log.warn({ closeCode: CloseCode.notReading, buffered: this.ws.bufferedAmount, agentId: this.agentId }, 'refusing agent connection: notReading');
      this.#closeWith(CloseCode.notReading, `notReading: more than ${this.#ctx.maxBufferedBytes} bytes queued`);
      return false;
    }
    this.ws.send(text);
    return true;
  }

  #take(): boolean {
    const now = Date.now();
    this.#tokens = Math.min(this.#ctx.rateBurst, this.#tokens + ((now - this.#refilledAt) / 1000) * this.#ctx.ratePerSecond);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #onClose(): void {
    this.#closed = true;
    if (this.#helloTimer) clearTimeout(this.#helloTimer);
    const id = this.agentId;
    if (id !== null && this.#ctx.byAgentId.get(id) === this) this.#ctx.byAgentId.delete(id);
    if (id !== null) this.#log.info('agent disconnected');
  }
}
