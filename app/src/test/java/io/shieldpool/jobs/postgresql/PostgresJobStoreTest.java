package io.shieldpool.jobs.postgresql;

import io.shieldpool.jobs.Job;
import io.shieldpool.jobs.JobOwner;
import io.shieldpool.jobs.JobState;
import io.shieldpool.jobs.JobStore;
import io.shieldpool.jobs.JobStoreContract;
import io.shieldpool.jobs.JobStoreException;
import io.shieldpool.jobs.Limiting;
import io.shieldpool.jobs.MutableClock;
import io.shieldpool.jobs.RecoveredJob;
import io.shieldpool.jobs.Slots;
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

    /**
     * A ready job's run_at, as SQL, that is due at the tests' clock. why not now() - interval '1 day':
     * the store claims at its clock ({@link #START}), not at the server's now(); a run_at in the
     * server's time stopped being due at START once the real date passed START + 1 day.
     */
    private static final String DUE_AT_START = "timestamptz '" + START.minus(Duration.ofDays(1)) + "'";

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
    void aRoleWithOnlyTheTablesRightsOpensASchemaItsOwnerMigrated() throws Exception {
        get(store.close());
        String role = "dml_" + database;
        cluster.psql(database, "CREATE ROLE " + role + " LOGIN; REVOKE CREATE ON SCHEMA public FROM PUBLIC;"
                + " GRANT USAGE ON SCHEMA public TO " + role + ";"
                + " GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + role + ";"
                + " GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO " + role);
        PostgresSettings asRole = PostgresSettings.of(cluster.uri(database).replace("postgres@", role + "@"));
        store = PostgresJobStore.openForDaemon(asRole, JobOwner.thisProcess(), clock);
        get(store.enqueue(List.of(job("{}"))));
        List<Job> claimed = get(store.claim("default", 10));
        assertThat(claimed).hasSize(1);
        assertThat(get(store.complete(claimed.getFirst()))).isTrue();
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_schema")).isEqualTo(Integer.toString(Schema.VERSION));
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
                    assertThat(e.kind()).as("a retry may help: not a configuration mistake").isEqualTo(JobStoreException.Kind.UNREACHABLE);
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
    void aDeadNodesInFlightIsWhatItStillHoldsInTheDatabaseAndZeroOnceItsJobsAreRescued() throws Exception {
        get(store.close());
        PostgresSettings fast = settings().withLeases(Duration.ofMillis(200), Duration.ofSeconds(1), Duration.ofMinutes(15));
        PostgresJobStore doomed = doomedNode(fast, "held");
        get(doomed.enqueue(List.of(job("{}"), job("{}"), job("{}"))));
        assertThat(get(doomed.claim("default", 2))).hasSize(2);
        doomed.freezeHeartbeatForTest();
        sleepQuietly(300); // a heartbeat already on its way lands before the row is aged below
        // dies as under SIGKILL, its row keeping the count of its last heartbeat (5 here)
        cluster.psql(database, "UPDATE shieldpool_nodes SET in_flight = 5, heartbeat_at = now() - interval '1 hour' "
                + "WHERE host = 'elsewhere'");
        // a tool rescues nothing: the dead node still holds its 2 running jobs
        PostgresJobStore tool = (PostgresJobStore) track(PostgresJobStore.openForTool(fast, clock));
        assertThat(get(tool.nodes())).filteredOn(n -> n.host().equals("elsewhere")).singleElement().satisfies(n -> {
            assertThat(n.state()).isEqualTo("dead");
            assertThat(n.inFlight()).as("its running rows, not its last heartbeat's 5").isEqualTo(2);
        });
        PostgresJobStore rescuer = (PostgresJobStore) track(PostgresJobStore.openForDaemon(fast,
                new JobOwner("other", 77, "held"), clock));
        store = rescuer;
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() ->
                cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs WHERE state = 'running'").equals("0"));
        assertThat(get(rescuer.nodes())).filteredOn(n -> n.host().equals("elsewhere")).singleElement().satisfies(n -> {
            assertThat(n.state()).isEqualTo("dead");
            assertThat(n.inFlight()).as("rescued: it holds nothing").isZero();
        });
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
                .as("each version recorded once").isEqualTo(versionsUpTo(Schema.VERSION));
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

    // ---- wake-ups across nodes ----

    /** A writer (the test's store) and another node's {@link Heard}, with the test's {@link Side}. */
    private record WriterAndListener(PostgresJobStore writer, Heard heard, Side side) implements AutoCloseable {
        @Override
        public void close() {
            side.close();
        }
    }

    /**
     * Two nodes on the test's database: a writer, and a listener that hears the jobs channel
     * (counted from zero once it does, by NOTIFYs of the test's own): the set-up of the tests of
     * wake-ups across nodes.
     */
    private WriterAndListener writerAndListener() throws Exception {
        get(store.close());
        PostgresJobStore writer = (PostgresJobStore) track(PostgresJobStore.openForDaemon(settings(),
                new JobOwner("writer", 1, "w"), clock));
        PostgresJobStore listener = (PostgresJobStore) track(PostgresJobStore.openForDaemon(settings(),
                new JobOwner("listener", 2, "l"), clock));
        store = writer;
        Heard heard = Heard.on(listener);
        Side side = new Side();
        try {
            probeUntilHeard(() -> side.one("SELECT pg_notify('shieldpool_jobs', 'default')"), heard.woken());
            Thread.sleep(300);
            heard.woken().set(0);
        } catch (Throwable e) {
            side.close();
            throw e;
        }
        return new WriterAndListener(writer, heard, side);
    }

    /**
     * LISTEN/NOTIFY between nodes: an enqueue that makes the queue non-empty wakes the other
     * nodes (NOTIFY shieldpool_jobs), one made while a due ready job waits sends none (a NOTIFY
     * takes a cluster-wide lock at commit). why the other node's listener: a store wakes its own
     * listeners at its own enqueue without any NOTIFY, so only another node sees whether one was sent.
     */
    @Test
    void anEnqueueIntoAnEmptyQueueWakesTheOtherNodesAndOneIntoAQueueWithReadyJobsDoesNot() throws Exception {
        try (WriterAndListener nodes = writerAndListener()) {
            PostgresJobStore writer = nodes.writer();
            Heard heard = nodes.heard();

            get(writer.enqueue(List.of(job("{}"))));
            org.awaitility.Awaitility.await("the other node woken by the enqueue into an empty queue")
                    .atMost(Duration.ofSeconds(5)).until(() -> heard.woken().get() >= 1);
            int woken = heard.woken().get();
            // why the pause: past the 100 ms a store leaves between two NOTIFYs, so only the queue's state decides
            Thread.sleep(200);
            get(writer.enqueue(List.of(job("{}"))));
            org.awaitility.Awaitility.await("no NOTIFY while a due ready job waits").during(Duration.ofMillis(700))
                    .atMost(Duration.ofSeconds(2)).until(() -> heard.woken().get() == woken);
        }
    }

    /**
     * An enqueue soon after another (within the 100 ms a store leaves between two NOTIFY checks)
     * into a queue a claim emptied meanwhile: the other nodes are woken all the same, once the
     * window ends, instead of waiting for their poll with a job ready. On a slow machine the
     * second enqueue may come after the window and notify at once: the test then passes without
     * the deferral, but never fails for the timing.
     */
    @Test
    void anEnqueueSoonAfterAnotherIntoAQueueEmptiedMeanwhileStillWakesTheOtherNodes() throws Exception {
        try (WriterAndListener nodes = writerAndListener()) {
            PostgresJobStore writer = nodes.writer();
            Heard heard = nodes.heard();

            get(writer.enqueue(List.of(job("{}"))));
            assertThat(get(writer.claim("default", 10))).hasSize(1);
            get(writer.enqueue(List.of(job("{}"))));
            org.awaitility.Awaitility.await("the other node woken by each enqueue into an empty queue")
                    .atMost(Duration.ofSeconds(5)).until(() -> heard.woken().get() >= 2);
            Thread.sleep(300);
            assertThat(heard.woken().get()).as("one wake-up per enqueue into an empty queue").isEqualTo(2);
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

    /**
     * A queue whose claims are limited (claim-limited under the queue's lock, a running row is a
     * slot): one with a rate. why a rate this high: no claim of these tests ever runs out of
     * tokens, so what they see is the concurrency; a queue with a concurrency and no rate holds
     * its limit by slots instead (see the slots tests below).
     */
    private PostgresSettings claimLimited(int concurrency) {
        return settings().withLimits("default", concurrency, 100_000, 100_000);
    }

    @Test
    void theConcurrencyLimitOfARateLimitedQueueHoldsAcrossNodesClaimingAtOnce() throws Exception {
        get(store.close());
        PostgresSettings limited = claimLimited(5);
        List<PostgresJobStore> nodes = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            nodes.add((PostgresJobStore) track(PostgresJobStore.openForDaemon(limited, new JobOwner("node" + i, 100 + i, "r" + i), clock)));
        }
        List<io.shieldpool.jobs.NewJob> batch = new java.util.ArrayList<>();
        for (int i = 0; i < 120; i++) {
            batch.add(job("{}"));
        }
        get(nodes.getFirst().enqueue(batch));
        int most = mostHeldByClaimants(nodes, 6, 120, 3, 2, Duration.ofSeconds(60));
        System.out.printf("concurrency limit 5, 6 claimers on 3 nodes: at most %d held at once%n", most);
        assertThat(most).as("never more than the limit").isLessThanOrEqualTo(5).as("slots used").isGreaterThanOrEqualTo(2);
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs_done")).isEqualTo("120");
    }

    /**
     * {@code claimants} threads over {@code nodes} claim up to {@code perClaim} jobs at a time and
     * ack each after {@code sectionMs}, until {@code jobs} are done. Returns the most jobs the
     * threads held at once: counted up after a claim's answer and down before its ack is sent, so
     * never more than the running rows (on a limited queue a claimed job is a slot until its ack).
     */
    private static int mostHeldByClaimants(List<PostgresJobStore> nodes, int claimants, int jobs, int perClaim, long sectionMs,
                                           Duration within) throws Exception {
        var holding = new java.util.concurrent.atomic.AtomicInteger();
        var most = new java.util.concurrent.atomic.AtomicInteger();
        var done = new java.util.concurrent.atomic.AtomicInteger();
        var pool = java.util.concurrent.Executors.newFixedThreadPool(claimants);
        try {
            List<java.util.concurrent.Future<?>> runs = new java.util.ArrayList<>();
            for (int t = 0; t < claimants; t++) {
                PostgresJobStore node = nodes.get(t % nodes.size());
                runs.add(pool.submit(() -> {
                    while (done.get() < jobs) {
                        List<Job> got = get(node.claim("default", perClaim));
                        most.accumulateAndGet(holding.addAndGet(got.size()), Math::max);
                        for (Job j : got) {
                            sleepQuietly(sectionMs);
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
                run.get(within.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        return most.get();
    }

    /** {@code count} daemon stores opened on the database at once (owners m0, m1, ... with pids from {@code firstPid}). */
    private List<PostgresJobStore> openedAtOnce(PostgresSettings settings, int count, int firstPid) throws Exception {
        var opening = new java.util.ArrayList<java.util.concurrent.CompletableFuture<PostgresJobStore>>();
        for (int i = 0; i < count; i++) {
            int n = i;
            opening.add(java.util.concurrent.CompletableFuture.supplyAsync(
                    () -> PostgresJobStore.openForDaemon(settings, new JobOwner("m" + n, firstPid + n, "r"), clock)));
        }
        List<PostgresJobStore> opened = new java.util.ArrayList<>();
        for (var f : opening) {
            opened.add((PostgresJobStore) track(f.get()));
        }
        return opened;
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
    void aDeadNodesRunningJobsOfARateLimitedQueueAreFreedByTheRescue() throws Exception {
        get(store.close());
        // why a 5 s ttl: the frozen node must stay alive until the test makes it dead
        PostgresSettings limited = claimLimited(2)
                .withLeases(Duration.ofMillis(200), Duration.ofSeconds(5), Duration.ofMinutes(15));
        PostgresJobStore doomed = doomedNode(limited, "slot");
        get(doomed.enqueue(List.of(job("{}"), job("{}"), job("{}"))));
        assertThat(get(doomed.claim("default", 10))).as("the limit").hasSize(2);
        doomed.freezeHeartbeatForTest();
        // its short claim's wait lapses (nobody renews it): the running rows alone hold the limit
        cluster.psql(database, "UPDATE shieldpool_waits SET looked_at = now() - interval '1 minute'");
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
    void theClaimWaitsOfADeadNodeAreDeletedByTheRescueAndALiveNodesWaitsStay() throws Exception {
        get(store.close());
        // why a 5 s ttl: the frozen node must stay alive until the test makes it dead
        PostgresSettings limited = claimLimited(1)
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

    // ---- slots: a queue with a concurrency and no rate holds its limit by slots granted to nodes ----

    /** A queue whose concurrency is held by slots (shieldpool_slots, slots-take/give): a concurrency and no rate. */
    private PostgresSettings slotted(int concurrency) {
        return settings().withLimits("default", concurrency, 0, 0);
    }

    @Test
    void howAQueueIsLimitedFollowsTheNodesSettingsForItsQueueOnly() {
        get(store.close());
        assertThat(nodeOn(settings(), "none").limiting("default")).isEqualTo(Limiting.NONE);
        assertThat(nodeOn(slotted(2), "slots").limiting("default")).isEqualTo(Limiting.SLOTS);
        assertThat(nodeOn(settings().withLimits("default", 0, 5, 1), "rate").limiting("default")).isEqualTo(Limiting.RATE);
        PostgresJobStore both = nodeOn(claimLimited(2), "both");
        store = both;
        assertThat(both.limiting("default")).isEqualTo(Limiting.RATE_AND_CONCURRENCY);
        assertThat(both.limiting("another")).as("the limits are those of the node's queue").isEqualTo(Limiting.NONE);
    }

    /** Closes the test's own store and opens a node per host on {@code settings}; the first is then the test's store. */
    private List<PostgresJobStore> nodesOn(PostgresSettings settings, String... hosts) {
        get(store.close());
        List<PostgresJobStore> nodes = java.util.Arrays.stream(hosts).map(host -> nodeOn(settings, host)).toList();
        store = nodes.getFirst();
        return nodes;
    }

    private PostgresJobStore nodeOn(PostgresSettings settings, String host) {
        return (PostgresJobStore) track(PostgresJobStore.openForDaemon(settings, new JobOwner(host, 1, "r"), clock));
    }

    private static Slots take(PostgresJobStore node, int wanted) {
        return get(node.takeSlots("default", wanted));
    }

    private static Slots give(PostgresJobStore node, int count) {
        return get(node.giveSlots("default", count));
    }

    private static Slots look(PostgresJobStore node) {
        return get(node.lookAtSlots("default"));
    }

    /** What the cluster view shows as the queue's use (limits-use): for a slotted queue, the slots all nodes hold. */
    private static long used(PostgresJobStore node) {
        return get(node.limitsOf("default")).orElseThrow().running();
    }

    /** The queue's slot rows as node=held, by node. */
    private String slotRows() throws Exception {
        return cluster.psql(database, "SELECT coalesce(string_agg(node || '=' || held, ' ' ORDER BY node), '-')"
                + " FROM shieldpool_slots WHERE queue = 'default'");
    }

    /** The queue's waits for slots (shard -1) as node=wanted, first in line first. */
    private String slotWaits() throws Exception {
        return cluster.psql(database, "SELECT coalesce(string_agg(node || '=' || wanted, ' ' ORDER BY since), '-')"
                + " FROM shieldpool_waits WHERE queue = 'default' AND shard = -1");
    }

    /**
     * The test's own connection (not a store's), for what it does beside the nodes: NOTIFY probes,
     * keeping waits fresh, sampling what the database counts.
     */
    private final class Side implements AutoCloseable {
        private final io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
        private final io.vertx.pgclient.PgConnection connection = get(io.vertx.pgclient.PgConnection.connect(vertx,
                settings().connectOptions()));

        /** The first column of the first row of {@code sql}, as text. */
        String one(String sql) {
            var rows = get(connection.query(sql).execute());
            return rows.size() == 0 ? null : String.valueOf(rows.iterator().next().getValue(0));
        }

        /** {@code sql} with parameters, sent now, answered by the future (in the side's transaction, if one is open). */
        io.vertx.core.Future<io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row>> send(String sql, Object... args) {
            return connection.preparedQuery(sql).execute(io.vertx.sqlclient.Tuple.from(args));
        }

        /**
         * Renews every fresh wait for slots every 100 ms, as the waiting nodes of running daemons do
         * by looking again (SlotPermits retries a short take within 400 ms): the steps of a test
         * may then take longer than the 1 s a wait counts for, on a loaded machine, without
         * changing who waits since when. A wait made stale (looked_at a minute ago) stays stale
         * until its node takes again.
         */
        void keepWaitsFresh() {
            vertx.setPeriodic(100, id -> connection.query("UPDATE shieldpool_waits SET looked_at = clock_timestamp()"
                    + " WHERE shard = -1 AND looked_at > clock_timestamp() - interval '30 seconds'").execute());
        }

        @Override
        public void close() {
            get(vertx.close());
        }
    }

    /** What a node's store told it: a slot given back for it (onJobsAvailable), another node wanting slots (onSlotsWanted). */
    private record Heard(java.util.concurrent.atomic.AtomicInteger woken, java.util.concurrent.atomic.AtomicInteger wanted) {

        static Heard on(PostgresJobStore node) {
            Heard heard = new Heard(new java.util.concurrent.atomic.AtomicInteger(), new java.util.concurrent.atomic.AtomicInteger());
            node.onJobsAvailable(heard.woken()::incrementAndGet);
            node.onSlotsWanted(heard.wanted()::incrementAndGet);
            return heard;
        }
    }

    /**
     * Nodes whose stores hear both slot channels (counted from zero once they do) and the test's
     * {@link Side} keeping their waits fresh: the set-up of every test of who is woken. Closing it
     * closes the side; the nodes are tracked and closed with the test.
     */
    private final class Listening implements AutoCloseable {
        private final List<PostgresJobStore> nodes;
        private final List<Heard> heard;
        final Side side = new Side();

        Listening(List<PostgresJobStore> nodes) throws Exception {
            this.nodes = nodes;
            this.heard = nodes.stream().map(Heard::on).toList();
            try {
                awaitListening();
                side.keepWaitsFresh();
            } catch (Throwable e) {
                side.close();
                throw e;
            }
        }

        PostgresJobStore get(int index) {
            return nodes.get(index);
        }

        List<Heard> heard() {
            return heard;
        }

        /**
         * Waits until every node hears both slot channels (a store subscribes in the background),
         * by NOTIFYs of the test's own, then lets late ones arrive and counts from zero.
         */
        private void awaitListening() throws Exception {
            for (int i = 0; i < nodes.size(); i++) {
                Heard h = heard.get(i);
                String id = nodes.get(i).owner().id();
                probeUntilHeard(() -> side.one("SELECT pg_notify('shieldpool_slots', '" + id + "')"), h.woken());
                probeUntilHeard(() -> side.one("SELECT pg_notify('shieldpool_slots_wanted', 'default')"), h.wanted());
            }
            Thread.sleep(300);
            for (Heard h : heard) {
                h.woken().set(0);
                h.wanted().set(0);
            }
        }

        int[] woken() {
            return heard.stream().mapToInt(h -> h.woken().get()).toArray();
        }

        /** The give made since {@code before} woke node {@code index}, and only it (NOTIFY shieldpool_slots, its id). */
        void assertWokeOnly(int[] before, int index, String why) {
            assertWokeOnly(before, java.util.Set.of(index), why);
        }

        /** What was done since {@code before} woke the nodes {@code indices}, and only them. */
        void assertWokeOnly(int[] before, java.util.Set<Integer> indices, String why) {
            org.awaitility.Awaitility.await(why).atMost(Duration.ofSeconds(10))
                    .until(() -> indices.stream().allMatch(i -> heard.get(i).woken().get() > before[i]));
            org.awaitility.Awaitility.await(why + ": nobody else woken").during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                    .until(() -> {
                        for (int i = 0; i < heard.size(); i++) {
                            if (!indices.contains(i) && heard.get(i).woken().get() != before[i]) {
                                return false;
                            }
                        }
                        return true;
                    });
        }

        @Override
        public void close() {
            side.close();
        }
    }

    /** {@code holder} takes all {@code limit} slots, then each of {@code waiters} in turn comes back short for one: they wait in that order. */
    private static void holdAllWhileTheOthersWaitForOne(PostgresJobStore holder, int limit, PostgresJobStore... waiters) {
        assertThat(take(holder, limit).changed()).isEqualTo(limit);
        for (PostgresJobStore waiter : waiters) {
            assertThat(take(waiter, 1).changed()).as(waiter.owner().id() + ": nothing free").isZero();
        }
    }

    /** {@link #nodesOn} those hosts, {@link Listening}. */
    private Listening listeningNodes(PostgresSettings settings, String... hosts) throws Exception {
        return new Listening(nodesOn(settings, hosts));
    }

    /**
     * Sends {@code probe} until two in a row are heard. why two: the store also wakes its
     * listeners once when it has subscribed to its jobs channel (its catch-up look), which may
     * come while a probe of another channel is lost; it never comes twice.
     */
    private static void probeUntilHeard(Runnable probe, java.util.concurrent.atomic.AtomicInteger heard) {
        int[] inARow = {0};
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(1)).until(() -> {
            int before = heard.get();
            probe.run();
            try {
                org.awaitility.Awaitility.await().atMost(Duration.ofMillis(500)).until(() -> heard.get() > before);
                inARow[0]++;
            } catch (org.awaitility.core.ConditionTimeoutException notYet) {
                inARow[0] = 0;
            }
            return inARow[0] == 2;
        });
    }

    @Test
    void aSlotGivenBackGoesToTheNodeThatWaitedLongestInTheOrderTheyBeganToWaitAndWakesOnlyIt() throws Exception {
        try (Listening nodes = listeningNodes(slotted(2), "fa", "fb", "fc")) {
            PostgresJobStore a = nodes.get(0);
            PostgresJobStore b = nodes.get(1);
            PostgresJobStore c = nodes.get(2);

            // nobody waits: a takes both, records no wait and tells nobody
            assertThat(take(a, 2)).isEqualTo(new Slots(2, 2, 0, 1, 2)).extracting(Slots::fairShare).isEqualTo(2);
            assertThat(slotRows()).isEqualTo("fa/1/r=2");
            assertThat(slotWaits()).isEqualTo("-");
            org.awaitility.Awaitility.await("a full take tells nobody").during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(2))
                    .until(() -> nodes.heard().stream().allMatch(h -> h.wanted().get() == 0));
            assertThat(used(a)).as("the slots held, as the cluster view shows them").isEqualTo(2);

            // b, then c, come back short: they wait in that order, and the holder is told
            assertThat(take(b, 1)).as("b: nothing free").isEqualTo(new Slots(0, 0, 0, 2, 2)).extracting(Slots::fairShare).isEqualTo(1);
            org.awaitility.Awaitility.await("a short take tells the holder").atMost(Duration.ofSeconds(10))
                    .until(() -> nodes.heard().get(0).wanted().get() > 0);
            assertThat(take(c, 1)).as("c: nothing free, b waits").isEqualTo(new Slots(0, 0, 1, 3, 2))
                    .extracting(Slots::fairShare).as("more nodes than slots: they go round").isEqualTo(0);
            assertThat(slotWaits()).isEqualTo("fb/1/r=1 fc/1/r=1");
            assertThat(look(a)).as("a holds more than its share while two want one each").isEqualTo(new Slots(0, 2, 2, 3, 2))
                    .extracting(Slots::fairShare).isEqualTo(0);

            // a gives one back: b, first in line, is woken, and gets it whoever asks first
            int[] before = nodes.woken();
            assertThat(give(a, 1)).isEqualTo(new Slots(1, 1, 2, 3, 2));
            nodes.assertWokeOnly(before, 1, "b waited longest");
            assertThat(take(c, 1).changed()).as("c, later in line, does not jump it").isZero();
            assertThat(take(a, 1).changed()).as("neither does the giver's own later take").isZero();
            assertThat(slotWaits()).isEqualTo("fb/1/r=1 fc/1/r=1 fa/1/r=1");
            assertThat(take(b, 1)).as("b's turn").isEqualTo(new Slots(1, 1, 2, 3, 2));
            assertThat(slotWaits()).as("b is served: its wait ends, c stays first").isEqualTo("fc/1/r=1 fa/1/r=1");
            assertThat(slotRows()).isEqualTo("fa/1/r=1 fb/1/r=1");

            // a take that gets nothing keeps its place in line
            String since = "SELECT since FROM shieldpool_waits WHERE node = 'fc/1/r' AND shard = -1";
            String cSince = nodes.side.one(since);
            assertThat(take(c, 1).changed()).isZero();
            assertThat(nodes.side.one(since)).as("c's since is kept while it gets nothing").isEqualTo(cSince);

            // b gives its slot back: c (since its first take) comes before a
            before = nodes.woken();
            assertThat(give(b, 1)).isEqualTo(new Slots(1, 0, 2, 3, 2));
            nodes.assertWokeOnly(before, 2, "c waited longer than a");
            assertThat(take(a, 1).changed()).as("a waits behind c").isZero();
            assertThat(take(c, 1)).as("c's turn").isEqualTo(new Slots(1, 1, 1, 2, 2));
            assertThat(slotWaits()).isEqualTo("fa/1/r=1");
            assertThat(slotRows()).as("a give keeps the row").isEqualTo("fa/1/r=1 fb/1/r=0 fc/1/r=1");
            assertThat(used(a)).isEqualTo(2);

            // a holds no more than its wait asked for: the give goes to it
            before = nodes.woken();
            assertThat(give(c, 1)).isEqualTo(new Slots(1, 0, 1, 2, 2));
            nodes.assertWokeOnly(before, 0, "a, the only one waiting");
            assertThat(take(a, 1)).isEqualTo(new Slots(1, 2, 0, 1, 2));
            assertThat(slotWaits()).isEqualTo("-");
            assertThat(give(a, 5).held()).as("a give never goes below 0").isZero();
            assertThat(slotRows()).isEqualTo("fa/1/r=0 fb/1/r=0 fc/1/r=0");
            assertThat(used(a)).isZero();
        }
    }

    @Test
    void aSecondGiveBeforeTheFirstWaiterTookItsSlotWakesTheNextInLine() throws Exception {
        try (Listening nodes = listeningNodes(slotted(2), "fa", "fb", "fc")) {
            PostgresJobStore a = nodes.get(0);
            PostgresJobStore b = nodes.get(1);
            PostgresJobStore c = nodes.get(2);
            holdAllWhileTheOthersWaitForOne(a, 2, b, c);
            int[] before = nodes.woken();
            give(a, 1);
            nodes.assertWokeOnly(before, 1, "b waited longest");
            // b has not taken its slot yet: the one free slot covers b, the next one is c's
            before = nodes.woken();
            give(a, 1);
            nodes.assertWokeOnly(before, 2, "c: the free slot already covers b");
            assertThat(take(c, 1).changed()).as("c's, with b's still free").isEqualTo(1);
            assertThat(take(b, 1).changed()).isEqualTo(1);
        }
    }

    @Test
    void aWaitPartlyServedGoesToTheBackOfTheLine() throws Exception {
        try (Listening nodes = listeningNodes(slotted(3), "fa", "fb", "fc")) {
            PostgresJobStore a = nodes.get(0);
            PostgresJobStore b = nodes.get(1);
            PostgresJobStore c = nodes.get(2);
            assertThat(take(a, 3).changed()).isEqualTo(3);
            assertThat(take(b, 2)).isEqualTo(new Slots(0, 0, 0, 2, 3));
            assertThat(take(c, 1)).isEqualTo(new Slots(0, 0, 2, 3, 3));
            int[] before = nodes.woken();
            assertThat(give(a, 1)).isEqualTo(new Slots(1, 2, 3, 3, 3));
            nodes.assertWokeOnly(before, 1, "b waited longest");
            assertThat(take(b, 2)).as("one of the two b wants").isEqualTo(new Slots(1, 1, 1, 3, 3));
            assertThat(slotWaits()).as("b got some: it waits again behind c").isEqualTo("fc/1/r=1 fb/1/r=1");

            before = nodes.woken();
            assertThat(give(a, 1)).isEqualTo(new Slots(1, 1, 2, 3, 3));
            nodes.assertWokeOnly(before, 2, "c now waited longest");
            assertThat(take(b, 1).changed()).as("b is behind c").isZero();
            assertThat(take(c, 1)).isEqualTo(new Slots(1, 1, 1, 3, 3));
            assertThat(slotWaits()).isEqualTo("fb/1/r=1");
            assertThat(slotRows()).isEqualTo("fa/1/r=1 fb/1/r=1 fc/1/r=1");
        }
    }

    /**
     * Makes {@code node} dead by its ttl as a SIGKILL would (its heartbeat frozen by the caller):
     * its last heartbeat an hour old. why the look after a pause: a heartbeat already under way
     * when the heartbeat was frozen may land after the update and revive it.
     */
    private void deadByItsTtl(PostgresJobStore node) {
        String id = node.owner().id();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
            cluster.psql(database, "UPDATE shieldpool_nodes SET heartbeat_at = now() - interval '1 hour' WHERE id = '" + id + "'");
            Thread.sleep(300);
            return cluster.psql(database, "SELECT heartbeat_at < now() - interval '30 minutes' FROM shieldpool_nodes WHERE id = '"
                    + id + "'").equals("t");
        });
    }

    @Test
    void aStaleWaitOrTheWaitOfANodeThatIsNotLiveDelaysNobodyAndIsNotWoken() throws Exception {
        // why a 60 s ttl: the phase with no heartbeats (so no rescue deletes the waits the test
        // wants ignored, not gone) must not make the live nodes dead
        PostgresSettings limited = slotted(2).withLeases(Duration.ofSeconds(2), Duration.ofSeconds(60), Duration.ofMinutes(15));
        try (Listening nodes = listeningNodes(limited, "fa", "fb", "fc", "fd")) {
            PostgresJobStore a = nodes.get(0);
            PostgresJobStore b = nodes.get(1);
            PostgresJobStore c = nodes.get(2);
            PostgresJobStore d = nodes.get(3);
            assertThat(take(a, 2).changed()).isEqualTo(2);
            assertThat(take(b, 1)).isEqualTo(new Slots(0, 0, 0, 2, 2));
            assertThat(take(c, 1)).isEqualTo(new Slots(0, 0, 1, 3, 2));

            // b's wait is not kept up (no look for a minute): c, behind it, is woken and served
            cluster.psql(database, "UPDATE shieldpool_waits SET looked_at = now() - interval '1 minute' WHERE node = 'fb/1/r'");
            assertThat(look(a)).as("b's stale wait is not counted").isEqualTo(new Slots(0, 2, 1, 2, 2));
            int[] before = nodes.woken();
            assertThat(give(a, 1)).isEqualTo(new Slots(1, 1, 1, 2, 2));
            nodes.assertWokeOnly(before, 2, "c: b's wait is stale");
            assertThat(take(c, 1)).as("b's stale wait is not ahead").isEqualTo(new Slots(1, 1, 0, 2, 2));

            // b looks again (a short take): its wait counts again, in its old place in line
            String since = "SELECT since FROM shieldpool_waits WHERE node = 'fb/1/r' AND shard = -1";
            String bSince = nodes.side.one(since);
            assertThat(take(b, 1)).isEqualTo(new Slots(0, 0, 0, 3, 2));
            assertThat(nodes.side.one(since)).as("b's since is kept: it got nothing").isEqualTo(bSince);
            before = nodes.woken();
            assertThat(give(c, 1)).isEqualTo(new Slots(1, 0, 1, 3, 2));
            nodes.assertWokeOnly(before, 1, "b: its wait is renewed");
            assertThat(take(c, 1)).as("b is ahead again").isEqualTo(new Slots(0, 0, 1, 3, 2));
            assertThat(take(b, 1)).isEqualTo(new Slots(1, 1, 1, 3, 2));

            // no heartbeats from now on (so no rescue): c drains, a waits behind it
            assertThat(take(a, 1)).isEqualTo(new Slots(0, 1, 1, 3, 2));
            assertThat(slotWaits()).isEqualTo("fc/1/r=1 fa/1/r=1");
            List.of(a, b, c, d).forEach(PostgresJobStore::freezeHeartbeatForTest);
            c.drainBegan();
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() ->
                    cluster.psql(database, "SELECT state FROM shieldpool_nodes WHERE id = 'fc/1/r'").equals("draining"));
            before = nodes.woken();
            assertThat(give(b, 1)).as("a draining node's wait is not counted").isEqualTo(new Slots(1, 0, 1, 2, 2));
            nodes.assertWokeOnly(before, 0, "a: c drains");
            assertThat(take(a, 1)).as("c's wait is not ahead").isEqualTo(new Slots(1, 2, 0, 1, 2));

            // b waits, then d; b dies (its heartbeat an hour old): d is woken and served
            assertThat(take(b, 1)).isEqualTo(new Slots(0, 0, 0, 2, 2));
            assertThat(take(d, 1)).isEqualTo(new Slots(0, 0, 1, 3, 2));
            deadByItsTtl(b);
            before = nodes.woken();
            assertThat(give(a, 1)).as("a dead node's wait is not counted").isEqualTo(new Slots(1, 1, 1, 2, 2));
            nodes.assertWokeOnly(before, 3, "d: b is dead");
            assertThat(take(d, 1)).as("b's wait is not ahead").isEqualTo(new Slots(1, 1, 0, 2, 2));
            assertThat(slotWaits()).as("passed over by the take, not deleted (no rescue ran)").isEqualTo("fc/1/r=1 fb/1/r=1");
            assertThat(slotRows()).isEqualTo("fa/1/r=1 fb/1/r=0 fc/1/r=0 fd/1/r=1");
        }
    }

    @Test
    void slotsTakenAndGivenAtRandomOnThreeNodesNeverExceedTheLimitAndAllComeBack() throws Exception {
        get(store.close());
        int limit = 4;
        PostgresSettings limited = slotted(limit);
        List<PostgresJobStore> nodes = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            nodes.add(nodeOn(limited, "s" + i));
        }
        store = nodes.getFirst();
        // held: what the threads hold, counted up after a take's answer and down before a give is
        // sent, so it is never more than the database counts at any instant
        var held = new java.util.concurrent.atomic.AtomicInteger();
        var most = new java.util.concurrent.atomic.AtomicInteger();
        var shortTakes = new java.util.concurrent.atomic.AtomicInteger();
        var mostInTheDatabase = new java.util.concurrent.atomic.AtomicInteger();
        var samples = new java.util.concurrent.atomic.AtomicInteger();
        var stop = new java.util.concurrent.atomic.AtomicBoolean();
        var pool = java.util.concurrent.Executors.newFixedThreadPool(7);
        try (Side side = new Side()) {
            var sampler = pool.submit(() -> {
                while (!stop.get()) {
                    int sum = Integer.parseInt(side.one("SELECT coalesce(sum(held), 0) FROM shieldpool_slots WHERE queue = 'default'"));
                    mostInTheDatabase.accumulateAndGet(sum, Math::max);
                    samples.incrementAndGet();
                }
            });
            List<java.util.concurrent.Future<?>> runs = new java.util.ArrayList<>();
            for (int t = 0; t < 6; t++) {
                PostgresJobStore node = nodes.get(t % nodes.size());
                java.util.Random random = new java.util.Random(t);
                runs.add(pool.submit(() -> {
                    for (int round = 0; round < 120; round++) {
                        int wanted = 1 + random.nextInt(3);
                        Slots got = take(node, wanted);
                        assertThat(got.changed()).isBetween(0, wanted);
                        assertThat(got.held()).isBetween(got.changed(), limit);
                        most.accumulateAndGet(held.addAndGet(got.changed()), Math::max);
                        if (got.changed() < wanted) {
                            shortTakes.incrementAndGet();
                        }
                        sleepQuietly(random.nextInt(3));
                        // given back in one or two parts
                        int first = got.changed() > 1 && random.nextBoolean() ? 1 : got.changed();
                        for (int part : new int[] {first, got.changed() - first}) {
                            if (part > 0) {
                                held.addAndGet(-part);
                                assertThat(give(node, part).changed()).isEqualTo(part);
                            }
                        }
                    }
                }));
            }
            for (var run : runs) {
                run.get(120, java.util.concurrent.TimeUnit.SECONDS);
            }
            stop.set(true);
            sampler.get(30, java.util.concurrent.TimeUnit.SECONDS);
            System.out.printf("slots, limit %d, 6 threads on 3 nodes taking 1-3 and giving back: at most %d held by the threads,"
                    + " %d by the database (%d samples), %d short takes of 720%n", limit, most.get(), mostInTheDatabase.get(),
                    samples.get(), shortTakes.get());
            assertThat(most.get()).as("never more held than the limit").isLessThanOrEqualTo(limit);
            assertThat(mostInTheDatabase.get()).as("sum(held) sampled").isLessThanOrEqualTo(limit);
            assertThat(Math.max(most.get(), mostInTheDatabase.get())).as("the limit was reached").isEqualTo(limit);
            assertThat(samples.get()).isPositive();
            assertThat(shortTakes.get()).as("takes came back short: they contended").isPositive();
            assertThat(held.get()).isZero();
            assertThat(slotRows()).as("all given back").isEqualTo("s0/1/r=0 s1/1/r=0 s2/1/r=0");

            // what each store says it holds is what the database says
            int[] keep = {2, 1, 1};
            for (int n = 0; n < nodes.size(); n++) {
                // a wait left by the random phase may still count for a second: past it, or the take comes back short
                PostgresJobStore node = nodes.get(n);
                int wanted = keep[n];
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() ->
                        take(node, wanted - look(node).held()).held() == wanted);
            }
            for (int n = 0; n < nodes.size(); n++) {
                String inTheDatabase = cluster.psql(database, "SELECT held FROM shieldpool_slots WHERE node = '" + nodes.get(n).owner().id() + "'");
                assertThat(look(nodes.get(n)).held()).as(nodes.get(n).owner().id()).isEqualTo(keep[n])
                        .isEqualTo(Integer.parseInt(inTheDatabase));
            }
            assertThat(used(nodes.getFirst())).isEqualTo(limit);
            assertThat(take(nodes.get(1), 1).changed()).as("the limit, once all is held").isZero();
            for (int n = 0; n < nodes.size(); n++) {
                assertThat(give(nodes.get(n), keep[n]).held()).isZero();
            }
            assertThat(used(nodes.getFirst())).isZero();
        } finally {
            stop.set(true);
            pool.shutdownNow();
        }
    }

    @Test
    void aQueueWithAConcurrencyAndNoRateClaimsAndAcksAsAnUnlimitedOne() throws Exception {
        get(store.close());
        PostgresJobStore node = nodeOn(slotted(2), "u");
        store = node;
        List<io.shieldpool.jobs.NewJob> batch = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            batch.add(job("{}"));
        }
        get(node.enqueue(batch));
        List<Job> claimed = get(node.claim("default", 10));
        assertThat(claimed).as("the limit is the slots', not the claim's").hasSize(5);
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_waits")).as("no claim waits").isEqualTo("0");
        assertThat(used(node)).as("running jobs hold no slot").isZero();
        assertThat(get(node.completeAll(claimed)).landed()).hasSize(5);
        assertThat(node.ackBatchesForTest()[0]).as("acks went through the batches").isPositive();
    }

    @Test
    void aDeadNodesSlotsAndWaitAreFreedByTheRescueWhichWakesTheLiveNodeWaitingForThem() throws Exception {
        get(store.close());
        // why a 5 s ttl: the frozen node must stay alive until the test makes it dead
        PostgresSettings limited = slotted(3).withLeases(Duration.ofMillis(200), Duration.ofSeconds(5), Duration.ofMinutes(15));
        PostgresJobStore doomed = doomedNode(limited, "slots");
        PostgresJobStore survivor = (PostgresJobStore) track(PostgresJobStore.openForDaemon(limited,
                new JobOwner("other", 78, "slots"), clock));
        store = survivor;
        try (Listening nodes = new Listening(List.of(doomed, survivor))) {
            assertThat(take(doomed, 2).changed()).isEqualTo(2);
            assertThat(take(survivor, 2).changed()).as("one left").isEqualTo(1);
            assertThat(take(doomed, 1).changed()).as("nothing left").isZero();
            assertThat(slotRows()).isEqualTo("elsewhere/4242/slots=2 other/78/slots=1");
            assertThat(slotWaits()).isEqualTo("other/78/slots=1 elsewhere/4242/slots=1");
            // and the slots of a node whose row was forgotten (nodes-forget) while its slots stayed
            cluster.psql(database, "INSERT INTO shieldpool_slots (queue, node, held) VALUES ('default', 'gone/1/x', 0)");

            doomed.freezeHeartbeatForTest();
            int[] before = nodes.woken();
            deadByItsTtl(doomed);
            // why no wall-clock bound: a store never looks again by itself, so only the rescue's NOTIFY wakes it
            nodes.assertWokeOnly(before, 1, "the survivor: the freed slots cover its wait (no job was cut)");
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> used(survivor) == 1);
            assertThat(slotRows()).as("the dead node's slots are freed; the live node's stay").isEqualTo("other/78/slots=1");
            assertThat(slotWaits()).as("and so are the waits").isEqualTo("other/78/slots=1");
            assertThat(take(survivor, 2)).as("the freed slots").isEqualTo(new Slots(2, 3, 0, 1, 3));
            assertThat(slotWaits()).isEqualTo("-");
            assertThat(take(doomed, 1).changed()).as("none left for the dead node's late take").isZero();
            assertThat(used(survivor)).isEqualTo(3);
        }
    }

    @Test
    void aCleanStopFreesTheNodesSlotsAndEndsItsWait() throws Exception {
        get(store.close());
        PostgresJobStore leaving = nodeOn(slotted(2), "leaving");
        PostgresJobStore staying = nodeOn(slotted(2), "staying");
        store = staying;
        assertThat(take(leaving, 2).changed()).isEqualTo(2);
        assertThat(take(leaving, 1).changed()).isZero();
        assertThat(take(staying, 1).changed()).isZero();
        assertThat(slotRows()).isEqualTo("leaving/1/r=2");

        get(leaving.close());
        assertThat(slotRows()).as("node-stopped frees its slots").isEqualTo("-");
        assertThat(slotWaits()).as("and ends its wait; the other's stays").isEqualTo("staying/1/r=1");
        assertThat(take(staying, 2)).isEqualTo(new Slots(2, 2, 0, 1, 2));
    }

    @Test
    void aGiveAnswersTheSlotsItGaveBackNeverMoreThanTheNodeHeld() throws Exception {
        List<PostgresJobStore> nodes = nodesOn(slotted(3), "ga", "gb");
        PostgresJobStore a = nodes.get(0);
        PostgresJobStore b = nodes.get(1);
        assertThat(take(a, 2).changed()).isEqualTo(2);
        assertThat(give(a, 5)).as("more than it holds: what it held").isEqualTo(new Slots(2, 0, 0, 1, 3));
        assertThat(give(a, 1)).as("nothing held").isEqualTo(new Slots(0, 0, 0, 1, 3));
        assertThat(give(b, 1)).as("no row at all").isEqualTo(new Slots(0, 0, 0, 1, 3));
        assertThat(slotRows()).isEqualTo("ga/1/r=0");
    }

    /**
     * why no wall-clock bound: a store never looks again by itself, so a waiter that is woken
     * (and then served) was told by a NOTIFY; a node of a running daemon would otherwise learn
     * of the freed slots only at its own retry (100-400 ms).
     */
    @Test
    void aCleanStopWakesTheWaitersItsFreedSlotsCoverAndOnlyThem() throws Exception {
        try (Listening nodes = listeningNodes(slotted(2), "fa", "fb", "fc", "fd")) {
            PostgresJobStore a = nodes.get(0);
            PostgresJobStore b = nodes.get(1);
            PostgresJobStore c = nodes.get(2);
            PostgresJobStore d = nodes.get(3);
            holdAllWhileTheOthersWaitForOne(a, 2, b, c, d);
            assertThat(slotWaits()).isEqualTo("fb/1/r=1 fc/1/r=1 fd/1/r=1");

            int[] before = nodes.woken();
            store = b;
            get(a.close());
            nodes.assertWokeOnly(before, java.util.Set.of(1, 2), "b and c: the two slots a's stop freed cover them, not d");
            assertThat(take(b, 1).changed()).isEqualTo(1);
            assertThat(take(c, 1).changed()).isEqualTo(1);
            assertThat(take(d, 1).changed()).as("d is next in line, nothing is free").isZero();
        }
    }

    @Test
    void aSameHostRestartFreesTheSlotsOfTheDeadPredecessorAtOnce() throws Exception {
        get(store.close());
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        JobOwner previous = new JobOwner(JobOwner.thisProcess().host(), gone.pid(), "dead0002");
        PostgresJobStore before = (PostgresJobStore) track(PostgresJobStore.openForDaemon(slotted(2), previous, clock));
        assertThat(take(before, 2).changed()).isEqualTo(2);
        assertThat(take(before, 1).changed()).isZero();
        before.freezeHeartbeatForTest();

        PostgresJobStore next = (PostgresJobStore) track(PostgresJobStore.openForDaemon(slotted(2), JobOwner.thisProcess(), clock));
        store = next;
        assertThat(take(next, 2).changed()).as("its heartbeat is fresh: the predecessor looks alive").isZero();
        get(next.recoverOrphans());
        assertThat(slotRows()).as("its pid is gone: marked stopped, its slots freed").isEqualTo("-");
        assertThat(slotWaits()).as("its wait ended, ours stays").isEqualTo(next.owner().id() + "=2");
        assertThat(take(next, 2)).isEqualTo(new Slots(2, 2, 0, 1, 2));
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
        // (the queue gets a rate at the stores' start: its claims stay limited, the path schema 4's waits serve)
        cluster.psql(database, """
                INSERT INTO shieldpool_queues (queue, concurrency, rate, burst, tokens) VALUES ('default', 2, 0, 0, 0);
                INSERT INTO shieldpool_nodes (id, host, pid, ttl, state) VALUES ('old/1/x', 'old', 1, interval '1 hour', 'running');
                INSERT INTO shieldpool_jobs (queue, payload, state, attempt, max_attempts, run_at, created_at, owner, lease_until)
                VALUES ('default', '{"n":1}', 'running', 1, 3, now(), now(), 'old/1/x', now() + interval '1 hour'),
                       ('default', '{"n":2}', 'ready', 0, 3, %1$s, now(), NULL, NULL),
                       ('default', '{"n":3}', 'ready', 0, 3, %1$s, now(), NULL, NULL)""".formatted(DUE_AT_START));
        PostgresSettings limited = claimLimited(2);
        List<PostgresJobStore> opened = openedAtOnce(limited, 3, 300);
        store = opened.getFirst();
        assertThat(cluster.psql(database, "SELECT string_agg(version::text, ',' ORDER BY version) FROM shieldpool_schema"))
                .as("each version recorded once").isEqualTo(versionsUpTo(Schema.VERSION));
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_waits")).isEqualTo("0");
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs WHERE state = 'running'"))
                .as("the old node's running job untouched").isEqualTo("1");
        assertThat(get(opened.get(0).claim("default", 1, 0))).as("one slot left of two").hasSize(1);
        assertThat(get(opened.get(1).claim("default", 1, 0))).isEmpty();
        assertThat(cluster.psql(database, "SELECT node || ' ' || shard || ' ' || wanted FROM shieldpool_waits"))
                .as("the short claims' waits").isEqualTo(opened.get(1).owner().id() + " 0 1");
        assertThat(PostgresJobStore.migrate(settings())).as("already current").isEqualTo(Schema.VERSION);
    }

    @Test
    void aSchema4DatabaseWithRowsIsMigratedToSlotsOnceByStoresOpeningAtOnce() throws Exception {
        get(store.close());
        database = cluster.createDatabase();
        SqlStatements schema = SqlStatements.load("schema.sql");
        cluster.psql(database, "CREATE TABLE shieldpool_schema (version integer NOT NULL, migrated_at timestamptz NOT NULL DEFAULT now())");
        for (String version : List.of("1", "2", "3", "4")) {
            cluster.psql(database, schema.get(version));
        }
        cluster.psql(database, "INSERT INTO shieldpool_schema (version) VALUES (1), (2), (3), (4)");
        // what a schema-4 daemon left: a queue with a concurrency and no rate, a node holding a
        // running job of it, ready jobs, and its claim's wait (not looked at for a minute)
        cluster.psql(database, """
                INSERT INTO shieldpool_queues (queue, concurrency, rate, burst, tokens) VALUES ('default', 2, 0, 0, 0);
                INSERT INTO shieldpool_nodes (id, host, pid, ttl, state) VALUES ('old/1/x', 'old', 1, interval '1 hour', 'running');
                INSERT INTO shieldpool_jobs (queue, payload, state, attempt, max_attempts, run_at, created_at, owner, lease_until)
                VALUES ('default', '{"n":1}', 'running', 1, 3, now(), now(), 'old/1/x', now() + interval '1 hour'),
                       ('default', '{"n":2}', 'ready', 0, 3, %1$s, now(), NULL, NULL),
                       ('default', '{"n":3}', 'ready', 0, 3, %1$s, now(), NULL, NULL);
                INSERT INTO shieldpool_waits (queue, node, shard, wanted, since, looked_at)
                VALUES ('default', 'old/1/x', 0, 1, now() - interval '1 minute', now() - interval '1 minute')""".formatted(DUE_AT_START));
        List<PostgresJobStore> opened = openedAtOnce(slotted(2), 3, 500);
        store = opened.getFirst();
        assertThat(cluster.psql(database, "SELECT string_agg(version::text, ',' ORDER BY version) FROM shieldpool_schema"))
                .as("each version recorded once").isEqualTo(versionsUpTo(Schema.VERSION));
        assertThat(slotRows()).as("no slot held yet").isEqualTo("-");
        assertThat(cluster.psql(database, "SELECT string_agg(state, ',' ORDER BY id) FROM shieldpool_jobs"))
                .as("the jobs untouched").isEqualTo("running,ready,ready");
        assertThat(cluster.psql(database, "SELECT node || ' ' || shard FROM shieldpool_waits")).as("the old wait untouched")
                .isEqualTo("old/1/x 0");
        assertThat(take(opened.get(0), 2)).as("the slots table in use").isEqualTo(new Slots(2, 2, 0, 1, 2));
        assertThat(take(opened.get(1), 1)).isEqualTo(new Slots(0, 0, 0, 2, 2));
        assertThat(slotRows()).isEqualTo("m0/500/r=2");
        assertThat(slotWaits()).isEqualTo("m1/501/r=1");
        assertThat(PostgresJobStore.migrate(settings())).as("already current").isEqualTo(Schema.VERSION);
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_schema")).isEqualTo(String.valueOf(Schema.VERSION));
    }

    // ---- schema 6: a limited claim and a slot take are one statement each, the lock before the snapshot ----

    private static String versionsUpTo(int version) {
        return java.util.stream.IntStream.rangeClosed(1, version).mapToObj(Integer::toString)
                .collect(java.util.stream.Collectors.joining(","));
    }

    /** What a node of schema 5 runs: limits-lock, then claim-limited or slots-take, in one transaction. */
    private static final SqlStatements SCHEMA_5 = SqlStatements.load("schema5-statements.sql");
    /** A claim of one job by a node of schema 6 that the test plays on its side connection. */
    private static final String SIDE_CLAIMS_ONE =
            "SELECT count(*) FROM shieldpool_claim_limited('side/1/x', 'default', now(), 1, 60000, 0, 1000)";
    /** A take of two slots by a node of schema 6 that the test plays on its side connection. */
    private static final String SIDE_TAKES_TWO = "SELECT granted FROM shieldpool_take_slots('default', 'side/1/x', 2, 1000)";

    /**
     * Closes the test's store and opens a node on {@code settings} with two ready jobs; registers
     * the nodes the test plays on its side connections (side/1/x, side2/1/x) as live for an hour,
     * so that no rescue frees what they hold.
     */
    private PostgresJobStore lockTestNode(PostgresSettings settings) throws Exception {
        PostgresJobStore node = nodesOn(settings, "waiter").getFirst();
        get(node.enqueue(List.of(job("{}"), job("{}"))));
        cluster.psql(database, "INSERT INTO shieldpool_nodes (id, host, pid, ttl, state) VALUES"
                + " ('side/1/x', 'side', 1, interval '1 hour', 'running'), ('side2/1/x', 'side', 2, interval '1 hour', 'running')");
        return node;
    }

    /** Sessions of this test's database waiting for a lock (in these tests, the queue's row). */
    private int waitingForALock() throws Exception {
        return Integer.parseInt(cluster.psql(database, "SELECT count(*) FROM pg_stat_activity"
                + " WHERE datname = current_database() AND wait_event_type = 'Lock'"));
    }

    /**
     * {@code waiter}'s answer to a claim or take sent while {@code holder} held the queue's lock:
     * the side begins a transaction, runs {@code holder} in it (a claim or take that locks the
     * queue's row and gets the whole limit), sends the waiter, and commits only once the waiter
     * waits for the lock. The waiter must then count what the holder committed while it waited.
     */
    private <T> T sentWhileTheSideHoldsTheLock(Side side, Runnable holder, java.util.function.Supplier<io.vertx.core.Future<T>> waiter)
            throws Exception {
        side.one("BEGIN");
        holder.run();
        io.vertx.core.Future<T> answer = waiter.get();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> waitingForALock() == 1);
        assertThat(answer.isComplete()).as("the waiter waits for the holder's lock").isFalse();
        side.one("COMMIT");
        return get(answer);
    }

    /** A schema-5 node's limited claim of one job (side2/1/x) in its own transaction on {@code side}: the rows it claimed. */
    private static io.vertx.core.Future<Integer> schema5Claim(Side side, String node) {
        return side.send("BEGIN").compose(v -> side.send(SCHEMA_5.get("limits-lock"), "default"))
                .compose(v -> side.send(SCHEMA_5.get("claim-limited"), node, "default", java.time.OffsetDateTime.now(), 1L,
                        60_000L, 0, 1_000L))
                .compose(rows -> side.send("COMMIT").map(rows.size()));
    }

    /** A schema-5 node's slot take on {@code side}, in its own transaction: the slots granted. */
    private static io.vertx.core.Future<Integer> schema5Take(Side side, String node, int wanted) {
        return side.send("BEGIN").compose(v -> side.send(SCHEMA_5.get("limits-lock"), "default"))
                .compose(v -> side.send(SCHEMA_5.get("slots-take"), "default", node, wanted, 1_000L))
                .compose(rows -> side.send("COMMIT").map(rows.iterator().next().getInteger(0)));
    }

    private String runningJobs() throws Exception {
        return cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs WHERE state = 'running'");
    }

    private String slotsHeld() throws Exception {
        return cluster.psql(database, "SELECT coalesce(sum(held), 0) FROM shieldpool_slots WHERE queue = 'default'");
    }

    @Test
    void aLimitedClaimWaitingForTheQueuesLockCountsTheJobTheHolderClaimedMeanwhile() throws Exception {
        PostgresJobStore node = lockTestNode(claimLimited(1));
        try (Side side = new Side()) {
            List<Job> got = sentWhileTheSideHoldsTheLock(side, () -> assertThat(side.one(SIDE_CLAIMS_ONE)).isEqualTo("1"),
                    () -> node.claim("default", 1));
            assertThat(got).as("the limit, 1, taken by the job the holder claimed while this claim waited").isEmpty();
        }
        assertThat(runningJobs()).isEqualTo("1");
    }

    @Test
    void aSlotTakeWaitingForTheQueuesLockCountsTheSlotsTheHolderTookMeanwhile() throws Exception {
        PostgresJobStore node = lockTestNode(slotted(2));
        try (Side side = new Side()) {
            Slots got = sentWhileTheSideHoldsTheLock(side, () -> assertThat(side.one(SIDE_TAKES_TWO)).isEqualTo("2"),
                    () -> node.takeSlots("default", 1));
            assertThat(got.changed()).as("the limit, 2, taken by the holder while this take waited").isZero();
        }
        assertThat(slotsHeld()).isEqualTo("2");
    }

    /**
     * The control of the two tests above: the same functions, each made ONE statement (the lock an
     * UPDATE ... RETURNING in a CTE of the claim or take, the rest unchanged), which is what a
     * single round trip would be without a function. Its snapshot is taken before it waits for the
     * lock, so it counts the running jobs and the slots held of before the wait: the limit is
     * exceeded. This is why schema 6 is a plpgsql function (a snapshot per statement), and it
     * shows the tests above can fail.
     */
    @Test
    void aOneStatementClaimWouldCountFromASnapshotTakenBeforeTheLockWaitAndExceedTheLimit() throws Exception {
        PostgresJobStore node = lockTestNode(claimLimited(1));
        replaceByAOneStatementVariant(0);
        try (Side side = new Side()) {
            List<Job> got = sentWhileTheSideHoldsTheLock(side, () -> assertThat(side.one(SIDE_CLAIMS_ONE)).isEqualTo("1"),
                    () -> node.claim("default", 1));
            assertThat(got).as("a job beyond the limit").hasSize(1);
        }
        assertThat(runningJobs()).as("two running, the limit 1").isEqualTo("2");
    }

    /** The control of the take (see above). */
    @Test
    void aOneStatementTakeWouldCountFromASnapshotTakenBeforeTheLockWaitAndExceedTheLimit() throws Exception {
        PostgresJobStore node = lockTestNode(slotted(2));
        replaceByAOneStatementVariant(1);
        try (Side side = new Side()) {
            Slots got = sentWhileTheSideHoldsTheLock(side, () -> assertThat(side.one(SIDE_TAKES_TWO)).isEqualTo("2"),
                    () -> node.takeSlots("default", 1));
            assertThat(got.changed()).as("a slot beyond the limit").isEqualTo(1);
        }
        assertThat(slotsHeld()).as("three held, the limit 2").isEqualTo("3");
    }

    /** Replaces schema 6's function {@code index} (0: the claim, 1: the take) by its one-statement variant. */
    private void replaceByAOneStatementVariant(int index) throws Exception {
        String function = Schema.statements(SqlStatements.load("schema.sql").get("6")).get(index);
        int lockAt = function.indexOf("    UPDATE shieldpool_queues\n");
        int lockEnd = function.indexOf(";\n", lockAt);
        String lock = function.substring(lockAt, lockEnd).strip();
        String variant = function.substring(0, lockAt) + function.substring(lockEnd + 2);
        String[][] edits = index == 0
                ? new String[][] {{"SELECT concurrency, rate, tokens FROM shieldpool_queues WHERE queue = $2",
                                   lock + " RETURNING concurrency, rate, tokens"}}
                : new String[][] {{"WITH claimant AS (", "WITH locked AS (" + lock + " RETURNING queue, concurrency), claimant AS ("},
                                  {"FROM shieldpool_queues q WHERE q.queue = $1 AND q.concurrency > 0", "FROM locked q WHERE q.concurrency > 0"}};
        for (String[] edit : edits) {
            assertThat(variant).contains(edit[0]);
            variant = variant.replace(edit[0], edit[1]);
        }
        assertThat(variant).as("one statement").contains("BEGIN\n    RETURN QUERY");
        cluster.psql(database, variant);
    }

    @Test
    void aSchema5NodesLimitedClaimAndASchema6NodesTakeTurnsAtTheQueuesLock() throws Exception {
        PostgresJobStore node = lockTestNode(claimLimited(1));
        try (Side side = new Side(); Side other = new Side()) {
            // a node of schema 5 holds the lock (its transaction: limits-lock, claim-limited); one of 6 waits
            List<Job> got = sentWhileTheSideHoldsTheLock(side, () -> {
                get(side.send(SCHEMA_5.get("limits-lock"), "default"));
                assertThat(get(side.send(SCHEMA_5.get("claim-limited"), "side/1/x", "default", java.time.OffsetDateTime.now(), 1L,
                        60_000L, 0, 1_000L)).size()).isEqualTo(1);
            }, () -> node.claim("default", 1));
            assertThat(got).as("schema 6 waiting on schema 5").isEmpty();

            // the slot free again, and nobody in line: a node of 6 holds the lock, one of 5 waits
            cluster.psql(database, "DELETE FROM shieldpool_jobs WHERE owner = 'side/1/x'; DELETE FROM shieldpool_waits");
            int claimed = sentWhileTheSideHoldsTheLock(side, () -> assertThat(side.one(SIDE_CLAIMS_ONE)).isEqualTo("1"),
                    () -> schema5Claim(other, "side2/1/x"));
            assertThat(claimed).as("schema 5 waiting on schema 6").isZero();
        }
        assertThat(runningJobs()).isEqualTo("1");
    }

    @Test
    void aSchema5NodesSlotTakeAndASchema6NodesTakeTurnsAtTheQueuesLock() throws Exception {
        PostgresJobStore node = lockTestNode(slotted(2));
        try (Side side = new Side(); Side other = new Side()) {
            Slots got = sentWhileTheSideHoldsTheLock(side, () -> {
                get(side.send(SCHEMA_5.get("limits-lock"), "default"));
                assertThat(get(side.send(SCHEMA_5.get("slots-take"), "default", "side/1/x", 2, 1_000L)).iterator().next()
                        .getInteger(0)).isEqualTo(2);
            }, () -> node.takeSlots("default", 1));
            assertThat(got.changed()).as("schema 6 waiting on schema 5").isZero();

            cluster.psql(database, "UPDATE shieldpool_slots SET held = 0; DELETE FROM shieldpool_waits");
            int granted = sentWhileTheSideHoldsTheLock(side, () -> assertThat(side.one(SIDE_TAKES_TWO)).isEqualTo("2"),
                    () -> schema5Take(other, "side2/1/x", 1));
            assertThat(granted).as("schema 5 waiting on schema 6").isZero();
        }
        assertThat(slotsHeld()).isEqualTo("2");
    }

    @Test
    void eightClaimantsOnFourNodesNeverSpendMoreTokensThanTheBucketHeld() throws Exception {
        long begun = System.nanoTime();
        List<PostgresJobStore> nodes = nodesOn(settings().withLimits("default", 0, 40, 10), "t0", "t1", "t2", "t3");
        List<io.shieldpool.jobs.NewJob> batch = new java.util.ArrayList<>();
        for (int i = 0; i < 400; i++) {
            batch.add(job("{}"));
        }
        get(nodes.getFirst().enqueue(batch));
        java.util.Set<Long> claimed = java.util.concurrent.ConcurrentHashMap.newKeySet();
        var count = new java.util.concurrent.atomic.AtomicInteger();
        long claimingBegun = System.nanoTime();
        var pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            List<java.util.concurrent.Future<?>> runs = new java.util.ArrayList<>();
            for (int t = 0; t < 8; t++) {
                PostgresJobStore node = nodes.get(t % nodes.size());
                runs.add(pool.submit(() -> {
                    while (System.nanoTime() - claimingBegun < 1_500_000_000L) {
                        List<Job> got = get(node.claim("default", 4));
                        count.addAndGet(got.size());
                        got.forEach(j -> claimed.add(j.id()));
                    }
                }));
            }
            for (var run : runs) {
                run.get(60, java.util.concurrent.TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        double seconds = (System.nanoTime() - begun) / 1e9;
        System.out.printf("rate 40/s, burst 10, 8 claimants on 4 nodes: %d claims in %.2f s since the bucket was filled%n",
                count.get(), seconds);
        assertThat(claimed).as("no job claimed twice").hasSize(count.get());
        assertThat(count.get()).as("at most burst + rate x elapsed").isLessThanOrEqualTo((int) Math.floor(10 + 40 * seconds))
                .as("the bucket refilled while they claimed").isGreaterThan(10);
        assertThat(cluster.psql(database, "SELECT tokens >= 0 FROM shieldpool_queues WHERE queue = 'default'"))
                .as("never a token spent that was not there").isEqualTo("t");
        assertThat(runningJobs()).isEqualTo(String.valueOf(count.get()));
    }

    @Test
    void eightClaimantsOnFourNodesNeverRunMoreJobsAtOnceThanTheConcurrency() throws Exception {
        int limit = 3;
        List<PostgresJobStore> nodes = nodesOn(claimLimited(limit), "c0", "c1", "c2", "c3");
        List<io.shieldpool.jobs.NewJob> batch = new java.util.ArrayList<>();
        for (int i = 0; i < 160; i++) {
            batch.add(job("{}"));
        }
        get(nodes.getFirst().enqueue(batch));
        var mostInTheDatabase = new java.util.concurrent.atomic.AtomicInteger();
        var stop = new java.util.concurrent.atomic.AtomicBoolean();
        var sampling = java.util.concurrent.Executors.newSingleThreadExecutor();
        int most;
        try (Side side = new Side()) {
            var sampler = sampling.submit(() -> {
                while (!stop.get()) {
                    mostInTheDatabase.accumulateAndGet(Integer.parseInt(side.one("SELECT count(*) FROM shieldpool_jobs"
                            + " WHERE state = 'running'")), Math::max);
                }
            });
            most = mostHeldByClaimants(nodes, 8, 160, 2, 1, Duration.ofSeconds(120));
            stop.set(true);
            sampler.get(30, java.util.concurrent.TimeUnit.SECONDS);
        } finally {
            stop.set(true);
            sampling.shutdownNow();
        }
        System.out.printf("concurrency limit %d, 8 claimants on 4 nodes: at most %d held by the threads, %d running in the database%n",
                limit, most, mostInTheDatabase.get());
        assertThat(most).as("never more than the limit").isLessThanOrEqualTo(limit);
        assertThat(mostInTheDatabase.get()).as("running rows sampled").isLessThanOrEqualTo(limit);
        assertThat(Math.max(most, mostInTheDatabase.get())).as("the limit was reached").isEqualTo(limit);
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs_done")).isEqualTo("160");
    }

    @Test
    void eightTakersOnFourNodesNeverHoldMoreSlotsThanTheConcurrency() throws Exception {
        int limit = 3;
        List<PostgresJobStore> nodes = nodesOn(slotted(limit), "k0", "k1", "k2", "k3");
        var held = new java.util.concurrent.atomic.AtomicInteger();
        var most = new java.util.concurrent.atomic.AtomicInteger();
        var mostInTheDatabase = new java.util.concurrent.atomic.AtomicInteger();
        var stop = new java.util.concurrent.atomic.AtomicBoolean();
        var pool = java.util.concurrent.Executors.newFixedThreadPool(9);
        try (Side side = new Side()) {
            var sampler = pool.submit(() -> {
                while (!stop.get()) {
                    mostInTheDatabase.accumulateAndGet(Integer.parseInt(side.one("SELECT coalesce(sum(held), 0)"
                            + " FROM shieldpool_slots WHERE queue = 'default'")), Math::max);
                }
            });
            List<java.util.concurrent.Future<?>> runs = new java.util.ArrayList<>();
            for (int t = 0; t < 8; t++) {
                PostgresJobStore node = nodes.get(t % nodes.size());
                java.util.Random random = new java.util.Random(t);
                runs.add(pool.submit(() -> {
                    for (int round = 0; round < 60; round++) {
                        int wanted = 1 + random.nextInt(2);
                        Slots got = take(node, wanted);
                        assertThat(got.changed()).isBetween(0, wanted);
                        most.accumulateAndGet(held.addAndGet(got.changed()), Math::max);
                        sleepQuietly(random.nextInt(2));
                        if (got.changed() > 0) {
                            held.addAndGet(-got.changed());
                            assertThat(give(node, got.changed()).changed()).isEqualTo(got.changed());
                        }
                    }
                }));
            }
            for (var run : runs) {
                run.get(120, java.util.concurrent.TimeUnit.SECONDS);
            }
            stop.set(true);
            sampler.get(30, java.util.concurrent.TimeUnit.SECONDS);
        } finally {
            stop.set(true);
            pool.shutdownNow();
        }
        System.out.printf("slots, limit %d, 8 takers on 4 nodes: at most %d held by the threads, %d by the database%n",
                limit, most.get(), mostInTheDatabase.get());
        assertThat(most.get()).as("never more held than the limit").isLessThanOrEqualTo(limit);
        assertThat(mostInTheDatabase.get()).as("sum(held) sampled").isLessThanOrEqualTo(limit);
        assertThat(Math.max(most.get(), mostInTheDatabase.get())).as("the limit was reached").isEqualTo(limit);
        assertThat(slotsHeld()).as("all given back").isEqualTo("0");
    }

    @Test
    void aSchema5DatabaseIsMigratedToTheFunctionsOnceByTwoStoresOpeningAtOnceAndTheMigrationIsIdempotent() throws Exception {
        get(store.close());
        database = cluster.createDatabase();
        SqlStatements schema = SqlStatements.load("schema.sql");
        cluster.psql(database, "CREATE TABLE shieldpool_schema (version integer NOT NULL, migrated_at timestamptz NOT NULL DEFAULT now())");
        for (int version = 1; version <= 5; version++) {
            cluster.psql(database, schema.get(Integer.toString(version)));
        }
        cluster.psql(database, "INSERT INTO shieldpool_schema (version) VALUES (1), (2), (3), (4), (5)");
        // what schema-5 daemons left: a limited queue, a live node running one of its two slots' jobs, ready jobs
        cluster.psql(database, """
                INSERT INTO shieldpool_queues (queue, concurrency, rate, burst, tokens) VALUES ('default', 2, 1000, 1000, 1000);
                INSERT INTO shieldpool_nodes (id, host, pid, ttl, state) VALUES ('old/1/x', 'old', 1, interval '1 hour', 'running');
                INSERT INTO shieldpool_jobs (queue, payload, state, attempt, max_attempts, run_at, created_at, owner, lease_until)
                VALUES ('default', '{"n":1}', 'running', 1, 3, now(), now(), 'old/1/x', now() + interval '1 hour'),
                       ('default', '{"n":2}', 'ready', 0, 3, %1$s, now(), NULL, NULL),
                       ('default', '{"n":3}', 'ready', 0, 3, %1$s, now(), NULL, NULL)""".formatted(DUE_AT_START));
        String functions = "SELECT string_agg(proname, ',' ORDER BY proname) FROM pg_proc WHERE proname LIKE 'shieldpool%'";
        assertThat(cluster.psql(database, functions)).isEmpty();
        List<PostgresJobStore> opened = openedAtOnce(claimLimited(2), 2, 600);
        store = opened.getFirst();
        String versions = "SELECT string_agg(version::text, ',' ORDER BY version) FROM shieldpool_schema";
        assertThat(cluster.psql(database, versions)).as("each version recorded once").isEqualTo("1,2,3,4,5,6");
        assertThat(cluster.psql(database, functions)).isEqualTo("shieldpool_claim_limited,shieldpool_take_slots");
        List<Job> first = get(opened.get(0).claim("default", 2, 0));
        assertThat(first).as("one slot left of two: the old node's running job holds the other").hasSize(1);
        assertThat(get(opened.get(1).claim("default", 1, 0))).isEmpty();
        assertThat(runningJobs()).isEqualTo("2");

        // idempotent: block 6 run again (CREATE OR REPLACE) changes nothing
        cluster.psql(database, "DELETE FROM shieldpool_schema WHERE version = 6");
        assertThat(PostgresJobStore.migrate(settings())).as("the version found").isEqualTo(5);
        assertThat(cluster.psql(database, versions)).isEqualTo("1,2,3,4,5,6");
        assertThat(cluster.psql(database, functions)).isEqualTo("shieldpool_claim_limited,shieldpool_take_slots");
        assertThat(get(opened.get(0).complete(first.getFirst()))).isTrue();
        assertThat(get(opened.get(0).claim("default", 1, 0))).as("the functions replaced still claim").hasSize(1);
        assertThat(PostgresJobStore.migrate(settings())).as("already current").isEqualTo(Schema.VERSION);
    }
}
