package io.shieldpool.jobs;

import io.vertx.core.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * What every {@link JobStore} must do, whatever its database: a subclass per store opens a fresh,
 * real store (a file, a server) and this suite runs against it. Time is a {@link MutableClock} the
 * store is built with, so run-at and retention are tested without sleeping.
 */
@Timeout(60)
public abstract class JobStoreContract {

    protected static final Instant START = Instant.parse("2026-12-01T10:00:00Z");
    protected final MutableClock clock = new MutableClock(START);
    protected JobStore store;
    private final List<JobStore> opened = new ArrayList<>();

    /** A store on a fresh, empty database, claiming as a new owner (a daemon's start). */
    protected abstract JobStore openFresh(MutableClock clock) throws Exception;

    /**
     * The same database as the stores opened so far, as a new owner: what a restarted daemon sees
     * after the one before it died (the previous store was closed without releasing anything).
     */
    protected abstract JobStore reopenAsNextOwner(MutableClock clock) throws Exception;

    @BeforeEach
    void openStore() throws Exception {
        store = track(openFresh(clock));
    }

    @AfterEach
    void closeStores() {
        for (JobStore s : opened) {
            try {
                get(s.close());
            } catch (RuntimeException ignored) {
                // closed by the test already
            }
        }
    }

    protected JobStore track(JobStore s) {
        opened.add(s);
        return s;
    }

    /** A restart: the current store "dies" (closed, nothing released), a new owner opens the same data. */
    protected JobStore restart() throws Exception {
        get(store.close());
        store = track(reopenAsNextOwner(clock));
        return store;
    }

    /** The future's result, waited for at most 30 s; its failure rethrown (a RuntimeException as it is). */
    public static <T> T get(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new RuntimeException(e.getCause());
        } catch (Exception e) {
            throw new RuntimeException(e);
        }
    }

    protected NewJob job(String payload) {
        return new NewJob("default", payload, 3, clock.instant(), Optional.empty());
    }

    protected List<Enqueued> enqueue(NewJob... jobs) {
        return get(store.enqueue(List.of(jobs)));
    }

    protected Job only(List<Job> jobs) {
        assertThat(jobs).hasSize(1);
        return jobs.getFirst();
    }

    protected Job stored(long id) {
        return get(store.find(id)).orElseThrow();
    }

    // ---- enqueue and claim ----

    @Test
    void enqueuedJobsAreClaimedOldestRunAtFirstWithTheirAttemptCounted() {
        Instant earlier = START.minusSeconds(10);
        var ids = enqueue(job("{\"n\":1}"), new NewJob("default", "{\"n\":2}", 5, earlier, Optional.empty()));
        assertThat(ids).allMatch(Enqueued::created);
        assertThat(ids.get(1).id()).isGreaterThan(ids.get(0).id());

        List<Job> claimed = get(store.claim("default", 10));

        assertThat(claimed).extracting(Job::id).containsExactly(ids.get(1).id(), ids.get(0).id());
        Job first = claimed.getFirst();
        assertThat(first.payload()).isEqualTo("{\"n\":2}");
        assertThat(first.attempt()).isEqualTo(1);
        assertThat(first.maxAttempts()).isEqualTo(5);
        assertThat(first.state()).isEqualTo(JobState.RUNNING);
        assertThat(first.owner()).contains(store.owner().id());
        assertThat(stored(first.id()).state()).isEqualTo(JobState.RUNNING);
        assertThat(get(store.claim("default", 10))).as("nothing left to claim").isEmpty();
    }

    @Test
    void claimTakesAtMostTheLimitAndOnlyItsQueue() {
        for (int i = 0; i < 5; i++) {
            enqueue(job("{}"));
        }
        enqueue(new NewJob("other", "{}", 3, START, Optional.empty()));

        assertThat(get(store.claim("default", 3))).hasSize(3);
        assertThat(get(store.claim("default", 3))).hasSize(2);
        assertThat(only(get(store.claim("other", 3))).queue()).isEqualTo("other");
    }

    @Test
    void aJobIsNotClaimedBeforeItsRunAt() {
        enqueue(new NewJob("default", "{}", 3, START.plusSeconds(60), Optional.empty()));

        assertThat(get(store.claim("default", 10))).isEmpty();
        clock.advance(Duration.ofSeconds(60));
        assertThat(get(store.claim("default", 10))).hasSize(1);
    }

    @Test
    void concurrentClaimsNeverTakeTheSameJob() throws Exception {
        int jobs = 2_000;
        List<NewJob> batch = new ArrayList<>();
        for (int i = 0; i < jobs; i++) {
            batch.add(job("{\"i\":" + i + "}"));
        }
        get(store.enqueue(batch));
        List<Long> seen = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<java.util.concurrent.Future<?>> runs = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                runs.add(pool.submit(() -> {
                    List<Job> got;
                    while (!(got = get(store.claim("default", 7))).isEmpty()) {
                        got.forEach(j -> seen.add(j.id()));
                    }
                }));
            }
            for (var run : runs) {
                run.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(seen).hasSize(jobs).doesNotHaveDuplicates();
    }

    // ---- ack, fail, retry, dead ----

    @Test
    void anAckedJobIsDoneAndASecondAckIsRejected() {
        enqueue(job("{}"));
        Job claimed = only(get(store.claim("default", 1)));
        clock.advance(Duration.ofSeconds(1));

        assertThat(get(store.complete(claimed))).isTrue();
        Job done = stored(claimed.id());
        assertThat(done.state()).isEqualTo(JobState.DONE);
        assertThat(done.finishedAt()).contains(clock.instant());
        assertThat(done.owner()).isEmpty();
        assertThat(get(store.complete(claimed))).as("second ack").isFalse();
        assertThat(get(store.fail(claimed, "late", clock.instant()))).isEqualTo(FailOutcome.FENCED);
        assertThat(stored(claimed.id()).state()).isEqualTo(JobState.DONE);
    }

    @Test
    void aFailedAttemptIsRetriedAtItsRunAtWithTheErrorKept() {
        enqueue(job("{}"));
        Job first = only(get(store.claim("default", 1)));
        Instant retryAt = START.plusSeconds(30);

        FailOutcome outcome = get(store.fail(first, "exit status 3", retryAt));

        assertThat(outcome).isEqualTo(FailOutcome.retryAt(retryAt));
        Job ready = stored(first.id());
        assertThat(ready.state()).isEqualTo(JobState.READY);
        assertThat(ready.attempt()).isEqualTo(1);
        assertThat(ready.lastError()).contains("exit status 3");
        assertThat(ready.runAt()).isEqualTo(retryAt);
        assertThat(get(store.claim("default", 1))).as("not before its retry time").isEmpty();
        clock.advance(Duration.ofSeconds(30));
        Job second = only(get(store.claim("default", 1)));
        assertThat(second.attempt()).isEqualTo(2);
        assertThat(second.lastError()).contains("exit status 3");
    }

    @Test
    void aFailureOnTheLastAttemptMakesTheJobDeadUntilRetried() {
        enqueue(new NewJob("default", "{}", 2, START, Optional.empty()));
        get(store.fail(only(get(store.claim("default", 1))), "one", START));
        Job last = only(get(store.claim("default", 1)));
        assertThat(last.lastAttempt()).isTrue();

        assertThat(get(store.fail(last, "two", START.plusSeconds(5)))).isEqualTo(FailOutcome.DEAD);
        Job dead = stored(last.id());
        assertThat(dead.state()).isEqualTo(JobState.DEAD);
        assertThat(dead.lastError()).contains("two");
        assertThat(dead.finishedAt()).isPresent();
        assertThat(get(store.claim("default", 1))).isEmpty();

        assertThat(get(store.retry(last.id()))).isTrue();
        Job again = only(get(store.claim("default", 1)));
        assertThat(again.attempt()).as("a retry gives a fresh set of attempts").isEqualTo(1);
        assertThat(get(store.retry(again.id()))).as("a running job is not retried").isFalse();
        assertThat(get(store.retry(999_999))).isFalse();
    }

    @Test
    void retryDeadRetriesEveryDeadJobOfTheQueue() {
        enqueue(new NewJob("default", "{}", 1, START, Optional.empty()),
                new NewJob("default", "{}", 1, START, Optional.empty()),
                new NewJob("other", "{}", 1, START, Optional.empty()));
        for (Job j : get(store.claim("default", 10))) {
            get(store.fail(j, "boom", START));
        }
        get(store.fail(only(get(store.claim("other", 10))), "boom", START));

        assertThat(get(store.retryDead(Optional.of("default")))).isEqualTo(2);
        assertThat(get(store.claim("default", 10))).hasSize(2);
        assertThat(get(store.retryDead(Optional.empty()))).isEqualTo(1);
    }

    // ---- release, recovery, fencing ----

    @Test
    void releasingAnUnstartedJobDoesNotCountTheAttempt() {
        enqueue(job("{}"));
        Job claimed = only(get(store.claim("default", 1)));

        assertThat(get(store.release(List.of(claimed), false))).isEqualTo(1);

        Job ready = stored(claimed.id());
        assertThat(ready.state()).isEqualTo(JobState.READY);
        assertThat(ready.attempt()).isZero();
        assertThat(only(get(store.claim("default", 1))).attempt()).isEqualTo(1);
    }

    @Test
    void releasingACutAttemptCountsItAndTheLastOneMakesTheJobDead() {
        enqueue(new NewJob("default", "{}", 2, START, Optional.empty()));
        Job first = only(get(store.claim("default", 1)));
        assertThat(get(store.release(List.of(first), true))).isEqualTo(1);
        Job ready = stored(first.id());
        assertThat(ready.state()).isEqualTo(JobState.READY);
        assertThat(ready.attempt()).isEqualTo(1);
        assertThat(ready.lastError()).hasValueSatisfying(e -> assertThat(e).contains("cut"));

        Job second = only(get(store.claim("default", 1)));
        assertThat(get(store.release(List.of(second), true))).isEqualTo(1);
        assertThat(stored(first.id()).state()).isEqualTo(JobState.DEAD);
    }

    @Test
    void anAckFromAnAttemptThatLostItsJobIsRejectedAndChangesNothing() {
        enqueue(job("{}"));
        Job stale = only(get(store.claim("default", 1)));
        get(store.release(List.of(stale), true));
        Job current = only(get(store.claim("default", 1)));
        assertThat(current.attempt()).isEqualTo(2);

        assertThat(get(store.complete(stale))).isFalse();
        assertThat(get(store.fail(stale, "stale", START))).isEqualTo(FailOutcome.FENCED);
        assertThat(get(store.release(List.of(stale), false))).isZero();
        Job row = stored(current.id());
        assertThat(row.state()).isEqualTo(JobState.RUNNING);
        assertThat(row.attempt()).isEqualTo(2);
        assertThat(get(store.complete(current))).isTrue();
    }

    @Test
    void aRestartedOwnerRecoversTheJobsOfTheOneThatDied() throws Exception {
        enqueue(job("{}"), job("{}"), new NewJob("default", "{}", 1, START, Optional.empty()));
        List<Job> held = get(store.claim("default", 10));
        assertThat(held).hasSize(3);
        String deadOwner = store.owner().id();

        JobStore next = restart();
        assertThat(next.owner().id()).isNotEqualTo(deadOwner);
        List<RecoveredJob> recovered = get(next.recoverOrphans());

        assertThat(recovered).extracting(RecoveredJob::id).containsExactlyInAnyOrderElementsOf(
                held.stream().map(Job::id).toList());
        assertThat(recovered).allSatisfy(r -> {
            assertThat(r.owner()).isEqualTo(deadOwner);
            assertThat(r.attempt()).isEqualTo(1);
            assertThat(r.ownerPid()).isEqualTo(ProcessHandle.current().pid());
        });
        assertThat(recovered).filteredOn(RecoveredJob::dead).hasSize(1);
        assertThat(get(next.claim("default", 10))).hasSize(2).allSatisfy(j -> assertThat(j.attempt()).isEqualTo(2));
        assertThat(get(next.recoverOrphans())).as("its own jobs are not orphans").isEmpty();
        for (Job old : held) {
            assertThat(get(next.complete(old))).as("the dead owner's ack").isFalse();
        }
    }

    @Test
    void releaseOwnedGivesBackOnlyThisOwnersRunningJobsUncounted() {
        enqueue(job("{}"), job("{}"), job("{}"));
        List<Job> held = get(store.claim("default", 3));
        get(store.complete(held.getFirst()));

        assertThat(get(store.releaseOwned())).isEqualTo(2);

        assertThat(stored(held.get(0).id()).state()).isEqualTo(JobState.DONE);
        assertThat(stored(held.get(1).id()).attempt()).isZero();
        assertThat(stored(held.get(2).id()).state()).isEqualTo(JobState.READY);
    }

    // ---- unique keys ----

    @Test
    void enqueueingATakenUniqueKeyIsANoOpThatNamesTheJobHoldingIt() {
        NewJob keyed = new NewJob("default", "{\"a\":1}", 3, START, Optional.of("order-42"));
        Enqueued first = only2(get(store.enqueue(List.of(keyed))));
        List<Enqueued> again = get(store.enqueue(List.of(
                new NewJob("default", "{\"a\":2}", 3, START, Optional.of("order-42")), job("{}"))));

        assertThat(first.created()).isTrue();
        assertThat(again.get(0)).isEqualTo(new Enqueued(first.id(), false));
        assertThat(again.get(1).created()).isTrue();
        assertThat(stored(first.id()).payload()).isEqualTo("{\"a\":1}");
        assertThat(stored(first.id()).uniqueKey()).contains("order-42");

        Job claimed = get(store.claim("default", 10)).getFirst();
        get(store.complete(claimed));
        assertThat(get(store.enqueue(List.of(keyed))).getFirst().created()).as("kept while done").isFalse();
        clock.advance(Duration.ofHours(1));
        get(store.purge(JobState.DONE, clock.instant()));
        assertThat(get(store.enqueue(List.of(keyed))).getFirst().created()).as("free once purged").isTrue();
    }

    @Test
    void aKeyTwiceInOneBatchAddsOneJob() {
        NewJob keyed = new NewJob("default", "{}", 3, START, Optional.of("k"));
        List<Enqueued> results = get(store.enqueue(List.of(keyed, keyed)));
        assertThat(results.get(0).created()).isTrue();
        assertThat(results.get(1)).isEqualTo(new Enqueued(results.get(0).id(), false));
    }

    private static Enqueued only2(List<Enqueued> list) {
        assertThat(list).hasSize(1);
        return list.getFirst();
    }

    // ---- stats, list, purge ----

    @Test
    void statsCountEveryStateAndTheOldestDueReadyJob() {
        enqueue(job("{}"), job("{}"), job("{}"), new NewJob("default", "{}", 1, START, Optional.empty()),
                new NewJob("later", "{}", 1, START.plusSeconds(3600), Optional.empty()));
        List<Job> claimed = get(store.claim("default", 3));
        get(store.complete(claimed.get(0)));
        get(store.fail(claimed.get(1), "x", START));
        clock.advance(Duration.ofSeconds(7));

        List<QueueStats> stats = get(store.stats(List.of("empty")));

        assertThat(stats).extracting(QueueStats::queue).containsExactly("default", "empty", "later");
        QueueStats main = stats.getFirst();
        assertThat(main.count(JobState.READY)).isEqualTo(2);
        assertThat(main.count(JobState.RUNNING)).isEqualTo(1);
        assertThat(main.count(JobState.DONE)).isEqualTo(1);
        assertThat(main.count(JobState.DEAD)).isZero();
        assertThat(main.oldestReady()).contains(Duration.ofSeconds(7));
        assertThat(stats.get(1).byState()).containsOnlyKeys(JobState.values()).allSatisfy((s, n) -> assertThat(n).isZero());
        assertThat(stats.get(2).oldestReady()).as("not due yet").isEmpty();
    }

    @Test
    void listShowsNewestFirstFilteredByStateAndQueue() {
        var ids = enqueue(job("{}"), job("{}"), new NewJob("other", "{}", 3, START, Optional.empty()));
        get(store.complete(get(store.claim("default", 1)).getFirst()));

        assertThat(get(store.list(Optional.empty(), Optional.empty(), 10))).extracting(Job::id)
                .containsExactly(ids.get(2).id(), ids.get(1).id(), ids.get(0).id());
        assertThat(get(store.list(Optional.of(JobState.DONE), Optional.empty(), 10))).extracting(Job::id)
                .containsExactly(ids.get(0).id());
        assertThat(get(store.list(Optional.of(JobState.READY), Optional.of("default"), 10))).extracting(Job::id)
                .containsExactly(ids.get(1).id());
        assertThat(get(store.list(Optional.empty(), Optional.empty(), 1))).hasSize(1);
    }

    @Test
    void purgeDeletesOnlyDoneJobsFinishedBeforeTheCutoff() {
        enqueue(job("{}"), job("{}"), job("{}"), new NewJob("default", "{}", 1, START, Optional.empty()));
        List<Job> claimed = get(store.claim("default", 4));
        get(store.complete(claimed.get(0)));
        clock.advance(Duration.ofMinutes(10));
        get(store.complete(claimed.get(1)));
        get(store.fail(claimed.get(3), "x", START));

        assertThat(get(store.purge(JobState.DONE, START.plus(Duration.ofMinutes(5))))).isEqualTo(1);

        assertThat(get(store.find(claimed.get(0).id()))).isEmpty();
        assertThat(get(store.find(claimed.get(1).id()))).isPresent();
        assertThat(stored(claimed.get(2).id()).state()).isEqualTo(JobState.RUNNING);
        assertThat(get(store.purge(JobState.DEAD, clock.instant().plusSeconds(1)))).isEqualTo(1);
        assertThatThrownBy(() -> get(store.purge(JobState.READY, clock.instant())))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void idsAreNeverReusedEvenAfterTheNewestJobWasPurged() {
        long last = enqueue(job("{}")).getFirst().id();
        get(store.complete(only(get(store.claim("default", 1)))));
        clock.advance(Duration.ofSeconds(1));
        get(store.purge(JobState.DONE, clock.instant()));

        assertThat(enqueue(job("{}")).getFirst().id()).isGreaterThan(last);
    }

    // ---- wake-ups and closing ----

    @Test
    void anEnqueueWakesTheListeners() {
        AtomicInteger wakes = new AtomicInteger();
        store.onJobsAvailable(wakes::incrementAndGet);
        enqueue(job("{}"));
        await().atMost(Duration.ofSeconds(5)).until(() -> wakes.get() >= 1);
    }

    @Test
    void aClosedStoreFailsRequests() {
        get(store.close());
        assertThatThrownBy(() -> get(store.claim("default", 1))).isInstanceOf(JobStoreException.class)
                .hasMessageContaining("closed");
    }

    @Test
    void everythingRequestedBeforeCloseIsDone() {
        List<Future<List<Enqueued>>> pending = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            pending.add(store.enqueue(List.of(job("{}"))));
        }
        get(store.close());
        Set<Long> ids = new HashSet<>();
        for (var f : pending) {
            ids.add(get(f).getFirst().id());
        }
        assertThat(ids).hasSize(200);
    }
}
