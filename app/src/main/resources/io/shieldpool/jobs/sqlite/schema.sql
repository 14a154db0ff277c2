-- The SQLite job store's schema, one block per version. The store runs the blocks above the
-- file's PRAGMA user_version, in one BEGIN IMMEDIATE transaction, then sets user_version: two
-- processes opening a new file at once cannot both migrate it (the second waits for the lock,
-- then sees the new version and does nothing).

-- :name 1
-- AUTOINCREMENT: an id is never reused, even after the highest job was purged, so a job id is
-- a safe idempotency key for a section's side effects. Times are Unix epoch milliseconds.
CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    queue        TEXT    NOT NULL,
    payload      TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('ready', 'running', 'done', 'dead')),
    attempt      INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL CHECK (max_attempts >= 1),
    run_at       INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    last_error   TEXT,
    unique_key   TEXT,
    owner        TEXT
);
-- claim and the ready counts: only ready rows, in claim order; done rows never slow a claim.
CREATE INDEX jobs_ready ON jobs (queue, run_at, id) WHERE state = 'ready';
-- recovery and release of an owner's jobs: only running rows (at most a few per worker).
CREATE INDEX jobs_running ON jobs (owner) WHERE state = 'running';
-- retention of done jobs (range on finished_at) and their counts per queue (covering).
CREATE INDEX jobs_done ON jobs (finished_at, queue) WHERE state = 'done';
-- retry-dead and dead counts.
CREATE INDEX jobs_dead ON jobs (queue) WHERE state = 'dead';
-- unique keys: at most one kept job per key, whatever its state.
CREATE UNIQUE INDEX jobs_unique_key ON jobs (unique_key) WHERE unique_key IS NOT NULL;
