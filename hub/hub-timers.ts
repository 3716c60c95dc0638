// The hub's periodic work, owned in one place: heartbeats to agents and pages, credential revocations and expiries
// reaching live feeds, experiment rollouts and end times, store maintenance. Each job's failure is logged, never thrown.
import type { Logger } from '../common/logger.js';
import type { Access } from './access/access.js';
import type { AgentConnection } from './agent-connection.js';
import type { ExperimentEngine } from './experiments/engine.js';
import type { LiveFeed } from './live.js';
import type { Store } from './store/types.js';

export interface HubTimerOptions {
  connections: ReadonlySet<AgentConnection>;
  live: LiveFeed;
  access: Access;
  store: Store;
  experiments: ExperimentEngine;
  logger: Logger;
  /** Re-checks every live feed's credential; resolves once the feeds that no longer hold are closed. */
  revalidateLive: () => Promise<number>;
  heartbeatMs: number;
  maintenanceMs: number;
}

/** Slices a heartbeat is sent in: one a second, at most 15; a heartbeat of a second or less in one. */
export const heartbeatSlices = (heartbeatMs: number): number => Math.max(1, Math.min(15, Math.floor(heartbeatMs / 1000)));

/**
 * Calling rules: `close()` once, when the hub closes; no job runs after its promise resolves. A job still running when
 * its timer fires again is not started twice: that tick is skipped.
 */
export function startHubTimers(o: HubTimerOptions): { close(): Promise<void> } {
  const running = new Set<Promise<void>>();
  const guarded = (what: string, job: () => void | Promise<void>) => {
    let busy = false;
    return () => {
      if (busy) return;
      busy = true;
      const run = (async () => {
        try {
          await job();
        } catch (error) {
          o.logger.error({ err: error }, `${what} failed`);
        } finally {
          busy = false;
        }
      })();
      running.add(run);
      void run.finally(() => running.delete(run));
    };
  };
  // Each agent is pinged once a heartbeat, in slices a second apart: 10,000 pings (and token checks) in one turn of
  // the event loop held it ~200 ms every 15 s, and every report acknowledged meanwhile waited for them.
  const slices = heartbeatSlices(o.heartbeatMs);
  const sliceOf = new WeakMap<AgentConnection, number>();
  let nextSlice = 0;
  let tick = 0;
  const heartbeat = setInterval(
    guarded('heartbeat', async () => {
      const slice = tick++ % slices;
      for (const c of o.connections) {
        let own = sliceOf.get(c);
        if (own === undefined) sliceOf.set(c, (own = nextSlice++ % slices));
        if (own === slice) c.heartbeat();
      }
      if (slice !== 0) return;
      o.live.heartbeat();
      // Sessions expire by time too, not only by sign-out.
      await o.revalidateLive();
    }),
    o.heartbeatMs / slices,
  );
  // A token revoked by the token command (another process) shows as a new revision of the access tables.
  // Checked every second, with the live feeds whose sessions may have expired by time. The revision the feeds were
  // last all checked at; null until the first check, which checks them all (nothing deleted before it is missed).
  let accessRevision: number | null = null;
  const revocations = setInterval(
    guarded('checking for revoked credentials', async () => {
      const revision = await o.access.revision();
      if (revision !== accessRevision) {
        await o.revalidateLive();
        // Only once they are checked: a check that failed is tried again at the next tick.
        accessRevision = revision;
        return;
      }
      // Sessions (and tokens) also end by time: those that may have are read again, so a feed closes within a second.
      await o.live.revalidate(async (p) => !o.access.mayHaveExpired(p) || (await o.access.stillValid(p)));
    }),
    1000,
  );
  // Rollouts widen and experiments end on time, each second.
  const experimentTick = setInterval(guarded('experiment tick', () => o.experiments.tick(Date.now())), 1000);
  const maintenance = setInterval(
    guarded('store maintenance', async () => {
      const result = await o.store.maintain(Date.now());
      if (result.rolledUp + result.deletedRaw + result.deletedRollups > 0) o.logger.debug(result, 'store maintenance');
      await o.access.sweep();
    }),
    o.maintenanceMs,
  );
  return {
    async close() {
      for (const timer of [heartbeat, revocations, experimentTick, maintenance]) clearInterval(timer);
      await Promise.all(running);
    },
  };
}
