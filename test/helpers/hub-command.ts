// Runs a phoenix-hub command line (a single executable, or inside the unpacked image) and checks that it
// serves: ready, the page, its chart library, its store; then stops on SIGTERM with exit 0.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import type { Test } from 'tap';
import { waitFor } from './process.js';

export async function checkHubServes(t: Test, argv: string[], port: number): Promise<void> {
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
  const fleet = (await (await fetch(`${base}/api/v1/fleet`)).json()) as { totals: { hosts: number } };
  t.equal(fleet.totals.hosts, 0, 'the store opened');
  hub.kill('SIGTERM');
  const [code] = await exited;
  t.equal(code, 0, `stopped cleanly on SIGTERM ${stderr}`);
}
