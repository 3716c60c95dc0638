// A load balancer for tests of hub replicas (issue 16): a TCP proxy on a loopback port that hands each new
// connection to the next backend in turn, passing over one that refuses (killed), as a real balancer's health
// checks would. It counts where it sent connections; everything is closed in t.teardown.
import { createServer, connect, type AddressInfo, type Socket } from 'node:net';
import type { Test } from 'tap';

export interface Balancer {
  port: number;
  /** ws://127.0.0.1:PORT/ws/agent */
  agentUrl: string;
  /** Connections handed to each backend port so far. */
  readonly handed: Map<number, number>;
  close(): Promise<void>;
}

export async function startBalancer(t: Test, backends: readonly number[]): Promise<Balancer> {
  const sockets = new Set<Socket>();
  const handed = new Map(backends.map((p) => [p, 0]));
  let next = 0;
  const track = (s: Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  };
  const server = createServer((client) => {
    track(client);
    client.pause();
    const tryBackend = (left: number) => {
      if (left === 0 || client.destroyed) return client.destroy();
      const port = backends[next++ % backends.length]!;
      const upstream = connect(port, '127.0.0.1');
      track(upstream);
      let connected = false;
      // Refused (the backend is down): the next one.
      upstream.once('error', () => {
        if (!connected) tryBackend(left - 1);
      });
      upstream.once('connect', () => {
        connected = true;
        handed.set(port, (handed.get(port) ?? 0) + 1);
        upstream.removeAllListeners('error');
        upstream.on('error', () => client.destroy());
        client.on('error', () => upstream.destroy());
        upstream.once('close', () => client.destroy());
        client.once('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryBackend(backends.length);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t.teardown(close);
  return { port, agentUrl: `ws://127.0.0.1:${port}/ws/agent`, handed, close };
}
