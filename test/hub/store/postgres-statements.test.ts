// Dialect-neutral statements on PostgreSQL (hub/store/postgres-statements.ts): parameters numbered ($1 for every use
// of one name), positional ones in order, a statement mixing both or quoting a parameter sign refused, a named
// value left out refused by name; and every statement of the store compiles.
import t from 'tap';
import { accessSql } from '../../../hub/store/access-sql.js';
import { experimentsSql } from '../../../hub/store/experiments-sql.js';
import { compile, compileAll, rows } from '../../../hub/store/postgres-statements.js';
import { POSTGRES } from '../../../hub/store/sql-dialect.js';
import { storeSql } from '../../../hub/store/store-sql.js';

t.test('named parameters: one number per name, in order of first use', async (t) => {
  const s = compile('q', 'SELECT * FROM t WHERE a = @a AND (CAST(@b AS TEXT) IS NULL OR b = @b) AND c < @a_c');
  t.equal(s.text, 'SELECT * FROM t WHERE a = $1 AND (CAST($2 AS TEXT) IS NULL OR b = $2) AND c < $3');
  t.same(s.names, ['a', 'b', 'a_c']);
  t.equal(s.name, 'q');
});

t.test('positional parameters: numbered in order', async (t) => {
  t.same(compile('q', 'UPDATE t SET a = ? WHERE b = ? AND c = ?'), { name: 'q', text: 'UPDATE t SET a = $1 WHERE b = $2 AND c = $3', names: null });
});

t.test('refused: both kinds in one statement, a parameter sign in a string, a named value left out', async (t) => {
  t.throws(() => compile('mixed', 'SELECT @a, ?'), { code: 'PHX_STORE_DIALECT', message: 'compile mixed: mixes @name and ? parameters' });
  t.throws(() => compile('quoted', "SELECT 'a@b'"), { code: 'PHX_STORE_DIALECT', message: /string literal holds @ or \?/ });
  const statement = compile('q', 'SELECT @a, @b');
  const never = { query: () => t.fail('not run') };
  await t.rejects(rows(never as never, statement, { a: 1 }), { code: 'PHX_STORE_DIALECT', message: 'q: no value for @b' });
});

t.test("every statement of the store, the access and the experiment tables compiles for PostgreSQL", async (t) => {
  const sets: [string, Readonly<Record<string, string>>][] = [['store_', storeSql(POSTGRES)], ['access_', accessSql(POSTGRES)], ['exp_', experimentsSql(POSTGRES)]];
  for (const [prefix, set] of sets) {
    const compiled = compileAll(prefix, set);
    for (const [key, statement] of Object.entries(compiled)) {
      t.notMatch(statement.text, /@[A-Za-z_]|\?|INDEXED BY|CROSS JOIN/, `${prefix}${key}: no SQLite-only text left`);
    }
  }
});
