package io.shieldpool.jobs.runtime;

import io.shieldpool.time.ManualTicker;
import io.shieldpool.config.ConfigLoader;
import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.jobs.Job;
import io.shieldpool.jobs.JobOwner;
import io.shieldpool.jobs.MutableClock;
import io.shieldpool.jobs.NewJob;
import io.shieldpool.jobs.sqlite.SqliteJobStore;
import io.shieldpool.jobs.sqlite.SqliteSettings;
import io.shieldpool.kinds.WorkKinds;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A shard's feed on a real SQLite store with time moved by hand: the store's clock decides which
 * jobs are due, the feed's timers when an idle feed claims again. Nothing here sleeps.
 */
@Timeout(60)
class JobFeedTest {

    private static final Instant START = Instant.parse("2026-12-01T10:00:00Z");

    @TempDir
    Path dir;

    private final Vertx vertx = Vertx.vertx();
    private final Context shard = vertx.getOrCreateContext();
    private final MutableClock clock = new MutableClock(START);
    private final ManualTicker timers = new ManualTicker();
    private final AtomicReference<ShieldpoolConfig> config = new AtomicReference<>();
    /** Jobs the worker took, in order. */
    private final List<Job> taken = new CopyOnWriteArrayList<>();
    private SqliteJobStore store;
    private DurableJobs jobs;
    private JobFeed feed;

    private static ShieldpoolConfig config(Path db, String pollInterval, String retention) throws Exception {
        Properties props = new Properties();
        props.setProperty("shieldpool.pool.size", "2");
        props.setProperty("shieldpool.pool.event-loops", "1");
        props.setProperty("shieldpool.jobs.store", "sqlite");
        props.setProperty("shieldpool.jobs.sqlite.path", db.toString());
        props.setProperty("shieldpool.jobs.poll-interval", pollInterval);
        props.setProperty("shieldpool.jobs.retention.done", retention);
        return new ConfigLoader(com.typesafe.config.ConfigFactory.empty(), props, WorkKinds.discover())
                .load(Optional.empty());
    }

    private void open(String pollInterval, String retention) throws Exception {
        Path db = dir.resolve("jobs.db");
        config.set(config(db, pollInterval, retention));
        store = SqliteJobStore.openForDaemon(SqliteSettings.of(db), JobOwner.thisProcess(), clock);
        jobs = new DurableJobs(store, config::get, clock);
        jobs.start(timers);
        feed = jobs.feedFor(0);
    }

    private void reload(String pollInterval, String retention) throws Exception {
        config.set(config(dir.resolve("jobs.db"), pollInterval, retention));
        jobs.configChanged();
        get(feed.barrier());
    }

    @AfterEach
    void close() throws Exception {
        if (jobs != null) {
            jobs.close();
        }
        vertx.close().await(5, TimeUnit.SECONDS);
    }

    private <T> T onShard(Callable<T> action) {
        Promise<T> result = Promise.promise();
        shard.runOnContext(v -> {
            try {
                result.complete(action.call());
            } catch (Exception e) {
                result.fail(e);
            }
        });
        return get(result.future());
    }

    private static <T> T get(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    /** A worker as the pool's are: it takes a job, or parks on the feed and looks again when woken. */
    private void worker() {
        Job job = feed.take();
        if (job != null) {
            taken.add(job);
        } else {
            assertThat(feed.waitFor(this::worker)).isTrue();
        }
    }

    private void workerParks() {
        onShard(() -> {
            worker();
            return null;
        });
        assertThat(taken).isEmpty();
    }

    /** Waits until {@code n} claims have come back, then makes sure no further one is under way. */
    private void awaitClaims(long n) {
        await().atMost(Duration.ofSeconds(10)).until(() -> jobs.counters().claims.sum() >= n);
        get(store.stats(List.of())); // the store thread is FIFO: a claim sent before this has answered
        get(feed.barrier());          // and its answer has been handled on the shard
        assertThat(jobs.counters().claims.sum()).as("claims made").isEqualTo(n);
    }

    private long enqueue(Duration delay) {
        return get(store.enqueue(List.of(new NewJob("default", "{}", 3, clock.instant().plus(delay), Optional.empty()))))
                .getFirst().id();
    }

    @Test
    void aDelayedJobIsClaimedAtTheFirstPollAfterItsRunAtAndNotBefore() throws Exception {
        open("1s", "24h");
        workerParks();
        awaitClaims(1);
        assertThat(timers.pending()).as("the poll, then the retention sweep").containsExactly(
                Duration.ofSeconds(1), Duration.ofMinutes(1));

        long id = enqueue(Duration.ofSeconds(5));
        awaitClaims(2); // the enqueue woke the feed: it looked at once, and the job is not due yet
        assertThat(taken).isEmpty();

        timers.advance(Duration.ofSeconds(1));
        awaitClaims(3); // the poll, still before the job's run-at
        assertThat(taken).isEmpty();
        assertThat(timers.pending().getFirst()).as("the next poll").isEqualTo(Duration.ofSeconds(1));

        clock.advance(Duration.ofSeconds(5));
        assertThat(jobs.counters().claims.sum()).as("the store's clock alone claims nothing").isEqualTo(3);
        timers.advance(Duration.ofSeconds(1));
        awaitClaims(4);
        assertThat(taken).singleElement().satisfies(job -> {
            assertThat(job.id()).isEqualTo(id);
            assertThat(job.attempt()).isEqualTo(1);
        });
    }

    @Test
    void aShorterPollIntervalFromAReloadBringsThePendingPollForward() throws Exception {
        open("30s", "24h");
        long id = enqueue(Duration.ofSeconds(1));
        workerParks();
        awaitClaims(1);
        assertThat(timers.pending().getFirst()).isEqualTo(Duration.ofSeconds(30));
        clock.advance(Duration.ofSeconds(2)); // the job is due now; only a poll finds it

        reload("200ms", "24h");
        assertThat(timers.pending().getFirst()).as("the poll, brought forward").isEqualTo(Duration.ofMillis(200));
        timers.advance(Duration.ofMillis(200));
        awaitClaims(2);
        assertThat(taken).singleElement().satisfies(job -> assertThat(job.id()).isEqualTo(id));
        assertThat(timers.pending()).as("the next poll at the new interval, the sweep; none left at 30 s")
                .containsExactly(Duration.ofMillis(200), Duration.ofMinutes(1).minusMillis(200));
    }

    @Test
    void aLongerPollIntervalFromAReloadKeepsThePendingPollAndAppliesToTheNext() throws Exception {
        open("1s", "24h");
        workerParks();
        awaitClaims(1);
        reload("10s", "24h");
        assertThat(timers.pending().getFirst()).isEqualTo(Duration.ofSeconds(1));
        timers.advance(Duration.ofSeconds(1));
        awaitClaims(2);
        assertThat(timers.pending().getFirst()).isEqualTo(Duration.ofSeconds(10));
    }

    @Test
    void aShorterRetentionFromAReloadPurgesAtOnceAndThenSweepsAtItsOwnPace() throws Exception {
        open("1s", "24h");
        long id = enqueue(Duration.ZERO);
        Job claimed = get(store.claim("default", 1)).getFirst();
        assertThat(get(store.complete(claimed))).isTrue();
        clock.advance(Duration.ofHours(1));
        timers.advance(Duration.ofMinutes(1)); // the sweep at 24h: an hour-old done job stays
        await().atMost(Duration.ofSeconds(10)).until(() -> timers.pending().contains(Duration.ofMinutes(1)));
        assertThat(get(store.find(id))).isPresent();

        reload("1s", "30m");
        await().atMost(Duration.ofSeconds(10)).until(() -> get(store.find(id)).isEmpty());
        await().atMost(Duration.ofSeconds(10)).until(() -> timers.pending().size() == 1);
        assertThat(timers.pending()).as("one sweep chain, at the new pace: a tenth of 30m, at most a minute")
                .containsExactly(Duration.ofMinutes(1));
        reload("1s", "5s");
        await().atMost(Duration.ofSeconds(10)).until(() -> timers.pending().equals(List.of(Duration.ofSeconds(1))));
    }

    @Test
    void aFailedClaimSaysNothingWasClaimedNotThatAJobStaysRunning() throws Exception {
        open("1s", "24h");
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(DurableJobs.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> lines = new ch.qos.logback.core.read.ListAppender<>();
        lines.start();
        logger.addAppender(lines);
        try {
            jobs.claimFailed(0, new RuntimeException("disk I/O error"));
        } finally {
            logger.detachAppender(lines);
        }
        assertThat(lines.list).singleElement().satisfies(line -> assertThat(line.getFormattedMessage())
                .isEqualTo("job store: claim failed: disk I/O error (nothing was claimed; claims are tried again)"));
    }
}
