// Asks a collector's health_check extension whether it is up: 200 means ready.
import { request } from 'node:http';

/** Resolves true on HTTP 200 within `timeoutMs`, false on anything else; never rejects. */
export function probeHealth(port: number, timeoutMs = 1000, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', () => resolve(false));
    req.end();
  });
}
