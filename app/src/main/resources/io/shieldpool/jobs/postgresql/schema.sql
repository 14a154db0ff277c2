-- The PostgreSQL job store's schema, one block per version. The store (at a daemon's start, and
-- `shieldpool jobs migrate`) runs, in ONE transaction: pg_advisory_xact_lock (transaction-scoped,
-- so it works behind PgBouncer in transaction mode and is released by COMMIT or a lost session),
-- CREATE TABLE IF NOT EXISTS shieldpool_schema, then every block above the recorded version, then
-- records the new version. Daemons starting at once serialise on the lock; the second sees the
-- new version and runs nothing. Times are timestamptz; the tables and functions are prefixed
-- shieldpool_. A block's statements are cut at the semicolons outside quotes, comments and
-- dollar-quoted bodies (a function's $$ ... $$). A block whose name is not a version is a
-- fragment that a version's block includes as {{name}} (SqlStatements), never run by itself.

-- :name 1
-- Jobs. The identity column never reuses an id, even after the newest job was purged, so a job
-- id is a safe idempotency key for a section's side effects. owner is the node (shieldpool_nodes.id)
-- holding a running job; lease_until (database time) is the per-job deadline after which a
-- running attempt is rescued even if its node is alive (a hung section).
CREATE TABLE shieldpool_jobs (
    id           bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    queue        text        NOT NULL,
    payload      text        NOT NULL,
    state        text        NOT NULL CHECK (state IN ('ready', 'running', 'done', 'dead')),
    attempt      integer     NOT NULL DEFAULT 0,
    max_attempts integer     NOT NULL CHECK (max_attempts >= 1),
    run_at       timestamptz NOT NULL,
    created_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    last_error   text,
    unique_key   text,
    owner        text,
    lease_until  timestamptz
);
-- claim and the ready counts: only ready rows, in claim order; done rows never slow a claim.
CREATE INDEX shieldpool_jobs_ready ON shieldpool_jobs (queue, run_at, id) WHERE state = 'ready';
-- rescue, release and the running counts (the concurrency limit): only running rows.
CREATE INDEX shieldpool_jobs_running ON shieldpool_jobs (owner, queue) WHERE state = 'running';
-- retention of done jobs (range on finished_at).
CREATE INDEX shieldpool_jobs_done ON shieldpool_jobs (finished_at) WHERE state = 'done';
-- retry-dead, purge-dead and the dead counts.
CREATE INDEX shieldpool_jobs_dead ON shieldpool_jobs (queue, finished_at) WHERE state = 'dead';
-- unique keys: at most one kept job per key, whatever its state.
CREATE UNIQUE INDEX shieldpool_jobs_unique_key ON shieldpool_jobs (unique_key) WHERE unique_key IS NOT NULL;

-- Nodes: one row per daemon run (id = host/pid/run, the owner of its jobs). heartbeat_at is
-- database time (no clock skew between nodes); a node whose heartbeat is older than its ttl, or
-- that stopped, is dead, and any live node rescues its running jobs.
CREATE TABLE shieldpool_nodes (
    id           text        PRIMARY KEY,
    host         text        NOT NULL,
    pid          bigint      NOT NULL,
    started_at   timestamptz NOT NULL DEFAULT now(),
    heartbeat_at timestamptz NOT NULL DEFAULT now(),
    ttl          interval    NOT NULL,
    state        text        NOT NULL CHECK (state IN ('running', 'draining', 'stopped')),
    in_flight    integer     NOT NULL DEFAULT 0
);

-- :name 2
-- Cluster-wide limits per queue. A claim on a limited queue locks its row first (so limited
-- claims of all nodes take turns), then counts the queue's running jobs in a new snapshot and
-- takes at most concurrency - running jobs and at most the whole tokens: the limit can never be
-- exceeded, and a job never runs without a slot (a running row is the slot; a rescue that makes a
-- dead node's job ready frees it). tokens refill at rate per second up to burst (a token bucket).
CREATE TABLE shieldpool_queues (
    queue       text             PRIMARY KEY,
    concurrency integer          NOT NULL DEFAULT 0 CHECK (concurrency >= 0),
    rate        double precision NOT NULL DEFAULT 0 CHECK (rate >= 0),
    burst       double precision NOT NULL DEFAULT 0 CHECK (burst >= 0),
    tokens      double precision NOT NULL DEFAULT 0,
    refilled_at timestamptz      NOT NULL DEFAULT now()
);

-- :name 3
-- Done jobs leave the hot table. An ack moves its row from shieldpool_jobs into
-- shieldpool_jobs_done in one statement (DELETE ... RETURNING feeding an INSERT), so the table
-- every claim, ack and rescue works on holds only ready, running and dead jobs: it stays as
-- small as the backlog whatever jobs.retention.done keeps, and a vacuum of it stays short. Dead
-- jobs stay (few, and retry-dead makes them ready again). Unique keys stay enforced across both
-- tables: an enqueue with keys and the ack of a keyed job take the key's transaction-scoped
-- advisory lock first, so an enqueue sees the key either still in shieldpool_jobs (the unique
-- index) or already in shieldpool_jobs_done (checked by the enqueue).
-- The hot table's index on done rows is kept (renamed) for rows a daemon of schema 2 may still
-- ack there during a rolling upgrade; it is empty otherwise and costs nothing.
ALTER INDEX IF EXISTS shieldpool_jobs_done RENAME TO shieldpool_jobs_finished;
CREATE TABLE IF NOT EXISTS shieldpool_jobs_done (
    id           bigint      PRIMARY KEY,
    queue        text        NOT NULL,
    payload      text        NOT NULL,
    attempt      integer     NOT NULL,
    max_attempts integer     NOT NULL,
    run_at       timestamptz NOT NULL,
    created_at   timestamptz NOT NULL,
    finished_at  timestamptz NOT NULL,
    last_error   text,
    unique_key   text
);
-- retention of done jobs (range on finished_at).
CREATE INDEX IF NOT EXISTS shieldpool_jobs_done_finished ON shieldpool_jobs_done (finished_at);
-- an enqueue's check that a key is taken by a done job; not unique, so that a duplicate a
-- schema-2 daemon let in during a rolling upgrade can never make an ack fail.
CREATE INDEX IF NOT EXISTS shieldpool_jobs_done_unique_key ON shieldpool_jobs_done (unique_key) WHERE unique_key IS NOT NULL;
WITH moved AS (
    DELETE FROM shieldpool_jobs WHERE state = 'done'
    RETURNING id, queue, payload, attempt, max_attempts, run_at, created_at, finished_at, last_error, unique_key
)
INSERT INTO shieldpool_jobs_done (id, queue, payload, attempt, max_attempts, run_at, created_at, finished_at, last_error, unique_key)
SELECT id, queue, payload, attempt, max_attempts, run_at, created_at, coalesce(finished_at, now()), last_error, unique_key
FROM moved;

-- :name 4
-- Waits for a limited queue's slots, one row per claimant (a node's shard), so that a freed slot
-- goes to whoever waited longest, not to whoever looks first. A limited claim that comes back
-- short records how many jobs it still wants (wanted) and since when it got none (since: reset
-- when it gets one, so claimants take turns); a claim that gets all it asked for deletes its row.
-- A claim may take a free slot only if no other live claimant waits longer for it, and an ack
-- passes its slot to its own node's next job only if the other free slots cover what the other
-- live claimants wait for. Rows
-- of a node that is not running (draining, stopped, dead) or that has not looked for a while
-- (looked_at) are ignored: they can delay nobody. They never decide safety: the running count
-- alone bounds the limit.
CREATE TABLE IF NOT EXISTS shieldpool_waits (
    queue     text        NOT NULL,
    node      text        NOT NULL,
    shard     integer     NOT NULL,
    wanted    integer     NOT NULL CHECK (wanted > 0),
    since     timestamptz NOT NULL,
    looked_at timestamptz NOT NULL,
    PRIMARY KEY (queue, node, shard)
);

-- :name 5
-- Slots of a queue's cluster-wide concurrency limit (a queue with a concurrency and no rate),
-- granted to nodes: a node runs at most as many sections of the queue as it holds slots, and the
-- slots held by all nodes never exceed the queue's concurrency (slots-take counts them under the
-- queue's row lock). A node takes slots when its workers have jobs and no slot, keeps them while
-- it has work, and gives them back when idle, draining, or above its fair share while another
-- node waits (its wait is a shieldpool_waits row with shard -1). why slots and not running rows:
-- a claimed job then holds no slot, so such a queue claims in batches and acks in groups like an
-- unlimited one, and a slot passes from one section to the next in memory: no round trip to the
-- database per job. The rows of a node that is dead (by its ttl) or stopped are deleted by the
-- rescue and by node-stopped, so its slots are free once its sections cannot run any more.
CREATE TABLE IF NOT EXISTS shieldpool_slots (
    queue text    NOT NULL,
    node  text    NOT NULL,
    held  integer NOT NULL CHECK (held >= 0),
    PRIMARY KEY (queue, node)
);

-- :name 6
-- A limited claim and a slot take in ONE statement each, one round trip, where schema 5 ran a
-- transaction of four (BEGIN, the lock, the claim or take, COMMIT): every round trip made while
-- the queue's row is locked is time all nodes' limited claims of the queue wait in line, so it
-- bounded rate-limited throughput. Each function runs the two statements of schema 5 in turn:
-- first the lock (UPDATE of the queue's row in shieldpool_queues: the row lock, which every
-- claim and take of the queue of every node takes, and the token refill), then the claim
-- (claim-limited) or the take (slots-take) of schema 5, unchanged. why a plpgsql function and
-- not one statement with the lock as a CTE: a statement sees the database as of its snapshot,
-- taken when it starts, before it waits for the lock; under READ COMMITTED a VOLATILE plpgsql
-- function takes a new snapshot for each statement it runs, so the claim (or take) sees every
-- claim and take committed before the lock was granted, as schema 5's second statement did (it
-- counts the queue's running jobs, or the slots held, and picks up the refilled tokens); a CTE
-- would count those of before the wait and overshoot the limit (PostgresJobStoreTest,
-- aOneStatementClaimOrTakeWouldCountFromBeforeTheLockWait, runs the store on such a variant). why
-- plpgsql and not LANGUAGE sql, which also takes a snapshot per statement: plpgsql keeps each
-- statement's plan for the session (PostgreSQL 15 plans a SQL function's statements at every
-- call). Called alone, a function is its own transaction (autocommit): the lock is held until
-- the statement's commit. The row lock is the same as schema 5's, so nodes of schema 5 and 6
-- take turns correctly during a rolling upgrade (PostgresJobStoreTest,
-- aSchema5NodesClaimsAndTakesAndASchema6NodesTakeTurnsAtTheQueuesLock). The bodies refer to their
-- parameters by position ($1..), as the statements of schema 5 did; #variable_conflict
-- use_column: a name in a body is a column, never one of the functions' OUT columns.
-- Their bodies are frozen with this version: a change to them (or to the fragments below,
-- copies of statements.sql's live-waits and slots-state, which SchemaTest checks) is a new
-- schema version that replaces the functions.
-- shieldpool_claim_limited (owner, queue, now, n, lease in ms, shard, wait freshness in ms): the
-- claimed jobs (the claim's column list). Takes at most n, at most concurrency - running - ahead
-- (when concurrency > 0) and at most floor(tokens) (when rate > 0) due ready jobs, and spends
-- their tokens. ahead: the jobs still wanted by the other live claimants that have waited longer
-- than this one (live-waits; a claimant that is not waiting has waited least), so a freed slot
-- goes to whoever waited longest and claimants take turns. A short claim records what it still
-- wants (its since kept while it gets nothing, reset when it gets some); a full one deletes its
-- row. Safety needs neither: running alone bounds it. why clock_timestamp() in the refill, not
-- now(): now() is when the transaction began, before it waited its turn at the lock; the bucket
-- must follow when claims really happen. Served by: shieldpool_queues' key (the lock),
-- shieldpool_jobs_running (the count), shieldpool_waits' key and a scan of its few rows,
-- shieldpool_nodes' key, shieldpool_jobs_ready (the pick), the primary key (the update).
CREATE OR REPLACE FUNCTION shieldpool_claim_limited(p_owner text, p_queue text, p_now timestamptz, p_n bigint,
                                                    p_lease_ms bigint, p_shard integer, p_wait_freshness_ms bigint)
RETURNS TABLE (id bigint, queue text, payload text, attempt integer, max_attempts integer, run_at timestamptz,
               created_at timestamptz, last_error text, unique_key text)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
    UPDATE shieldpool_queues
    SET tokens = CASE WHEN rate > 0 THEN least(burst, tokens + rate * greatest(0, extract(epoch FROM clock_timestamp() - refilled_at))) ELSE tokens END,
        refilled_at = greatest(refilled_at, clock_timestamp())
    WHERE queue = $2;
    RETURN QUERY
    WITH lim AS (
        SELECT concurrency, rate, tokens FROM shieldpool_queues WHERE queue = $2
    ), running AS (
        SELECT count(*) AS n FROM shieldpool_jobs WHERE state = 'running' AND queue = $2
    ), claimant AS (
        SELECT $2::text AS queue, $1::text AS node, $6::int AS shard, $7::bigint AS freshness
    ), live_waits AS (
        {{live-waits-6}}
    ), ahead AS (
        SELECT coalesce(sum(w.wanted), 0) AS n
        FROM live_waits w
        WHERE w.since < coalesce((SELECT since FROM shieldpool_waits WHERE queue = $2 AND node = $1 AND shard = $6),
                                 clock_timestamp())
    ), allowed AS (
        SELECT greatest(0, least($4::bigint,
                                 CASE WHEN lim.concurrency > 0 THEN lim.concurrency - running.n - ahead.n ELSE $4::bigint END,
                                 CASE WHEN lim.rate > 0 THEN floor(lim.tokens)::bigint ELSE $4::bigint END)) AS n
        FROM lim, running, ahead
    ), picked AS (
        SELECT id FROM shieldpool_jobs
        WHERE state = 'ready' AND queue = $2 AND run_at <= $3
        ORDER BY run_at, id
        LIMIT (SELECT n FROM allowed)
        FOR UPDATE SKIP LOCKED
    ), claimed AS (
        -- why = ANY(ARRAY(...)), not a join with picked: the planner cannot know LIMIT (SELECT n ...)
        -- and guesses a tenth of the table, so it joined picked to all of shieldpool_jobs (a merge
        -- join over the primary key: ~2 s per claim at a 2,000,000-job backlog); the array is one
        -- primary-key lookup per picked id whatever the backlog
        UPDATE shieldpool_jobs j
        SET state = 'running', attempt = j.attempt + 1, owner = $1, lease_until = now() + $5::bigint * interval '1 millisecond'
        WHERE j.id = ANY(ARRAY(SELECT id FROM picked))
        RETURNING j.id, j.queue, j.payload, j.attempt, j.max_attempts, j.run_at, j.created_at, j.last_error, j.unique_key
    ), spent AS (
        UPDATE shieldpool_queues SET tokens = tokens - (SELECT count(*) FROM claimed)
        WHERE queue = $2 AND rate > 0
    ), waiting AS (
        INSERT INTO shieldpool_waits (queue, node, shard, wanted, since, looked_at)
        SELECT $2, $1, $6, $4 - (SELECT count(*) FROM claimed), clock_timestamp(), clock_timestamp()
        WHERE (SELECT count(*) FROM claimed) < $4 AND (SELECT concurrency FROM lim) > 0
        ON CONFLICT (queue, node, shard) DO UPDATE
        SET since = CASE WHEN EXCLUDED.wanted < $4 THEN EXCLUDED.since ELSE shieldpool_waits.since END,
            wanted = EXCLUDED.wanted, looked_at = EXCLUDED.looked_at
    ), served AS (
        DELETE FROM shieldpool_waits
        WHERE queue = $2 AND node = $1 AND shard = $6 AND (SELECT count(*) FROM claimed) >= $4
    )
    SELECT * FROM claimed;
END
$$;
-- shieldpool_take_slots (queue, node, wanted, wait freshness in ms): (granted, waiters told,
-- then slots-state: held before, others' wanted, nodes, concurrency). Grants the node at most
-- wanted more slots, at most concurrency - held by all nodes - ahead, where ahead is what the
-- other live claimants that have waited longer still want (live-waits), so a freed slot goes to
-- whoever waited longest. A take that gets less than it asked for records what it still wants
-- (its since kept while it gets nothing, reset when it gets some, so nodes take turns) and tells
-- the holders (NOTIFY shieldpool_slots_wanted, the queue): they give back what they hold beyond
-- their fair share as their sections end. One that gets all deletes its wait. Served by:
-- shieldpool_queues' key (the lock), shieldpool_slots' key and a scan of its rows of the queue
-- (one per node), shieldpool_waits' key, shieldpool_nodes' key.
CREATE OR REPLACE FUNCTION shieldpool_take_slots(p_queue text, p_node text, p_wanted integer, p_wait_freshness_ms bigint)
RETURNS TABLE (granted integer, told bigint, held_before integer, others_wanted bigint, nodes bigint, concurrency integer)
LANGUAGE plpgsql VOLATILE AS $$
#variable_conflict use_column
BEGIN
    UPDATE shieldpool_queues
    SET tokens = CASE WHEN rate > 0 THEN least(burst, tokens + rate * greatest(0, extract(epoch FROM clock_timestamp() - refilled_at))) ELSE tokens END,
        refilled_at = greatest(refilled_at, clock_timestamp())
    WHERE queue = $1;
    RETURN QUERY
    WITH claimant AS (
        SELECT $1::text AS queue, $2::text AS node, -1 AS shard, $4::bigint AS freshness
    ), live_waits AS (
        {{live-waits-6}}
    ), ahead AS (
        SELECT coalesce(sum(w.wanted), 0) AS n
        FROM live_waits w
        WHERE w.since < coalesce((SELECT since FROM shieldpool_waits WHERE queue = $1 AND node = $2 AND shard = -1),
                                 clock_timestamp())
    ), granted AS (
        SELECT greatest(0, least($3::int, q.concurrency - (SELECT coalesce(sum(s.held), 0) FROM shieldpool_slots s WHERE s.queue = $1)
                                          - (SELECT n FROM ahead)))::int AS n
        FROM shieldpool_queues q WHERE q.queue = $1 AND q.concurrency > 0
    ), mine AS (
        INSERT INTO shieldpool_slots (queue, node, held)
        SELECT $1, $2, g.n FROM granted g WHERE g.n > 0
        ON CONFLICT (queue, node) DO UPDATE SET held = shieldpool_slots.held + EXCLUDED.held
    ), waiting AS (
        INSERT INTO shieldpool_waits (queue, node, shard, wanted, since, looked_at)
        SELECT $1, $2, -1, $3 - coalesce((SELECT n FROM granted), 0), clock_timestamp(), clock_timestamp()
        WHERE coalesce((SELECT n FROM granted), 0) < $3
        ON CONFLICT (queue, node, shard) DO UPDATE
        SET since = CASE WHEN EXCLUDED.wanted < $3 THEN EXCLUDED.since ELSE shieldpool_waits.since END,
            wanted = EXCLUDED.wanted, looked_at = EXCLUDED.looked_at
    ), told AS (
        SELECT pg_notify('shieldpool_slots_wanted', $1) WHERE coalesce((SELECT n FROM granted), 0) < $3
    ), served AS (
        DELETE FROM shieldpool_waits
        WHERE queue = $1 AND node = $2 AND shard = -1 AND coalesce((SELECT n FROM granted), 0) >= $3
    )
    SELECT coalesce((SELECT n FROM granted), 0), (SELECT count(*) FROM told), state.*
    FROM ({{slots-state-6}}) AS state;
END
$$;

-- :name live-waits-6
-- A fragment, not a migration: schema 6's copy of statements.sql's live-waits, included by both
-- functions of block 6.
SELECT w.node, w.shard, w.wanted, w.since, w.queue
FROM shieldpool_waits w JOIN shieldpool_nodes nd ON nd.id = w.node, claimant c
WHERE w.queue = c.queue AND NOT (w.node = c.node AND w.shard = c.shard)
  AND w.looked_at >= clock_timestamp() - c.freshness * interval '1 millisecond'
  AND nd.state = 'running' AND nd.heartbeat_at >= now() - nd.ttl

-- :name slots-state-6
-- A fragment, not a migration: schema 6's copy of statements.sql's slots-state, included by
-- shieldpool_take_slots.
SELECT coalesce((SELECT s.held FROM shieldpool_slots s, claimant c WHERE s.queue = c.queue AND s.node = c.node), 0),
       (SELECT coalesce(sum(w.wanted), 0) FROM live_waits w),
       (SELECT count(*) FROM (SELECT s.node FROM shieldpool_slots s, claimant c WHERE s.queue = c.queue AND s.held > 0
                              UNION SELECT w.node FROM live_waits w
                              UNION SELECT c.node FROM claimant c) AS wanting),
       (SELECT q.concurrency FROM shieldpool_queues q, claimant c WHERE q.queue = c.queue)
