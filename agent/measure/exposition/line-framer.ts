// Frames an exposition's chunks (bytes or strings, split anywhere) into regions of whole lines for the line parser.
import { EXCERPT_SOURCE_BYTES, type LineErrors } from './line-errors.js';
import { NEWLINE } from './syntax.js';

/** Where the framer hands its lines. */
export interface RegionParser {
  /** Parses the complete lines in buf[start, end), separated by '\n' (the last one needs none). */
  parseRegion(buf: Buffer, start: number, end: number): void;
}

/**
 * Complete lines are handed on in regions of at most this many bytes (unless one line is longer),
 * and long strings are encoded in pieces of this many units: V8 puts strings and buffers over
 * about 128 KiB in its large-object space, and decoding into them was ~70x slower here.
 */
const REGION_BYTES = 64 * 1024;

/**
 * Calling rules: `write()` any number of chunks, then `end()` once. Bytes of an incomplete line are
 * copied into one held buffer, never more than maxLineBytes of them: a longer line is counted as an
 * error and skipped up to its newline without being kept.
 */
export class LineFramer {
  /** Bytes written, skipped lines included (UTF-8 length for string chunks). */
  bytes = 0;
  // The start of an incomplete line (copied into one buffer, whatever the chunking), and whether
  // an over-long line is being skipped.
  private pending = Buffer.alloc(0);
  private pendingLength = 0;
  private skipping = false;
  // A string chunk's final high surrogate, held back until its low half arrives.
  private highSurrogate = '';

  constructor(
    private readonly parser: RegionParser,
    private readonly errors: LineErrors,
    private readonly maxLineBytes: number,
  ) {}

  /** Bytes held for an incomplete line (never more than maxLineBytes). */
  get bufferedBytes(): number {
    return this.pendingLength;
  }

  write(chunk: Uint8Array | string): void {
    // A held high surrogate is completed only by a string; before bytes it is U+FFFD, as Buffer.from makes it.
    let text = this.highSurrogate;
    this.highSurrogate = '';
    if (typeof chunk !== 'string') {
      if (text !== '') this.writeBytes(Buffer.from(text));
      this.writeBytes(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      return;
    }
    for (let i = 0; i < chunk.length; i += REGION_BYTES) {
      text += chunk.slice(i, i + REGION_BYTES);
      const last = text.charCodeAt(text.length - 1);
      if (last >= 0xd800 && last <= 0xdbff) {
        this.highSurrogate = text.slice(-1);
        text = text.slice(0, -1);
      }
      this.writeBytes(Buffer.from(text));
      text = this.highSurrogate;
      this.highSurrogate = '';
    }
    this.highSurrogate = text;
  }

  /** Hands on the final line, which needs no newline, and lets the held buffer go. */
  end(): void {
    // A lone high surrogate at the very end has no UTF-8 form: it becomes U+FFFD, as Buffer.from does.
    if (this.highSurrogate !== '') this.writeBytes(Buffer.from(this.highSurrogate));
    this.highSurrogate = '';
    if (!this.skipping && this.pendingLength > 0) this.parser.parseRegion(this.pending, 0, this.pendingLength);
    this.dropPending();
  }

  private writeBytes(buf: Buffer): void {
    this.bytes += buf.length;
    let pos = 0;
    if (this.skipping) {
      const nl = buf.indexOf(NEWLINE);
      if (nl < 0) return;
      this.skipping = false;
      this.errors.line++;
      pos = nl + 1;
    }
    const first = buf.indexOf(NEWLINE, pos);
    if (first < 0) {
      this.hold(buf, pos);
      return;
    }
    if (this.pendingLength > 0) {
      if (this.pendingLength + (first - pos) > this.maxLineBytes) {
        this.errors.lineTooLong(this.pendingHead(buf.subarray(pos, first)), this.maxLineBytes);
        this.errors.line++;
      } else {
        this.append(buf.subarray(pos, first));
        this.parser.parseRegion(this.pending, 0, this.pendingLength);
      }
      this.dropPending();
      pos = first + 1;
    }
    const last = buf.lastIndexOf(NEWLINE);
    while (pos <= last) {
      let cut = last;
      if (last - pos > REGION_BYTES) {
        cut = buf.lastIndexOf(NEWLINE, pos + REGION_BYTES);
        if (cut < pos) cut = buf.indexOf(NEWLINE, pos + REGION_BYTES); // one line longer than a region
      }
      this.parser.parseRegion(buf, pos, cut);
      pos = cut + 1;
    }
    this.hold(buf, pos);
  }

  /** Keeps the start of an incomplete line, unless that makes it too long. */
  private hold(buf: Buffer, from: number): void {
    const n = buf.length - from;
    if (n === 0) return;
    if (this.pendingLength + n > this.maxLineBytes) {
      this.errors.lineTooLong(this.pendingHead(buf.subarray(from)), this.maxLineBytes);
      this.dropPending();
      this.skipping = true;
      return;
    }
    this.append(buf.subarray(from));
  }

  private append(bytes: Buffer): void {
    const needed = this.pendingLength + bytes.length;
    if (needed > this.pending.length) {
      const bigger = Buffer.allocUnsafe(Math.min(this.maxLineBytes, Math.max(needed, 2 * this.pending.length, 256)));
      this.pending.copy(bigger, 0, 0, this.pendingLength);
      this.pending = bigger;
    }
    bytes.copy(this.pending, this.pendingLength);
    this.pendingLength = needed;
  }

  /** Forgets the held line; a buffer grown for a long one is let go. */
  private dropPending(): void {
    this.pendingLength = 0;
    if (this.pending.length > REGION_BYTES) this.pending = Buffer.alloc(0);
  }

  /** The first bytes of the held line continued by `next`, for an error message. */
  private pendingHead(next: Buffer): Buffer {
    const held = this.pending.subarray(0, Math.min(this.pendingLength, EXCERPT_SOURCE_BYTES));
    return Buffer.concat([held, next.subarray(0, EXCERPT_SOURCE_BYTES - held.length)]);
  }
}
