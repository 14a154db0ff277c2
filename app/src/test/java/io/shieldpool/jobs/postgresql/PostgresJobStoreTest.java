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
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_schema")).isEqualTo("1");
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
}
