// What differs between the two engines' SQL, so that each statement is written once (store-sql.ts and its peers)
// and each engine prepares it in its own dialect. Parameters are written `@name` (or `?` in order); SQLite binds
// them as they are, postgres-statements.ts numbers them.

export interface Dialect {
  readonly engine: 'sqlite' | 'postgres';
  /** An inner join the planner must do in the order written: SQLite's CROSS JOIN (PostgreSQL plans it itself). */
  readonly orderedJoin: string;
  /** An index the planner must use, after a table name: SQLite's INDEXED BY (nothing on PostgreSQL). */
  indexedBy(index: string): string;
  /** The larger of two values (SQLite's two-argument max, PostgreSQL's GREATEST). */
  greatest(a: string, b: string): string;
  /** The smaller of two values. */
  least(a: string, b: string): string;
}

export const SQLITE: Dialect = {
  engine: 'sqlite',
  orderedJoin: 'CROSS JOIN',
  indexedBy: (index) => `INDEXED BY ${index}`,
  greatest: (a, b) => `max(${a}, ${b})`,
  least: (a, b) => `min(${a}, ${b})`,
};

export const POSTGRES: Dialect = {
  engine: 'postgres',
  orderedJoin: 'JOIN',
  indexedBy: () => '',
  greatest: (a, b) => `GREATEST(${a}, ${b})`,
  least: (a, b) => `LEAST(${a}, ${b})`,
};
