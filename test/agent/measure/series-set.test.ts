// SeriesSet on its own: distinct keys counted exactly, whatever their length or position, through growth and release.
import t from 'tap';
import { SeriesSet } from '../../../agent/measure/series-set.js';

/** Adds the latin1 key, placed at `offset` in a fresh buffer so that its position varies. */
function add(set: SeriesSet, key: string, offset = 0): boolean {
  const bytes = Buffer.alloc(offset + key.length + 7, 0xaa);
  bytes.write(key, offset, 'latin1');
  return set.add(new DataView(bytes.buffer, bytes.byteOffset, bytes.length), offset, offset + key.length);
}

/** A seeded generator (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let x = Math.imul(seed ^ (seed >>> 15), seed | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 2 ** 32;
  };
}

t.test('counts each distinct key once, as a Set of the same strings does', (t) => {
  const rng = random(1);
  const set = new SeriesSet();
  const model = new Set<string>();
  const keys: string[] = [];
  let disagreements = 0;
  for (let i = 0; i < 20_000; i++) {
    // Every length from 0 to 80 (the hash reads 16 bytes a step, then byte by byte), a third of them repeats.
    let key: string;
    if (keys.length > 0 && rng() < 1 / 3) key = keys[Math.floor(rng() * keys.length)]!;
    else key = Array.from({ length: Math.floor(rng() * 81) }, () => String.fromCharCode(Math.floor(rng() * 256))).join('');
    keys.push(key);
    const isNew = !model.has(key);
    model.add(key);
    if (add(set, key, Math.floor(rng() * 8)) !== isNew) disagreements++;
  }
  t.equal(disagreements, 0, 'add() is true exactly for a key not added before');
  t.equal(set.size, model.size);
  t.end();
});

t.test('a key is its bytes: the same wherever they lie, different when one byte or the length differs', (t) => {
  const set = new SeriesSet();
  const key = 'process_cpu_time_seconds_total{host_name="a",state="user"}';
  t.ok(add(set, key, 0), 'new');
  t.notOk(add(set, key, 3), 'the same bytes at another offset of another buffer');
  const region = Buffer.from(`xx${key}\n${key} 1\n`, 'latin1');
  const view = new DataView(region.buffer, region.byteOffset, region.length);
  t.notOk(set.add(view, 2, 2 + key.length), 'inside a larger region');
  t.notOk(set.add(view, 3 + key.length, 3 + 2 * key.length), 'later in the same region');
  let distinct = 0;
  for (let i = 0; i < key.length; i++) {
    const changed = key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) ^ 1) + key.slice(i + 1);
    if (add(set, changed)) distinct++;
  }
  t.equal(distinct, key.length, 'each one-byte change is another key');
  t.ok(add(set, `${key}\0`), 'a trailing zero byte makes another key');
  t.ok(add(set, key.slice(0, -1)), 'so does one byte less');
  t.ok(add(set, ''), 'the empty key is a key');
  t.notOk(add(set, ''), 'and counts once');
  t.equal(set.size, key.length + 4);
  t.end();
});

t.test('starts at 1,024 slots, doubles past half full, and keeps every key through each doubling', (t) => {
  const set = new SeriesSet();
  t.equal(set.capacity, 1024, 'small to start: a scrape of a few dozen series zeroes 8 KiB');
  for (let i = 0; i < 512; i++) add(set, `series_${i}`);
  t.equal(set.capacity, 1024, 'half full is allowed');
  add(set, 'series_512');
  t.equal(set.capacity, 2048, 'one more doubles it');
  const n = 100_000;
  for (let i = 513; i < n; i++) add(set, `series_${i}`);
  t.equal(set.size, n);
  t.equal(set.capacity, 262_144, 'still at least twice the size, by doubling only');
  let lost = 0;
  for (let i = 0; i < n; i++) if (add(set, `series_${i}`)) lost++;
  t.equal(lost, 0, 'every key added before the doublings is still there');
  t.equal(set.size, n);
  t.end();
});

t.test('release() empties the set and lets its table go; it can be filled again', (t) => {
  const set = new SeriesSet();
  for (let i = 0; i < 5000; i++) add(set, `first_${i}`);
  t.equal(set.size, 5000);
  set.release();
  t.equal(set.size, 0);
  t.equal(set.capacity, 1, 'one slot left, not the 16,384 it had');
  t.ok(add(set, 'first_0'), 'a key from before is new again');
  let fresh = 0;
  for (let i = 0; i < 3000; i++) if (add(set, `second_${i % 1000}`)) fresh++;
  t.equal(fresh, 1000, 'after release, repeats are still told apart');
  t.equal(set.size, 1001);
  t.ok(set.capacity >= 2 * set.size, 'it grew again as it filled');
  t.end();
});
