// Scrapes a Prometheus endpoint over HTTP, streaming the body through the exposition scanner.
import { request, type Agent } from 'node:http';
import { ExpositionScanner, type ExpositionScannerOptions, type ExpositionStats } from './exposition.js';

export type ScrapeResult =
  | { ok: true; stats: ExpositionStats; durationMs: number }
  | { ok: false; error: string; durationMs: number };

export interface ScrapeOptions extends ExpositionScannerOptions {
  timeoutMs?: number;
  /** A body larger than this is abandoned as an error (a hostile or broken endpoint cannot exhaust memory). */
  maxBytes?: number;
  signal?: AbortSignal;
  /** A keep-alive agent: the connection is reused from one scrape to the next instead of opened each time. */
  agent?: Agent;
}

type Attempt = ScrapeResult & { retryable?: boolean };

/**
 * Never rejects: a failed scrape is a result. Malformed lines count in stats.errors, the scrape still succeeds.
 * A kept-alive connection the server closed while idle fails the request that reused it: that one is
 * tried once more on a new connection (Node's documented `reusedSocket` pattern).
 */
export async function scrape(url: string, options: ScrapeOptions = {}): Promise<ScrapeResult> {
  const started = performance.now();
  const first = await attempt(url, options, started);
  if (!first.retryable) return withoutFlag(first);
  return withoutFlag(await attempt(url, options, started));
}

function withoutFlag({ retryable: _retryable, ...result }: Attempt): ScrapeResult {
  return result as ScrapeResult;
}

function attempt(url: string, options: ScrapeOptions, started: number): Promise<Attempt> {
  const elapsed = () => Math.round(performance.now() - started);
  const maxBytes = options.maxBytes ?? 512 * 1024 * 1024;
  return new Promise((resolve) => {
    let settled = false;
    let answered = false;
    const finish = (result: Attempt) => {
      if (!settled) {
        settled = true;
        resolve(result);
      }
    };
    const req = request(
      url,
      {
        method: 'GET',
        timeout: options.timeoutMs ?? 10_000,
        headers: { accept: 'text/plain;version=0.0.4', 'accept-encoding': 'identity' },
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.agent ? { agent: options.agent } : {}),
      },
      (res) => {
        answered = true;
        if (res.statusCode !== 200) {
          res.resume();
          finish({ ok: false, error: `HTTP ${res.statusCode} from ${url}`, durationMs: elapsed() });
          return;
        }
        const scanner = new ExpositionScanner(options);
        let received = 0;
        res.on('data', (chunk: Buffer) => {
          received += chunk.length;
          if (received > maxBytes) {
            req.destroy(new Error(`response larger than ${maxBytes} bytes`));
            return;
          }
          scanner.write(chunk);
        });
        res.once('end', () => finish({ ok: true, stats: scanner.end(), durationMs: elapsed() }));
        res.once('error', (error) => finish({ ok: false, error: `${url}: ${error.message}`, durationMs: elapsed() }));
      },
    );
    req.once('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs ?? 10_000} ms`)));
    req.once('error', (error: NodeJS.ErrnoException) => {
      const retryable = req.reusedSocket && !answered && (error.code === 'ECONNRESET' || error.code === 'EPIPE');
      finish({ ok: false, error: `${url}: ${error.message}`, durationMs: elapsed(), ...(retryable ? { retryable } : {}) });
    });
    req.end();
  });
}
