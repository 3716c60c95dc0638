// applySchema: a new file gets the store's tables; a file of this schema is kept as it is; an older one is upgraded in
// place (a schema-4 file as the previous hub wrote it, test/fixtures/store-schema-4.sql); any other is refused untouched.
import t, { type Test } from 'tap';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { StoreOpenError } from '../../../hub/errors.js';
import { NO_LOSS } from '../../../hub/store/loss-sums.js';
import { openSqliteStore } from '../../../hub/store/sqlite.js';
import { ADDED_COLUMNS, applySchema, OLDEST_UPGRADABLE, SCHEMA_VERSION } from '../../../hub/store/sqlite-schema.js';
import { TOTALS_COLUMNS } from '../../../hub/store/totals.js';
import { sampleLoss, sampleReportWithLoss } from '../../fixtures/report.js';
import { reportFor } from '../../helpers/ws-client.js';

/** The tables each schema added: 2 the store's own, 3 the access ones, 4 the experiments'. */
const ACCESS_TABLES = ['api_tokens', 'audit', 'sessions'];
const EXPERIMENT_TABLES = ['experiment_events', 'experiment_figures', 'experiment_hosts', 'experiments', 'pipelines'];
const TABLES = ['agents', 'anchors', 'critical_changes', 'fleet_rollups', 'latest', 'meta', 'rollups', 'samples', ...ACCESS_TABLES, ...EXPERIMENT_TABLES].sort();

/** A database file in a fresh temp dir, closed and removed in teardown. */
async function openTemp(t: Test): Promise<{ db: Database.Database; file: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'phx-schema-'));
  const file = path.join(dir, 'hub.db');
  const db = new Database(file);
  t.teardown(async () => {
    db.close();
    await rm(dir, { recursive: true, force: true });
  });
  return { db, file };
}

const names = (db: Database.Database, type: 'table' | 'index') =>
  (db.prepare('SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE ? ORDER BY name').all(type, 'sqlite_%') as { name: string }[]).map((r) => r.name);
const columns = (db: Database.Database, table: string) => (db.pragma(`table_info(${table})`) as { name: string }[]).map((c) => c.name);
const version = (db: Database.Database) => db.pragma('user_version', { simple: true }) as number;

t.test('a new file gets every table and index, and the schema version', async (t) => {
  const { db, file } = await openTemp(t);
  applySchema(db, file);
  t.same(names(db, 'table'), TABLES);
  t.same(names(db, 'index'), [
    'agents_host', 'audit_at', 'experiment_events_key', 'experiment_hosts_order', 'experiments_baseline', 'experiments_candidate', 'experiments_state',
    'rollups_key', 'samples_key', 'sessions_credential',
  ]);
  t.equal(version(db), SCHEMA_VERSION);
  // The statements read and write the running totals in these three tables by the totals' column list.
  for (const table of ['samples', 'rollups', 'anchors']) {
    t.ok(TOTALS_COLUMNS.every((c) => columns(db, table).includes(c)), `${table} carries every running total`);
  }
});

t.test('applying it again to a store of this schema keeps what it holds', async (t) => {
  const { db, file } = await openTemp(t);
  applySchema(db, file);
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('raw_floor', 42);
  applySchema(db, file);
  t.same(db.prepare('SELECT key, value FROM meta').all(), [{ key: 'raw_floor', value: 42 }]);
  t.same(names(db, 'table'), TABLES);
  t.equal(version(db), SCHEMA_VERSION);

  // Likewise across connections: the check reads the file, not anything kept in memory.
  const again = new Database(file);
  t.teardown(() => again.close());
  t.doesNotThrow(() => applySchema(again, file));
  t.equal((again.prepare('SELECT value FROM meta WHERE key = ?').get('raw_floor') as { value: number }).value, 42);
});

t.test('a file without tables is new, whatever its user_version says', async (t) => {
  const { db, file } = await openTemp(t);
  db.pragma('user_version = 7');
  applySchema(db, file);
  t.same(names(db, 'table'), TABLES);
  t.equal(version(db), SCHEMA_VERSION);
});

t.test('another schema is refused with a StoreOpenError naming the file, and the file is left as it was', async (t) => {
  const cases = [
    { label: 'an older (development) schema', v: OLDEST_UPGRADABLE - 1, message: /schema \d+ was written by a development build .*move the file aside/ },
    { label: 'a newer schema', v: SCHEMA_VERSION + 7, message: new RegExp(`schema ${SCHEMA_VERSION + 7} is newer than this hub \\(${SCHEMA_VERSION}\\); run a newer hub`) },
    { label: "another program's database (no version)", v: 0, message: /schema 0 was written by a development build/ },
  ];
  for (const c of cases) {
    const { db, file } = await openTemp(t);
    db.exec('CREATE TABLE samples (ts INTEGER)');
    db.pragma(`user_version = ${c.v}`);
    const error = t.throws(() => applySchema(db, file), StoreOpenError, c.label) as StoreOpenError;
    t.equal(error.code, 'PHX_STORE_OPEN');
    t.equal(error.exitCode, 2, 'a store the hub cannot use stops it as a configuration problem');
    t.ok(error.message.startsWith(`${file}: `), `${c.label}: the message names the file`);
    t.match(error.message, c.message);
    t.same(names(db, 'table'), ['samples'], `${c.label}: no table was added`);
    t.equal(version(db), c.v, `${c.label}: the version is unchanged`);
  }
});

/** An older schema as it was: this one's tables without those added since (applied, then those dropped). */
function olderSchema(db: Database.Database, file: string, v: number, dropped: readonly string[]): void {
  applySchema(db, file);
  for (const table of dropped) db.exec(`DROP TABLE ${table}`);
  db.pragma(`user_version = ${v}`);
}

t.test('a store of schema 2 (before the access tables) is upgraded in place: its rows kept, the new tables added', async (t) => {
  const { db, file } = await openTemp(t);
  olderSchema(db, file, 2, [...ACCESS_TABLES, ...EXPERIMENT_TABLES]);
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('raw_floor', 42);
  applySchema(db, file);
  t.equal(version(db), SCHEMA_VERSION, `now schema ${SCHEMA_VERSION}`);
  t.same(names(db, 'table'), TABLES, 'with the access and experiment tables');
  t.same(db.prepare('SELECT key, value FROM meta').all(), [{ key: 'raw_floor', value: 42 }], 'what it held is kept');
});

t.test('a store of schema 3 (before the experiment tables) is upgraded in place: its rows kept, the new tables added', async (t) => {
  const { db, file } = await openTemp(t);
  olderSchema(db, file, 3, EXPERIMENT_TABLES);
  t.same(names(db, 'table'), [...TABLES].filter((name) => !EXPERIMENT_TABLES.includes(name)), "schema 3's tables");
  db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('raw_floor', 42);
  db.prepare("INSERT INTO api_tokens (name, role, hash, created_at, created_by) VALUES ('alice', 'admin', 'h', 1, 'cli:root')").run();
  db.prepare("INSERT INTO agents (agent_id, host_id, host_kind, labels, agent_version, variants, first_seen, last_seen, stream_id) VALUES ('a1', 'h1', 'vm', '{}', '0.1.0', '[]', 1, 2, 's')").run();
  applySchema(db, file);
  t.equal(version(db), SCHEMA_VERSION, `now schema ${SCHEMA_VERSION}`);
  t.same(names(db, 'table'), TABLES, 'with the experiment tables');
  t.same(db.prepare('SELECT key, value FROM meta').all(), [{ key: 'raw_floor', value: 42 }], 'meta rows kept');
  t.same(db.prepare('SELECT name, hash FROM api_tokens').all(), [{ name: 'alice', hash: 'h' }], 'tokens kept');
  t.same(db.prepare('SELECT agent_id, last_seen FROM agents').all(), [{ agent_id: 'a1', last_seen: 2 }], 'agents kept');
  db.prepare("INSERT INTO pipelines (name, sha256, content, uploaded_by, uploaded_at) VALUES ('p', 's', 'x', 'alice', 1)").run();
  t.equal(db.prepare('SELECT count(*) FROM pipelines').pluck().get(), 1, 'the new tables take rows');
});

/** Each table's columns as [name, type, not null, default], in order. */
const columnShapes = (db: Database.Database) =>
  Object.fromEntries(
    names(db, 'table').map((table) => [table, (db.pragma(`table_info(${table})`) as { name: string; type: string; notnull: number; dflt_value: string | null }[]).map((c) => [c.name, c.type, c.notnull, c.dflt_value])]),
  );

const MIN = 60_000;
/** The fixture's first report (2026-01-01T00:00Z); 20 reports a minute apart, rolled up; 5 raw ones at +30..+34 min. */
const FIXTURE_START = Date.UTC(2026, 0, 1);

t.test('a store of schema 4 as the previous hub wrote it opens upgraded: the loss columns added, its figures kept, new reports add loss figures', async (t) => {
  const { db, file } = await openTemp(t);
  db.exec(await readFile(new URL('../../fixtures/store-schema-4.sql', import.meta.url), 'utf8'));
  t.equal(version(db), 4, 'the fixture is schema 4');
  t.notOk(columns(db, 'samples').includes('c_top_cpu_visible'), 'without the loss columns');
  const rowsBefore = Object.fromEntries(['samples', 'rollups', 'anchors', 'latest', 'agents', 'meta'].map((table) => [table, db.prepare(`SELECT count(*) FROM ${table}`).pluck().get()]));
  db.close();

  const store = openSqliteStore({ file, bucketMs: MIN, coarseBucketMs: 10 * MIN, rawRetentionMs: 10 * MIN, rollupRetentionMs: 60 * MIN, coarseRetentionMs: 120 * MIN });
  t.teardown(() => store.close());
  const upgraded = new Database(file, { readonly: true });
  t.teardown(() => upgraded.close());
  t.equal(version(upgraded), SCHEMA_VERSION);
  t.same(Object.fromEntries(Object.keys(rowsBefore).map((table) => [table, upgraded.prepare(`SELECT count(*) FROM ${table}`).pluck().get()])), rowsBefore, 'every row kept');
  const fresh = (await openTemp(t)).db;
  applySchema(fresh, 'fresh.db');
  t.same(columnShapes(upgraded), columnShapes(fresh), 'the same tables and columns, in the same order, as a new file');
  t.ok(ADDED_COLUMNS[5]!.length > 0 && ADDED_COLUMNS[5]!.every(([table, column]) => columns(upgraded, table).includes(column)), 'every column schema 5 added');

  const old = await store.variantPoints(FIXTURE_START, FIXTURE_START + 35 * MIN);
  t.same(old.map((p) => [p.side, p.reports, p.series, p.retentionMin]), [[0, 25, 2000, 1], [1, 25, 40, 1]], "the old reports' figures, from rollups and raw rows");
  t.same(old.map((p) => p.loss), [NO_LOSS, NO_LOSS], 'and no loss figures: unknown, not 0');

  // Reports with loss figures after the upgrade: they add up from the old totals on.
  const at = FIXTURE_START + 40 * MIN;
  for (let i = 0; i < 4; i++) {
    const message = reportFor('web-1', 26 + i, at + i * MIN);
    message.report = sampleReportWithLoss('web-1');
    t.same(store.storeReports([{ agentId: 'a1', message, receivedAt: at + i * MIN }]), ['stored']);
  }
  const all = await store.variantPoints(FIXTURE_START, at + 10 * MIN);
  t.same(all.map((p) => [p.side, p.reports, p.loss.reports]), [[0, 29, 4], [1, 29, 4]], 'the window counts every report, the loss figures only the new ones');
  const b = all[1]!.loss;
  const loss = sampleLoss();
  t.same(b.topCpu, { visible: loss.topCpu!.visible, ranked: loss.topCpu!.ranked });
  t.equal(b.cpuConservation, loss.cpuConservation);
  t.same(b.flapping, { appeared: 4 * 2, vanished: 4 * 1, switched: 4 * 1, hours: (4 * 15_000) / 3_600_000 });
  t.equal(b.blindSpots, 1);
});
