package io.shieldpool.jobs.runtime;

import io.shieldpool.config.ConfigLoader;
import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.jobs.Job;
import io.shieldpool.jobs.JobOwner;
import io.shieldpool.jobs.Limiting;
import io.shieldpool.jobs.MutableClock;
import io.shieldpool.jobs.NewJob;
import io.shieldpool.jobs.postgresql.PostgresCluster;
import io.shieldpool.jobs.postgresql.PostgresJobStore;
import io.shieldpool.jobs.postgresql.PostgresSettings;
import io.shieldpool.jobs.postgresql.ThrowawayPostgres;
import io.shieldpool.kinds.WorkKinds;
import io.shieldpool.time.ManualTicker;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A shard's feed on a real PostgreSQL 15 store, queue without limits: the acks of the sections
 * that end in one turn of the event loop go to the store as one request at the end of the turn,
 * with the same counters and fencing as one request each, and a close sends them before it gives
 * back what this daemon still holds.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class JobFeedAckGroupsTest {

    private static final Instant START = Instant.parse("2026-12-01T10:00:00Z");

    @RegisterExtension
    static final ThrowawayPostgres pg = new ThrowawayPostgres();

    private final PostgresCluster cluster = pg.cluster();

    private final Vertx vertx = Vertx.vertx();
    private final Context shard = vertx.getOrCreateContext();
    private final MutableClock clock = new MutableClock(START);
    private String database;
    private PostgresJobStore store;
    private DurableJobs jobs;
    private JobFeed feed;

    @AfterEach
    void close() throws Exception {
        if (jobs != null) {
            jobs.close();
        }
        vertx.close().await(5, TimeUnit.SECONDS);
    }

    /** The daemon's config on the test's database: PostgreSQL, no limits. */
    private ShieldpoolConfig config() throws Exception {
        Properties props = new Properties();
        props.setProperty("shieldpool.pool.size", "64");
        props.setProperty("shieldpool.pool.event-loops", "1");
        props.setProperty("shieldpool.jobs.store", "postgresql");
        props.setProperty("shieldpool.jobs.postgresql.url", cluster.uri(database));
        props.setProperty("shieldpool.jobs.claim-batch", "256");
        return new ConfigLoader(com.typesafe.config.ConfigFactory.empty(), props, WorkKinds.discover())
                .load(Optional.empty());
    }

    private void open(int jobCount) throws Exception {
        database = cluster.createDatabase();
        ShieldpoolConfig config = config();
        store = PostgresJobStore.openForDaemon(PostgresSettings.of(cluster.uri(database)), JobOwner.thisProcess(), clock);
        List<NewJob> batch = new ArrayList<>();
        for (int i = 0; i < jobCount; i++) {
            batch.add(new NewJob("default", "{}", 3, START, Optional.empty()));
        }
        get(store.enqueue(batch));
        jobs = new DurableJobs(store, () -> config, clock);
        jobs.start(new ManualTicker());
        feed = jobs.feedFor(0);
        assertThat(jobs.groupsAcks()).as("a queue without limits on PostgreSQL groups its acks").isTrue();
    }

    /** Takes {@code n} jobs from the feed on the shard, waiting for its claims to bring them. */
    private List<Job> take(int n) {
        List<Job> taken = new ArrayList<>();
        await().atMost(Duration.ofSeconds(20)).until(() -> {
            onShard(() -> {
                Job job;
                while (taken.size() < n && (job = feed.take()) != null) {
                    taken.add(job);
                }
                return null;
            });
            return taken.size() == n;
        });
        return taken;
    }

    @Test
    void howTheQueueIsLimitedIsTheStoresAnswerNotARereadingOfTheConfig() throws Exception {
        database = cluster.createDatabase();
        // why a config without limits: the store's settings alone say how the queue is limited
        ShieldpoolConfig config = config();
        PostgresSettings settings = PostgresSettings.of(cluster.uri(database));
        record Expected(PostgresSettings settings, Limiting limiting, boolean limited, boolean slotLimited, boolean permits,
                        boolean groupsAcks) {
        }
        for (Expected expected : List.of(
                new Expected(settings, Limiting.NONE, false, false, false, true),
                new Expected(settings.withLimits("default", 3, 0, 0), Limiting.SLOTS, false, false, true, true),
                new Expected(settings.withLimits("default", 0, 50, 5), Limiting.RATE, true, false, false, true),
                new Expected(settings.withLimits("default", 3, 50, 5), Limiting.RATE_AND_CONCURRENCY, true, true, false, false),
                new Expected(settings.withLimits("another", 3, 0, 0), Limiting.NONE, false, false, false, true))) {
            store = PostgresJobStore.openForDaemon(expected.settings(), JobOwner.thisProcess(), clock);
            jobs = new DurableJobs(store, () -> config, clock);
            assertThat(store.limiting("default")).as(expected.settings().limits().toString()).isEqualTo(expected.limiting());
            assertThat(jobs.limited()).as("limited, " + expected).isEqualTo(expected.limited());
            assertThat(jobs.slotLimited()).as("slotLimited, " + expected).isEqualTo(expected.slotLimited());
            assertThat(jobs.permits() != null).as("permits, " + expected).isEqualTo(expected.permits());
            assertThat(jobs.groupsAcks()).as("groupsAcks, " + expected).isEqualTo(expected.groupsAcks());
            jobs.close();
            jobs = null;
        }
    }

    @Test
    void theAcksOfOneTurnGoAsOneRequestAndEachIsCountedFencedOrDoneAsAlone() throws Exception {
        open(40);
        List<Job> taken = take(40);
        Job stale = taken.get(3);
        // another node took this job over (as a rescue and its next claim leave the row): its ack must be fenced
        cluster.psql(database, "UPDATE shieldpool_jobs SET owner = 'elsewhere/77/x', attempt = 2 WHERE id = " + stale.id());
        long acksBefore = store.ackBatchesForTest()[0];

        onShard(() -> {
            taken.forEach(feed::completed);
            return null;
        });

        await().atMost(Duration.ofSeconds(20)).until(() -> jobs.counters().acks.sum() == 40);
        assertThat(jobs.counters().done.sum()).isEqualTo(39);
        assertThat(jobs.counters().fenced.sum()).isEqualTo(1);
        assertThat(jobs.counters().storeErrors.sum()).isZero();
        assertThat(store.ackBatchesForTest()[0] - acksBefore).as("statements for the 40 acks (one request: one batch)").isEqualTo(1);
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs_done")).isEqualTo("39");
        assertThat(cluster.psql(database, "SELECT state || ' ' || owner || ' ' || attempt FROM shieldpool_jobs WHERE id = " + stale.id()))
                .as("the job another node holds is left as it was").isEqualTo("running elsewhere/77/x 2");
    }

    @Test
    void aCloseSendsTheAcksStillQueuedInTheFeedBeforeItGivesBackWhatThisDaemonHolds() throws Exception {
        open(20);
        List<Job> taken = take(20);

        onShard(() -> {
            // why: the shard's loop is kept busy past the close's start, so the end-of-turn send of
            // these acks comes after the close began; the close must send them itself, first.
            shard.runOnContext(v -> sleep(500));
            taken.forEach(feed::completed);
            return null;
        });
        jobs.close();
        jobs = null;

        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs_done"))
                .as("every ack landed: none of these jobs was given back to run again").isEqualTo("20");
        assertThat(cluster.psql(database, "SELECT count(*) FROM shieldpool_jobs")).isEqualTo("0");
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private <T> T onShard(Callable<T> action) {
        Promise<T> result = Promise.promise();
        shard.runOnContext(v -> {
            try {
                result.complete(action.call());
            } catch (Throwable e) {
                result.fail(e);
            }
        });
        return get(result.future());
    }

    private static <T> T get(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
