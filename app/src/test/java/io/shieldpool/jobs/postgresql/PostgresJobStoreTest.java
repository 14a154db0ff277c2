package io.shieldpool.jobs.postgresql;

import io.shieldpool.jobs.Job;
import io.shieldpool.jobs.JobOwner;
import io.shieldpool.jobs.JobState;
import io.shieldpool.jobs.JobStore;
import io.shieldpool.jobs.JobStoreContract;
import io.shieldpool.jobs.JobStoreException;
import io.shieldpool.jobs.MutableClock;
import io.shieldpool.jobs.RecoveredJob;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The contract suite on a real PostgreSQL 15 cluster (a fresh database per test), plus what only this store does. */
class PostgresJobStoreTest extends JobStoreContract {

    private static PostgresCluster cluster;
    private String database;

    @BeforeAll
    static void startCluster() throws Exception {
        cluster = PostgresCluster.start();
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

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

    @Test
    void aDeadNodesSlotsAreFreedByTheRescue() throws Exception {
        get(store.close());
        PostgresSettings limited = settings().withLimits("default", 2, 0, 0)
                .withLeases(Duration.ofMillis(200), Duration.ofSeconds(1), Duration.ofMinutes(15));
        PostgresJobStore doomed = (PostgresJobStore) track(PostgresJobStore.openForDaemon(limited,
                new JobOwner("elsewhere", 4242, "slot"), clock));
        get(doomed.enqueue(List.of(job("{}"), job("{}"), job("{}"))));
        assertThat(get(doomed.claim("default", 10))).as("the limit").hasSize(2);
        doomed.freezeHeartbeatForTest();
        PostgresJobStore survivor = (PostgresJobStore) track(PostgresJobStore.openForDaemon(limited,
                new JobOwner("other", 78, "slot"), clock));
        store = survivor;
        assertThat(get(survivor.claim("default", 10))).as("no slot while the dead node holds both").isEmpty();
        cluster.psql(database, "UPDATE shieldpool_nodes SET heartbeat_at = now() - interval '1 hour' WHERE host = 'elsewhere'");

        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() ->
                get(survivor.limitsOf("default")).orElseThrow().running() == 0);
        assertThat(get(survivor.claim("default", 10))).as("the freed slots").hasSize(2);
        assertThat(get(survivor.limitsOf("default")).orElseThrow()).satisfies(l -> {
            assertThat(l.concurrency()).isEqualTo(2);
            assertThat(l.running()).isEqualTo(2);
        });
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
}
