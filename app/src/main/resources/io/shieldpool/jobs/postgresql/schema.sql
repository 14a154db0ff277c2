-- The PostgreSQL job store's schema, one block per version. The store (at a daemon's start, and
-- `shieldpool jobs migrate`) runs, in ONE transaction: pg_advisory_xact_lock (transaction-scoped,
-- so it works behind PgBouncer in transaction mode and is released by COMMIT or a lost session),
-- CREATE TABLE IF NOT EXISTS shieldpool_schema, then every block above the recorded version, then
-- records the new version. Daemons starting at once serialise on the lock; the second sees the
-- new version and runs nothing. Times are timestamptz; the tables are prefixed shieldpool_.

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
