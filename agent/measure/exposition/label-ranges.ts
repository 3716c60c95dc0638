// Where each label of the key just read is, as positions in the region's text: reused from line to line.
import { ESCAPED_VALUE, readName, unescape } from './syntax.js';

/**
 * Label i's name is text[nameStart[i], nameEnd[i]) and its value text[valueStart[i], valueEnd[i]),
 * both without quotes and still escaped; flags[i] says which (QUOTED_NAME, ESCAPED_NAME,
 * ESCAPED_VALUE). Valid until the next line is read: the arrays are overwritten, and grow (so do
 * not keep them across a set()).
 */
export class LabelRanges {
  nameStart = new Int32Array(16);
  nameEnd = new Int32Array(16);
  valueStart = new Int32Array(16);
  valueEnd = new Int32Array(16);
  flags = new Uint8Array(16);

  set(i: number, nameStart: number, nameEnd: number, valueStart: number, valueEnd: number, flags: number): void {
    if (i === this.flags.length) this.grow();
    this.nameStart[i] = nameStart;
    this.nameEnd[i] = nameEnd;
    this.valueStart[i] = valueStart;
    this.valueEnd[i] = valueEnd;
    this.flags[i] = flags;
  }

  /** Label i's name, unescaped (latin1 text of UTF-8 bytes). */
  name(text: string, i: number): string {
    return readName(text, this.nameStart[i]!, this.nameEnd[i]!, this.flags[i]!);
  }

  /** Label i's value, unescaped (latin1 text of UTF-8 bytes). */
  value(text: string, i: number): string {
    const start = this.valueStart[i]!;
    const end = this.valueEnd[i]!;
    return (this.flags[i]! & ESCAPED_VALUE) !== 0 ? unescape(text, start, end) : text.slice(start, end);
  }

  private grow(): void {
    const size = this.flags.length * 2;
    const grow = <T extends Int32Array<ArrayBuffer> | Uint8Array<ArrayBuffer>>(a: T, bigger: T): T => {
      bigger.set(a);
      return bigger;
    };
    this.nameStart = grow(this.nameStart, new Int32Array(size));
    this.nameEnd = grow(this.nameEnd, new Int32Array(size));
    this.valueStart = grow(this.valueStart, new Int32Array(size));
    this.valueEnd = grow(this.valueEnd, new Int32Array(size));
    this.flags = grow(this.flags, new Uint8Array(size));
  }
}
