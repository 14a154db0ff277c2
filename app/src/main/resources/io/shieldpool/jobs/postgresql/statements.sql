-- Every statement the PostgreSQL job store runs, by name. Parameters are $1.. in the order the
-- comments list them. Job times (run_at, created_at, finished_at) come from the daemon's clock as
-- parameters; lease and heartbeat times are the database's now(), the one clock all nodes share.
-- Every statement that moves a claimed job re-checks state, owner and attempt in its own WHERE
-- clause (fencing): an ack from an attempt that was released or rescued meanwhile matches no row
-- and changes nothing. Each runs in its own transaction unless the Java code says otherwise.

-- :name lock-keys
-- First statement of an enqueue with unique keys, and of a batch of acks holding keyed jobs
-- (keys[]): takes each key's transaction-scoped advisory lock, in hash order (two such
-- transactions never wait for each other in a cycle). An ack moves a keyed job to
-- shieldpool_jobs_done under that lock, so the enqueue's next statement (a new snapshot) finds
-- the key in one table or the other, never in neither.
-- Hashes may collide: two keys then share a lock, which only serialises them.
SELECT count(*) FROM (
    SELECT pg_advisory_xact_lock(72350198, h)
    FROM (SELECT DISTINCT hashtext(k) AS h FROM unnest($1::text[]) AS k WHERE k IS NOT NULL) AS hashes
    ORDER BY h
) AS locked;

-- :name enqueue
-- Adds ready jobs in one statement (queues[], payloads[], max_attempts[], run_ats[], keys[],
-- created_at): ids are drawn in input order (ORDER BY n). A unique key a kept job already has
-- (or an earlier row of the same batch) is skipped: a key in shieldpool_jobs by DO NOTHING, a
-- key of a done job by the NOT EXISTS (see lock-keys); the caller looks those keys up.
-- Served by: the primary key; shieldpool_jobs_unique_key and shieldpool_jobs_done_unique_key check keys.
INSERT INTO shieldpool_jobs (queue, payload, state, attempt, max_attempts, run_at, created_at, unique_key)
SELECT q, p, 'ready', 0, m, r, $6, k
FROM unnest($1::text[], $2::text[], $3::int[], $4::timestamptz[], $5::text[]) WITH ORDINALITY AS t(q, p, m, r, k, n)
WHERE k IS NULL OR NOT EXISTS (SELECT 1 FROM shieldpool_jobs_done d WHERE d.unique_key = k)
ORDER BY n
ON CONFLICT (unique_key) WHERE unique_key IS NOT NULL DO NOTHING
RETURNING id, unique_key;

-- :name find-by-keys
-- The jobs holding unique keys (keys[]), in either table. Served by: shieldpool_jobs_unique_key,
-- shieldpool_jobs_done_unique_key.
SELECT id, unique_key FROM shieldpool_jobs WHERE unique_key = ANY($1::text[])
UNION ALL
SELECT id, unique_key FROM shieldpool_jobs_done WHERE unique_key = ANY($1::text[]);

-- :name notify-if-was-empty
-- Wakes the other nodes (LISTEN shieldpool_jobs) only when the queue had no due ready job before
-- this enqueue (queue, first new id, now): NOTIFY takes a cluster-wide lock at commit, so it is
-- sent on empty -> non-empty only (and the store rate-limits it). Served by: shieldpool_jobs_ready.
SELECT pg_notify('shieldpool_jobs', $1)
WHERE NOT EXISTS (SELECT 1 FROM shieldpool_jobs WHERE state = 'ready' AND queue = $1 AND run_at <= $3 AND id < $2);

-- :name claim
-- Claims up to n due ready jobs of one queue, oldest run-at first (owner, queue, now, n,
-- lease in ms): each becomes running under the owner, its attempt counted, its lease (database
-- time) set. FOR UPDATE SKIP LOCKED: concurrent claims on any node take disjoint rows without
-- waiting for each other; the CTE is materialised, so the row set is picked once.
-- Served by: shieldpool_jobs_ready (range scan in claim order), then the primary key.
WITH picked AS (
    SELECT id FROM shieldpool_jobs
    WHERE state = 'ready' AND queue = $2 AND run_at <= $3
    ORDER BY run_at, id
    LIMIT $4
    FOR UPDATE SKIP LOCKED
)
UPDATE shieldpool_jobs j
SET state = 'running', attempt = j.attempt + 1, owner = $1, lease_until = now() + $5 * interval '1 millisecond'
FROM picked
WHERE j.id = picked.id
RETURNING j.id, j.queue, j.payload, j.attempt, j.max_attempts, j.run_at, j.created_at, j.last_error, j.unique_key;

-- :name claim-after
-- claim, but only jobs after a point of claim order (owner, queue, now, n, lease in ms,
-- after run_at, after id): the point where this node's previous claim ended. why: the ready index
-- keeps an entry for every job claimed since the oldest snapshot any session holds (vacuum may
-- not remove them while that snapshot might still see those rows), and a claim from the start
-- walks over all of them; one idle transaction elsewhere then makes every claim slower as it
-- lasts. Starting at the point skips them. Jobs ready again behind the point (released, rescued,
-- enqueued with a past run-at, from a node with a clock behind) are taken by the store's plain
-- claims, which it still runs whenever they are cheap (PostgresJobStore.claim).
-- Served by: shieldpool_jobs_ready (a range scan from the point: the row comparison is an index
-- bound), then the primary key.
WITH picked AS (
    SELECT id FROM shieldpool_jobs
    WHERE state = 'ready' AND queue = $2 AND run_at <= $3 AND (run_at, id) > ($6, $7)
    ORDER BY run_at, id
    LIMIT $4
    FOR UPDATE SKIP LOCKED
)
UPDATE shieldpool_jobs j
SET state = 'running', attempt = j.attempt + 1, owner = $1, lease_until = now() + $5 * interval '1 millisecond'
FROM picked
WHERE j.id = picked.id
RETURNING j.id, j.queue, j.payload, j.attempt, j.max_attempts, j.run_at, j.created_at, j.last_error, j.unique_key;

-- :name complete-many
-- Acks of many attempts in one statement and one commit (now, ids[], owners[], attempts[]): each
-- job's row moves from the hot table to shieldpool_jobs_done, so done jobs never slow the hot
-- table. Fenced per row: the DELETE re-checks state, owner and attempt (a rescue or release that
-- changed the row first leaves it nothing to match; the other rows of the statement still move);
-- returns the ids that moved. On a queue without limits the store puts every ack that arrived
-- while up to two such statements were being written in the next one (group commit): one
-- commit, so one WAL flush, for all of them; so does a queue with a concurrency and no rate (its
-- slots are shieldpool_slots, not running rows). A rate-limited queue's acks are each written at
-- once, one per statement (a slot is free only once its ack has landed). A job is in
-- at most one statement at a time. Keyed jobs' acks run lock-keys first, in the same
-- transaction. Served by: the primary key (id = ANY, one scan for the whole batch); each row's
-- owner and attempt are found in a jsonb object built once per statement (an InitPlan) by id, a
-- binary search. why no join to the unnested arrays: the planner chose its order from estimates
-- that are wrong here (the arrays' sizes are unknown in a generic plan; the stats, taken while
-- every job was ready, say no row is running), and took the rows first and read the whole
-- unnested arrays again for each one: n^2, 1,000 acks in 0.9-1.6 s (it made group commit slowest
-- exactly under load, when batches grow). With no join there is no order to get wrong: 1,000
-- acks in ~19 ms, 25 in ~1 ms (EXPLAIN ANALYZE here, generic and custom plans alike). why the
-- state check is written IS NOT DISTINCT FROM (the same as = here), and owner never compared with
-- =: the planner can then match neither shieldpool_jobs_running's predicate (state = 'running')
-- nor its key (owner). With `state = 'running' AND owner = ...` it scanned that partial index
-- instead, as it looks tiny, and each ack then read every entry left in it by jobs acked since
-- the oldest snapshot any session holds: thousands per ack behind one idle transaction
-- (PgBloatBench).
WITH moved AS (
    DELETE FROM shieldpool_jobs j
    WHERE j.id = ANY ($2::bigint[])
      AND j.state IS NOT DISTINCT FROM 'running'
      AND jsonb_build_array(j.owner, j.attempt) = (
          SELECT jsonb_object_agg(a.id, jsonb_build_array(a.owner, a.attempt))
          FROM unnest($2::bigint[], $3::text[], $4::int[]) AS a(id, owner, attempt)) -> j.id::text
    RETURNING j.id, j.queue, j.payload, j.attempt, j.max_attempts, j.run_at, j.created_at, j.last_error, j.unique_key
)
INSERT INTO shieldpool_jobs_done (id, queue, payload, attempt, max_attempts, run_at, created_at, finished_at, last_error, unique_key)
SELECT id, queue, payload, attempt, max_attempts, run_at, created_at, $1, last_error, unique_key FROM moved
RETURNING id;

-- :name state-of
-- After an ack that matched no row and was retried (the first try may have committed before
-- the connection broke): the job's state and attempt (id). done at the same attempt means that
-- ack landed: no one can complete the same attempt number twice. Served by: both primary keys.
SELECT state, attempt FROM shieldpool_jobs WHERE id = $1
UNION ALL
SELECT 'done', attempt FROM shieldpool_jobs_done WHERE id = $1;

-- :name fail
-- A failed attempt (retry_at, now, error, id, owner, attempt): ready again at retry_at, or dead
-- when it was the last attempt. Fenced. Served by: the primary key (IS NOT DISTINCT FROM: see
-- complete-many).
UPDATE shieldpool_jobs
SET state       = CASE WHEN attempt >= max_attempts THEN 'dead' ELSE 'ready' END,
    run_at      = CASE WHEN attempt >= max_attempts THEN run_at ELSE $1 END,
    finished_at = CASE WHEN attempt >= max_attempts THEN $2 ELSE NULL END,
    last_error  = $3, owner = NULL, lease_until = NULL
WHERE id = $4 AND (state, owner, attempt) IS NOT DISTINCT FROM ('running', $5::text, $6::int)
RETURNING state, run_at;

-- :name release-uncounted
-- Gives back claimed jobs whose sections never began (ids[], owner, attempts[]): ready, and the
-- attempt not counted. Fenced per row. Served by: the primary key (id = ANY), each row's attempt
-- found by id in a jsonb object built once (as in complete-many, for the same reasons: a drain
-- releases at once every job its shards had claimed ahead).
UPDATE shieldpool_jobs j SET state = 'ready', attempt = j.attempt - 1, owner = NULL, lease_until = NULL
WHERE j.id = ANY ($1::bigint[]) AND j.state IS NOT DISTINCT FROM 'running' AND j.owner IS NOT DISTINCT FROM $2::text
  AND to_jsonb(j.attempt) = (SELECT jsonb_object_agg(t.id, t.attempt) FROM unnest($1::bigint[], $3::int[]) AS t(id, attempt)) -> j.id::text;

-- :name release-counted
-- Gives back jobs whose attempts were cut (now, error, ids[], owner, attempts[]): ready now, the
-- attempt counted; dead if it was the last. Fenced per row. Served by: the primary key, as
-- release-uncounted.
UPDATE shieldpool_jobs j
SET state       = CASE WHEN j.attempt >= j.max_attempts THEN 'dead' ELSE 'ready' END,
    run_at      = CASE WHEN j.attempt >= j.max_attempts THEN j.run_at ELSE $1 END,
    finished_at = CASE WHEN j.attempt >= j.max_attempts THEN $1 ELSE NULL END,
    last_error  = $2, owner = NULL, lease_until = NULL
WHERE j.id = ANY ($3::bigint[]) AND j.state IS NOT DISTINCT FROM 'running' AND j.owner IS NOT DISTINCT FROM $4::text
  AND to_jsonb(j.attempt) = (SELECT jsonb_object_agg(t.id, t.attempt) FROM unnest($3::bigint[], $5::int[]) AS t(id, attempt)) -> j.id::text;

-- :name release-owned
-- A clean stop's last step: every job still running under this owner (owner), claimed and never
-- started, goes back uncounted. Served by: shieldpool_jobs_running.
UPDATE shieldpool_jobs SET state = 'ready', attempt = attempt - 1, owner = NULL, lease_until = NULL
WHERE state = 'running' AND owner = $1;

-- :name rescue
-- Makes ready again (dead when the cut attempt was its last) every running job whose owner is not
-- a live node (no row, stopped, or heartbeat older than its ttl) or whose lease ran out (a hung
-- section on a live node) (now, guarded, freshness in ms, the rescuer's node id). A node never
-- counts itself dead: only the lease cuts its own jobs, and its own waits and slots are left.
-- why: a rescue sent just before a network partition runs when it heals, while the rescuer's own
-- heartbeat (held too) has not landed yet; it cut the rescuer's own running jobs, whose sections
-- went on and ran again elsewhere. With guarded true only one node at a
-- time does it: pg_try_advisory_xact_lock is transaction-scoped (this statement's transaction), so
-- it works behind PgBouncer in transaction mode; the others skip the round. Safe against
-- everything that runs meanwhile: the candidate rows are locked (SKIP LOCKED: a row an ack is
-- changing right now is left for the next round) and the UPDATE re-checks state, owner and
-- attempt, so a job that finished meanwhile is never touched. Served by: shieldpool_jobs_running
-- (every running job is looked at), shieldpool_nodes' key, then the primary key for each job cut.
-- why the lock is a subquery: it is then tried once, before the scan (an InitPlan and a one-time
-- filter; a node that does not get it scans nothing), not once per running row. why `j.id = ANY
-- (ARRAY[cut.id])`: it is no equality between the two sides, so the planner cannot hash them, and
-- looking each cut job up in the primary key is the cheap plan whenever the table is not tiny;
-- with `j.id = cut.id` it took both sides for a row or two, walked the running index a second time
-- and looked for each of its rows among the cut ones: 8,648 running jobs made each heartbeat's
-- rescue 39 ms (on a loaded machine) with nothing to cut.
-- In the same round, under the same lock, it deletes the
-- waits for slots (shieldpool_waits) of every claimant whose node is not live by the same test
-- (dead by its ttl, stopped, or its row gone). why here and not in nodes-forget: a node killed
-- with SIGKILL leaves its rows, and nothing else ends them unless the same host restarts a
-- daemon (node-stopped); nodes-forget runs a day later, and every limited claim and ack on the
-- queue reads those rows until then (a host name per run, as in containers, leaves some per
-- run). Claims ignore them already, so deleting them changes no claim; a node that was only
-- late writes its wait again at its next short claim. SKIP LOCKED: a row a claim is writing
-- right now (its node live after all) waits for the next round, and the rescue never waits.
-- Its lock is tried in a subquery too; taken twice in one transaction, it is granted to the same
-- transaction both times. Served by: a scan of shieldpool_waits (a few rows), shieldpool_nodes' key.
-- The slots it frees wake the live nodes waiting for them (wake-freed, freshness in ms: $3),
-- the rescuer itself included.
WITH cut AS (
    SELECT j.id, j.owner, j.attempt
    FROM shieldpool_jobs j
    WHERE j.state = 'running'
      AND (NOT $2 OR (SELECT pg_try_advisory_xact_lock(7235019811)))
      AND (j.lease_until < now()
           OR j.owner IS DISTINCT FROM $4::text
              AND NOT EXISTS (SELECT 1 FROM shieldpool_nodes n
                              WHERE n.id = j.owner AND n.state <> 'stopped' AND n.heartbeat_at >= now() - n.ttl))
    FOR UPDATE OF j SKIP LOCKED
), ended AS (
    DELETE FROM shieldpool_waits w
    WHERE (w.queue, w.node, w.shard) IN (
        SELECT x.queue, x.node, x.shard
        FROM shieldpool_waits x
        WHERE (NOT $2 OR (SELECT pg_try_advisory_xact_lock(7235019811)))
          AND x.node <> $4::text
          AND NOT EXISTS (SELECT 1 FROM shieldpool_nodes n
                          WHERE n.id = x.node AND n.state <> 'stopped' AND n.heartbeat_at >= now() - n.ttl)
        FOR UPDATE OF x SKIP LOCKED)
), freed AS (
    -- the slots a node that is not live holds (shieldpool_slots): its sections cannot run any
    -- more, so its slots are free; by the same test and under the same lock as the waits above
    DELETE FROM shieldpool_slots s
    WHERE (s.queue, s.node) IN (
        SELECT x.queue, x.node
        FROM shieldpool_slots x
        WHERE (NOT $2 OR (SELECT pg_try_advisory_xact_lock(7235019811)))
          AND x.node <> $4::text
          AND NOT EXISTS (SELECT 1 FROM shieldpool_nodes n
                          WHERE n.id = x.node AND n.state <> 'stopped' AND n.heartbeat_at >= now() - n.ttl)
        FOR UPDATE OF x SKIP LOCKED)
    RETURNING s.queue, s.held
), claimant AS (
    -- no node's: every live wait of a queue freed counts, the rescuer's too
    SELECT DISTINCT f.queue, ''::text AS node, -1 AS shard, $3::bigint AS freshness FROM freed f
), live_waits AS (
    {{live-waits}}
), woken AS (
    {{wake-freed}}
)
UPDATE shieldpool_jobs j
SET state       = CASE WHEN j.attempt >= j.max_attempts THEN 'dead' ELSE 'ready' END,
    run_at      = CASE WHEN j.attempt >= j.max_attempts THEN j.run_at ELSE $1 END,
    finished_at = CASE WHEN j.attempt >= j.max_attempts THEN $1 ELSE NULL END,
    last_error  = 'attempt ' || j.attempt || ' was cut: ' ||
                  CASE WHEN j.lease_until < now() THEN 'it ran past its lease on ' || j.owner
                       ELSE 'its owner ' || j.owner || ' died' END,
    owner = NULL, lease_until = NULL
FROM cut
WHERE j.id = ANY (ARRAY[cut.id]) AND (j.state, j.owner, j.attempt) IS NOT DISTINCT FROM ('running', cut.owner, cut.attempt)
  -- why: a CTE that modifies nothing runs only when read; read once, before the update (a
  -- one-time filter, always true), it wakes the waiters even when no job is cut
  AND (SELECT count(*) FROM woken) >= 0
RETURNING j.id, cut.attempt, cut.owner, j.state;

-- :name node-register
-- This node's row (id, host, pid, ttl in ms), running. Served by: shieldpool_nodes' key.
INSERT INTO shieldpool_nodes (id, host, pid, ttl, state)
VALUES ($1, $2, $3, $4 * interval '1 millisecond', 'running')
ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), state = 'running';

-- :name node-heartbeat
-- Heartbeat (id, state, in flight, ttl in ms): also while draining, a stopping node is not dead.
-- Re-creates the row if an operator deleted it. Never revives a stopped row: a heartbeat sent just
-- before the store closed may commit after node-stopped (another pooled connection), and must not
-- turn the node back to draining (it would then read dead after the ttl). Served by:
-- shieldpool_nodes' key.
INSERT INTO shieldpool_nodes (id, host, pid, ttl, state, in_flight)
VALUES ($1, split_part($1, '/', 1), split_part($1, '/', 2)::bigint, $4 * interval '1 millisecond', $2, $3)
ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), state = EXCLUDED.state, in_flight = EXCLUDED.in_flight,
                               ttl = EXCLUDED.ttl
WHERE shieldpool_nodes.state <> 'stopped';

-- :name node-stopped
-- A clean stop (id, freshness in ms): the node is not dead, it is gone; its jobs (none after
-- release-owned) are rescued at once by anyone, its waits for slots end and the slots it holds
-- are free (its sections have ended, or its process is gone: same-host-nodes), and the nodes
-- waiting for them are told (wake-freed). Returns how many were told. Served by:
-- shieldpool_nodes' key, a scan of shieldpool_waits and of shieldpool_slots (a few rows each),
-- shieldpool_queues' key.
WITH waits AS (
    DELETE FROM shieldpool_waits WHERE node = $1
), freed AS (
    DELETE FROM shieldpool_slots WHERE node = $1 RETURNING queue, held
), stopped AS (
    UPDATE shieldpool_nodes SET state = 'stopped', heartbeat_at = now(), in_flight = 0 WHERE id = $1
), claimant AS (
    -- the stopping node: its own wait (still in this statement's snapshot) is nobody's to wake
    SELECT DISTINCT f.queue, $1::text AS node, -1 AS shard, $2::bigint AS freshness FROM freed f
), live_waits AS (
    {{live-waits}}
), woken AS (
    {{wake-freed}}
)
SELECT count(*) FROM woken;

-- :name same-host-nodes
-- Nodes of this host that are not marked stopped (host, own id): the store checks their pids;
-- the ones whose process is gone are marked stopped, so their jobs are recovered at once at a
-- same-host restart instead of after the ttl. Served by: a scan of shieldpool_nodes (a few rows).
SELECT id, pid, extract(epoch FROM started_at) * 1000 FROM shieldpool_nodes
WHERE host = $1 AND id <> $2 AND state <> 'stopped';

-- :name nodes-forget
-- Deletes node rows stopped or dead for more than a day that hold no job: run by every node at its
-- first heartbeat and then hourly (two at once only find nothing left to delete). The rescue runs
-- before it in the same heartbeat, so a dead node's running jobs are rescued, not orphaned; a node
-- that is alive after all re-creates its row at its next heartbeat (node-heartbeat). Served by: a
-- scan of shieldpool_nodes, shieldpool_jobs_running.
DELETE FROM shieldpool_nodes n
WHERE n.heartbeat_at < now() - interval '1 day'
  AND NOT EXISTS (SELECT 1 FROM shieldpool_jobs j WHERE j.state = 'running' AND j.owner = n.id);

-- :name nodes
-- The cluster view: every node with its heartbeat age (ms), whether it is alive, the jobs it holds,
-- its ttl (ms) and how long since it registered (ms). The jobs held: a live (or stopped) node's
-- count as of its last heartbeat; a dead node's running rows, counted now. why: a dead node's last
-- heartbeat count never changes, and read after the rescue it would show jobs that run elsewhere
-- or wait to: its running rows are what it still holds (0 once rescued). Served by: a scan of
-- shieldpool_nodes; shieldpool_jobs_running (owner) for each dead node.
SELECT n.id, n.host, n.pid, n.state, extract(epoch FROM now() - n.heartbeat_at) * 1000, n.heartbeat_at >= now() - n.ttl,
       CASE WHEN n.heartbeat_at >= now() - n.ttl OR n.state = 'stopped' THEN n.in_flight
            ELSE (SELECT count(*) FROM shieldpool_jobs j WHERE j.state = 'running' AND j.owner = n.id)::integer END,
       extract(epoch FROM n.ttl) * 1000, extract(epoch FROM now() - n.started_at) * 1000
FROM shieldpool_nodes n ORDER BY n.host, n.pid, n.id;

-- :name stats
-- Counts per queue and state, and the run-at of the oldest due ready job (now). Each branch
-- reads only its own partial index, done jobs their own table (and the hot table's done rows a
-- schema-2 daemon may still leave there during a rolling upgrade: shieldpool_jobs_finished).
SELECT queue, 'ready', count(*), min(run_at) FILTER (WHERE run_at <= $1) FROM shieldpool_jobs WHERE state = 'ready' GROUP BY queue
UNION ALL
SELECT queue, 'running', count(*), NULL FROM shieldpool_jobs WHERE state = 'running' GROUP BY queue
UNION ALL
SELECT queue, 'done', count(*), NULL FROM (
    SELECT queue FROM shieldpool_jobs_done
    UNION ALL
    SELECT queue FROM shieldpool_jobs WHERE state = 'done') AS done GROUP BY queue
UNION ALL
SELECT queue, 'dead', count(*), NULL FROM shieldpool_jobs WHERE state = 'dead' GROUP BY queue;

-- :name find
-- One job (id), in either table. Served by: both primary keys.
SELECT id, queue, payload, attempt, max_attempts, run_at, created_at, last_error, unique_key, state, owner, finished_at
FROM shieldpool_jobs WHERE id = $1
UNION ALL
SELECT id, queue, payload, attempt, max_attempts, run_at, created_at, last_error, unique_key, 'done', NULL, finished_at
FROM shieldpool_jobs_done WHERE id = $1;

-- :name list
-- Newest jobs first, optionally of one state and one queue (state or NULL, queue or NULL, n),
-- from both tables. Served by: both primary keys, backwards (an operator's command, not a hot path).
SELECT * FROM (
    (SELECT id, queue, payload, attempt, max_attempts, run_at, created_at, last_error, unique_key, state, owner, finished_at
     FROM shieldpool_jobs WHERE ($1::text IS NULL OR state = $1) AND ($2::text IS NULL OR queue = $2)
     ORDER BY id DESC LIMIT $3)
    UNION ALL
    (SELECT id, queue, payload, attempt, max_attempts, run_at, created_at, last_error, unique_key, 'done', NULL, finished_at
     FROM shieldpool_jobs_done WHERE ($1::text IS NULL OR $1 = 'done') AND ($2::text IS NULL OR queue = $2)
     ORDER BY id DESC LIMIT $3)
) AS jobs
ORDER BY id DESC LIMIT $3;

-- :name retry
-- An operator's retry (now, id): a dead or ready job becomes ready now with its attempts reset;
-- running and done jobs are left alone. Served by: the primary key.
UPDATE shieldpool_jobs SET state = 'ready', attempt = 0, run_at = $1, finished_at = NULL, owner = NULL
WHERE id = $2 AND state IN ('dead', 'ready');

-- :name retry-dead
-- retry for every dead job, of one queue when given (now, queue or NULL). Served by: shieldpool_jobs_dead.
UPDATE shieldpool_jobs SET state = 'ready', attempt = 0, run_at = $1, finished_at = NULL, owner = NULL
WHERE state = 'dead' AND ($2::text IS NULL OR queue = $2);

-- :name purge-done
-- Deletes up to n done jobs finished before a time (finished_before, n) from each table (the hot
-- table's: left by a schema-2 daemon during a rolling upgrade) and returns how many; repeated by
-- the store in short transactions. Served by: shieldpool_jobs_done_finished, shieldpool_jobs_finished.
WITH cold AS (
    DELETE FROM shieldpool_jobs_done WHERE id IN (
        SELECT id FROM shieldpool_jobs_done WHERE finished_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
    RETURNING 1
), hot AS (
    DELETE FROM shieldpool_jobs WHERE id IN (
        SELECT id FROM shieldpool_jobs WHERE state = 'done' AND finished_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED)
    RETURNING 1
)
SELECT greatest((SELECT count(*) FROM cold), (SELECT count(*) FROM hot)), (SELECT count(*) FROM cold) + (SELECT count(*) FROM hot);

-- :name purge-dead
-- Deletes up to n dead jobs finished before a time (finished_before, n). Served by: shieldpool_jobs_dead.
DELETE FROM shieldpool_jobs WHERE id IN (
    SELECT id FROM shieldpool_jobs WHERE state = 'dead' AND finished_at < $1 LIMIT $2 FOR UPDATE SKIP LOCKED);

-- :name limits-set
-- A daemon's limits for its queue (queue, concurrency or 0, rate per second or 0, burst): the
-- last node started sets them, so all nodes of a queue should be configured alike. A new row
-- starts with a full bucket. Served by: shieldpool_queues' key.
INSERT INTO shieldpool_queues (queue, concurrency, rate, burst, tokens)
VALUES ($1, $2, $3, $4, $4)
ON CONFLICT (queue) DO UPDATE SET concurrency = EXCLUDED.concurrency, rate = EXCLUDED.rate, burst = EXCLUDED.burst,
                                  tokens = least(shieldpool_queues.tokens, EXCLUDED.burst);

-- :name live-waits
-- A fragment, not a statement: slots-give, slots-look, node-stopped and rescue include it as
-- {{live-waits}} (SqlStatements puts this text in its place at load time), and so do the
-- functions of schema 6 behind claim-limited and slots-take (schema.sql's live-waits-6, a copy
-- SchemaTest keeps equal to this one: a change here needs a new schema version replacing
-- them), in a CTE after their own CTE claimant (queue, node, shard, freshness in ms; one row per
-- queue, each queue once): the waits for the queue's slots that count, those of every other
-- claimant (a node's shard) whose node is running and alive by its ttl and that looked within
-- the freshness (a waiting feed looks at least every 100 ms; a wait nobody keeps up delays
-- nobody). Served by: shieldpool_waits' key (a few rows), shieldpool_nodes' key.
SELECT w.node, w.shard, w.wanted, w.since, w.queue
FROM shieldpool_waits w JOIN shieldpool_nodes nd ON nd.id = w.node, claimant c
WHERE w.queue = c.queue AND NOT (w.node = c.node AND w.shard = c.shard)
  AND w.looked_at >= clock_timestamp() - c.freshness * interval '1 millisecond'
  AND nd.state = 'running' AND nd.heartbeat_at >= now() - nd.ttl

-- :name wake-freed
-- A fragment, not a statement: node-stopped and rescue, which free the slots of a node that is
-- gone, include it as {{wake-freed}}, after their CTEs freed (queue, held: the slot rows they
-- delete) and live_waits (live-waits, with a claimant row per queue freed): tells each live
-- waiter the slots now free cover, at least in part (NOTIFY shieldpool_slots, its node id; one
-- per node), in the order they waited, as slots-give does. The slots free after the statement
-- are the concurrency less the slots held in its snapshot, plus those it freed. why all of them
-- and not only the first as a give does: a stop or a rescue frees all of a node's slots at once,
-- and a waiter not told takes its slot only at its own retry (100-400 ms) (PostgresJobStoreTest,
-- aCleanStopWakesTheWaitersItsFreedSlotsCoverAndOnlyThem).
SELECT pg_notify('shieldpool_slots', told.node)
FROM (
    SELECT DISTINCT l.node
    FROM (SELECT w.queue, w.node,
                 sum(w.wanted) OVER (PARTITION BY w.queue ORDER BY w.since, w.node, w.shard) - w.wanted AS before
          FROM live_waits w) AS l
    JOIN (SELECT q.queue, q.concurrency - (SELECT coalesce(sum(s.held), 0) FROM shieldpool_slots s WHERE s.queue = q.queue)
                          + f.n AS n
          FROM shieldpool_queues q JOIN (SELECT queue, sum(held) AS n FROM freed GROUP BY queue) AS f ON f.queue = q.queue
          WHERE f.n > 0 AND q.concurrency > 0) AS free ON free.queue = l.queue
    WHERE l.before < free.n
) AS told

-- :name claim-limited
-- A claim of a queue with a cluster-wide rate (owner, queue, now, n, lease in ms, shard, wait
-- freshness in ms), ONE statement and so its own transaction: shieldpool_claim_limited (schema
-- 6, schema.sql says what it guarantees and which indexes serve it) locks the queue's row in
-- shieldpool_queues and refills its bucket, then, in a new snapshot taken after the lock was
-- granted, takes at most n, at most concurrency - running - what the claimants that waited
-- longer still want, and at most the whole tokens, and spends them. The lock is held until this
-- statement commits: limited claims and slot takes of every node take turns there.
SELECT * FROM shieldpool_claim_limited($1, $2, $3, $4, $5, $6, $7);

-- :name release-strays
-- After a claim whose commit may or may not have landed (the connection broke before
-- the answer): gives back, uncounted, every job running under this owner that the store does not
-- know it holds (owner, held ids[]): claimed, never delivered, never started. Run only while no
-- claim of this store is in flight, so a job just claimed is never among them.
-- Served by: shieldpool_jobs_running.
UPDATE shieldpool_jobs SET state = 'ready', attempt = attempt - 1, owner = NULL, lease_until = NULL
WHERE state = 'running' AND owner = $1 AND NOT (id = ANY($2::bigint[]));

-- :name limits-use
-- The cluster view of a queue's limits (queue): its limits, its use (the slots nodes hold when it
-- has a concurrency and no rate, else its running jobs) and the tokens there are
-- now (the stored ones refilled for the time since the last claim, as the next claim will see
-- them). Served by: shieldpool_queues' key, shieldpool_jobs_running.
SELECT q.concurrency, q.rate, q.burst,
       CASE WHEN q.rate > 0 THEN least(q.burst, q.tokens + q.rate * extract(epoch FROM now() - q.refilled_at))
            ELSE q.tokens END,
       CASE WHEN q.concurrency > 0 AND q.rate = 0
            THEN (SELECT coalesce(sum(s.held), 0) FROM shieldpool_slots s WHERE s.queue = q.queue)
            ELSE (SELECT count(*) FROM shieldpool_jobs j WHERE j.state = 'running' AND j.queue = q.queue) END
FROM shieldpool_queues q WHERE q.queue = $1;

-- :name slots-state
-- A fragment, not a statement: slots-give and slots-look end with it (and schema 6's
-- shieldpool_take_slots behind slots-take, with its copy slots-state-6), after their
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

-- :name slots-take
-- A node takes slots of a queue's concurrency (queue, node, wanted, freshness in ms), ONE
-- statement and so its own transaction: shieldpool_take_slots (schema 6, schema.sql) locks the
-- queue's row, then, in a snapshot taken after the lock was granted, grants at most wanted, at
-- most concurrency - held by all nodes - what the claimants that waited longer still want;
-- a short take waits in line (shieldpool_waits) and tells the holders (NOTIFY
-- shieldpool_slots_wanted). Returns the slots granted, the waiters told, then slots-state.
SELECT * FROM shieldpool_take_slots($1, $2, $3, $4);

-- :name slots-give
-- A node gives back slots (queue, node, count, freshness in ms): its held count goes down (never
-- below 0; the row stays until node-stopped or the rescue), and if another live claimant waits,
-- the one that waited longest among those the slots already free do not cover is told (NOTIFY
-- shieldpool_slots, its node id) and takes them; the first in line when they cover all. why not
-- always the first: a second give before the first waiter took its slot woke it again, and the
-- next in line waited for its own retry with a slot free (PostgresJobStoreTest,
-- aSecondGiveBeforeTheFirstWaiterTookItsSlotWakesTheNextInLine).
-- Needs no lock: fewer slots held can only make a take's count safer. Returns the slots given
-- back (at most what the node held), then slots-state. Served by: shieldpool_slots' key and a scan of its rows of the queue,
-- shieldpool_waits (a few rows), shieldpool_nodes' key, shieldpool_queues' key.
WITH claimant AS (
    SELECT $1::text AS queue, $2::text AS node, -1 AS shard, $4::bigint AS freshness
), live_waits AS (
    {{live-waits}}
), given AS (
    UPDATE shieldpool_slots SET held = greatest(0, held - $3)
    WHERE queue = $1 AND node = $2
    RETURNING held
), free AS (
    -- the slots free before this give (this statement's snapshot)
    SELECT q.concurrency - (SELECT coalesce(sum(s.held), 0) FROM shieldpool_slots s WHERE s.queue = $1) AS n
    FROM shieldpool_queues q WHERE q.queue = $1
), line AS (
    -- each live waiter with what it and those before it want
    SELECT w.node, w.since, sum(w.wanted) OVER (ORDER BY w.since, w.node) AS through
    FROM live_waits w
), woken AS (
    SELECT pg_notify('shieldpool_slots', l.node)
    FROM line l
    WHERE EXISTS (SELECT 1 FROM given)
    ORDER BY l.through <= coalesce((SELECT n FROM free), 0), l.since
    LIMIT 1
)
SELECT least($3::int, coalesce((SELECT s.held FROM shieldpool_slots s WHERE s.queue = $1 AND s.node = $2), 0)),
       (SELECT count(*) FROM woken), state.*
FROM ({{slots-state}}) AS state;

-- :name slots-look
-- What a node holding slots learns when told that another node wants some (queue, node,
-- freshness in ms): slots-state, changing nothing (its first two columns are 0 to match
-- slots-take and slots-give). Served by: as slots-give, read only.
WITH claimant AS (
    SELECT $1::text AS queue, $2::text AS node, -1 AS shard, $3::bigint AS freshness
), live_waits AS (
    {{live-waits}}
)
SELECT 0, 0::bigint, state.*
FROM ({{slots-state}}) AS state;
