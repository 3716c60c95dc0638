// A bare WebSocket agent for hub tests: connect with headers, send, and read acks and the close code.
import { once } from 'node:events';
import WebSocket from 'ws';
import type { Hello, ReportMessage } from '../../protocol/messages.js';
import { sampleReport } from '../fixtures/report.js';

export interface TestSocket {
  ws: WebSocket;
  messages: Record<string, unknown>[];
  closed: Promise<{ code: number; reason: string }>;
  waitForMessage(match: (m: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

export async function openSocket(url: string, token?: string, options: WebSocket.ClientOptions = {}): Promise<TestSocket> {
  const ws = new WebSocket(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, ...options });
  const messages: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data) => {
    messages.push(JSON.parse(data.toString()) as Record<string, unknown>);
    for (const w of waiters) w();
  });
  const closed = once(ws, 'close').then(([code, reason]) => ({ code: code as number, reason: String(reason) }));
  ws.on('error', () => undefined);
  await Promise.race([once(ws, 'open'), closed]);
  return {
    ws,
    messages,
    closed,
    waitForMessage(match, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(match);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(messages).slice(0, 300)}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}

export function helloFor(agentId: string, hostId: string, labels: Record<string, string> = {}): Hello {
  return {
    type: 'hello',
    v: 1,
    agentId,
    hostId,
    hostKind: 'vm',
    labels,
    agentVersion: '0.1.0',
    streamId: `stream-${agentId}`,
    variants: [
      { name: 'baseline', configHash: '0123456789abcdef' },
      { name: 'optimized-a', configHash: 'fedcba9876543210' },
    ],
  };
}

export function reportFor(hostId: string, seq: number, at = Date.now()): ReportMessage {
  const iso = new Date(at).toISOString();
  return { type: 'report', v: 1, seq, window: { openedAt: iso, from: new Date(at - 15_000).toISOString(), to: iso }, report: sampleReport(hostId) };
}
