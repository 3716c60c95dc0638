// Counts distinct series by a 64-bit hash of each canonical series key, in flat memory.

/**
 * A set of 64-bit hashes of series keys (open addressing, linear probing, two int32 per slot, at
 * most half full). At 1M distinct series the chance that any two collide is about 5 in 100 million.
 * A key is a run of bytes: the same bytes are the same key wherever they lie. Calling rules: add()
 * any number of keys; release() when done to give the table back, after which the set is empty and
 * may be filled again.
 */
/** Slots a new set starts with (1,024, 8 KiB): see below. */
export const INITIAL_SLOTS = 1 << 10;

export class SeriesSet {
  /** Distinct keys added since the set was made or last released. */
  size = 0;
  /** The two 32-bit halves of the last key's hash that add() computed (see has()). */
  lastLow = 0;
  lastHigh = 0;
  // 1,024 slots (8 KiB) to start, doubled as it fills: a scrape of a few dozen series (a collector's own
  // telemetry, an optimized variant) should not zero half a megabyte every round.
  private mask = INITIAL_SLOTS - 1;
  private slots = new Int32Array(2 * INITIAL_SLOTS);

  /**
   * Adds the key in view[start, end); true when it was not there yet. The hash is xxHash32's
   * four-lane rounds (16 bytes a step; the lanes are independent, so the CPU overlaps them), with
   * two different finalisations of the 128-bit state for the two halves.
   */
  add(view: DataView, start: number, end: number): boolean {
    let v1 = (P1 + P2) | 0;
    let v2 = P2;
    let v3 = 0;
    let v4 = -P1 | 0;
    let i = start;
    for (const stop = end - 15; i < stop; i += 16) {
      v1 = Math.imul(v1 + Math.imul(view.getInt32(i, true), P2), P1);
      v1 = (v1 << 13) | (v1 >>> 19);
      v2 = Math.imul(v2 + Math.imul(view.getInt32(i + 4, true), P2), P1);
      v2 = (v2 << 13) | (v2 >>> 19);
      v3 = Math.imul(v3 + Math.imul(view.getInt32(i + 8, true), P2), P1);
      v3 = (v3 << 13) | (v3 >>> 19);
      v4 = Math.imul(v4 + Math.imul(view.getInt32(i + 12, true), P2), P1);
      v4 = (v4 << 13) | (v4 >>> 19);
    }
    for (; i < end; i++) {
      v1 = Math.imul(v1 ^ view.getUint8(i), P1);
      v1 = (v1 << 11) | (v1 >>> 21);
      v3 = Math.imul(v3 + view.getUint8(i), P3);
    }
    const length = end - start;
    const low = avalanche(((v1 << 1) | (v1 >>> 31)) + ((v2 << 7) | (v2 >>> 25)) + ((v3 << 12) | (v3 >>> 20)) + ((v4 << 18) | (v4 >>> 14)) + length);
    // Never 0: 0 marks an empty slot.
    const high = avalanche((v1 ^ Math.imul(v2, P3)) + (Math.imul(v3, P1) ^ v4) + Math.imul(length, P2)) | 1;
    this.lastLow = low;
    this.lastHigh = high;

    const slots = this.slots;
    const mask = this.mask;
    for (let slot = low & mask; ; slot = (slot + 1) & mask) {
      const h = slots[2 * slot + 1]!;
      if (h === 0) {
        slots[2 * slot] = low;
        slots[2 * slot + 1] = high;
        if (++this.size > (mask + 1) >> 1) this.grow();
        return true;
      }
      if (h === high && slots[2 * slot] === low) return false;
    }
  }

  /** Whether a key whose hash another set's add() gave as lastLow/lastHigh is in this one. */
  has(low: number, high: number): boolean {
    const slots = this.slots;
    const mask = this.mask;
    for (let slot = low & mask; ; slot = (slot + 1) & mask) {
      const h = slots[2 * slot + 1]!;
      if (h === 0) return false;
      if (h === high && slots[2 * slot] === low) return true;
    }
  }

  /** Slots in the table: a power of two, at least twice `size` (so a probe soon meets an empty slot). */
  get capacity(): number {
    return this.mask + 1;
  }

  /** Empties the set and lets its table go (a finished scan keeps 8 bytes, not megabytes); it grows again from one slot. */
  release(): void {
    this.slots = new Int32Array(2);
    this.mask = 0;
    this.size = 0;
  }

  private grow(): void {
    const old = this.slots;
    const slots = (this.slots = new Int32Array(old.length * 2));
    const mask = (this.mask = old.length - 1);
    for (let j = 0; j < old.length; j += 2) {
      const high = old[j + 1]!;
      if (high === 0) continue;
      let i = old[j]! & mask;
      while (slots[2 * i + 1] !== 0) i = (i + 1) & mask;
      slots[2 * i] = old[j]!;
      slots[2 * i + 1] = high;
    }
  }
}

const P1 = 0x9e3779b1 | 0;
const P2 = 0x85ebca77 | 0;
const P3 = 0xc2b2ae3d | 0;

function avalanche(x: number): number {
  let h = Math.imul(x ^ (x >>> 15), P2);
  h = Math.imul(h ^ (h >>> 13), P3);
  return h ^ (h >>> 16);
}
