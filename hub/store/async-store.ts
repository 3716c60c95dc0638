// The hub's asynchronous Store over the synchronous SQLite store: each call runs at once on the event loop and its
// result (or error) is a settled promise. The first step of issue 16; SQLite's writer and reader threads replace it.
import type { Store, SyncStore } from './types.js';

/** `sync` behind the Store contract; closing it closes `sync`. */
export function asyncStore(sync: SyncStore): Store {
  const run = <T>(work: () => T): Promise<T> => {
    try {
      return Promise.resolve(work());
    } catch (error) {
      return Promise.reject(error as Error);
    }
  };
  return {
    upsertAgent: (hello, now) => run(() => sync.upsertAgent(hello, now)),
    storeReports: (items) => run(() => sync.storeReports(items)),
    agents: () => run(() => sync.agents()),
    latest: (agentId) => run(() => sync.latest(agentId)),
    latestAll: () => run(() => sync.latestAll()),
    variantPoints: (from, to) => run(() => sync.variantPoints(from, to)),
    history: (hostId, from, to) => run(() => sync.history(hostId, from, to)),
    fleetHistory: (from, to) => run(() => sync.fleetHistory(from, to)),
    maintain: (now) => run(() => sync.maintain(now)),
    access: sync.access,
    experiments: sync.experiments,
    close: () => run(() => sync.close()),
  };
}
