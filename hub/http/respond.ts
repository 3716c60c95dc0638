// The hub's HTTP answers: security headers on every response, JSON bodies of the declared shapes.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiResponse, ErrorResponse, HealthResponse, ReadinessResponse } from './types.js';

export const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
};

/** The request's target as a URL, or null when it is not one (a hostile or broken client). */
export function requestUrl(req: IncomingMessage): URL | null {
  try {
    return new URL(req.url ?? '/', 'http://hub.invalid');
  } catch {
    return null;
  }
}

/** Every JSON body the hub answers with. */
export type JsonBody = ApiResponse | ErrorResponse | HealthResponse | ReadinessResponse;

export function sendJson(res: ServerResponse, status: number, body: JsonBody): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...SECURITY_HEADERS });
  res.end(text);
}
