// The hub's page in a real headless Chromium, fed by a real agent running the real collector.
import t from 'tap';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { CONTENT_SECURITY_POLICY } from '../../../hub/http/static.js';
import { openBrowser } from '../../helpers/browser.js';
import { signInUrl } from '../../helpers/hub-api.js';
import { waitFor } from '../../helpers/process.js';
import { startHubAndAgent } from '../../helpers/hub-and-agent.js';

// Agent-supplied text the page shows: a label, the host name and a process name, each hostile.
const HOSTILE = '<img src=x onerror="window.__xss=1">';
const HOST = '<img src=x onerror="window.__xss=2">page-host';
// A process name is at most 15 characters (the kernel's comm): a tag whose handler reads `x`, which the page
// below turns into a tripwire.
const PROCESS = '<svg onload=x>';

t.test('a real agent reports; a signed-in page shows the host with both variants and updates live', { timeout: 180_000 }, async (t) => {
  // A running process by that name (a copy of sleep), made critical so the report names it.
  const named = path.join(t.testdir(), PROCESS);
  await copyFile('/usr/bin/sleep', named);
  await chmod(named, 0o755);
  const sleeper = spawn(named, ['600'], { stdio: 'ignore' });
  const sleeperExited = once(sleeper, 'exit');
  t.teardown(async () => {
    sleeper.kill('SIGKILL');
    await sleeperExited;
  });
  const { hub } = await startHubAndAgent(t, {
    host: { id: HOST, labels: { team: HOSTILE, env: 'test' } },
    critical: { patterns: ['<svg\\sonload=x>'] },
  });

  const { page, errors } = await openBrowser(t);
  // The one-time code link (as `npm start` prints) opens a session and redirects to the page.
  const response = await page.goto(signInUrl(hub));
  t.equal(response?.url(), `${hub.url}/`, 'the sign-in link lands on the page');
  t.equal(response?.headers()['content-security-policy'], CONTENT_SECURITY_POLICY, 'the page is served with a CSP');
  await page.evaluate('window.__marker = 42'); // browser-side expressions are strings: the tests have no DOM types
  await page.evaluate("Object.defineProperty(window, 'x', { get() { window.__xss = 3; return 0; } })");

  // The interval is 3 s: within two report intervals of the first report, the host shows both variants.
  const row = page.locator(`tr[data-host=${JSON.stringify(HOST)}]`);
  await row.waitFor({ timeout: 60_000 });
  const cells = async () => (await row.locator('td').allTextContents()).map((s) => s.trim());
  await waitFor('both variants in the row', async () => {
    const c = await cells();
    return c[3] !== '–' && c[4] !== '–' ? c : null;
  }, 10_000, 200);
  const first = await cells();
  t.equal(first[0], HOST, 'the hostile host name is shown literally');
  t.equal(first[1], 'vm');
  t.ok(Number(first[3]!.replace(/,/g, '')) > Number(first[4]!.replace(/,/g, '')), `baseline series ${first[3]} > optimized-a ${first[4]}`);
  t.match(await page.locator('[data-verdict]').first().textContent(), /^optimized-a cuts series \d+%/);
  t.equal(await page.locator('[data-card="hosts"] .value').textContent(), '1');
  t.equal(await page.locator('#whoami').textContent(), 'tester-viewer (viewer)', 'who is signed in, with the role');

  // Live: the next report changes the page without a reload.
  const before = await page.evaluate('document.body.dataset.updated');
  const seqBefore = (await hub.store.agents())[0]!.lastSeq;
  await waitFor('next report stored', async () => (await hub.store.agents())[0]!.lastSeq > seqBefore, 15_000, 100);
  await waitFor('page refreshed', async () => (await page.evaluate('document.body.dataset.updated')) !== before, 10_000, 100);
  t.equal(await page.evaluate('window.__marker'), 42, 'no reload: the page state survived');
  t.equal(await page.locator('#live-status').textContent(), 'live');

  // Agent-supplied text is shown as text.
  t.ok((await row.locator('.label-chip').allTextContents()).includes(`team=${HOSTILE}`), 'the hostile label is shown literally');
  t.equal(await page.evaluate('window.__xss'), undefined, 'and never runs');
  t.equal(await row.locator('img').count(), 0, 'no element was made from it or from the host name');

  // Drill-down.
  await row.click();
  await page.locator('#detail-title', { hasText: `Host ${HOST}` }).waitFor();
  t.equal(await page.locator('#detail-title').textContent(), `Host ${HOST}`, 'the host name shown literally in the drill-down');
  t.match(await page.locator('#detail-body').textContent(), `critical running: ${PROCESS}`, 'the hostile process name is shown literally');
  t.equal(await page.locator('svg[onload], img[onerror]').count(), 0, 'no element was made from agent text anywhere on the page');
  t.equal(await page.evaluate('window.__xss'), undefined, 'and none of it ran');
  t.equal(await page.locator('#detail-body tbody tr').count(), 2, 'both variants in the drill-down');
  await page.locator('#detail-charts .chart').first().waitFor();
  t.same(errors, [], 'no errors in the browser console');
});
