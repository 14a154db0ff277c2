package io.shieldpool.kinds.exec;

import io.shieldpool.config.ShieldpoolConfig;
import io.shieldpool.kinds.ActiveSection;
import io.shieldpool.kinds.Continuation;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An exec section always ends, and no command it starts outlives {@link Children#terminateAll}:
 * real child processes (checked in /proc), a real Vert.x; only the spawn step is wrapped, to hold
 * it at the moment where the races lived or to make it throw as a failing class initializer does.
 */
@Timeout(60)
class ExecRunTest {

    private final Vertx vertx = Vertx.vertx();
    private final Children children = new Children();
    private final CommandThreads threads = new CommandThreads();
    private final ExecSettings sleeper = new ExecSettings(List.of("sleep", "60"), Map.of(),
            Optional.empty(), Duration.ofSeconds(1));

    @AfterEach
    void tearDown() {
        children.terminateAll(Duration.ofSeconds(1)); // whatever a failing test left
        vertx.close().await();
    }

    private ExecRun run(RecordingSection section, Duration timeout, ExecRun.Spawner spawner) {
        return new ExecRun(section, vertx.getOrCreateContext(), vertx, timeout, sleeper, children, spawner, threads);
    }

    private static boolean processExists(long pid) {
        // A zombie still has a /proc entry; "gone" means reaped too.
        return Files.exists(Path.of("/proc", Long.toString(pid)));
    }

    @Test
    void aSpawnThatThrowsAnErrorFailsTheSection() {
        RecordingSection section = new RecordingSection();
        run(section, Duration.ZERO, (argv, env, dir) -> {
            throw new NoClassDefFoundError("Could not initialize class io.shieldpool.kinds.exec.SessionSpawn");
        }).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> section.outcome.get() != null);
        assertThat(section.outcome.get()).isEqualTo("failed: cannot start sleep: NoClassDefFoundError: "
                + "Could not initialize class io.shieldpool.kinds.exec.SessionSpawn");
        assertThat(children.closed()).isFalse();
    }

    @Test
    void aTimeoutStillEndsTheSectionWhenTheSpawnThrowsAnErrorAfterIt() throws Exception {
        RecordingSection section = new RecordingSection();
        CountDownLatch inSpawn = new CountDownLatch(1);
        CountDownLatch timedOut = new CountDownLatch(1);
        long started = System.nanoTime();
        // why 1 s: the spawn thread must be inside the spawn before the limit, even on a loaded machine.
        run(section, Duration.ofSeconds(1), (argv, env, dir) -> {
            inSpawn.countDown();
            try {
                timedOut.await(); // released once the timeout has fired
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            throw new ExceptionInInitializerError("glibc too old");
        }).start();
        assertThat(inSpawn.await(10, TimeUnit.SECONDS)).isTrue();
        Thread.sleep(Math.max(0, 1_300 - (System.nanoTime() - started) / 1_000_000));
        // Past the limit: the section must wait for the spawn to come back, not end now.
        assertThat(section.outcome.get()).isNull();
        timedOut.countDown();
        await().atMost(Duration.ofSeconds(10)).until(() -> section.outcome.get() != null);
        assertThat(section.outcome.get()).isEqualTo("timed_out: work.timeout of 1000 ms passed; "
                + "cannot start sleep: ExceptionInInitializerError: glibc too old");
    }

    @Test
    void noCommandStartsOnceTerminateAllHasBegun() {
        children.terminateAll(Duration.ofSeconds(1));
        RecordingSection section = new RecordingSection();
        AtomicReference<Long> spawned = new AtomicReference<>();
        run(section, Duration.ZERO, (argv, env, dir) -> {
            SessionSpawn.Child child = SessionSpawn.spawn(argv, env, dir);
            spawned.set(child.pid());
            return child;
        }).start();
        await().atMost(Duration.ofSeconds(10)).until(() -> section.outcome.get() != null);
        assertThat(section.outcome.get()).isEqualTo("failed: not started: the daemon is exiting");
        assertThat(spawned.get()).as("a command started after terminateAll would outlive the daemon").isNull();
    }

    @Test
    void terminateAllWaitsForACommandStillBeingSpawnedAndEndsIt() throws Exception {
        RecordingSection section = new RecordingSection();
        CountDownLatch inSpawn = new CountDownLatch(1);
        CountDownLatch letSpawn = new CountDownLatch(1);
        AtomicReference<Long> spawned = new AtomicReference<>();
        run(section, Duration.ZERO, (argv, env, dir) -> {
            inSpawn.countDown();
            try {
                letSpawn.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            SessionSpawn.Child child = SessionSpawn.spawn(argv, env, dir);
            spawned.set(child.pid());
            return child;
        }).start();
        assertThat(inSpawn.await(10, TimeUnit.SECONDS)).isTrue();
        // The grace cap has cut the section: the exit terminates every command, while this one is
        // inside posix_spawnp.
        CompletableFuture<Void> terminated = CompletableFuture.runAsync(() -> children.terminateAll(Duration.ofSeconds(1)));
        Thread.sleep(300);
        assertThat(terminated).as("terminateAll waits for the run that is spawning").isNotDone();
        letSpawn.countDown();
        terminated.get(20, TimeUnit.SECONDS);
        assertThat(spawned.get()).isNotNull();
        assertThat(processExists(spawned.get())).as("the command (pid %d) outlived terminateAll", spawned.get()).isFalse();
        await().atMost(Duration.ofSeconds(10)).until(() -> section.outcome.get() != null);
        assertThat(section.outcome.get()).startsWith("failed: sleep exited with status 143 (signal 15)");
    }

    /** The worker's side of one section: records how it ended (the first end only, as a worker does). */
    static final class RecordingSection implements ActiveSection {
        final AtomicReference<String> outcome = new AtomicReference<>();

        @Override
        public long workerId() {
            return 1;
        }

        @Override
        public long sectionId() {
            return 1;
        }

        @Override
        public int stepsDone() {
            return 0;
        }

        @Override
        public void stepDone() {
        }

        @Override
        public void resumeAfter(long delayNanos, Continuation next) {
            throw new UnsupportedOperationException("exec sections do not resume");
        }

        @Override
        public void complete() {
            outcome.compareAndSet(null, "completed");
        }

        @Override
        public void fail(Throwable cause) {
            outcome.compareAndSet(null, "failed: " + cause.getMessage());
        }

        @Override
        public void timeOut(String reason) {
            outcome.compareAndSet(null, "timed_out: " + reason);
        }

        @Override
        public void stepsTotal(int total) {
        }

        @Override
        public long sectionStartNanos() {
            return 0;
        }

        @Override
        public boolean stopRequested() {
            return false;
        }
    }
}
