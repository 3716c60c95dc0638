// `run --once`: start both variants, wait for data, measure one full round, stop, return the report.
import { setTimeout as delay } from 'node:timers/promises';
import type { AgentConfig } from './config/load.js';
import { Experiment, type ExperimentDeps } from './experiment.js';
import { pidFilePath } from './paths.js';
import type { AgentReport } from '../protocol/report.js';
import { reapLeftovers } from './supervisor/pidfile.js';

export interface OnceOptions extends ExperimentDeps {
  signal?: AbortSignal;
}

/**
 * Never hangs: readiness and first data are bounded by collector.startTimeout, and the collectors are
 * stopped (and gone) before this settles, whether it resolves or rejects.
 */
export async function runOnce(config: AgentConfig, options: OnceOptions): Promise<AgentReport> {
  await reapLeftovers(pidFilePath(config), options.logger, config.collector.stopGrace);
  const experiment = await Experiment.create(config, options);
  // The finally below awaits the same close (and reports its failure); this only starts it sooner.
  const abort = () => void experiment.close().catch(() => undefined);
  options.signal?.addEventListener('abort', abort, { once: true });
  try {
    experiment.start();
    await experiment.waitReady(config.collector.startTimeout);
    await experiment.waitForData(config.collector.startTimeout);
    // One full round: every variant scrapes the host again while CPU is being measured.
    await delay(config.pipeline.collectionInterval + 500, undefined, options.signal ? { signal: options.signal } : {});
    return await experiment.measure();
  } finally {
    options.signal?.removeEventListener('abort', abort);
    await experiment.close();
  }
}
