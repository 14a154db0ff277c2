-- The statements a node of schema 5 runs for a limited claim and a slot take, verbatim from
-- statements.sql as of schema 5 (git: main before schema 6), for the tests of a rolling upgrade:
-- such a node runs, in one transaction, limits-lock and then claim-limited or slots-take, while
-- nodes of schema 6 call the functions. Not used by the store.

-- :name limits-lock
-- First statement of a limited claim's transaction (queue): locks the queue's row until COMMIT
-- (limited claims of every node take turns here) and refills its bucket for the time since the
-- last refill (database time). why clock_timestamp(), not now(): now() is when the transaction
-- began, before it waited its turn at the lock; the bucket must follow when claims really happen,
-- or a claim that waited would spend tokens of a time already spent. Served by: shieldpool_queues' key.
UPDATE shieldpool_queues
SET tokens = CASE WHEN rate > 0 THEN least(burst, tokens + rate * greatest(0, extract(epoch FROM clock_timestamp() - refilled_at))) ELSE tokens END,
    refilled_at = greatest(refilled_at, clock_timestamp())
WHERE queue = $1
RETURNING concurrency;

-- :name live-waits
-- A fragment, not a statement: claim-limited, slots-take, slots-give, slots-look, node-stopped
-- and rescue include it as {{live-waits}} (SqlStatements puts this text in its place at load
-- time), in a CTE after their own CTE claimant (queue, node, shard, freshness in ms; one row per
-- queue, each queue once): the waits for the queue's slots that count, those of every other
-- claimant (a node's shard) whose node is running and alive by its ttl and that looked within
-- the freshness (a waiting feed looks at least every 100 ms; a wait nobody keeps up delays
-- nobody). Served by: shieldpool_waits' key (a few rows), shieldpool_nodes' key.
SELECT w.node, w.shard, w.wanted, w.since, w.queue
FROM shieldpool_waits w JOIN shieldpool_nodes nd ON nd.id = w.node, claimant c
WHERE w.queue = c.queue AND NOT (w.node = c.node AND w.shard = c.shard)
  AND w.looked_at >= clock_timestamp() - c.freshness * interval '1 millisecond'
  AND nd.state = 'running' AND nd.heartbeat_at >= now() - nd.ttl

-- :name slots-state
-- A fragment, not a statement: slots-take, slots-give and slots-look end with it, after their
-- CTEs claimant (queue, node, shard -1, freshness) and live_waits (live-waits): what a node holding
-- or wanting slots of the queue needs to know, as (held, others' wanted, nodes, concurrency):
-- the slots it holds before this statement's own change (the caller adds it), what the other
-- live claimants still want, how many nodes hold slots or wait for some (itself included), and
-- the queue's concurrency. A node holding more than concurrency / nodes gives back, as its
-- sections end, what it holds beyond that while others want some: its fair share.
SELECT coalesce((SELECT s.held FROM shieldpool_slots s, claimant c WHERE s.queue = c.queue AND s.node = c.node), 0),
       (SELECT coalesce(sum(w.wanted), 0) FROM live_waits w),
       (SELECT count(*) FROM (SELECT s.node FROM shieldpool_slots s, claimant c WHERE s.queue = c.queue AND s.held > 0
                              UNION SELECT w.node FROM live_waits w
                              UNION SELECT c.node FROM claimant c) AS wanting),
       (SELECT q.concurrency FROM shieldpool_queues q, claimant c WHERE q.queue = c.queue)

-- :name claim-limited
-- Second statement (owner, queue, now, n, lease in ms, shard, wait freshness in ms), in a new
-- snapshot taken after the lock was granted, so it sees every claim committed before: takes at
-- most n, at most concurrency - running - ahead (when concurrency > 0) and at most floor(tokens)
-- (when rate > 0) jobs, and spends their tokens. ahead: the jobs still wanted by the other live
-- claimants that have waited longer than this one (live-waits; a claimant that is not
-- waiting has waited least), so a freed slot goes to whoever waited longest and claimants take
-- turns. A short claim records what it still wants (its since kept while it gets nothing, reset
-- when it gets some); a full one deletes its row. Safety needs neither: running alone bounds it.
-- Served by: shieldpool_jobs_running (the count), shieldpool_waits' key and a scan of its few
-- rows, shieldpool_nodes' key, shieldpool_jobs_ready (the pick).
WITH lim AS (
    SELECT concurrency, rate, tokens FROM shieldpool_queues WHERE queue = $2
), running AS (
    SELECT count(*) AS n FROM shieldpool_jobs WHERE state = 'running' AND queue = $2
), claimant AS (
    SELECT $2::text AS queue, $1::text AS node, $6::int AS shard, $7::bigint AS freshness
), live_waits AS (
    {{live-waits}}
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

-- :name slots-take
-- Second statement of a slot take's transaction, after limits-lock (queue, node, wanted,
-- freshness in ms), in a snapshot taken after the queue's lock was granted, so it sees every take
-- committed before: grants the node at most wanted more slots, at most concurrency - held by all
-- nodes - ahead, where ahead is what the other live claimants that have waited longer still want
-- (live-waits), so a freed slot goes to whoever waited longest. A take that gets less than it
-- asked for records what it still wants (its since kept while it gets nothing, reset when it
-- gets some, so nodes take turns) and tells the holders (NOTIFY shieldpool_slots_wanted, the
-- queue): they give back what they hold beyond their fair share as their sections end. One that
-- gets all deletes its wait. Returns the slots granted, then slots-state. Served by:
-- shieldpool_slots' key and a scan of its rows of the queue (one per node), shieldpool_waits'
-- key, shieldpool_nodes' key.
WITH claimant AS (
    SELECT $1::text AS queue, $2::text AS node, -1 AS shard, $4::bigint AS freshness
), live_waits AS (
    {{live-waits}}
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
FROM ({{slots-state}}) AS state;
