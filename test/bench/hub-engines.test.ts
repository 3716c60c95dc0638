// The engines bench's steady-state figure: the ack p99 of the reports sent from one interval after a load process's
// first report on (the first round, with the connections being opened and every agent's first report, left out).
import t from 'tap';
import { steadyP99 } from '../../bench/hub-engines.js';

t.test('steadyP99 leaves out the first interval of reports, whatever their order', async (t) => {
  const first = Array.from({ length: 50 }, (_, i): [number, number] => [1000 + i, 500]);
  const later = Array.from({ length: 100 }, (_, i): [number, number] => [6000 + i * 10, i + 1]);
  t.equal(steadyP99([...later, ...first], 5000), 99, 'the first round (500 ms each) left out: p99 of 1..100');
  t.equal(steadyP99([...first, ...later], 0), 500, 'no interval: every report counts');
  t.equal(steadyP99([], 5000), null, 'no samples: none');
  t.equal(steadyP99(undefined, 5000), null, 'a load process without samples: none');
});
