// A TCP proxy on loopback that passes the server's bytes on `delayMs` late: at any moment the server's last
// answers (a hub's acknowledgements) are still on their way, and when the server dies they die with it.
import { createServer, connect, type Server } from 'node:net';

export interface DelayingProxy {
  port: number;
  /** Ends every connection at once, dropping what is held back (the server's machine died); new ones are let in. */
  cut(): void;
  /** How many chunks of the server's bytes are held back right now (on their way, not yet passed on). */
  held(): number;
  close(): Promise<void>;
}

export async function startDelayingProxy(targetPort: number, delayMs: number): Promise<DelayingProxy> {
  const ends = new Set<() => void>();
  const pairs = new Set<{ timers: Set<NodeJS.Timeout> }>();
  const server: Server = createServer((client) => {
    const pair = { client, upstream: connect(targetPort, '127.0.0.1'), timers: new Set<NodeJS.Timeout>() };
    pairs.add(pair);
    client.on('data', (chunk) => pair.upstream.write(chunk));
    pair.upstream.on('data', (chunk) => {
      const timer = setTimeout(() => {
        pair.timers.delete(timer);
        client.write(chunk);
      }, delayMs);
      pair.timers.add(timer);
    });
    // Either end gone: what was held back is dropped, as it would be on the wire of a machine that died.
    const end = () => {
      ends.delete(end);
      pairs.delete(pair);
      for (const timer of pair.timers) clearTimeout(timer);
      pair.timers.clear();
      client.destroy();
      pair.upstream.destroy();
    };
    ends.add(end);
    client.on('close', end).on('error', end);
    pair.upstream.on('close', end).on('error', end);
  });
  const cut = () => {
    for (const end of [...ends]) end();
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    cut,
    held: () => [...pairs].reduce((n, pair) => n + pair.timers.size, 0),
    close: () =>
      new Promise<void>((resolve) => {
        cut();
        server.close(() => resolve());
      }),
  };
}
