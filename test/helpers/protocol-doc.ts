// The close codes docs/protocol.md promises (its "Refusals" table), so tests check against the document users
// read rather than against the code's own table.
import { readFileSync } from 'node:fs';

const PROTOCOL_MD = new URL('../../docs/protocol.md', import.meta.url);

/** close code -> the meaning docs/protocol.md gives it. */
export function documentedCloseCodes(): Map<number, string> {
  const text = readFileSync(PROTOCOL_MD, 'utf8');
  const table = text.slice(text.indexOf('| close code | meaning |'));
  const codes = new Map<number, string>();
  for (const line of table.split('\n').slice(2)) {
    const row = /^\| (\d{4}) \| (.+) \|$/.exec(line);
    if (!row) break;
    codes.set(Number(row[1]), row[2]!);
  }
  if (codes.size === 0) throw new Error(`${PROTOCOL_MD.pathname}: no close code table found`);
  return codes;
}
