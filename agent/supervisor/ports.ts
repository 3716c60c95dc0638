// Assigns each variant its exporter, telemetry and health ports, and proves they are free before a start.
import { readFileSync } from 'node:fs';
import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import { PortInUseError } from '../errors.js';
import { ListenError } from '../../common/errors.js';
import type { VariantPorts } from '../../protocol/pipeline/render.js';

export const PORT_ROLES = { exporter: 'Prometheus exporter', telemetry: 'internal telemetry', health: 'health check' } as const;

/** Fixed layout: variant i gets base+10i (exporter), +1 (telemetry), +2 (health). */
export function fixedPorts(base: number, variantIndex: number): VariantPorts {
  const first = base + 10 * variantIndex;
  return { exporter: first, telemetry: first + 1, health: first + 2 };
}

/** Asks the kernel for a free loopback port (from its ephemeral range). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The kernel's ephemeral range (`ip_local_port_range`), from which it hands out port 0 binds and outgoing connections. */
export function ephemeralRange(file = '/proc/sys/net/ipv4/ip_local_port_range'): [number, number] {
  try {
    const [low, high] = readFileSync(file, 'utf8').trim().split(/\s+/).map(Number);
    if (Number.isInteger(low) && Number.isInteger(high) && low! > 0 && high! >= low!) return [low!, high!];
  } catch {
    // Not Linux, or /proc hidden: the IANA dynamic range is the usual default elsewhere.
  }
  return [49152, 65535];
}

const AUTO_LOW = 10_000;
/** Recently handed-out ports, not handed out again while a collector may still be about to bind them. */
const handedOut = new Set<number>();
const HANDED_OUT_MEMORY = 64;

/**
 * A free port for a collector to bind later. A port the kernel picked for a port-0 bind is released
 * before the collector binds it, and the kernel may give it to anything in between (another port-0
 * listener, an outgoing connection), so ports are drawn at random from below the ephemeral range, where
 * the kernel never assigns them, and probed. Falls back to the kernel when that range is too small.
 */
export async function autoPort(host = '127.0.0.1', range = ephemeralRange()): Promise<number> {
  const high = range[0] - 1;
  if (high - AUTO_LOW < 1000) return freePort(host);
  for (let attempt = 0; attempt < 50; attempt += 1) {
    const port = randomInt(AUTO_LOW, high + 1);
    if (handedOut.has(port)) continue;
    if ((await probeBind(port, host)) === null) {
      handedOut.add(port);
      if (handedOut.size > HANDED_OUT_MEMORY) handedOut.delete(handedOut.values().next().value!);
      return port;
    }
  }
  return freePort(host);
}

export async function freePorts(): Promise<VariantPorts> {
  const [exporter, telemetry, health] = [await autoPort(), await autoPort(), await autoPort()];
  return { exporter, telemetry, health };
}

function probeBind(port: number, host: string): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => resolve(error));
    server.listen({ port, host, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

/** Throws PortInUseError naming the variant, role and port when any of them is taken. */
export async function assertPortsFree(variant: string, ports: VariantPorts, host = '127.0.0.1'): Promise<void> {
  for (const role of Object.keys(PORT_ROLES) as (keyof VariantPorts)[]) {
    const error = await probeBind(ports[role], host);
    if (error?.code === 'EADDRINUSE' || error?.code === 'EACCES') throw new PortInUseError(variant, PORT_ROLES[role], ports[role]);
    if (error) throw new ListenError(`variant '${variant}': ${PORT_ROLES[role]} port`, host, ports[role], error);
  }
}
