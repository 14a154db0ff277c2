package io.shieldpool.jobs.postgresql;

import io.shieldpool.jobs.Job;
import io.shieldpool.jobs.JobOwner;
import io.shieldpool.jobs.JobState;
import io.shieldpool.jobs.JobStore;
import io.shieldpool.jobs.JobStoreContract;
import io.shieldpool.jobs.JobStoreException;
import io.shieldpool.jobs.MutableClock;
import io.shieldpool.jobs.RecoveredJob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The contract suite on a real PostgreSQL 15 cluster (a fresh database per test), plus what only this store does. */
class PostgresJobStoreTest extends JobStoreContract {

    @RegisterExtension
    static final ThrowawayPostgres pg = new ThrowawayPostgres();

    private final PostgresCluster cluster = pg.cluster();
    private String database;

    private PostgresSettings settings() {
        return PostgresSettings.of(cluster.uri(database));
    }

    @Override
    protected JobStore openFresh(MutableClock clock) throws Exception {
        database = cluster.createDatabase();
        return PostgresJobStore.openForDaemon(settings(), JobOwner.thisProcess(), clock);
    }

    @Override
    protected JobStore reopenAsNextOwner(MutableClock clock) {
        return PostgresJobStore.openForDaemon(settings(), JobOwner.thisProcess(), clock);
    }

    @Test
    void severalStoresOpeningANewDatabaseAtOnceMigrateItOnce() throws Exception {
        database = cluster.createDatabase();
        var opening = new java.util.ArrayList<java.util.concurrent.CompletableFuture<PostgresJobStore>>();
        for (int i = 0; i < 4; i++) {
            opening.add(java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> PostgresJobStore.openForDaemon(settings(), JobOwner.thisProcess(), clock)));
        }
        for (var f : opening) {
            track(f.get());
        }
        assertThat(cluster.psql(database, "SELECT count(*) || ' ' || count(DISTINCT version) FROM shieldpool_schema"))
                .as("each version recorded once").isEqualTo(Schema.VERSION + " " + Schema.VERSION);
        assertThat(PostgresJobStore.migrate(settings())).as("already current").isEqualTo(Schema.VERSION);
    }

    @Test
    void aNewerSchemaIsRefused() throws Exception {
        get(store.close());
        cluster.psql(database, "INSERT INTO shieldpool_schema (version) VALUES (99)");
        assertThatThrownBy(() -> PostgresJobStore.openForDaemon(settings(), JobOwner.thisProcess(), clock))
                .isInstanceOfSatisfying(JobStoreException.class, e -> {
                    assertThat(e.kind()).isEqualTo(JobStoreException.Kind.UNUSABLE);
                    assertThat(e.getMessage()).contains("schema version 99");
                });
    }

    @Test
    void anUnreachableServerIsOneLineNamingTheUrlWithoutItsPassword() {
        String url = "postgresql://postgres:s3cret@/nodb?host=/nonexistent-dir";
        assertThatThrownBy(() -> PostgresJobStore.openForDaemon(PostgresSettings.of(url), JobOwner.thisProcess(), clock))
                .isInstanceOfSatisfying(JobStoreException.class, e -> {
                    assertThat(e.kind()).isEqualTo(JobStoreException.Kind.UNUSABLE);
                    assertThat(e.getMessage()).contains("postgresql://postgres:***@/nodb").doesNotContain("s3cret")
                            .doesNotContain("\n");
                });
    }

    @Test
    void aNodeWhoseHeartbeatStoppedIsRescuedByAnotherLiveNodeAndItsLateAckIsFenced() throws Exception {
        get(store.close());
        PostgresSettings fast = settings().withLeases(Duration.ofMillis(200), Duration.ofSeconds(1), Duration.ofMinutes(15));
        // a node on "another host" (so the same-host pid check cannot apply) that stops heartbeating
        PostgresJobStore doomed = (PostgresJobStore) track(PostgresJobStore.openForDaemon(fast,
                new JobOwner("elsewhere", 4242, "abcd"), clock));
        get(doomed.enqueue(List.of(job("{}"), job("{}"))));
        List<Job> held = get(doomed.claim("default", 10));
        assertThat(held).hasSize(2);
        cluster.psql(database, "UPDATE shieldpool_nodes SET heartbeat_at = now() - interval '1 hour' WHERE host = 'elsewhere'");
        doomed.freezeHeartbeatForTest();

        PostgresJobStore rescuer = (PostgresJobStore) track(PostgresJobStore.openForDaemon(fast,
                new JobOwner("other", 77, "efgh"), clock));
        store = rescuer;
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() ->
                get(rescuer.find(held.getFirst().id())).orElseThrow().state() == JobState.READY);

        List<Job> again = get(rescuer.claim("default", 10));
        assertThat(again).hasSize(2).allSatisfy(j -> assertThat(j.attempt()).isEqualTo(2));
        assertThat(stored(held.getFirst().id()).lastError()).hasValueSatisfying(e -> assertThat(e).contains("elsewhere/4242/abcd died"));
        for (Job stale : held) {
            assertThat(get(doomed.complete(stale))).as("the rescued attempt's ack").isFalse();
        }
        for (Job current : again) {
            assertThat(get(rescuer.complete(current))).isTrue();
        }
        assertThat(get(rescuer.nodes())).extracting(PostgresJobStore.NodeView::host).contains("elsewhere", "other");
    }

    @Test
    void aLimitedQueuesAckIsWrittenAtOnceFencedAndKeepsItsKey() throws Exception {
        get(store.close());
        // a rate: acks are written one by one (not batched, not handed off)
        PostgresSettings limited = settings().withLimits("default", 2, 1000, 10);
        PostgresJobStore node = (PostgresJobStore) track(PostgresJobStore.openForDaemon(limited,
                new JobOwner("la", 1, "r"), clock));
        store = node;
        get(node.enqueue(List.of(job("{}"), new io.shieldpool.jobs.NewJob("default", "{}", 3, clock.instant(),
                java.util.Optional.of("the-key")))));
        List<Job> held = get(node.claim("default", 2));
        assertThat(held).hasSize(2);
        Job plain = held.stream().filter(j -> j.uniqueKey().isEmpty()).findFirst().orElseThrow();
        Job keyed = held.stream().filter(j -> j.uniqueKey().isPresent()).findFirst().orElseThrow();
        // the plain job's attempt is cut (counted) and the job claimed again: the first attempt's ack is stale
        assertThat(get(node.release(List.of(plain), true))).isEqualTo(1);
        Job again = only(get(node.claim("default", 2)));
        assertThat(again.attempt()).isEqualTo(2);
        assertThat(get(node.complete(plain))).as("a stale attempt's ack").isFalse();
        assertThat(get(node.complete(keyed))).as("the keyed job's ack").isTrue();
        assertThat(get(node.complete(again))).as("the current attempt's ack").isTrue();
        assertThat(get(node.limitsOf("default")).orElseThrow().running()).as("both slots free").isZero();
        assertThat(stored(keyed.id()).state()).isEqualTo(JobState.DONE);
        assertThat(get(node.enqueue(List.of(new io.shieldpool.jobs.NewJob("default", "{}", 3, clock.instant(),
                java.util.Optional.of("the-key"))))).getFirst().created()).as("the done job still holds its key").isFalse();
        assertThat(((PostgresJobStore) store).ackBatchesForTest()[0]).as("no ack went through the batches").isZero();
    }

    @Test
    void anAttemptPastItsLeaseIsRescuedEvenThoughItsNodeIsAlive() throws Exception {
        get(store.close());
        PostgresSettings shortLease = settings().withLeases(Duration.ofMillis(200), Duration.ofSeconds(5), Duration.ofMillis(300));
        PostgresJobStore hung = (PostgresJobStore) track(PostgresJobStore.openForDaemon(shortLease, JobOwner.thisProcess(), clock));
        store = hung;
        get(hung.enqueue(List.of(job("{}"))));
        Job first = only(get(hung.claim("default", 1)));

        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() ->
                get(hung.find(first.id())).orElseThrow().state() == JobState.READY);
        assertThat(stored(first.id())).satisfies(j -> {
            assertThat(j.attempt()).isEqualTo(1);
            assertThat(j.lastError()).hasValueSatisfying(e -> assertThat(e).contains("past its lease"));
        });
        assertThat(get(hung.complete(first))).as("the hung attempt's late ack").isFalse();
    }

    @Test
    void aSameHostRestartRecoversTheOrphansOfADeadPidAtOnce() throws Exception {
        get(store.close());
        // a previous daemon on this host whose pid no longer exists, still marked running with a fresh heartbeat
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        JobOwner previous = new JobOwner(JobOwner.thisProcess().host(), gone.pid(), "dead0001");
        PostgresJobStore before = (PostgresJobStore) track(PostgresJobStore.openForDaemon(settings(), previous, clock));
        get(before.enqueue(List.of(job("{}"))));
        Job held = only(get(before.claim("default", 1)));
        before.freezeHeartbeatForTest();

        PostgresJobStore next = (PostgresJobStore) track(PostgresJobStore.openForDaemon(settings(), JobOwner.thisProcess(), clock));
        List<RecoveredJob> recovered = get(next.recoverOrphans());

        assertThat(recovered).extracting(RecoveredJob::id).containsExactly(held.id());
        assertThat(recovered.getFirst().ownerPid()).isEqualTo(gone.pid());
    }

    @Test
    void releaseOwnedRightAfterAcksNeverGivesBackAJobWhoseAckWasRequestedFirst() {
        List<io.shieldpool.jobs.NewJob> batch = new java.util.ArrayList<>();
        for (int i = 0; i < 60; i++) {
            batch.add(job("{}"));
        }
        get(store.enqueue(batch));
        List<Job> held = get(store.claim("default", 60));
        List<io.vertx.core.Future<Boolean>> acks = held.subList(0, 50).stream().map(store::complete).toList();

        int released = get(store.releaseOwned());

        assertThat(acks).allSatisfy(ack -> assertThat(get(ack)).isTrue());
        assertThat(released).as("only the 10 never acked").isEqualTo(10);
    }

    // ---- where rows live (schema 3): done jobs leave the hot table ----

    @Test
    void ackedJobsLeaveTheHotTableAndStayFindableWithTheirKeys() throws Exception {
        List<io.shieldpool.jobs.NewJob> batch = new java.util.ArrayList<>();
        for (int i = 0; i < 300; i++) {
            batch.add(i % 3 == 0 ? new io.shieldpool.jobs.NewJob("default", "{}", 3, START, java.util.Optional.of("key-" + i))
                    : job("{}"));
        }
        get(store.enqueue(batch));
        int acked = 0;
        List<Job> claimed;
        while (!(claimed = get(store.claim("default", 32))).isEmpty()) {
            for (Job j : claimed) {
                assertThat(get(store.complete(j))).isTrue();
                acked++;
            }
        }

        assertThat(acked).isEqualTo(300);
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs")).as("rows left in the hot table").isEqualTo("0");
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs_done")).isEqualTo("300");
        io.shieldpool.jobs.Enqueued again = get(store.enqueue(List.of(
                new io.shieldpool.jobs.NewJob("default", "{}", 3, START, java.util.Optional.of("key-3"))))).getFirst();
        assertThat(again.created()).as("a done job's key is still taken").isFalse();
        Job holder = stored(again.id());
        assertThat(holder.state()).isEqualTo(JobState.DONE);
        assertThat(holder.uniqueKey()).contains("key-3");
        assertThat(get(store.stats(List.of())).getFirst().count(JobState.DONE)).isEqualTo(300);
        assertThat(get(store.list(java.util.Optional.of(JobState.DONE), java.util.Optional.empty(), 5))).hasSize(5)
                .allSatisfy(j -> assertThat(j.state()).isEqualTo(JobState.DONE));
    }

    @Test
    void anEnqueueRacingTheAckOfItsKeyNeverAddsASecondJob() throws Exception {
        // the ack moves the keyed row between tables while enqueues of the same key look for it
        int rounds = 40;
        for (int i = 0; i < rounds; i++) {
            String key = "race-" + i;
            get(store.enqueue(List.of(new io.shieldpool.jobs.NewJob("default", "{}", 3, START, java.util.Optional.of(key)))));
            Job claimed = only(get(store.claim("default", 1)));
            List<io.vertx.core.Future<List<io.shieldpool.jobs.Enqueued>>> enqueues = new java.util.ArrayList<>();
            io.vertx.core.Future<Boolean> ack = null;
            for (int e = 0; e < 4; e++) {
                enqueues.add(store.enqueue(List.of(new io.shieldpool.jobs.NewJob("default", "{}", 3, START, java.util.Optional.of(key)))));
                if (e == 1) {
                    ack = store.complete(claimed);
                }
            }
            assertThat(get(ack)).isTrue();
            for (var enqueue : enqueues) {
                assertThat(get(enqueue).getFirst()).isEqualTo(new io.shieldpool.jobs.Enqueued(claimed.id(), false));
            }
        }
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs")).isEqualTo("0");
        assertThat(cluster.psql(database, "SELECT count(*) || ' ' || count(DISTINCT unique_key) FROM shieldpool_jobs_done"))
                .isEqualTo(rounds + " " + rounds);
    }

    @Test
    void aSchema2DatabaseWithRowsIsMigratedOnceByStoresOpeningAtOnce() throws Exception {
        get(store.close());
        database = cluster.createDatabase();
        SqlStatements schema = SqlStatements.load("schema.sql");
        cluster.psql(database, "CREATE TABLE shieldpool_schema (version integer NOT NULL, migrated_at timestamptz NOT NULL DEFAULT now())");
        cluster.psql(database, schema.get("1"));
        cluster.psql(database, schema.get("2"));
        cluster.psql(database, "INSERT INTO shieldpool_schema (version) VALUES (1), (2)");
        // what a schema-2 daemon left: each state, a done job holding a key, a running job of a node
        cluster.psql(database, """
                INSERT INTO shieldpool_jobs (queue, payload, state, attempt, max_attempts, run_at, created_at, finished_at, unique_key, owner)
                VALUES ('default', '{"n":1}', 'ready',   0, 3, now(), now(), NULL,  NULL,       NULL),
                       ('default', '{"n":2}', 'running', 1, 3, now(), now(), NULL,  NULL,       'gone/1/x'),
                       ('default', '{"n":3}', 'done',    1, 3, now(), now(), now() - interval '2 hours', 'order-7', NULL),
                       ('default', '{"n":4}', 'done',    2, 3, now(), now(), now(), NULL,       NULL),
                       ('default', '{"n":5}', 'dead',    3, 3, now(), now(), now(), NULL,       NULL)""");
        var opening = new java.util.ArrayList<java.util.concurrent.CompletableFuture<PostgresJobStore>>();
        for (int i = 0; i < 3; i++) {
            opening.add(java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> PostgresJobStore.openForDaemon(settings(), JobOwner.thisProcess(), clock)));
        }
        for (var f : opening) {
            store = track(f.get());
        }

        assertThat(cluster.psql(database, "SELECT string_agg(version::text, ',' ORDER BY version) FROM shieldpool_schema"))
                .as("each version recorded once").isEqualTo("1,2,3,4");
        assertThat(cluster.psql(database, "SELECT string_agg(state, ',' ORDER BY id) FROM shieldpool_jobs")).isEqualTo("ready,running,dead");
        assertThat(cluster.psql(database, "SELECT string_agg(payload || ' ' || attempt || ' ' || coalesce(unique_key, '-'), ',' ORDER BY id)"
                + " FROM shieldpool_jobs_done")).isEqualTo("{\"n\":3} 1 order-7,{\"n\":4} 2 -");
        io.shieldpool.jobs.Enqueued taken = get(store.enqueue(List.of(
                new io.shieldpool.jobs.NewJob("default", "{}", 3, START, java.util.Optional.of("order-7"))))).getFirst();
        assertThat(taken.created()).as("the migrated done job still holds its key").isFalse();
        assertThat(stored(taken.id()).payload()).isEqualTo("{\"n\":3}");
        assertThat(get(store.stats(List.of())).getFirst().byState()).containsEntry(JobState.READY, 1L)
                .containsEntry(JobState.RUNNING, 1L).containsEntry(JobState.DONE, 2L).containsEntry(JobState.DEAD, 1L);
        assertThat(get(store.purge(JobState.DONE, java.time.Instant.now().minus(Duration.ofHours(1))))).as("retention").isEqualTo(1);
        assertThat(get(store.enqueue(List.of(new io.shieldpool.jobs.NewJob("default", "{}", 3, START,
                java.util.Optional.of("order-7"))))).getFirst().created()).as("free once purged").isTrue();
        assertThat(PostgresJobStore.migrate(settings())).as("already current").isEqualTo(Schema.VERSION);
    }

    @Test
    void doneRowsASchema2DaemonLeavesInTheHotTableAreStillShownAndPurged() throws Exception {
        // a rolling upgrade: a daemon of the previous version acks by UPDATE, the row stays hot
        get(store.enqueue(List.of(job("{}"))));
        Job claimed = only(get(store.claim("default", 1)));
        cluster.psql(database, "UPDATE shieldpool_jobs SET state = 'done', finished_at = now() - interval '2 hours', owner = NULL"
                + " WHERE id = " + claimed.id());

        assertThat(stored(claimed.id()).state()).isEqualTo(JobState.DONE);
        assertThat(get(store.stats(List.of())).getFirst().count(JobState.DONE)).isEqualTo(1);
        assertThat(get(store.purge(JobState.DONE, java.time.Instant.now().minus(Duration.ofHours(1))))).isEqualTo(1);
        assertThat(get(store.find(claimed.id()))).isEmpty();
    }

    @Test
    void aClaimBehindTheClaimPointIsNotLost() throws Exception {
        // a job that becomes ready behind where this node's claims go on from, by another node's
        // hand (here: by SQL), is still claimed: the store's plain claims reach it
        List<io.shieldpool.jobs.NewJob> batch = new java.util.ArrayList<>();
        for (int i = 0; i < 100; i++) {
            batch.add(job("{}"));
        }
        get(store.enqueue(batch));
        Job first = get(store.claim("default", 10)).getFirst();
        get(store.claim("default", 10));
        cluster.psql(database, "UPDATE shieldpool_jobs SET state = 'ready', owner = NULL, attempt = 0 WHERE id = " + first.id());
        java.util.Set<Long> seen = new java.util.HashSet<>();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> {
            get(store.claim("default", 5)).forEach(j -> seen.add(j.id()));
            return seen.contains(first.id());
        });
    }

    @Test
    void nodesGoneForMoreThanADayAreForgottenAtAHeartbeatUnlessTheyStillHoldAJob() throws Exception {
        String justStopped = store.owner().id();
        get(store.close());
        cluster.psql(database, """
                INSERT INTO shieldpool_nodes (id, host, pid, ttl, state, heartbeat_at) VALUES
                  ('old/1/stopped', 'old', 1, interval '10 s', 'stopped', now() - interval '2 days'),
                  ('old/2/dead',    'old', 2, interval '10 s', 'running', now() - interval '25 hours'),
                  ('old/3/holding', 'old', 3, interval '10 s', 'running', now() - interval '2 days'),
                  ('new/4/stopped', 'new', 4, interval '10 s', 'stopped', now() - interval '23 hours')""");
        cluster.psql(database, "INSERT INTO shieldpool_jobs (queue, payload, state, attempt, max_attempts, run_at, created_at, owner)"
                + " VALUES ('default', '{}', 'running', 1, 3, now(), now(), 'old/3/holding')");
        io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
        try {
            // the held job's row locked by another session: the rescue skips it (SKIP LOCKED), so at
            // the forget its node still holds a running job
            io.vertx.pgclient.PgConnection lock = get(io.vertx.pgclient.PgConnection.connect(vertx, settings().connectOptions()));
            get(lock.query("BEGIN").execute());
            get(lock.query("SELECT id FROM shieldpool_jobs WHERE owner = 'old/3/holding' FOR UPDATE").execute());
            PostgresJobStore node = (PostgresJobStore) track(PostgresJobStore.openForDaemon(
                    settings().withLeases(Duration.ofMillis(200), Duration.ofSeconds(1), Duration.ofMinutes(15)),
                    new JobOwner("here", 7, "f"), clock));
            store = node;
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() ->
                    cluster.psql(database, "SELECT count(*) FROM shieldpool_nodes WHERE id LIKE 'old/%'").equals("1"));
            assertThat(cluster.psql(database, "SELECT id FROM shieldpool_nodes").lines())
                    .as("gone for over a day and holding nothing: forgotten; the rest kept")
                    .containsExactlyInAnyOrder("here/7/f", "new/4/stopped", "old/3/holding", justStopped);
            get(lock.query("ROLLBACK").execute());
            // once unlocked, the next rescue takes the job back: nothing was orphaned by the forget
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() ->
                    cluster.psql(database, "SELECT state FROM shieldpool_jobs WHERE owner IS NULL").equals("ready"));
            assertThat(get(node.nodes())).extracting(PostgresJobStore.NodeView::id)
                    .containsExactlyInAnyOrder("here/7/f", "new/4/stopped", "old/3/holding", justStopped);
        } finally {
            get(vertx.close());
        }
    }

    // ---- sessions ----

    @Test
    void aSessionOfOursLeftIdleInATransactionIsCutByTheServer() throws Exception {
        io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
        try {
            // a connection made as the store makes its pool's: the same options
            io.vertx.pgclient.PgConnection connection = get(io.vertx.pgclient.PgConnection.connect(vertx, settings().connectOptions()));
            String pid = get(connection.query("SELECT pg_backend_pid()").execute()).iterator().next().getValue(0).toString();
            assertThat(get(connection.query("SHOW idle_in_transaction_session_timeout").execute()).iterator().next().getString(0))
                    .isEqualTo("30s");
            get(connection.query("BEGIN").execute());
            get(connection.query("SELECT count(*) FROM shieldpool_jobs").execute());
            assertThat(cluster.psql(database, "SELECT state FROM pg_stat_activity WHERE pid = " + pid)).isEqualTo("idle in transaction");

            long begun = System.nanoTime();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                    .until(() -> cluster.psql(database, "SELECT count(*) FROM pg_stat_activity WHERE pid = " + pid).equals("0"));
            System.out.printf("our session idle in a transaction was cut after %.1f s%n", (System.nanoTime() - begun) / 1e9);
            assertThatThrownBy(() -> get(connection.query("SELECT 1").execute())).as("the cut session's next query");
        } finally {
            get(vertx.close());
        }
    }

    // ---- cluster-wide limits ----

    @Test
    void theConcurrencyLimitHoldsAcrossNodesClaimingAtOnce() throws Exception {
        get(store.close());
        PostgresSettings limited = settings().withLimits("default", 5, 0, 0);
        List<PostgresJobStore> nodes = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            nodes.add((PostgresJobStore) track(PostgresJobStore.openForDaemon(limited, new JobOwner("node" + i, 100 + i, "r" + i), clock)));
        }
        List<io.shieldpool.jobs.NewJob> batch = new java.util.ArrayList<>();
        for (int i = 0; i < 120; i++) {
            batch.add(job("{}"));
        }
        get(nodes.getFirst().enqueue(batch));
        java.util.concurrent.atomic.AtomicInteger holding = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger most = new java.util.concurrent.atomic.AtomicInteger();
        java.util.concurrent.atomic.AtomicInteger done = new java.util.concurrent.atomic.AtomicInteger();
        var pool = java.util.concurrent.Executors.newFixedThreadPool(6);
        try {
            List<java.util.concurrent.Future<?>> runs = new java.util.ArrayList<>();
            for (int t = 0; t < 6; t++) {
                PostgresJobStore node = nodes.get(t % 3);
                runs.add(pool.submit(() -> {
                    while (done.get() < 120) {
                        List<Job> got = get(node.claim("default", 3));
                        // a claim is a slot: held from its commit to its ack, so this count is at most the running rows
                        most.accumulateAndGet(holding.addAndGet(got.size()), Math::max);
                        for (Job j : got) {
                            sleepQuietly(2);
                            holding.decrementAndGet();
                            assertThat(get(node.complete(j))).isTrue();
                            done.incrementAndGet();
                        }
                        if (got.isEmpty()) {
                            sleepQuietly(1);
                        }
                    }
                }));
            }
            for (var run : runs) {
                run.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        System.out.printf("concurrency limit 5, 6 claimers on 3 nodes: at most %d held at once%n", most.get());
        assertThat(most.get()).as("never more than the limit").isLessThanOrEqualTo(5).as("slots used").isGreaterThanOrEqualTo(2);
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs_done")).isEqualTo("120");
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * A node on "another host" (no same-host restart will mark it stopped) that the test lets die
     * without a word, as under SIGKILL: it freezes the node's heartbeat, then
     * {@link #declareDeadAndAwaitTheRescue}.
     */
    private PostgresJobStore doomedNode(PostgresSettings settings, String name) {
        return (PostgresJobStore) track(PostgresJobStore.openForDaemon(settings, new JobOwner("elsewhere", 4242, name), clock));
    }

    /** Ages the doomed node's heartbeat past any ttl and waits for {@code survivor}'s rescue to free its slots. */
    private void declareDeadAndAwaitTheRescue(PostgresJobStore survivor) throws Exception {
        cluster.psql(database, "UPDATE shieldpool_nodes SET heartbeat_at = now() - interval '1 hour' WHERE host = 'elsewhere'");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() ->
                get(survivor.limitsOf("default")).orElseThrow().running() == 0);
    }

    @Test
    void aDeadNodesSlotsAreFreedByTheRescue() throws Exception {
        get(store.close());
        PostgresSettings limited = settings().withLimits("default", 2, 0, 0)
                .withLeases(Duration.ofMillis(200), Duration.ofSeconds(1), Duration.ofMinutes(15));
        PostgresJobStore doomed = doomedNode(limited, "slot");
        get(doomed.enqueue(List.of(job("{}"), job("{}"), job("{}"))));
        assertThat(get(doomed.claim("default", 10))).as("the limit").hasSize(2);
        doomed.freezeHeartbeatForTest();
        PostgresJobStore survivor = (PostgresJobStore) track(PostgresJobStore.openForDaemon(limited,
                new JobOwner("other", 78, "slot"), clock));
        store = survivor;
        assertThat(get(survivor.claim("default", 10))).as("no slot while the dead node holds both").isEmpty();

        declareDeadAndAwaitTheRescue(survivor);
        assertThat(get(survivor.claim("default", 10))).as("the freed slots").hasSize(2);
        assertThat(get(survivor.limitsOf("default")).orElseThrow()).satisfies(l -> {
            assertThat(l.concurrency()).isEqualTo(2);
            assertThat(l.running()).isEqualTo(2);
        });
    }

    @Test
    void theWaitsForSlotsOfADeadNodeAreDeletedByTheRescueAndALiveNodesWaitsStay() throws Exception {
        get(store.close());
        // why a 5 s ttl: the frozen node must stay alive until the test makes it dead
        PostgresSettings limited = settings().withLimits("default", 1, 0, 0)
                .withLeases(Duration.ofMillis(200), Duration.ofSeconds(5), Duration.ofMinutes(15));
        // it waits for slots on two shards, then dies
        PostgresJobStore doomed = doomedNode(limited, "waits");
        get(doomed.enqueue(List.of(job("{}"), job("{}"), job("{}"), job("{}"))));
        assertThat(get(doomed.claim("default", 3, 0))).as("a short claim: the limit").hasSize(1);
        assertThat(get(doomed.claim("default", 2, 1))).as("the slot is taken").isEmpty();
        doomed.freezeHeartbeatForTest();
        PostgresJobStore survivor = (PostgresJobStore) track(PostgresJobStore.openForDaemon(limited,
                new JobOwner("other", 79, "waits"), clock));
        store = survivor;
        assertThat(get(survivor.claim("default", 2, 0))).as("the slot is taken").isEmpty();
        String waits = "SELECT string_agg(node || ':' || shard, ' ' ORDER BY node, shard) FROM shieldpool_waits";
        assertThat(cluster.psql(database, waits)).isEqualTo("elsewhere/4242/waits:0 elsewhere/4242/waits:1 other/79/waits:0");
        // and the wait of a node whose row was forgotten (nodes-forget) while its wait stayed (older versions)
        cluster.psql(database, "INSERT INTO shieldpool_waits (queue, node, shard, wanted, since, looked_at)"
                + " VALUES ('default', 'gone/1/x', 0, 3, now(), now())");

        declareDeadAndAwaitTheRescue(survivor);
        assertThat(cluster.psql(database, waits)).as("the waits left after the rescue of the dead node's job")
                .isEqualTo("other/79/waits:0");
        assertThat(get(survivor.claim("default", 2, 0))).as("the freed slot").hasSize(1);
        assertThat(cluster.psql(database, waits)).as("a live node's short claim still waits").isEqualTo("other/79/waits:0");
    }

    @Test
    void theRateLimitIsATokenBucketInTheDatabase() throws Exception {
        get(store.close());
        PostgresSettings limited = settings().withLimits("default", 0, 20, 5);
        PostgresJobStore a = (PostgresJobStore) track(PostgresJobStore.openForDaemon(limited, new JobOwner("ra", 1, "r"), clock));
        PostgresJobStore b = (PostgresJobStore) track(PostgresJobStore.openForDaemon(limited, new JobOwner("rb", 2, "r"), clock));
        store = a;
        List<io.shieldpool.jobs.NewJob> batch = new java.util.ArrayList<>();
        for (int i = 0; i < 200; i++) {
            batch.add(job("{}"));
        }
        get(a.enqueue(batch));
        long begun = System.nanoTime();
        int claimed = 0;
        while (System.nanoTime() - begun < 1_000_000_000L) {
            claimed += get(a.claim("default", 50)).size() + get(b.claim("default", 50)).size();
        }
        double seconds = (System.nanoTime() - begun) / 1e9;
        System.out.printf("rate 20/s, burst 5, two nodes claiming flat out: %d claims in %.2f s%n", claimed, seconds);
        assertThat(claimed).as("at most burst + rate x elapsed").isLessThanOrEqualTo((int) Math.floor(5 + 20 * seconds))
                .as("the bucket refills").isGreaterThan(5);
    }

    // ---- fair slots: waits and handoffs ----

    private long running() {
        return get(((PostgresJobStore) store).limitsOf("default")).orElseThrow().running();
    }

    @Test
    void aSchema3DatabaseWithRowsIsMigratedToWaitsOnceByStoresOpeningAtOnce() throws Exception {
        get(store.close());
        database = cluster.createDatabase();
        SqlStatements schema = SqlStatements.load("schema.sql");
        cluster.psql(database, "CREATE TABLE shieldpool_schema (version integer NOT NULL, migrated_at timestamptz NOT NULL DEFAULT now())");
        for (String version : List.of("1", "2", "3")) {
            cluster.psql(database, schema.get(version));
        }
        cluster.psql(database, "INSERT INTO shieldpool_schema (version) VALUES (1), (2), (3)");
        // what a schema-3 daemon left: a limited queue, a live node holding one of its two slots, ready jobs
        cluster.psql(database, """
                INSERT INTO shieldpool_queues (queue, concurrency, rate, burst, tokens) VALUES ('default', 2, 0, 0, 0);
                INSERT INTO shieldpool_nodes (id, host, pid, ttl, state) VALUES ('old/1/x', 'old', 1, interval '1 hour', 'running');
                INSERT INTO shieldpool_jobs (queue, payload, state, attempt, max_attempts, run_at, created_at, owner, lease_until)
                VALUES ('default', '{"n":1}', 'running', 1, 3, now(), now(), 'old/1/x', now() + interval '1 hour'),
                       ('default', '{"n":2}', 'ready', 0, 3, now() - interval '1 day', now(), NULL, NULL),
                       ('default', '{"n":3}', 'ready', 0, 3, now() - interval '1 day', now(), NULL, NULL)""");
        PostgresSettings limited = settings().withLimits("default", 2, 0, 0);
        var opening = new java.util.ArrayList<java.util.concurrent.CompletableFuture<PostgresJobStore>>();
        for (int i = 0; i < 3; i++) {
            int n = i;
            opening.add(java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> PostgresJobStore.openForDaemon(limited, new JobOwner("m" + n, 300 + n, "r"), clock)));
        }
        List<PostgresJobStore> opened = new java.util.ArrayList<>();
        for (var f : opening) {
            opened.add((PostgresJobStore) track(f.get()));
        }
        store = opened.getFirst();
        assertThat(cluster.psql(database, "SELECT string_agg(version::text, ',' ORDER BY version) FROM shieldpool_schema"))
                .as("each version recorded once").isEqualTo("1,2,3,4");
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_waits")).isEqualTo("0");
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs WHERE state = 'running'"))
                .as("the old node's running job untouched").isEqualTo("1");
        assertThat(get(opened.get(0).claim("default", 1, 0))).as("one slot left of two").hasSize(1);
        assertThat(get(opened.get(1).claim("default", 1, 0))).isEmpty();
        assertThat(cluster.psql(database, "SELECT node || ' ' || shard || ' ' || wanted FROM shieldpool_waits"))
                .as("the short claims' waits").isEqualTo(opened.get(1).owner().id() + " 0 1");
        assertThat(PostgresJobStore.migrate(settings())).as("already current").isEqualTo(Schema.VERSION);
    }
}
