// The ExperimentStore on SQLite: the contract (experiment-store-contract.ts, the same tests as every engine's).
import t from 'tap';
import { sqliteEngine } from './engines.js';
import { experimentStoreContract } from './experiment-store-contract.js';

t.test('the ExperimentStore contract on SQLite', async (t) => experimentStoreContract(t, sqliteEngine));
