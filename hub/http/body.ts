// Reads a request's JSON body: bounded in size, declared as JSON, parsed; each refusal names what was wrong.
import type { IncomingMessage } from 'node:http';
import { HttpRequestError } from '../errors.js';

/** The largest body the API reads (a sign-in, a token request); an experiment or template gets its own bound. */
export const MAX_BODY_BYTES = 16 * 1024;

export async function readJson(req: IncomingMessage, maxBytes = MAX_BODY_BYTES): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/json') throw new HttpRequestError('unsupported_media_type', `the body must be application/json, got '${type.slice(0, 60) || 'nothing'}'`);
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw new HttpRequestError('payload_too_large', `the body is ${declared} bytes; at most ${maxBytes} are read`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw new HttpRequestError('payload_too_large', `the body is over ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
  } catch (error) {
    throw new HttpRequestError('bad_request', `the body is not JSON (${(error as Error).message.slice(0, 100)})`);
  }
}

/** The body as an object with exactly the allowed keys; a missing required one, an extra one or a non-object is a 400. */
export function fields(body: unknown, required: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new HttpRequestError('bad_request', 'the body must be a JSON object');
  const record = body as Record<string, unknown>;
  const unknown = Object.keys(record).filter((k) => !required.includes(k) && !optional.includes(k));
  if (unknown.length > 0) throw new HttpRequestError('bad_request', `unknown field '${unknown[0]!.slice(0, 60)}' (allowed: ${[...required, ...optional].join(', ')})`);
  const missing = required.find((k) => record[k] === undefined);
  if (missing) throw new HttpRequestError('bad_request', `the field '${missing}' is required`);
  return record;
}

/** A string field, bounded; anything else is a 400 naming the field. */
export function stringField(record: Record<string, unknown>, key: string, max = 512): string {
  const value = record[key];
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new HttpRequestError('bad_request', `'${key}' must be a string of 1-${max} characters`);
  }
  return value;
}
