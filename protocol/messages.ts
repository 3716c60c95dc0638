// The agent↔hub WebSocket protocol, versions 1 and 2: messages, validation, limits and close codes (docs/protocol.md).
import { z } from 'zod';
import { agentReportSchema, hostKindSchema, labelsSchema } from './report.js';
import { assignmentSchema, assignmentStatusSchema, experimentIdSchema, helloExperimentsSchema } from './assignment.js';

/** The newest version this code speaks. Version 2 adds experiments: assign, withdraw, status, and the hello's part. */
export const PROTOCOL_VERSION = 2;
/** Every version this code speaks; a connection speaks the one its hello names, in every message. */
export const PROTOCOL_VERSIONS: readonly ProtocolVersion[] = [1, 2];
export type ProtocolVersion = 1 | 2;
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
  /** Version 2: whether this agent takes experiments from the hub, and where it stands with one. */
  experiments: helloExperimentsSchema.optional(),
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
/** Version 2, hub → agent: run this experiment's pair (or, for a newer revision, its changed terms). */
export const assignMessageSchema = z.object({ type: z.literal('assign'), v: z.literal(2), assignment: assignmentSchema });
/** Version 2, hub → agent: go back to your own pair. */
export const withdrawMessageSchema = z.object({
  type: z.literal('withdraw'),
  v: z.literal(2),
  experimentId: experimentIdSchema,
  reason: z.string().max(512),
});
/** Version 2, agent → hub: where it stands with an assignment. */
export const statusMessageSchema = z.object({ type: z.literal('status'), v: z.literal(2), status: assignmentStatusSchema });

export type Hello = z.infer<typeof helloSchema>;
export type ReportMessage = z.infer<typeof reportMessageSchema>;
export type Ack = z.infer<typeof ackSchema>;
export type ErrorMessage = z.infer<typeof errorMessageSchema>;
export type AssignMessage = z.infer<typeof assignMessageSchema>;
export type WithdrawMessage = z.infer<typeof withdrawMessageSchema>;
export type StatusMessage = z.infer<typeof statusMessageSchema>;
export type AgentMessage = Hello | ReportMessage | StatusMessage;
export type HubMessage = Ack | ErrorMessage | AssignMessage | WithdrawMessage;

export type ParseResult<T> = { ok: true; message: T } | { ok: false; code: CloseCodeName; reason: string };

const agentMessages = { hello: helloSchema, report: reportMessageSchema, status: statusMessageSchema } as const;
const hubMessages = { ack: ackSchema, error: errorMessageSchema, assign: assignMessageSchema, withdraw: withdrawMessageSchema } as const;
/** The messages a version-1 connection may carry: the others are unknown there. */
const V1_TYPES: ReadonlySet<string> = new Set(['hello', 'report', 'ack', 'error']);

/** A short, safe description of a value a peer sent: never stringifies it whole (it may be nested thousands deep). */
function describe(value: unknown): string {
  if (value === undefined) return 'missing';
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return Array.isArray(value) ? 'an array' : 'an object';
}

function parse<T>(data: string, schemas: Record<string, z.ZodType>, versions: readonly number[]): ParseResult<T> {
  try {
    return parseOrThrow<T>(data, schemas, versions);
  } catch (error) {
    // Validation is meant never to throw; should a library still do so (a stack overflow on a pathological value),
    // the message is refused as malformed rather than taking the connection's owner down with it.
    return { ok: false, code: 'malformed', reason: `invalid message (${error instanceof Error ? error.name : 'error'})` };
  }
}

function parseOrThrow<T>(data: string, schemas: Record<string, z.ZodType>, versions: readonly number[]): ParseResult<T> {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return { ok: false, code: 'malformed', reason: 'not JSON' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, code: 'malformed', reason: 'not a JSON object' };
  const { type, v } = value as { type?: unknown; v?: unknown };
  if (typeof v !== 'number' || !versions.includes(v)) {
    return { ok: false, code: 'unsupportedVersion', reason: `protocol version ${describe(v)}; this side speaks ${versions.join(' and ')}` };
  }
  const known = typeof type === 'string' && Object.hasOwn(schemas, type) && (v !== 1 || V1_TYPES.has(type));
  const schema = known ? schemas[type as string] : undefined;
  if (schema === undefined) return { ok: false, code: 'unexpected', reason: `unknown message type ${describe(type)}` };
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    return { ok: false, code: 'malformed', reason: `${type}: ${issue.path.join('.') || '(message)'}: ${issue.message}`.slice(0, 300) };
  }
  return { ok: true, message: result.data as T };
}

/**
 * Validates a message from an agent (the hub's side). Never throws. `versions`: what the connection accepts — every
 * version before its hello, then the hello's alone.
 */
export function parseAgentMessage(data: string, versions: readonly number[] = PROTOCOL_VERSIONS): ParseResult<AgentMessage> {
  return parse<AgentMessage>(data, agentMessages, versions);
}

/** Validates a message from the hub (the agent's side): of the version the agent's hello named. Never throws. */
export function parseHubMessage(data: string, versions: readonly number[] = PROTOCOL_VERSIONS): ParseResult<HubMessage> {
  return parse<HubMessage>(data, hubMessages, versions);
}
