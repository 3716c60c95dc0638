// The hub's asynchronous Store over the synchronous SQLite store: each call runs at once on the event loop and its
// result (or error) is a settled promise. The first step of issue 16; SQLite's writer and reader threads replace it.
import { promised } from '../../common/promised.js';
import { NO_PEERS } from './peers.js';
import type { Store, SyncStore } from './types.js';

/** `sync` behind the Store contract; closing it closes `sync`. */
export function asyncStore(sync: SyncStore): Store {
  const { access, experiments, ...rest } = sync;
  return { ...promised(rest), access: promised(access), experiments: promised(experiments), peers: NO_PEERS };
}
