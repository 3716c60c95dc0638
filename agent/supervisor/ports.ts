// Assigns each variant its exporter, telemetry and health ports, and proves they are free before a start.
import { createServer } from 'node:net';
import { PortInUseError } from '../errors.js';
import type { VariantPorts } from '../pipeline/render.js';

export const PORT_ROLES = { exporter: 'Prometheus exporter', telemetry: 'internal telemetry', health: 'health check' } as const;

/** Fixed layout: variant i gets base+10i (exporter), +1 (telemetry), +2 (health). */
export function fixedPorts(base: number, variantIndex: number): VariantPorts {
  const first = base + 10 * variantIndex;
  return { exporter: first, telemetry: first + 1, health: first + 2 };
}

/** Asks the kernel for a free loopback port. */
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

export async function freePorts(): Promise<VariantPorts> {
  const [exporter, telemetry, health] = [await freePort(), await freePort(), await freePort()];
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
    if (error) throw error;
  }
}
