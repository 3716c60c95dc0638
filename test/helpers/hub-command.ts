// Runs a phoenix-hub command line (a single executable, or inside the unpacked image) and checks that it
// serves: ready, the page, its chart library, its store; then stops on SIGTERM with exit 0.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import type { Test } from 'tap';
import { waitFor } from './process.js';

/**
 * `adminTokenFile`: where the hub writes its first admin token, when the test can read it (not inside an image);
 * `more`: further checks with that token, before the hub is stopped. Resolves with what the hub logged.
 */
export async function checkHubServes(t: Test, argv: string[], port: number, adminTokenFile?: () => string, more?: (base: string, adminToken: string) => Promise<void>): Promise<string> {
  const [cmd, ...args] = argv;
  const hub = spawn(cmd!, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  hub.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = once(hub, 'exit');
  t.teardown(async () => {
    if (hub.exitCode === null) hub.kill('SIGTERM');
    await exited;
  });
  const base = `http://127.0.0.1:${port}`;
  await waitFor('hub ready', async () => (await fetch(`${base}/readyz`).catch(() => null))?.ok === true, 20_000);
  t.equal((await fetch(`${base}/`)).status, 200, 'the page');
  t.equal((await fetch(`${base}/vendor/uplot.js`)).status, 200, 'the chart library');
  // The API is closed without a credential; the store opened (the hub made its first admin token in it).
  t.equal((await fetch(`${base}/api/v1/fleet`)).status, 401, 'the API needs a credential');
  if (adminTokenFile) {
    const admin = readFileSync(adminTokenFile(), 'utf8').trim();
    const fleet = (await (await fetch(`${base}/api/v1/fleet`, { headers: { authorization: `Bearer ${admin}` } })).json()) as { totals: { hosts: number } };
    t.equal(fleet.totals.hosts, 0, 'the store opened, read with the admin token it wrote');
    await more?.(base, admin);
  }
  hub.kill('SIGTERM');
  const [code] = await exited;
  t.equal(code, 0, `stopped cleanly on SIGTERM ${stderr}`);
  return stderr;
}
