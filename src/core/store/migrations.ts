/**
 * Schema migrations, applied in order, each once. Never edit a released entry: append a new one.
 * The store holds evidence and state only — never PINs, KEK bytes or share words.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE ceremonies (
    id TEXT PRIMARY KEY,
    script_id TEXT NOT NULL,
    script_version TEXT NOT NULL,
    script_sha256 TEXT NOT NULL,
    script_path TEXT NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('running', 'sealed', 'aborted')),
    current_step INTEGER NOT NULL DEFAULT 0,
    parameters TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT '{}',
    out_dir TEXT NOT NULL,
    demo INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE TABLE steps (
    ceremony_id TEXT NOT NULL REFERENCES ceremonies(id),
    idx INTEGER NOT NULL,
    step_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done')),
    result TEXT,
    started_at TEXT,
    finished_at TEXT,
    PRIMARY KEY (ceremony_id, idx)
  );
  CREATE TABLE events (
    ceremony_id TEXT NOT NULL REFERENCES ceremonies(id),
    seq INTEGER NOT NULL,
    line TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (ceremony_id, seq)
  );
  CREATE TABLE participants (
    ceremony_id TEXT NOT NULL REFERENCES ceremonies(id),
    person_id TEXT NOT NULL,
    name TEXT NOT NULL,
    roles TEXT NOT NULL,
    checked_in_at TEXT NOT NULL,
    PRIMARY KEY (ceremony_id, person_id)
  );
  CREATE TABLE keys (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    size INTEGER NOT NULL,
    curve TEXT,
    purpose TEXT NOT NULL,
    token_label TEXT NOT NULL,
    token_serial TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    created_at TEXT NOT NULL,
    ceremony_id TEXT NOT NULL,
    status TEXT NOT NULL,
    rotation_due TEXT,
    attributes TEXT NOT NULL DEFAULT '{}',
    backups TEXT NOT NULL DEFAULT '[]',
    certificates TEXT NOT NULL DEFAULT '[]',
    facts TEXT NOT NULL DEFAULT '[]'
  );
  CREATE TABLE key_status_history (
    key_id TEXT NOT NULL REFERENCES keys(id),
    at TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    ceremony_id TEXT NOT NULL,
    reason TEXT
  );
  CREATE TABLE settings (
    name TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );
  `,
  // 2: step titles, so ceremony lists can say where a ceremony stands without its script.
  `ALTER TABLE steps ADD COLUMN title TEXT;`,
  // 3: one process per ceremony and a two-phase seal. state_version is the compare-and-set
  // counter every state change checks; state_schema the version of the state JSON's shape;
  // ceremony_seals holds what the seal committed (signature and public key), so a bundle cut off
  // by a crash is rewritten from the store alone; ceremony_holders says which process holds a
  // ceremony (the lock itself is an OS file lock, released by the kernel when the holder dies).
  `
  ALTER TABLE ceremonies ADD COLUMN state_version INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE ceremonies ADD COLUMN state_schema INTEGER NOT NULL DEFAULT 1;
  CREATE TABLE ceremony_seals (
    ceremony_id TEXT PRIMARY KEY REFERENCES ceremonies(id),
    final_hash TEXT NOT NULL,
    signature TEXT NOT NULL,
    public_key_pem TEXT NOT NULL,
    spki_sha256 TEXT NOT NULL,
    sealed_at TEXT NOT NULL
  );
  CREATE TABLE ceremony_holders (
    ceremony_id TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    program TEXT NOT NULL,
    since TEXT NOT NULL
  );
  `,
  // 4: what ceremonies running side by side claim before they touch the token. Key ids: the next
  // number is taken here, under the store's write lock; two root key generations started together
  // both took the first free number and the second adopted the first one's key. A claim stays once
  // its key is in the inventory or its ceremony aborted: a number is never given twice. A drill's
  // restore: the label it unwraps into on a token (src/core/store/restore-claims.ts).
  `
  CREATE TABLE restore_claims (
    token_serial TEXT NOT NULL,
    label TEXT NOT NULL,
    ceremony_id TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    PRIMARY KEY (token_serial, label)
  );
  CREATE TABLE key_id_claims (
    key_id TEXT PRIMARY KEY,
    ceremony_id TEXT NOT NULL,
    step_id TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    UNIQUE (ceremony_id, step_id)
  );
  -- A ceremony stopped inside its key generation before this migration saved its key id only in
  -- its state: claim it here, or the next ceremony would be given the same number.
  INSERT OR IGNORE INTO key_id_claims (key_id, ceremony_id, step_id, claimed_at)
    SELECT json_extract(c.state, '$.actionState.keyId'), c.id, s.step_id, c.updated_at
    FROM ceremonies c JOIN steps s ON s.ceremony_id = c.id AND s.idx = c.current_step
    WHERE c.status = 'running' AND json_valid(c.state) AND json_type(c.state, '$.actionState.keyId') = 'text';
  `,
];
