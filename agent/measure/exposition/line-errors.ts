// Counts an exposition's malformed lines and words the first one: line number, problem, column and an excerpt.
import { utf8 } from './syntax.js';

/** How much of an over-long line is kept for its error message. */
export const EXCERPT_SOURCE_BYTES = 120;

export class LineErrors {
  count = 0;
  first: { line: number; message: string } | null = null;
  /** The 1-based number of the line being read: the parser moves it on per line, the framer per line it skips. */
  line = 1;

  /** A problem at `at` in the line text[lineStart, lineEnd) (latin1 text of UTF-8 bytes). */
  fail(problem: string, text: string, lineStart: number, lineEnd: number, at: number): void {
    this.add(() => `${problem} at column ${at - lineStart + 1}: ${excerpt(text, lineStart, lineEnd, at)}`);
  }

  /** fail(), for the paths that return a position: -1. */
  reject(problem: string, text: string, lineStart: number, lineEnd: number, at: number): -1 {
    this.fail(problem, text, lineStart, lineEnd, at);
    return -1;
  }

  /** A line over maxLineBytes, skipped; `start` holds its first bytes. */
  lineTooLong(start: Buffer, maxLineBytes: number): void {
    this.add(() => {
      // At most maxLineBytes + 1 bytes: all any chunking is sure to have seen when the line went over.
      const text = start.toString('latin1', 0, Math.min(EXCERPT_SOURCE_BYTES, maxLineBytes + 1));
      return `line longer than maxLineBytes (${maxLineBytes} bytes), skipped: ${excerpt(text, 0, text.length, 0)}`;
    });
  }

  /** Builds the message for the first error only: garbage input must stay cheap. */
  private add(message: () => string): void {
    this.count++;
    if (this.first === null) this.first = { line: this.line, message: message() };
  }
}

/** Up to 60 bytes of the line around `at`, decoded and quoted. */
function excerpt(text: string, lineStart: number, lineEnd: number, at: number): string {
  const from = at - lineStart > 40 ? at - 20 : lineStart;
  const to = Math.min(lineEnd, from + 60);
  return `${from > lineStart ? '…' : ''}'${utf8(text.slice(from, to))}'${to < lineEnd ? '…' : ''}`;
}
