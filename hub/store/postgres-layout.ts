// How PostgreSQL lays out the store's big tables (schema 6): a row per report and side, or per bucket and side, of
// ~40 numbers each. PostgreSQL stores every number at its type's full width and aligns it to that width, so a 0/1 count
// kept as BIGINT costs 8 bytes, and a TEXT column between two BIGINTs costs its padding too (SQLite's records have
// neither cost: their integers take the bytes their value needs). Here those tables' counts of reports take 4 bytes,
// `side` 2, and each table's columns are ordered widest first, the text last: no byte of padding between them.
import { CallingRuleError } from '../../common/errors.js';
import { REPORT_COUNT_COLUMNS } from './totals.js';

/** The tables laid out this way: the ones whose rows grow with the fleet and its reports. */
export const PACKED_TABLES = ['samples', 'rollups', 'anchors'] as const;

/**
 * Their narrower columns (declared INTEGER, BIGINT after translation): the side (0 or 1), the running counts of reports,
 * and a rollup's counts of reports in its bucket (`n`, `*_n`: a bucket holds at most an hour of one agent-side's).
 */
const NARROW: Readonly<Record<string, 'SMALLINT' | 'INTEGER'>> = {
  side: 'SMALLINT',
  ...Object.fromEntries([...REPORT_COUNT_COLUMNS, 'n', 'series_n', 'cpu_n', 'rss_n', 'cost_n'].map((c) => [c, 'INTEGER'])),
};

/** A type's alignment in bytes on the 64-bit servers Phoenix runs on; 0: variable length (text), placed last. */
function widthOf(definition: string): number {
  const type = definition.split(/\s+/)[1]!;
  if (type === 'BIGINT' || type === 'DOUBLE') return 8;
  if (type === 'INTEGER') return 4;
  if (type === 'SMALLINT') return 2;
  return 0;
}

/** `body` split at its top-level commas (a PRIMARY KEY's column list stays whole). */
function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < body.length; i++) {
    if (body[i] === '(') depth++;
    else if (body[i] === ')') depth--;
    else if (body[i] === ',' && depth === 0) {
      parts.push(body.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(body.slice(start).trim());
  return parts.filter((p) => p.length > 0);
}

const CREATE = /^CREATE TABLE IF NOT EXISTS (\w+) \(([\s\S]*)\)$/;
const CONSTRAINT = /^(PRIMARY KEY|UNIQUE|CHECK|FOREIGN KEY)\b/;

/** A CREATE TABLE statement's table, column definitions and table constraints, in order; `caller` names a refusal. */
function partsOf(statement: string, caller: string): { table: string; columns: string[]; constraints: string[] } {
  const match = CREATE.exec(statement.trim());
  if (!match) throw new CallingRuleError('PHX_STORE_DIALECT', `${caller}: not a CREATE TABLE statement: ${statement.slice(0, 60)}`);
  const parts = splitTopLevel(match[2]!);
  return { table: match[1]!, columns: parts.filter((p) => !CONSTRAINT.test(p)), constraints: parts.filter((p) => CONSTRAINT.test(p)) };
}

/** One CREATE TABLE statement (PostgreSQL's dialect, no trailing semicolon) laid out as above. */
export function packTable(statement: string): string {
  const { table, columns, constraints } = partsOf(statement, 'packTable');
  const narrowed = columns.map((p) => {
    const narrow = NARROW[p.split(/\s+/, 1)[0]!];
    return narrow && / BIGINT\b/.test(p) ? p.replace(' BIGINT', ` ${narrow}`) : p;
  });
  // A stable sort: columns of one width keep the DDL's order.
  const ordered = narrowed.map((c, i) => ({ c, i, w: widthOf(c) })).sort((a, b) => b.w - a.w || a.i - b.i).map((x) => x.c);
  return `CREATE TABLE IF NOT EXISTS ${table} (\n  ${[...ordered, ...constraints].join(',\n  ')}\n)`;
}

/** A translated DDL's statements, comments dropped (they may hold semicolons), without their semicolons. */
export function statementsOf(ddl: string): string[] {
  return ddl
    .replace(/--[^\n]*/g, '')
    .split(';')
    .map((s) => s.trim())
    .filter((s) => s.length > 0);
}

const tableOf = (statement: string): string | undefined => /^CREATE TABLE IF NOT EXISTS (\w+) /.exec(statement)?.[1];
const INDEX = /^CREATE (?:UNIQUE )?INDEX IF NOT EXISTS (\w+) ON (\w+)\s*\(/;
const indexedTable = (statement: string): string | undefined => INDEX.exec(statement)?.[2];
const isPacked = (table: string | undefined): boolean => (PACKED_TABLES as readonly (string | undefined)[]).includes(table);

/** A translated DDL with the packed tables laid out as above (the others as they are). */
export function packedDdl(ddl: string): string {
  return statementsOf(ddl)
    .map((s) => `${isPacked(tableOf(s)) ? packTable(s) : s};`)
    .join('\n');
}

/** The column names of a CREATE TABLE statement, in its order. */
export function columnsOf(statement: string): string[] {
  return partsOf(statement, 'columnsOf').columns.map((p) => p.split(/\s+/, 1)[0]!);
}

/**
 * Schema 5 → 6 on PostgreSQL: each packed table rebuilt in the packed layout from `ddl` (the store's translated DDL),
 * its rows copied by column name, its indexes built after the copy. A rewrite of the table: on a large store it takes
 * a while, once, with the other replicas waiting at the schema lock.
 */
export function relayoutSql(ddl: string): string {
  const statements = statementsOf(ddl);
  const steps: string[] = [];
  for (const table of PACKED_TABLES) {
    const create = statements.find((s) => tableOf(s) === table);
    if (!create) throw new CallingRuleError('PHX_STORE_DIALECT', `relayoutSql: the DDL has no table ${table}`);
    const indexes = statements.filter((s) => indexedTable(s) === table);
    const old = `${table}_v5`;
    const packed = packTable(create);
    const columns = columnsOf(packed).join(', ');
    steps.push(
      ...indexes.map((s) => `DROP INDEX IF EXISTS ${INDEX.exec(s)![1]}`),
      `ALTER TABLE ${table} RENAME TO ${old}`,
      `ALTER TABLE ${old} RENAME CONSTRAINT ${table}_pkey TO ${old}_pkey`,
      packed,
      `INSERT INTO ${table} (${columns}) SELECT ${columns} FROM ${old}`,
      `DROP TABLE ${old}`,
      ...indexes,
      `ANALYZE ${table}`,
    );
  }
  return steps.map((s) => `${s};`).join('\n');
}
