// A name remembered from an earlier line, so that the next lines spelt alike are matched four bytes at a time.
import type { SeriesValue } from '../exposition.js';
import type { MetricCount } from './tally.js';

/**
 * A metric name, or a label name followed by `="`, as latin1 text of its UTF-8 bytes. It also
 * carries what the tally keeps for that name, so a matched name needs no map look-up.
 */
export class KnownName {
  /** A copy: a slice of the region would keep all of it alive. */
  readonly text: string;
  readonly length: number;
  /** For a metric name: its series counter, once it has one. */
  counter: MetricCount | undefined = undefined;
  /** For a metric name: where its series' values are kept (null: not wanted), once the tally has asked. */
  seriesValues: Map<number, SeriesValue> | null | undefined = undefined;
  /** For a label name: where its values go, if it is one of the collected labels. */
  values: Set<string> | undefined = undefined;
  /** For a collected label name: where its last value was (text, start, end), already collected. */
  lastText = '';
  lastStart = 0;
  lastEnd = 0;
  private readonly words: Int32Array;
  /** The last four bytes, compared at once when the length is not a multiple of four. */
  private readonly tail: number;
  private readonly bytes: Buffer;

  constructor(text: string) {
    this.length = text.length;
    this.bytes = Buffer.from(text, 'latin1');
    this.text = this.bytes.toString('latin1');
    this.words = new Int32Array(text.length >> 2);
    for (let k = 0; k < this.words.length; k++) this.words[k] = this.bytes.readInt32LE(4 * k);
    this.tail = text.length >= 4 ? this.bytes.readInt32LE(text.length - 4) : 0;
  }

  /** Whether view[at, at + length) holds this name. */
  matches(view: DataView, at: number): boolean {
    const length = this.length;
    if (at + length > view.byteLength) return false;
    const words = this.words;
    for (let k = 0; k < words.length; k++) if (view.getInt32(at + 4 * k, true) !== words[k]) return false;
    if ((length & 3) === 0) return true;
    if (length > 4) return view.getInt32(at + length - 4, true) === this.tail;
    for (let i = 0; i < length; i++) if (view.getUint8(at + i) !== this.bytes[i]) return false;
    return true;
  }
}
