// Asks a collector's health_check extension whether it is up: 200 means ready.
import { request, type Agent } from 'node:http';

export interface ProbeOptions {
  timeoutMs?: number;
  host?: string;
  /** A keep-alive agent, so that a probe every few seconds reuses one connection. */
  agent?: Agent;
}

/**
 * Resolves true on HTTP 200 within `timeoutMs`, false on anything else; never rejects. A kept-alive
 * connection the server closed while idle is retried once on a new one, not taken for ill health.
 */
export async function probeHealth(port: number, options: ProbeOptions = {}): Promise<boolean> {
  const first = await probeOnce(port, options);
  return first === 'retry' ? (await probeOnce(port, options)) === true : first;
}

function probeOnce(port: number, { timeoutMs = 1000, host = '127.0.0.1', agent }: ProbeOptions): Promise<boolean | 'retry'> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', method: 'GET', timeout: timeoutMs, ...(agent ? { agent } : {}) }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.once('timeout', () => req.destroy(new Error('timeout')));
    req.once('error', (error: NodeJS.ErrnoException) => {
      resolve(req.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE') ? 'retry' : false);
    });
    req.end();
  });
}
