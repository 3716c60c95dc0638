// Scrapes a Prometheus endpoint over HTTP, streaming the body through the exposition scanner.
import { request } from 'node:http';
import { ExpositionScanner, type ExpositionScannerOptions, type ExpositionStats } from './exposition.js';

export type ScrapeResult =
  | { ok: true; stats: ExpositionStats; durationMs: number }
  | { ok: false; error: string; durationMs: number };

export interface ScrapeOptions extends ExpositionScannerOptions {
  timeoutMs?: number;
  /** A body larger than this is abandoned as an error (a hostile or broken endpoint cannot exhaust memory). */
  maxBytes?: number;
  signal?: AbortSignal;
}

/** Never rejects: a failed scrape is a result. Malformed lines count in stats.errors, the scrape still succeeds. */
export function scrape(url: string, options: ScrapeOptions = {}): Promise<ScrapeResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const maxBytes = options.maxBytes ?? 512 * 1024 * 1024;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: ScrapeResult) => {
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
      },
      (res) => {
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
    req.once('error', (error) => finish({ ok: false, error: `${url}: ${error.message}`, durationMs: elapsed() }));
    req.end();
  });
}
