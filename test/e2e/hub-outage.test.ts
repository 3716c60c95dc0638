// Nothing lost, nothing twice: the hub stopped for two minutes under a real agent (its own file: it takes
// three minutes, most of the per-file timeout).
import t from 'tap';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { waitFor } from '../helpers/process.js';
import { outageRig, storedButUnacknowledged } from '../helpers/outage.js';
import { contiguous, notOnce, rowsPerSeq } from '../helpers/stored-rows.js';

t.test('the hub stopped for two minutes under a real agent: every report made meanwhile arrives, none twice', { timeout: 300_000 }, async (t) => {
  const rig = await outageRig(t, { interval: '3s' });
  await waitFor('first reports stored', async () => (await rig.lastSeq()) >= 2, 60_000, 200);
  await rig.stopHub();
  const downAt = await rig.produced();
  const atStop = await storedButUnacknowledged(rig.dataDir, rig.stateDir);
  await new Promise((resolve) => setTimeout(resolve, 120_000));
  const madeWhileDown = (await rig.produced()) - downAt;
  t.ok(madeWhileDown >= 30, `${madeWhileDown} reports made while the hub was down`);
  t.ok((await readdir(path.join(rig.stateDir, 'outbox'))).filter((f) => f.endsWith('.json')).length >= madeWhileDown, 'kept in the outbox');

  const madeBeforeBack = await rig.produced();
  const back = Date.now();
  await rig.startHub();
  const target = await rig.produced();
  await rig.delivered(target);
  // Read in one go with the queue's counts (the hub runs in this process: no report can be stored in between).
  const rows = rowsPerSeq(rig.dataDir);
  const ingested = rig.ingested();
  const seqs = rows.map((r) => r.seq);
  t.ok(contiguous(seqs), `stored sequence numbers are 1..${seqs.length} with no gap and no repeat`);
  t.ok(seqs.length >= target, `${seqs.length} stored >= ${target} produced by then`);
  t.same(notOnce(rows), [], `each of the ${rows.length} reports is one row per side in the store (counted with SQL)`);
  t.equal(ingested.stored, rows.length - atStop.lastStored, `the hub stored ${ingested.stored} reports after the outage: exactly the ones it did not have`);
  t.equal(
    ingested.duplicates,
    atStop.mustResend,
    `and dropped ${ingested.duplicates} repeats: the ${atStop.mustResend} stored but not acknowledged when it stopped (stored up to ${atStop.lastStored}, acknowledged up to ${atStop.acknowledged}), sent again`,
  );
  // Filed at the times they were made, not when they arrived (the store only clamps a time that goes backwards).
  const late = rows.filter((r) => r.seq > atStop.lastStored && r.seq <= madeBeforeBack);
  t.ok(late.length >= 30 && late.every((r) => r.ts < back), `the ${late.length} reports made while the hub was down are filed before it came back`);
  const gaps = late.slice(1).map((r, i) => r.ts - late[i]!.ts);
  t.ok(gaps.every((g) => g >= 1000), `a report interval apart (3 s; gaps ${Math.min(...gaps)}–${Math.max(...gaps)} ms), not bunched at the resend`);
});
