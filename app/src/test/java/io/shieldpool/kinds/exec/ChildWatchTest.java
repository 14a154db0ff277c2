package io.shieldpool.kinds.exec;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * One thread waits for a command and logs its output (issue 13 B10: it used to be three new
 * threads per command): real commands started by {@link SessionSpawn}, real pipes, a real pidfd,
 * and the lines as logback receives them.
 */
@Timeout(60)
class ChildWatchTest {

    private final Logger logger = (Logger) LoggerFactory.getLogger("test.exec.output." + System.nanoTime());
    private final Queue<String> lines = new ConcurrentLinkedQueue<>();
    private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
        @Override
        protected void append(ILoggingEvent event) {
            String stream = event.getKeyValuePairs() == null ? "?" : event.getKeyValuePairs().stream()
                    .filter(kv -> kv.key.equals("stream")).map(kv -> String.valueOf(kv.value)).findFirst().orElse("?");
            lines.add(stream + ": " + event.getFormattedMessage());
        }
    };

    ChildWatchTest() {
        appender.start();
        logger.setLevel(Level.INFO); // whatever the test run's logback configuration says
        logger.setAdditive(false);
        logger.addAppender(appender);
    }

    @AfterEach
    void tearDown() {
        logger.detachAppender(appender);
    }

    private ChildWatch watch(SessionSpawn.Child child) {
        OutputBudget budget = new OutputBudget(1024, 0, System.nanoTime());
        return new ChildWatch(child, new OutputPump("stdout", budget, logger, 1, 1),
                new OutputPump("stderr", budget, logger, 1, 1));
    }

    private static SessionSpawn.Child spawn(String script) throws Exception {
        return SessionSpawn.spawn(List.of("sh", "-c", script), Map.of(), Optional.empty());
    }

    private static final int O_NONBLOCK = 04000;

    /** The descriptor's file status flags, as /proc/self/fdinfo shows them (octal). */
    private static int openFlags(int fd) throws Exception {
        return Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd)).stream().filter(l -> l.startsWith("flags:"))
                .map(l -> Integer.parseInt(l.substring("flags:".length()).trim(), 8)).findFirst().orElseThrow();
    }

    private static boolean processExists(long pid) {
        return Files.exists(Path.of("/proc", Long.toString(pid))); // a zombie too: gone means reaped
    }

    @Test
    void bothStreamsAreLoggedLineByLineAndTheExitStatusIsReaped() throws Throwable {
        SessionSpawn.Child child = spawn("echo one; echo two >&2; echo three; printf 'no newline'; exit 3");
        assertThat(child.pidfd()).as("this kernel gives a pidfd").isGreaterThanOrEqualTo(0);
        // The read ends must not block (a full chunk read from a pipe left empty would hang the
        // watch); the command's own ends must (it is not told).
        assertThat(openFlags(child.stdout()) & O_NONBLOCK).isEqualTo(O_NONBLOCK);
        assertThat(openFlags(child.stderr()) & O_NONBLOCK).isEqualTo(O_NONBLOCK);
        try (ChildWatch watch = watch(child)) {
            assertThat(watch.awaitExit()).isEqualTo(3);
            watch.readUntil(watch::outputEnded, Duration.ofSeconds(10), Integer.MAX_VALUE);
            assertThat(watch.outputEnded()).isTrue();
        }
        assertThat(lines).containsExactlyInAnyOrder("stdout: one", "stderr: two", "stdout: three", "stdout: no newline");
        assertThat(lines.stream().filter(l -> l.startsWith("stdout"))).containsExactly("stdout: one", "stdout: three",
                "stdout: no newline");
        assertThat(processExists(child.pid())).as("pid %d reaped", child.pid()).isFalse();
    }

    @Test
    void theCommandsOwnOutputStaysBlocking() throws Throwable {
        SessionSpawn.Child child = spawn("grep '^flags:' /proc/$$/fdinfo/1; grep '^flags:' /proc/$$/fdinfo/2 >&2");
        try (ChildWatch watch = watch(child)) {
            assertThat(watch.awaitExit()).isZero();
            watch.readUntil(watch::outputEnded, Duration.ofSeconds(10), Integer.MAX_VALUE);
        }
        assertThat(lines).hasSize(2).allSatisfy(line -> {
            int flags = Integer.parseInt(line.substring(line.indexOf("flags:") + "flags:".length()).trim(), 8);
            assertThat(flags & O_NONBLOCK).as(line).isZero();
        });
    }

    @Test
    void withoutAPidfdTheExitIsStillSeenAndReaped() throws Throwable {
        SessionSpawn.Child spawned = spawn("sleep 0.3; echo done; exit 7");
        SessionSpawn.closeQuietly(spawned.pidfd()); // as on a kernel before 5.3
        SessionSpawn.Child child = new SessionSpawn.Child(spawned.pid(), spawned.stdout(), spawned.stderr(), -1);
        try (ChildWatch watch = watch(child)) {
            assertThat(watch.awaitExit()).isEqualTo(7);
            watch.readUntil(watch::outputEnded, Duration.ofSeconds(10), Integer.MAX_VALUE);
        }
        assertThat(lines).containsExactly("stdout: done");
        assertThat(processExists(child.pid())).isFalse();
    }

    @Test
    void aLineIsLoggedWhileTheCommandStillRuns() throws Throwable {
        SessionSpawn.Child child = spawn("echo early; exec sleep 30");
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() -> {
            try (ChildWatch watch = watch(child)) {
                return watch.awaitExit();
            } catch (Throwable e) {
                throw new IllegalStateException(e);
            }
        });
        await().atMost(Duration.ofSeconds(10)).until(() -> lines.contains("stdout: early"));
        assertThat(exit).isNotDone();
        ProcessGroups.signal(child.pid(), ProcessGroups.SIGTERM);
        assertThat(exit.get(10, TimeUnit.SECONDS)).isEqualTo(128 + ProcessGroups.SIGTERM);
    }

    @Test
    void aWriterThatLeftTheGroupIsReadToItsEndInTheBackgroundNotCutOff() throws Throwable {
        // The grandchild leaves the command's session (setsid) with the command's stdout, and writes
        // after the command has exited and the section has stopped waiting for the pipes.
        Path written = Files.createTempFile("childwatch", ".done");
        Files.delete(written);
        SessionSpawn.Child child = spawn("setsid sh -c 'sleep 0.5; echo late; touch " + written + "' & echo early");
        try (ChildWatch watch = watch(child)) {
            assertThat(watch.awaitExit()).isZero();
            watch.readUntil(watch::outputEnded, Duration.ofMillis(100), Integer.MAX_VALUE);
            assertThat(watch.outputEnded()).as("the grandchild holds stdout open").isFalse();
            watch.readRestInBackground();
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> lines.contains("stdout: late") && Files.exists(written));
        assertThat(lines).containsExactlyInAnyOrder("stdout: early", "stdout: late");
        Files.deleteIfExists(written);
    }
}
