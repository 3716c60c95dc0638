// The agent↔hub WebSocket protocol, version 1: messages, validation, limits and close codes (docs/protocol.md).
import { z } from 'zod';
import { agentReportSchema, hostKindSchema, labelsSchema } from './report.js';

export const PROTOCOL_VERSION = 1;
/** The WebSocket path agents connect to. */
export const AGENT_PATH = '/ws/agent';
/** Largest message either side accepts; a report is a few KiB. */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

/** Close codes the hub uses (4000-4999 are the application's). */
export const CloseCode = {
  /** Normal: the hub or agent is shutting down. */
  normal: 1000,
  goingAway: 1001,
  /** ws closes with this itself when a message exceeds MAX_MESSAGE_BYTES. */
  tooBig: 1009,
  /** Too many connections are waiting to say hello: come back later (the agent's backoff does). */
  tryAgainLater: 1013,
  unauthorized: 4401,
  /** Not JSON, or not a valid message. */
  malformed: 4400,
  /** A protocol version this hub does not speak. */
  unsupportedVersion: 4426,
  /** A report before hello, a second hello, an unknown type. */
  unexpected: 4409,
  /** No hello within the hello timeout. */
  helloTimeout: 4408,
  /** Too many messages too fast. */
  rateLimited: 4429,
  /** The agent does not read what the hub sends it (its acks pile up past the hub's bound). */
  notReading: 4413,
  /** Another connection took over this agent id. */
  replaced: 4410,
  /** The hub could not store what it was sent (the agent keeps its reports and sends them again). */
  storage: 1011,
} as const;
export type CloseCodeName = keyof typeof CloseCode;

const agentId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, { error: 'agentId: 1-128 of A-Z a-z 0-9 _ . : -' });
const isoTime = z.iso.datetime({ offset: true });

export const helloSchema = z.object({
  type: z.literal('hello'),
  v: z.number().int(),
  agentId,
  hostId: z.string().min(1).max(253),
  hostKind: hostKindSchema,
  labels: labelsSchema,
  agentVersion: z.string().min(1).max(64),
  /**
   * Names the agent's sequence: made when its sequence counter starts at 1 and kept with it. A new stream id
   * (the agent's state was lost) tells the hub to start the agent's high-water mark again.
   */
  streamId: z.string().regex(/^[A-Za-z0-9_-]{8,64}$/, { error: 'streamId: 8-64 of A-Z a-z 0-9 _ -' }),
  variants: z
    .array(z.object({ name: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/), configHash: z.string().regex(/^[0-9a-f]{16}$/) }))
    .length(2),
});

export const reportMessageSchema = z.object({
  type: z.literal('report'),
  v: z.number().int(),
  seq: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  /** The experiment window this measurement belongs to: when it opened, and the interval measured. */
  window: z.object({ openedAt: isoTime, from: isoTime, to: isoTime }),
  report: agentReportSchema,
});

export const ackSchema = z.object({ type: z.literal('ack'), v: z.number().int(), seq: z.number().int().min(1) });
export const errorMessageSchema = z.object({ type: z.literal('error'), v: z.number().int(), code: z.string().max(64), message: z.string().max(1024) });

export type Hello = z.infer<typeof helloSchema>;
export type ReportMessage = z.infer<typeof reportMessageSchema>;
export type Ack = z.infer<typeof ackSchema>;
export type ErrorMessage = z.infer<typeof errorMessageSchema>;
export type AgentMessage = Hello | ReportMessage;
export type HubMessage = Ack | ErrorMessage;

export type ParseResult<T> = { ok: true; message: T } | { ok: false; code: CloseCodeName; reason: string };

const agentMessages = { hello: helloSchema, report: reportMessageSchema } as const;
const hubMessages = { ack: ackSchema, error: errorMessageSchema } as const;

/** A short, safe description of a value a peer sent: never stringifies it whole (it may be nested thousands deep). */
function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

function parse<T>(data: string, schemas: Record<string, z.ZodType>): ParseResult<T> {
  try {
    return parseOrThrow<T>(data, schemas);
  } catch (error) {
    // Validation is meant never to throw; should a library still do so (a stack overflow on a pathological value),
    // the message is refused as malformed rather than taking the connection's owner down with it.
    return { ok: false, code: 'malformed', reason: `invalid message (${error instanceof Error ? error.name : 'error'})` };
  }
}

function parseOrThrow<T>(data: string, schemas: Record<string, z.ZodType>): ParseResult<T> {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { ok: false, code: 'malformed', reason: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, code: 'malformed', reason: 'not a JSON object' };
  const { type, v } = value as { type?: unknown; v?: unknown };
  if (v !== PROTOCOL_VERSION) {
    return { ok: false, code: 'unsupportedVersion', reason: `protocol version ${describe(v)}; this side speaks ${PROTOCOL_VERSION}` };
  }
  const schema = typeof type === 'string' && Object.hasOwn(schemas, type) ? schemas[type] : undefined;
  if (schema === undefined) return { ok: false, code: 'unexpected', reason: `unknown message type ${describe(type)}` };
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return { ok: false, code: 'malformed', reason: `${type}: ${issue.path.join('.') || '(message)'}: ${issue.message}`.slice(0, 300) };
  }
  return { ok: true, message: result.data as T };
}

/** Validates a message from an agent (the hub's side). Never throws. */
export function parseAgentMessage(data: string): ParseResult<AgentMessage> {
  return parse<AgentMessage>(data, agentMessages);
}

/** Validates a message from the hub (the agent's side). Never throws. */
export function parseHubMessage(data: string): ParseResult<HubMessage> {
  return parse<HubMessage>(data, hubMessages);
}
