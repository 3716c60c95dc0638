// Nothing lost, nothing twice: the hub stopped for two minutes under a real agent (its own file: it takes
// three minutes, most of the per-file timeout).
import t from 'tap';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { waitFor } from './helpers/process.js';
import { contiguous, outageRig, storedSeqs } from './helpers/outage.js';

t.test('the hub stopped for two minutes under a real agent: every report made meanwhile arrives, none twice', { timeout: 300_000 }, async (t) => {
  const rig = await outageRig(t, { interval: '3s' });
  await waitFor('first reports stored', () => rig.lastSeq() >= 2, 60_000, 200);
  await rig.stopHub();
  const downAt = await rig.produced();
  await new Promise((resolve) => setTimeout(resolve, 120_000));
  const madeWhileDown = (await rig.produced()) - downAt;
  t.ok(madeWhileDown >= 30, `${madeWhileDown} reports made while the hub was down`);
  t.ok((await readdir(path.join(rig.stateDir, 'outbox'))).filter((f) => f.endsWith('.json')).length >= madeWhileDown, 'kept in the outbox');

  await rig.startHub();
  const target = await rig.produced();
  await rig.delivered(target);
  const seqs = storedSeqs(rig.dataDir);
  t.ok(contiguous(seqs), `stored sequence numbers are 1..${seqs.length} with no gap and no repeat`);
  t.ok(seqs.length >= target, `${seqs.length} stored >= ${target} produced by then`);
});
