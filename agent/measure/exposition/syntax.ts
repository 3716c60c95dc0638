// The text format's lexical pieces: character classes and codes, names, escapes, Go-syntax numbers.

// ASCII character classes, one bit each.
export const METRIC_START = 1; // [a-zA-Z_:]
export const METRIC_CHAR = 2; // [a-zA-Z0-9_:]
export const LABEL_START = 4; // [a-zA-Z_]
export const LABEL_CHAR = 8; // [a-zA-Z0-9_]
const CLASS = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const ch = String.fromCharCode(c);
  const letter = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch === '_';
  if (letter || ch === ':') CLASS[c]! |= METRIC_START | METRIC_CHAR;
  if (letter) CLASS[c]! |= LABEL_START | LABEL_CHAR;
  if (ch >= '0' && ch <= '9') CLASS[c]! |= METRIC_CHAR | LABEL_CHAR;
}

// Per-label flags.
export const QUOTED_NAME = 1;
export const ESCAPED_NAME = 2;
export const ESCAPED_VALUE = 4;

// Character codes.
const TAB = 9;
export const NEWLINE = 10;
const SPACE = 32;
export const QUOTE = 34;
export const HASH = 35;
const PLUS = 43;
export const COMMA = 44;
const MINUS = 45;
const DOT = 46;
export const EQUALS = 61;
export const BACKSLASH = 92;
export const LOWER_N = 110;
export const OPEN_BRACE = 123;
export const CLOSE_BRACE = 125;

export function isClass(c: number, bit: number): boolean {
  return c < 128 && (CLASS[c]! & bit) !== 0;
}

export function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

export function skipBlanks(text: string, p: number, e: number): number {
  let c: number;
  while (p < e && ((c = text.charCodeAt(p)) === SPACE || c === TAB)) p++;
  return p;
}

export function isLegacyName(name: string, start: number, rest: number): boolean {
  if (!isClass(name.charCodeAt(0), start)) return false;
  for (let i = 1; i < name.length; i++) if (!isClass(name.charCodeAt(i), rest)) return false;
  return true;
}

/** A metric or label name: bare, or the inside of a quoted one (unescaped). */
export function readName(text: string, start: number, end: number, flags: number): string {
  return (flags & ESCAPED_NAME) !== 0 ? unescape(text, start, end) : text.slice(start, end);
}

/** Undoes \\, \" and \n (already validated). */
export function unescape(text: string, start: number, end: number): string {
  let out = '';
  let run = start;
  for (let i = start; i < end; i++) {
    if (text.charCodeAt(i) !== BACKSLASH) continue;
    const c = text.charCodeAt(i + 1);
    out += text.slice(run, i) + (c === LOWER_N ? '\n' : c === QUOTE ? '"' : '\\');
    run = ++i + 1;
  }
  return out + text.slice(run, end);
}

/** A copy that does not keep alive the text it was sliced from. */
export function copy(text: string): string {
  return text.length < 13 ? text : Buffer.from(text, 'latin1').toString('latin1');
}

/** Decodes latin1 text holding UTF-8 bytes. */
export function utf8(latin1: string): string {
  return Buffer.from(latin1, 'latin1').toString('utf8');
}

export function sameText(a: string, aStart: number, aEnd: number, b: string, bStart: number, bEnd: number): boolean {
  if (aEnd - aStart !== bEnd - bStart) return false;
  for (let i = 0; i < aEnd - aStart; i++) if (a.charCodeAt(aStart + i) !== b.charCodeAt(bStart + i)) return false;
  return true;
}

export function compareRanges(text: string, a: number, aEnd: number, b: number, bEnd: number): number {
  const n = Math.min(aEnd - a, bEnd - b);
  for (let i = 0; i < n; i++) {
    const d = text.charCodeAt(a + i) - text.charCodeAt(b + i);
    if (d !== 0) return d;
  }
  return aEnd - a - (bEnd - b);
}

/** What Go's strconv.ParseFloat accepts, hex floats aside: 1, -1.5, .5, 1e-3, NaN, +Inf, Infinity. */
export function isGoFloat(text: string, p: number, end: number): boolean {
  if (p >= end) return false;
  let c = text.charCodeAt(p);
  let signed = false;
  if (c === PLUS || c === MINUS) {
    signed = true;
    if (++p >= end) return false;
    c = text.charCodeAt(p);
  }
  if (c > 57) {
    const word = text.slice(p, end).toLowerCase();
    return word === 'inf' || word === 'infinity' || (!signed && word === 'nan');
  }
  return decimalEnd(text, p, end) === end;
}

/**
 * Where the decimal number at p (digits, an optional fraction and exponent, no sign) stops, at or
 * before end; -1 when there is none (no digit, or an exponent without digits).
 */
export function decimalEnd(text: string, p: number, end: number): number {
  // Every read is bounded by `end` first: a read past the string's end returns NaN and makes V8 throw
  // away the optimized code of this function and its callers (it did, every few rounds, in the agent).
  let digits = 0;
  for (; p < end && isDigit(text.charCodeAt(p)); p++) digits++;
  if (p < end && text.charCodeAt(p) === DOT) {
    for (p++; p < end && isDigit(text.charCodeAt(p)); p++) digits++;
  }
  if (digits === 0) return -1;
  if (p < end && (text.charCodeAt(p) | 32) === 101) {
    p++;
    if (p < end && (text.charCodeAt(p) === PLUS || text.charCodeAt(p) === MINUS)) p++;
    const from = p;
    while (p < end && isDigit(text.charCodeAt(p))) p++;
    if (p === from) return -1;
  }
  return p;
}

/** The number of a value isGoFloat accepted ("+Inf" and "Infinity" in any case, which Number() half knows). */
export function parseGoFloat(token: string): number {
  const word = token.toLowerCase();
  const unsigned = word.charCodeAt(0) === PLUS || word.charCodeAt(0) === MINUS ? word.slice(1) : word;
  if (unsigned === 'inf' || unsigned === 'infinity') return word.charCodeAt(0) === MINUS ? -Infinity : Infinity;
  return Number(word);
}

export function isInteger(text: string, p: number, end: number): boolean {
  if (p >= end) return false;
  const c = text.charCodeAt(p);
  if (c === PLUS || c === MINUS) p++;
  if (p >= end) return false;
  while (p < end) if (!isDigit(text.charCodeAt(p++))) return false;
  return true;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
