-- Every statement the SQLite job store runs, by name. Each runs inside the store's transaction
-- (BEGIN IMMEDIATE for writes: one writer at a time, across processes too). Statements that move
-- a claimed job re-check state, owner and attempt in their WHERE clause (fencing): an ack from an
-- attempt that was released or recovered meanwhile matches no row and changes nothing.
-- Parameters are positional (?), in the order the comments list them. Times: epoch milliseconds.

-- :name enqueue
-- Adds one ready job (queue, payload, max_attempts, run_at, created_at, unique_key). A unique key
-- that a kept job already has makes it a no-op returning no row (the caller then looks the key up).
-- Served by: the rowid; jobs_unique_key checks the key.
INSERT INTO jobs (queue, payload, state, attempt, max_attempts, run_at, created_at, unique_key)
VALUES (?, ?, 'ready', 0, ?, ?, ?, ?)
ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING
RETURNING id;

-- :name next-id
-- The id the next job gets (AUTOINCREMENT's high-water mark + 1). Read under the write lock, so
-- a batch of jobs without unique keys can be inserted with explicit, consecutive ids in one
-- executeBatch (a single round trip into SQLite). Served by: sqlite_sequence (one row).
SELECT coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'jobs'), 0) + 1;

-- :name insert
-- Adds one ready job without a unique key at an explicit id (id, queue, payload, max_attempts,
-- run_at, created_at); AUTOINCREMENT's mark moves past it. Served by: the rowid.
INSERT INTO jobs (id, queue, payload, state, attempt, max_attempts, run_at, created_at)
VALUES (?, ?, ?, 'ready', 0, ?, ?, ?);

-- :name find-by-key
-- The job holding a unique key (unique_key). Served by: jobs_unique_key.
SELECT id FROM jobs WHERE unique_key = ?;

-- :name claim
-- Claims up to n due ready jobs of one queue, oldest run-at first (owner, queue, now, n): each
-- becomes running under the owner with its attempt counted. The whole statement runs under the
-- write lock, so no two claims can take the same row. Served by: jobs_ready (range scan in order).
UPDATE jobs SET state = 'running', attempt = attempt + 1, owner = ?
WHERE id IN (SELECT id FROM jobs WHERE state = 'ready' AND queue = ? AND run_at <= ?
             ORDER BY run_at, id LIMIT ?)
RETURNING id, queue, payload, attempt, max_attempts, run_at, created_at, last_error, unique_key;

-- :name complete
-- Ack: the attempt's job becomes done (now, id, owner, attempt). Fenced. Served by: the rowid.
UPDATE jobs SET state = 'done', finished_at = ?, owner = NULL
WHERE id = ? AND state = 'running' AND owner = ? AND attempt = ?;

-- :name fail
-- A failed attempt (retry_at, now, error, id, owner, attempt): ready again at retry_at, or dead
-- when it was the last attempt. Fenced. Served by: the rowid.
UPDATE jobs SET state = CASE WHEN attempt >= max_attempts THEN 'dead' ELSE 'ready' END,
                run_at = CASE WHEN attempt >= max_attempts THEN run_at ELSE ?1 END,
                finished_at = CASE WHEN attempt >= max_attempts THEN ?2 ELSE NULL END,
                last_error = ?3, owner = NULL
WHERE id = ?4 AND state = 'running' AND owner = ?5 AND attempt = ?6
RETURNING state, run_at;

-- :name release-uncounted
-- Gives back a claimed job whose section never began (id, owner, attempt): ready, and its
-- attempt not counted. Fenced. Served by: the rowid.
UPDATE jobs SET state = 'ready', attempt = attempt - 1, owner = NULL
WHERE id = ? AND state = 'running' AND owner = ? AND attempt = ?;

-- :name release-counted
-- Gives back a job whose attempt was cut (now, error, id, owner, attempt): ready now, the
-- attempt counted; dead if it was the last. Fenced. Served by: the rowid.
UPDATE jobs SET state = CASE WHEN attempt >= max_attempts THEN 'dead' ELSE 'ready' END,
                run_at = CASE WHEN attempt >= max_attempts THEN run_at ELSE ?1 END,
                finished_at = CASE WHEN attempt >= max_attempts THEN ?1 ELSE NULL END,
                last_error = ?2, owner = NULL
WHERE id = ?3 AND state = 'running' AND owner = ?4 AND attempt = ?5;

-- :name orphans
-- Running jobs held by anyone but this owner (owner). With the single-instance lock held, every
-- such owner is a dead process. Served by: jobs_running.
SELECT id, attempt, owner FROM jobs WHERE state = 'running' AND owner IS NOT ?;

-- :name owned
-- Running jobs held by this owner (owner). Served by: jobs_running.
SELECT id, attempt FROM jobs WHERE state = 'running' AND owner = ?;

-- :name stats
-- Counts per queue and state, and the run-at of the oldest due ready job (now). Each branch
-- reads only its own partial index, so done rows cost a covering scan of jobs_done at most.
SELECT queue, 'ready', count(*), min(run_at) FILTER (WHERE run_at <= ?1) FROM jobs WHERE state = 'ready' GROUP BY queue
UNION ALL
SELECT queue, 'running', count(*), NULL FROM jobs WHERE state = 'running' GROUP BY queue
UNION ALL
SELECT queue, 'done', count(*), NULL FROM jobs WHERE state = 'done' GROUP BY queue
UNION ALL
SELECT queue, 'dead', count(*), NULL FROM jobs WHERE state = 'dead' GROUP BY queue;

-- :name find
-- One job (id). Served by: the rowid.
SELECT id, queue, payload, attempt, max_attempts, run_at, created_at, last_error, unique_key, state, owner, finished_at
FROM jobs WHERE id = ?;

-- :name list
-- Newest jobs first, optionally of one state and one queue (state or NULL, queue or NULL, n).
-- Served by: the rowid, backwards (an operator's command, not a hot path).
SELECT id, queue, payload, attempt, max_attempts, run_at, created_at, last_error, unique_key, state, owner, finished_at
FROM jobs WHERE (?1 IS NULL OR state = ?1) AND (?2 IS NULL OR queue = ?2)
ORDER BY id DESC LIMIT ?3;

-- :name retry
-- An operator's retry (now, id): a dead or ready job becomes ready now with its attempts reset;
-- running and done jobs are left alone. Served by: the rowid.
UPDATE jobs SET state = 'ready', attempt = 0, run_at = ?, finished_at = NULL, owner = NULL
WHERE id = ? AND state IN ('dead', 'ready');

-- :name retry-dead
-- retry for every dead job, of one queue when given (now, queue or NULL). Served by: jobs_dead.
UPDATE jobs SET state = 'ready', attempt = 0, run_at = ?1, finished_at = NULL, owner = NULL
WHERE state = 'dead' AND (?2 IS NULL OR queue = ?2);

-- :name purge-done
-- Deletes up to n done jobs finished before a time (finished_before, n); the store repeats it
-- in short transactions so a big purge never holds the write lock for long. Served by: jobs_done.
DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state = 'done' AND finished_at < ? LIMIT ?);

-- :name purge-dead
-- Deletes up to n dead jobs finished before a time (finished_before, n). Served by: jobs_dead
-- (dead jobs are few: failures an operator has not looked at).
DELETE FROM jobs WHERE id IN (SELECT id FROM jobs WHERE state = 'dead' AND finished_at < ? LIMIT ?);
