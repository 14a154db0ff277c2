package io.shieldpool.jobs.sqlite;

import io.shieldpool.jobs.JobOwner;
import io.shieldpool.jobs.JobStore;
import io.shieldpool.jobs.JobStoreContract;
import io.shieldpool.jobs.JobStoreException;
import io.shieldpool.jobs.MutableClock;
import io.shieldpool.jobs.NewJob;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The contract suite on a real SQLite file, plus what only the SQLite store does. */
class SqliteJobStoreTest extends JobStoreContract {

    @TempDir
    Path dir;

    private Path file() {
        return dir.resolve("jobs.db");
    }

    @Override
    protected JobStore openFresh(MutableClock clock) {
        return SqliteJobStore.openForDaemon(SqliteSettings.of(file()), JobOwner.thisProcess(), clock);
    }

    @Override
    protected JobStore reopenAsNextOwner(MutableClock clock) {
        return SqliteJobStore.openForDaemon(SqliteSettings.of(file()), JobOwner.thisProcess(), clock);
    }

    @Test
    void aPrivateStoreHasNoClusterWideLimits() {
        assertThat(store.shared()).isFalse();
        assertThat(store.limiting("default")).isEqualTo(io.shieldpool.jobs.Limiting.NONE);
    }

    @Test
    void aSecondDaemonOnTheSameFileIsRefusedWithOneClearLine() {
        assertThatThrownBy(() -> SqliteJobStore.openForDaemon(SqliteSettings.of(file()), JobOwner.thisProcess(), clock))
                .isInstanceOfSatisfying(JobStoreException.class, e -> {
                    assertThat(e.kind()).isEqualTo(JobStoreException.Kind.IN_USE);
                    assertThat(e.getMessage()).contains(file().toString()).contains("in use by another shieldpool daemon")
                            .contains("pid " + ProcessHandle.current().pid()).doesNotContain("\n");
                });
    }

    @Test
    void aToolOpensTheStoreWhileTheDaemonHoldsItAndItsEnqueueWakesTheDaemon() {
        AtomicInteger wakes = new AtomicInteger();
        store.onJobsAvailable(wakes::incrementAndGet);
        JobStore tool = track(SqliteJobStore.openForTool(SqliteSettings.of(file()), clock));

        long id = get(tool.enqueue(List.of(new NewJob("default", "{}", 3, START, Optional.empty())))).getFirst().id();

        await().atMost(Duration.ofSeconds(5)).until(() -> wakes.get() >= 1);
        assertThat(get(store.claim("default", 5))).extracting(j -> j.id()).containsExactly(id);
        assertThat(get(tool.stats(List.of())).getFirst().count(io.shieldpool.jobs.JobState.RUNNING)).isEqualTo(1);
    }

    @Test
    void theAnswersOfOneCommitComeBackOnEachCallersEventLoopInTheOrderAsked() throws Exception {
        List<NewJob> many = new java.util.ArrayList<>();
        for (int i = 0; i < 400; i++) {
            many.add(new NewJob("default", "{}", 3, START, Optional.empty()));
        }
        get(store.enqueue(many));
        List<io.shieldpool.jobs.Job> claimed = get(store.claim("default", 400));
        io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx(new io.vertx.core.VertxOptions().setEventLoopPoolSize(2));
        try {
            List<io.vertx.core.Context> loops = List.of(vertx.getOrCreateContext(), vertx.getOrCreateContext());
            assertThat(loops.get(0)).isNotSameAs(loops.get(1));
            List<List<Long>> answered = List.of(new java.util.ArrayList<>(), new java.util.ArrayList<>());
            java.util.concurrent.CountDownLatch all = new java.util.concurrent.CountDownLatch(claimed.size());
            AtomicInteger elsewhere = new AtomicInteger();
            for (int l = 0; l < 2; l++) {
                int loop = l;
                List<io.shieldpool.jobs.Job> mine = claimed.subList(loop * 200, loop * 200 + 200);
                // every ack of a loop asked in one go: most land in the same commit as the other loop's
                loops.get(loop).runOnContext(v -> {
                    for (io.shieldpool.jobs.Job job : mine) {
                        store.complete(job).onComplete(ar -> {
                            if (io.vertx.core.Vertx.currentContext() != loops.get(loop) || !ar.succeeded() || !ar.result()) {
                                elsewhere.incrementAndGet();
                            }
                            answered.get(loop).add(job.id());
                            all.countDown();
                        });
                    }
                });
            }
            assertThat(all.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
            assertThat(elsewhere.get()).as("acks answered off their caller's loop, or not done").isZero();
            for (int loop = 0; loop < 2; loop++) {
                assertThat(answered.get(loop)).as("loop " + loop + "'s answers, in the order it asked")
                        .containsExactlyElementsOf(claimed.subList(loop * 200, loop * 200 + 200).stream().map(io.shieldpool.jobs.Job::id).toList());
            }
            assertThat(get(store.stats(List.of())).getFirst().count(io.shieldpool.jobs.JobState.DONE)).isEqualTo(400);
        } finally {
            get(vertx.close());
        }
    }

    @Test
    void aRequestThatThrowsFailsAloneAndTheStoreGoesOn() {
        // Instant.MAX has no epoch milliseconds: binding it throws ArithmeticException on the store thread
        NewJob unbindable = new NewJob("default", "{}", 3, java.time.Instant.MAX, Optional.empty());

        assertThatThrownBy(() -> get(store.enqueue(List.of(unbindable)))).hasMessageContaining("long overflow");

        long id = get(store.enqueue(List.of(new NewJob("default", "{}", 3, START, Optional.empty())))).getFirst().id();
        assertThat(get(store.claim("default", 5))).extracting(j -> j.id()).containsExactly(id);
    }

    @Test
    void aFileAnotherProcessKeepsLockedIsInUseNotAConfigError() throws Exception {
        get(store.close());
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + file()); var s = c.createStatement()) {
            s.execute("BEGIN EXCLUSIVE");
            SqliteSettings shortWait = new SqliteSettings(file(), SqliteSettings.Synchronous.FULL, Duration.ofMillis(20),
                    Duration.ofMillis(100), Duration.ofMillis(200));
            assertThatThrownBy(() -> SqliteJobStore.openForDaemon(shortWait, JobOwner.thisProcess(), clock))
                    .isInstanceOfSatisfying(JobStoreException.class, e -> {
                        assertThat(e.kind()).as("a retry mends it: exit 69, not 78").isEqualTo(JobStoreException.Kind.IN_USE);
                        assertThat(e.getMessage()).contains(file() + " is locked by another process", "200 ms");
                    });
            s.execute("ROLLBACK");
        }
    }

    @Test
    void aStopRequestEndsTheWaitForALockedFileAtOnceNotAtTheBusyTimeout() throws Exception {
        get(store.close());
        java.util.concurrent.atomic.AtomicReference<String> told = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicLong stopAt = new java.util.concurrent.atomic.AtomicLong(Long.MAX_VALUE);
        io.shieldpool.jobs.StoreWait wait = new io.shieldpool.jobs.StoreWait() {
            @Override
            public void waiting(String url, String error) {
                told.set(url + ": " + error);
                stopAt.set(System.nanoTime() + Duration.ofMillis(300).toNanos());
            }

            @Override
            public boolean stopRequested() {
                return System.nanoTime() >= stopAt.get();
            }
        };
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + file()); var s = c.createStatement()) {
            s.execute("BEGIN EXCLUSIVE");
            long begun = System.nanoTime();
            assertThatThrownBy(() -> SqliteJobStore.openForDaemon(SqliteSettings.of(file()), JobOwner.thisProcess(), clock, wait))
                    .isInstanceOf(JobStoreException.class);
            assertThat(Duration.ofNanos(System.nanoTime() - begun)).as("not the 10 s busy timeout").isLessThan(Duration.ofSeconds(3));
            assertThat(told.get()).isEqualTo(file() + ": locked by another process");
            s.execute("ROLLBACK");
        }
        // once the lock is gone the same wait opens the store: it is asked only while the file is locked
        JobStore reopened = track(SqliteJobStore.openForDaemon(SqliteSettings.of(file()), JobOwner.thisProcess(), clock, wait));
        assertThat(get(reopened.enqueue(List.of(job("{}"))))).hasSize(1);
    }

    @Test
    void aFileWithANewerSchemaIsRefused() throws Exception {
        get(store.close());
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + file()); var s = c.createStatement()) {
            s.execute("PRAGMA user_version = 99");
        }
        assertThatThrownBy(() -> SqliteJobStore.openForDaemon(SqliteSettings.of(file()), JobOwner.thisProcess(), clock))
                .isInstanceOfSatisfying(JobStoreException.class, e -> {
                    assertThat(e.kind()).isEqualTo(JobStoreException.Kind.UNUSABLE);
                    assertThat(e.getMessage()).contains("schema version 99");
                });
    }

    @Test
    void aMissingDirectoryIsNamed() {
        Path nowhere = dir.resolve("missing/jobs.db");
        assertThatThrownBy(() -> SqliteJobStore.openForTool(SqliteSettings.of(nowhere), clock))
                .isInstanceOf(JobStoreException.class).hasMessageContaining("shieldpool.jobs.sqlite.path: " + nowhere);
    }

    @Test
    void theFileIsInWalModeWithTheChosenSynchronousSetting() throws Exception {
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + file()); var s = c.createStatement();
             var rs = s.executeQuery("PRAGMA journal_mode")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualToIgnoringCase("wal");
        }
    }

    @Test
    void aStoreWhoseDirectoryIsRemovedSaysItIsLostRefusesEnqueuesAndStillRunsWhatItHolds() throws Exception {
        Path sub = java.nio.file.Files.createDirectory(dir.resolve("removed"));
        JobStore daemon = track(SqliteJobStore.openForDaemon(SqliteSettings.of(sub.resolve("jobs.db")), JobOwner.thisProcess(), clock));
        long held = get(daemon.enqueue(List.of(job("{}")))).getFirst().id();
        assertThat(daemon.lost()).isEmpty();

        try (var files = java.nio.file.Files.list(sub)) {
            for (Path f : files.toList()) {
                java.nio.file.Files.delete(f);
            }
        }
        java.nio.file.Files.delete(sub);

        await().atMost(Duration.ofSeconds(5)).until(() -> daemon.lost().isPresent());
        assertThat(daemon.lost().get()).contains(sub.resolve("jobs.db") + " was removed").doesNotContain("\n");
        assertThatThrownBy(() -> get(daemon.enqueue(List.of(job("{}")))))
                .isInstanceOfSatisfying(JobStoreException.class, e -> assertThat(e.getMessage()).isEqualTo(daemon.lost().get()));
        io.shieldpool.jobs.Job claimed = only(get(daemon.claim("default", 5)));
        assertThat(claimed.id()).as("the open file still serves the job it holds").isEqualTo(held);
        assertThat(get(daemon.complete(claimed))).isTrue();
    }

    @Test
    void aStoreWhoseFileIsReplacedByAnotherSaysSo() throws Exception {
        Path other = dir.resolve("other.db");
        try (var c = DriverManager.getConnection("jdbc:sqlite:" + other); var s = c.createStatement()) {
            s.execute("CREATE TABLE t (x)");
        }
        java.nio.file.Files.move(other, file(), java.nio.file.StandardCopyOption.REPLACE_EXISTING);

        await().atMost(Duration.ofSeconds(5)).until(() -> store.lost().isPresent());
        assertThat(store.lost().get()).contains(file() + " was replaced by another file");
    }

    @Test
    void aToolOpenedStoreNeverWatchesItsFile() throws Exception {
        JobStore tool = track(SqliteJobStore.openForTool(SqliteSettings.of(file()), clock));
        java.nio.file.Files.delete(file());
        await().during(Duration.ofMillis(1_500)).atMost(Duration.ofSeconds(3)).until(() -> tool.lost().isEmpty());
    }
}
