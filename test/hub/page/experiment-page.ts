// What the experiment page tests share: a real hub, a real v2 agent (real collectors) on one labelled host, and a
// headless Chromium signed in as an experimenter, at the form that creates an experiment.
import type { Test } from 'tap';
import { hubRoutes } from '../../../hub/http/routes.js';
import { agentConfigFor, startTestAgent, startTestHub } from '../../helpers/assignment.js';
import { openBrowser } from '../../helpers/browser.js';
import { signInUrl } from '../../helpers/hub-api.js';
import { waitFor } from '../../helpers/process.js';

/** Everything is stopped in `t`'s teardown. `host`: the agent's host (fast collection, so it measures soon). */
export async function openExperimentForm(t: Test, host: { id: string; kind?: 'vm' | 'k8s-node'; labels: Record<string, string> }) {
  const hub = await startTestHub(t, t.testdir(), { routes: hubRoutes });
  const { file } = await agentConfigFor(t, hub, { host, pipeline: { collectionInterval: '1s', metricExpiration: '10s' } });
  await startTestAgent(t, file);
  await waitFor('the agent said hello, manageable', () => [...hub.connections.values()].some((c) => c.manageable), 60_000);

  const { browser, page, errors } = await openBrowser(t);
  await page.goto(signInUrl(hub, 'experimenter'));
  await page.locator('#nav a[data-nav="experiments"]').click();
  await page.locator('#experiment-new').click();
  await page.locator('#experiment-definition').waitFor();
  return { hub, browser, page, errors };
}
