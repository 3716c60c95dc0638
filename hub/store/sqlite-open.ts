// Opens the SQLite file with the store's settings (WAL, synchronous=FULL, the schema checked) and its native binding.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { HOME_ENV } from '../../common/paths.js';
import { StoreOpenError } from '../errors.js';
import { applySchema } from './sqlite-schema.js';

let loadedBinding: object | undefined;

/**
 * A release's single executable cannot load native modules through require(): its SQLite binding ships
 * beside it ($PHOENIX_HOME/better_sqlite3.node) and is loaded here. From a checkout, better-sqlite3 finds its own.
 */
export function releaseBinding(): Database.Options {
  const home = process.env[HOME_ENV];
  const file = home ? path.join(home, 'better_sqlite3.node') : '';
  if (!file || !existsSync(file)) return {};
  if (!loadedBinding) {
    const module = { exports: {} };
    process.dlopen(module, file);
    loadedBinding = module.exports;
  }
  return { nativeBinding: loadedBinding as unknown as string };
}

/** Opens the file (creating its directory) with the store's settings; any failure is a StoreOpenError naming the file. */
export function openDatabase(file: string): Database.Database {
  let db: Database.Database | null = null;
  try {
    mkdirSync(path.dirname(file), { recursive: true });
    db = new Database(file, releaseBinding());
    db.pragma('journal_mode = WAL');
    // FULL: a commit is on disk before storeReports returns, so an acknowledged report survives power loss too.
    db.pragma('synchronous = FULL');
    db.pragma('busy_timeout = 5000');
    // Window lookups seek all over the indexes: read them through the OS page cache directly, and keep more pages.
    db.pragma('mmap_size = 1073741824');
    db.pragma('cache_size = -65536');
    applySchema(db, file);
    return db;
  } catch (error) {
    db?.close();
    if (error instanceof StoreOpenError) throw error;
    const code = (error as { code?: string }).code ?? 'error';
    throw new StoreOpenError(`cannot open the hub store '${file}' (${code}: ${(error as Error).message})`, { cause: error });
  }
}
