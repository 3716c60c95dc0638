// Statements written in the dialect-neutral form (sql-dialect.ts) run on PostgreSQL: `@name` and `?` parameters
// numbered as $1, $2, …, each statement prepared once per connection (by name), its values bound from an object
// (named) or an array (positional), BIGINT and NUMERIC answers read as numbers.
import pg from 'pg';
import { CallingRuleError } from '../../common/errors.js';

/** pg's parsers of the types this store reads, as numbers: BIGINT (times in ms, counts) and NUMERIC (sums of BIGINTs). */
export const NUMERIC_TYPES: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === 20 || oid === 1700 ? (value: string) => Number(value) : pg.types.getTypeParser(oid, format)) as pg.CustomTypesConfig['getTypeParser'],
};

/** Anything a statement runs on: the pool, or one client inside a transaction. */
export type Queryable = Pick<pg.ClientBase, 'query'>;

export interface PgStatement {
  /** The name it is prepared under on each connection. */
  readonly name: string;
  readonly text: string;
  /** The named parameters in $-order, or null for positional ones. */
  readonly names: readonly string[] | null;
}

/**
 * `sql` (neutral) as a PostgreSQL statement named `name`. A statement mixing `@name` and `?` parameters is a
 * PHX_STORE_DIALECT calling-rule error; so is one that quotes a string holding `@` or `?` (written as parameters instead).
 */
export function compile(name: string, sql: string): PgStatement {
  if (/'[^']*[@?][^']*'/.test(sql)) throw new CallingRuleError('PHX_STORE_DIALECT', `compile ${name}: a string literal holds @ or ?; bind it as a parameter`);
  const named = /@[A-Za-z_]\w*/.test(sql);
  if (named && sql.includes('?')) throw new CallingRuleError('PHX_STORE_DIALECT', `compile ${name}: mixes @name and ? parameters`);
  if (!named) {
    let n = 0;
    return { name, text: sql.replace(/\?/g, () => `$${++n}`), names: null };
  }
  const names: string[] = [];
  const text = sql.replace(/@([A-Za-z_]\w*)/g, (_, key: string) => {
    const at = names.indexOf(key);
    return `$${at >= 0 ? at + 1 : names.push(key)}`;
  });
  return { name, text, names };
}

/** Every statement of a neutral set compiled, under `prefix` + its key. */
export function compileAll<K extends string>(prefix: string, sqls: Readonly<Record<K, string>>): Record<K, PgStatement> {
  return Object.fromEntries(Object.entries<string>(sqls).map(([key, sql]) => [key, compile(`${prefix}${key}`, sql)])) as Record<K, PgStatement>;
}

/** The values of `params` in the statement's order; a named parameter left out is a PHX_STORE_DIALECT calling-rule error. */
function valuesOf(statement: PgStatement, params: Readonly<Record<string, unknown>> | readonly unknown[]): unknown[] {
  if (statement.names === null) return [...(params as readonly unknown[])];
  const given = params as Readonly<Record<string, unknown>>;
  return statement.names.map((key) => {
    if (!(key in given)) throw new CallingRuleError('PHX_STORE_DIALECT', `${statement.name}: no value for @${key}`);
    return given[key];
  });
}

/** Runs `statement`; its rows as objects. */
export async function rows<R extends pg.QueryResultRow>(on: Queryable, statement: PgStatement, params: Readonly<Record<string, unknown>> | readonly unknown[] = []): Promise<R[]> {
  return (await on.query<R>({ name: statement.name, text: statement.text, values: valuesOf(statement, params) })).rows;
}

/** Runs `statement`; its rows as arrays of the selected values. */
export async function arrays<R extends unknown[]>(on: Queryable, statement: PgStatement, params: Readonly<Record<string, unknown>> | readonly unknown[] = []): Promise<R[]> {
  return (await on.query<R>({ name: statement.name, text: statement.text, values: valuesOf(statement, params), rowMode: 'array' })).rows;
}

/** Runs `statement`; how many rows it changed. */
export async function changes(on: Queryable, statement: PgStatement, params: Readonly<Record<string, unknown>> | readonly unknown[] = []): Promise<number> {
  return (await on.query({ name: statement.name, text: statement.text, values: valuesOf(statement, params) })).rowCount ?? 0;
}

/**
 * Runs `work` in one transaction on a client of `pool`: committed when it resolves, rolled back when it throws (the
 * error is rethrown). The client goes back to the pool either way (destroyed when the rollback itself failed).
 */
export async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  // A server that goes away between two statements makes the client emit 'error', which the pool hears only while
  // the client is idle: heard here, it fails the transaction's next statement instead of the process.
  const lost = (error: Error) => (broken = error);
  client.on('error', lost);
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollback: Error) => (broken = rollback));
    throw error;
  } finally {
    client.off('error', lost);
    client.release(broken);
  }
}
