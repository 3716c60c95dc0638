// Finds where a quoted string ends in a region's text and checks its escapes, searching each region once.
import type { LineErrors } from './line-errors.js';
import { BACKSLASH, LOWER_N, QUOTE, utf8 } from './syntax.js';

/**
 * Keeps the next '"' and '\' at or after the last position asked about: reading only moves forward
 * within a region, so each region is searched once however many quoted strings its lines have.
 * Call `forget()` when a new region starts, or when reading goes back to an earlier position.
 */
export class QuoteScanner {
  /** Whether the string the last end() or read() found has a backslash escape. */
  escaped = false;
  /** Where end() met an invalid escape, when it returned -1 for one (else -1: unterminated). */
  badEscapeAt = -1;
  private nextQuoteAt = -1;
  private nextBackslashAt = -1;

  constructor(private readonly errors: LineErrors) {}

  forget(): void {
    this.nextQuoteAt = -1;
    this.nextBackslashAt = -1;
  }

  /**
   * The closing quote of the quoted string whose content starts at `p`, in a line ending at `e`;
   * -1, after counting the error, when it is malformed. Sets `escaped`.
   */
  read(text: string, lineStart: number, p: number, e: number): number {
    const q = this.end(text, p, e);
    if (q >= 0) return q;
    const b = this.badEscapeAt;
    if (b >= 0) this.errors.fail(`invalid escape sequence '${utf8(text.slice(b, b + 2))}'`, text, lineStart, e, b);
    else this.errors.fail('unterminated quoted string', text, lineStart, e, p - 1);
    return -1;
  }

  /**
   * read() without the error: -1 when malformed (badEscapeAt says where an invalid escape is).
   * It never looks past e + 1, so the next line's searches still start after what it found.
   */
  end(text: string, p: number, e: number): number {
    let q = this.nextQuote(text, p);
    let b = this.nextBackslash(text, p);
    this.escaped = b < q;
    while (b < q && b + 1 < e) {
      const c = text.charCodeAt(b + 1);
      if (c !== BACKSLASH && c !== QUOTE && c !== LOWER_N) {
        this.badEscapeAt = b;
        return -1;
      }
      q = this.nextQuote(text, b + 2);
      b = this.nextBackslash(text, b + 2);
    }
    if (q >= e) {
      this.badEscapeAt = -1;
      return -1;
    }
    return q;
  }

  /** The first '\' at or after p, or text.length. */
  nextBackslash(text: string, p: number): number {
    if (this.nextBackslashAt < p) {
      const b = text.indexOf('\\', p);
      this.nextBackslashAt = b < 0 ? text.length : b;
    }
    return this.nextBackslashAt;
  }

  private nextQuote(text: string, p: number): number {
    if (this.nextQuoteAt < p) {
      const q = text.indexOf('"', p);
      this.nextQuoteAt = q < 0 ? text.length : q;
    }
    return this.nextQuoteAt;
  }
}
