// The PostgreSQL store URL: checked before any connection, shown without its password.
import t from 'tap';
import { parsePostgresUrl, redactUrl, scrubPassword } from '../../../hub/store/store-url.js';

const SECRET = 's3cr3t/p@ss';
const ENC = encodeURIComponent(SECRET);
const GOOD = `postgres://phoenix:${ENC}@db.internal:5432/phoenix?sslmode=verify-full`;

t.test('a good URL: kept for the client, shown with the password as ***', async (t) => {
  const location = parsePostgresUrl(GOOD, '--store');
  t.equal(location.url, GOOD);
  t.equal(location.password, SECRET, 'decoded');
  t.equal(location.display, 'postgres://phoenix:***@db.internal:5432/phoenix?sslmode=verify-full');
  t.equal(parsePostgresUrl('postgresql://u@127.0.0.1/db', 'x').display, 'postgresql://u@127.0.0.1/db', 'no password: nothing to hide');
  t.equal(redactUrl('not a url'), '(a URL that does not parse)');
});

t.test('bad URLs: a ConfigError (exit 2) naming the source and the problem, never the password', async (t) => {
  const cases: [string, RegExp][] = [
    [`postgres//phoenix:${SECRET}`, /^--store: the store must be a URL such as postgres:\/\/USER:PASSWORD@HOST:5432\/DATABASE; the value given does not parse as a URL \(not shown/],
    [`mysql://phoenix:${ENC}@h/db`, /the scheme must be postgres:\/\/ or postgresql:\/\/, got 'mysql:\/\/'/],
    [`postgres://phoenix:${ENC}@h`, /the path must be one database name, got ''/],
    [`postgres://phoenix:${ENC}@h/a/b`, /the path must be one database name, got '\/a\/b'/],
    [`postgres://:${ENC}@h/db`, /it names no user/],
    [`postgres://phoenix:${ENC}@h/db?sslmode=maybe`, /sslmode 'maybe' is not valid \(one of disable, prefer, require, verify-ca, verify-full\)/],
    [`postgres://phoenix:${ENC}@h/db?ssl=true`, /unknown query parameter 'ssl' \(allowed: sslmode, application_name, connect_timeout\)/],
    [`postgres://phoenix:${ENC}@h/db?sslmode=require&sslmode=disable`, /query parameter 'sslmode' given more than once/],
    [`postgres://phoenix:${ENC}@h/db?connect_timeout=0`, /connect_timeout '0' is not valid/],
    [`postgres://phoenix:${ENC}@h/db#x`, /it has a fragment/],
  ];
  for (const [url, message] of cases) {
    const error = t.throws(() => parsePostgresUrl(url, '--store'), { code: 'PHX_CONFIG_INVALID', exitCode: 2 }) as Error;
    t.match(error.message, message, url.replace(ENC, '…'));
    t.notMatch(error.message, SECRET, 'the password is not in the message');
    t.notMatch(error.message, encodeURIComponent(SECRET), 'nor encoded');
  }
});

t.test('scrubPassword: a message from the client or the server loses the password, plain or encoded', async (t) => {
  const location = parsePostgresUrl(GOOD, 'x');
  t.equal(scrubPassword(`connect ${GOOD} failed; tried ${SECRET}`, location), 'connect postgres://phoenix:***@db.internal:5432/phoenix?sslmode=verify-full failed; tried ***');
  t.equal(scrubPassword('nothing here', parsePostgresUrl('postgres://u@h/db', 'x')), 'nothing here');
});
