package io.shieldpool.e2e;

import io.shieldpool.jobs.Enqueued;
import io.shieldpool.jobs.JobState;
import io.shieldpool.jobs.JobStore;
import io.shieldpool.jobs.NewJob;
import io.shieldpool.jobs.QueueStats;
import io.shieldpool.jobs.sqlite.SqliteJobStore;
import io.shieldpool.jobs.sqlite.SqliteSettings;
import io.vertx.core.Future;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Durable jobs against the packaged daemon and a real SQLite file, with real signals: SIGKILL at
 * random moments loses nothing and duplicates at most what was in flight; SIGTERM and SIGINT
 * duplicate nothing; a copy of the files taken while the daemon is frozen opens and holds every
 * acknowledged enqueue. The side effect counted is the exec command's own: it appends its job id
 * and attempt to a file, so duplicates are seen outside the daemon, not from its counters.
 */
class JobsKillIT {

    private static final int JOBS = 3_000;
    private static final int WORKERS = 8;

    @TempDir
    Path dir;

    private String config(Path db, Path out) {
        return """
                shieldpool.pool.size = %d
                shieldpool.work.type = exec
                shieldpool.work.exec.command = ["/bin/sh", "-c", "echo $SHIELDPOOL_JOB_ID $SHIELDPOOL_JOB_ATTEMPT >> %s"]
                shieldpool.jobs.store = sqlite
                shieldpool.jobs.sqlite.path = "%s"
                shieldpool.jobs.poll-interval = 200ms
                shieldpool.log.level = debug
                """.formatted(WORKERS, out, db);
    }

    @Test
    @Timeout(300)
    void sigkillAtTenRandomMomentsLosesNoJobAndDuplicatesOnlyWhatWasInFlight() throws Exception {
        Path db = dir.resolve("jobs.db");
        Path out = dir.resolve("side-effects.txt");
        Set<Long> ids = enqueue(db, JOBS);
        long seed = System.nanoTime();
        Random random = new Random(seed);
        long runningAtKills = 0;
        Set<Long> heldAtAKill = new HashSet<>();
        int recoveredLogged = 0;
        for (int kill = 1; kill <= 10; kill++) {
            try (DaemonProcess daemon = DaemonProcess.start(dir, config(db, out))) {
                daemon.awaitEvent("ready", Duration.ofSeconds(30));
                Thread.sleep(100 + random.nextInt(500));
                daemon.signal("KILL");
                daemon.awaitExit(Duration.ofSeconds(10));
            }
            List<Long> held = withTool(db, store -> get(store.list(Optional.of(JobState.RUNNING), Optional.empty(), 10_000)))
                    .stream().map(io.shieldpool.jobs.Job::id).toList();
            heldAtAKill.addAll(held);
            long running = held.size();
            runningAtKills += running;
            System.out.printf("seed %d kill %d: %d running (in flight or buffered) at the kill, %d done%n",
                    seed, kill, running, count(db, JobState.DONE));
        }
        try (DaemonProcess daemon = DaemonProcess.start(dir, config(db, out))) {
            var open = daemon.awaitEvent("jobs.open", Duration.ofSeconds(30));
            var ready = daemon.awaitEvent("ready", Duration.ofSeconds(30));
            recoveredLogged = daemon.events("job.recovered").size();
            assertThat(open.getLong("recovered")).isEqualTo(recoveredLogged);
            assertThat(daemon.events().indexOf(open)).as("recovery before ready").isLessThan(daemon.events().indexOf(ready));
            daemon.awaitTrue(() -> count(db, JobState.DONE) == JOBS, Duration.ofSeconds(120), "every job done");
            daemon.drainNow();
        }

        Map<Long, Integer> effects = sideEffects(out);
        assertThat(effects.keySet()).as("seed %d: every job ran (0 lost)", seed).containsExactlyInAnyOrderElementsOf(ids);
        long duplicates = effects.values().stream().mapToLong(n -> n - 1).sum();
        System.out.printf("seed %d: %d jobs, 10 SIGKILLs, %d duplicated side effects, %d jobs running at the kills%n",
                seed, JOBS, duplicates, runningAtKills);
        assertThat(duplicates).as("seed %d: duplicates <= jobs held at the kills", seed).isLessThanOrEqualTo(runningAtKills);
        Set<Long> duplicated = new HashSet<>();
        effects.forEach((id, n) -> {
            if (n > 1) {
                duplicated.add(id);
            }
        });
        assertThat(heldAtAKill).as("seed %d: only a job a killed daemon held may run twice", seed).containsAll(duplicated);
        QueueStats stats = withTool(db, store -> get(store.stats(List.of("default")))).getFirst();
        assertThat(stats.count(JobState.DONE)).as("done exactly once each").isEqualTo(JOBS);
        assertThat(stats.count(JobState.READY) + stats.count(JobState.RUNNING) + stats.count(JobState.DEAD)).isZero();
    }

    @Test
    @Timeout(300)
    void sigtermAndSigintAtRandomMomentsDuplicateNothing() throws Exception {
        Path db = dir.resolve("jobs.db");
        Path out = dir.resolve("side-effects.txt");
        Set<Long> ids = enqueue(db, JOBS);
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int stop = 1; stop <= 10; stop++) {
            String signal = random.nextBoolean() ? "TERM" : "INT";
            try (DaemonProcess daemon = DaemonProcess.start(dir, config(db, out))) {
                daemon.awaitEvent("ready", Duration.ofSeconds(30));
                Thread.sleep(100 + random.nextInt(500));
                daemon.signal(signal);
                assertThat(daemon.awaitExit(Duration.ofSeconds(30))).as("seed %d stop %d SIG%s exit code\n%s", seed, stop,
                        signal, daemon.transcript()).isZero();
                assertThat(daemon.events("job.recovered")).as("a polite stop leaves nothing to recover").isEmpty();
            }
            assertThat(count(db, JobState.RUNNING)).as("seed %d stop %d SIG%s: nothing left running", seed, stop, signal)
                    .isZero();
        }
        try (DaemonProcess daemon = DaemonProcess.start(dir, config(db, out))) {
            daemon.awaitTrue(() -> count(db, JobState.DONE) == JOBS, Duration.ofSeconds(120), "every job done");
            daemon.drainNow();
        }
        Map<Long, Integer> effects = sideEffects(out);
        assertThat(effects.keySet()).as("seed %d: 0 lost", seed).containsExactlyInAnyOrderElementsOf(ids);
        assertThat(effects).as("seed %d: 0 duplicates", seed).allSatisfy((id, n) -> assertThat(n).isEqualTo(1));
        assertThat(count(db, JobState.DONE)).isEqualTo(JOBS);
        List<io.shieldpool.jobs.Job> done = withTool(db, store -> get(store.list(Optional.of(JobState.DONE), Optional.empty(), JOBS)));
        assertThat(done).as("seed %d: jobs given back at a stop had their attempt given back too", seed)
                .allSatisfy(j -> assertThat(j.attempt()).isEqualTo(1));
    }

    @Test
    @Timeout(300)
    void aCopyTakenWhileTheDaemonIsFrozenOpensAndHoldsEveryAcknowledgedEnqueue() throws Exception {
        Path db = dir.resolve("jobs.db");
        Path out = dir.resolve("side-effects.txt");
        enqueue(db, 500);
        long seed = System.nanoTime();
        Random random = new Random(seed);
        for (int round = 1; round <= 5; round++) {
            Path copyDir = Files.createDirectories(dir.resolve("copy-" + round));
            Set<Long> acknowledged = new HashSet<>();
            JobStore enqueuer = SqliteJobStore.openForTool(SqliteSettings.of(db), Clock.systemUTC());
            try (DaemonProcess daemon = DaemonProcess.start(dir, config(db, out))) {
                daemon.awaitEvent("ready", Duration.ofSeconds(30));
                long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(200 + random.nextInt(600));
                // An enqueuer in this JVM commits batch after batch while the daemon claims and acks.
                while (System.nanoTime() < until) {
                    List<NewJob> batch = new ArrayList<>();
                    for (int i = 0; i < 20; i++) {
                        batch.add(new NewJob("default", "{\"round\":" + round + "}", 25, Instant.now(), Optional.empty()));
                    }
                    get(enqueuer.enqueue(batch)).forEach(e -> acknowledged.add(e.id()));
                }
                daemon.signal("STOP");
                // Frozen wherever it was, possibly between writing WAL frames and its commit frame.
                for (String suffix : List.of("", "-wal")) {
                    Path file = dir.resolve("jobs.db" + suffix);
                    if (Files.exists(file)) {
                        Files.copy(file, copyDir.resolve("jobs.db" + suffix));
                    }
                }
                daemon.signal("KILL"); // a stopped process dies of SIGKILL without being continued
                daemon.awaitExit(Duration.ofSeconds(10));
            } finally {
                get(enqueuer.close());
            }
            Path copy = copyDir.resolve("jobs.db");
            try (DaemonProcess fresh = DaemonProcess.start(copyDir, config(copy, copyDir.resolve("out.txt")))) {
                fresh.awaitEvent("ready", Duration.ofSeconds(30));
                fresh.drainNow();
            }
            long missing = withTool(copy, store -> acknowledged.stream().filter(id -> get(store.find(id)).isEmpty()).count());
            {
                System.out.printf("seed %d round %d: %d acknowledged enqueues, %d missing in the copy%n",
                        seed, round, acknowledged.size(), missing);
                assertThat(missing).as("seed %d round %d: acknowledged enqueues lost", seed, round).isZero();
            }
        }
    }

    @Test
    @Timeout(120)
    void atTheGraceCapTheCutJobsAreReleasedWithTheirAttemptCounted() throws Exception {
        Path db = dir.resolve("jobs.db");
        Set<Long> ids = enqueue(db, 2);
        String slow = """
                shieldpool.pool.size = 2
                shieldpool.work.type = exec
                shieldpool.work.exec.command = ["/bin/sh", "-c", "sleep 30"]
                shieldpool.work.exec.kill-after = 1s
                shieldpool.shutdown.grace = 1s
                shieldpool.jobs.store = sqlite
                shieldpool.jobs.sqlite.path = "%s"
                shieldpool.log.level = debug
                """.formatted(db);
        try (DaemonProcess daemon = DaemonProcess.start(dir, slow)) {
            daemon.awaitTrue(() -> daemon.events("section.start").size() == 2, Duration.ofSeconds(30), "both jobs running");
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(30))).as(daemon.transcript()).isEqualTo(75);
            assertThat(daemon.events("job.released")).anySatisfy(e -> {
                assertThat(e.getBoolean("counted")).isTrue();
                assertThat(e.getLong("count")).isEqualTo(1);
            });
            DrainInvariants.check(daemon, true);
        }
        for (long id : ids) {
            io.shieldpool.jobs.Job job = withTool(db, store -> get(store.find(id))).orElseThrow();
            assertThat(job.state()).isEqualTo(JobState.READY);
            assertThat(job.attempt()).as("the cut attempt counts").isEqualTo(1);
            assertThat(job.lastError()).hasValueSatisfying(e -> assertThat(e).contains("grace cap"));
        }
    }

    // ---- helpers ----

    private static Set<Long> enqueue(Path db, int n) {
        Set<Long> ids = new HashSet<>();
        List<NewJob> batch = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            batch.add(new NewJob("default", "{\"i\":" + i + "}", 25, Instant.now(), Optional.empty()));
        }
        withTool(db, store -> get(store.enqueue(batch))).stream().map(Enqueued::id).forEach(ids::add);
        assertThat(ids).hasSize(n);
        return ids;
    }

    private static long count(Path db, JobState state) {
        return withTool(db, store -> get(store.stats(List.of("default")))).stream().mapToLong(s -> s.count(state)).sum();
    }

    private static Map<Long, Integer> sideEffects(Path out) throws Exception {
        Map<Long, Integer> counts = new HashMap<>();
        for (String line : Files.readAllLines(out)) {
            if (!line.isBlank()) {
                counts.merge(Long.parseLong(line.split(" ")[0]), 1, Integer::sum);
            }
        }
        return counts;
    }

    /** Runs {@code action} on the store opened as the CLI opens it (no lock), then closes it. */
    private static <T> T withTool(Path db, java.util.function.Function<JobStore, T> action) {
        JobStore store = SqliteJobStore.openForTool(SqliteSettings.of(db), Clock.systemUTC());
        try {
            return action.apply(store);
        } finally {
            get(store.close());
        }
    }

    private static <T> T get(Future<T> future) {
        try {
            return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }
}
