// The page's first render over a large fleet, in Debian's headless Chromium (playwright-core): from navigation
// to the fleet summary, the comparison's verdict and every host's row on screen.
import { chromium } from 'playwright-core';

export interface PageRenderResult {
  /** Milliseconds per load, each in a fresh browser context (nothing cached). */
  loadsMs: number[];
  rows: number;
}

/** `token`: an API token the browser sends with every request (the page needs a signed-in reader). */
export async function measurePageRender(base: string, hosts: number, token: string, loads = 5): Promise<PageRenderResult> {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
  try {
    const loadsMs: number[] = [];
    let rows = 0;
    for (let i = 0; i <= loads; i++) {
      const context = await browser.newContext({ viewport: { width: 1300, height: 1000 }, extraHTTPHeaders: { authorization: `Bearer ${token}` } });
      const page = await context.newPage();
      const started = performance.now();
      await page.goto(base, { waitUntil: 'commit' });
      await page.locator('[data-verdict]').first().waitFor({ timeout: 60_000 });
      // A string, evaluated in the page (this project's TypeScript has no DOM types).
      await page.waitForFunction(`document.querySelectorAll('#hosts tbody tr[data-host]').length >= ${hosts}`, undefined, { timeout: 60_000, polling: 'raf' });
      await page.locator('[data-card="hosts"] .value').waitFor({ timeout: 60_000 });
      const elapsed = performance.now() - started;
      rows = await page.locator('#hosts tbody tr[data-host]').count();
      if (i > 0) loadsMs.push(elapsed); // the first load warms the hub's caches and Chromium itself
      await context.close();
    }
    return { loadsMs, rows };
  } finally {
    await browser.close();
  }
}
