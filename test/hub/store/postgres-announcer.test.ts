// Reports announced to the other replicas after their batches commit (hub/store/postgres-announcer.ts): notices under
// PostgreSQL's payload limit, and a database that cannot be reached costs a warning, never the batch or the process.
import t from 'tap';
import pg from 'pg';
import { ANNOUNCE_EVERY_MS, ReportAnnouncer, reportNotices } from '../../../hub/store/postgres-announcer.js';
import type { StoredElsewhere } from '../../../hub/store/peers.js';
import { captureLogs } from '../../helpers/logs.js';
import { waitFor } from '../../helpers/process.js';

const reports = (n: number): StoredElsewhere[] => Array.from({ length: n }, (_, i) => ({ agentId: `agent-${i}-${'x'.repeat(i % 40)}`, hostId: `host-${i}`, seq: i + 1, ts: 1_800_000_000_000 + i }));

t.test('notices: every report once, in order, each payload under 8,000 bytes', async (t) => {
  const all = reports(2000);
  const notices = reportNotices('replica-1', all);
  t.ok(notices.length > 1, `${notices.length} notices`);
  t.ok(notices.every((n) => Buffer.byteLength(n) < 8000), `largest ${Math.max(...notices.map((n) => Buffer.byteLength(n)))} bytes`);
  const parsed = notices.map((n) => JSON.parse(n) as { from: string; reports: [string, string, number, number][] });
  t.ok(parsed.every((p) => p.from === 'replica-1'));
  t.same(parsed.flatMap((p) => p.reports), all.map((r) => [r.agentId, r.hostId, r.seq, r.ts]));
  t.same(reportNotices('r', []), [], 'nothing stored, nothing sent');
});

t.test('a database that cannot be reached: a warning naming how many reports were not announced; close still ends', async (t) => {
  const logs = captureLogs('warn');
  const pool = new pg.Pool({ connectionString: 'postgres://nobody:secret-password@127.0.0.1:1/none', connectionTimeoutMillis: 2000 });
  pool.on('error', () => undefined);
  t.teardown(() => pool.end());
  const announcer = new ReportAnnouncer(pool, 'replica-1', logs.logger);
  announcer.add(reports(3));
  announcer.add(reports(2));
  await waitFor('the warning', () => logs.lines.find((l) => /cannot tell the other replicas/.test(String(l.msg))), 5000 + ANNOUNCE_EVERY_MS);
  t.match(logs.lines[0], { level: 40, reports: 5 }, 'both batches in one attempt');
  t.notOk(JSON.stringify(logs.lines).includes('secret-password'), 'no password in the log');
  await announcer.close();
});
