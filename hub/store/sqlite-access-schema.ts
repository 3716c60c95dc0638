// The access tables: user API tokens (only their hashes), page sessions (only their ids' hashes) and the audit log.
export const ACCESS_DDL = `
CREATE TABLE IF NOT EXISTS api_tokens (
  name TEXT PRIMARY KEY, role TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, created_at INTEGER NOT NULL,
  created_by TEXT NOT NULL, last_used_at INTEGER, expires_at INTEGER
);
CREATE TABLE IF NOT EXISTS sessions (
  id_hash TEXT PRIMARY KEY, principal TEXT NOT NULL, role TEXT NOT NULL, via TEXT NOT NULL, credential TEXT,
  csrf TEXT NOT NULL, remote TEXT, created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_credential ON sessions(credential);
CREATE TABLE IF NOT EXISTS audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, actor TEXT NOT NULL, role TEXT, action TEXT NOT NULL,
  target TEXT, remote TEXT, outcome TEXT NOT NULL, detail TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at);
`;
