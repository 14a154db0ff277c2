package io.shieldpool.e2e;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code shieldpool reload} without systemd: the real daemon as a child process, its state file in
 * a runtime directory of the test's own ({@code SHIELDPOOL_RUNTIME_DIR}), the command run through
 * the launcher as an operator would.
 */
@Timeout(120)
class ReloadCommandIT {

    private static final String BASE = """
            shieldpool.log.format = json
            shieldpool.log.level = debug
            shieldpool.admin.enabled = false
            shieldpool.work.demo.steps = 3
            shieldpool.work.demo.step-duration = 100ms
            shieldpool.work.demo.log-steps = false
            """;

    @TempDir
    Path dir;

    private Path file;
    private Path runtime;

    private DaemonProcess start() throws Exception {
        file = dir.resolve("reload.conf");
        runtime = dir.resolve("run");
        Files.writeString(file, BASE + "shieldpool.pool.size = 2\n");
        return DaemonProcess.launch(List.of(DaemonProcess.LAUNCHER.toString(), "--config", file.toString()),
                Map.of("SHIELDPOOL_RUNTIME_DIR", runtime.toString()));
    }

    private void rewrite(String extra) throws Exception {
        Path next = dir.resolve("reload.conf.next");
        Files.writeString(next, BASE + extra);
        Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (java.io.IOException e) {
            return "";
        }
    }

    private ToolRun reload(String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(DaemonProcess.LAUNCHER.toString(), "reload"));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().put("SHIELDPOOL_RUNTIME_DIR", runtime.toString());
        builder.environment().remove("JOURNAL_STREAM");
        return ToolRun.of(builder);
    }

    @Test
    void waitsForTheDaemonToApplyTheFileAndReportsIt() throws Exception {
        try (DaemonProcess daemon = start()) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            Path state = runtime.resolve("shieldpool-" + daemon.pid() + ".state");
            // Written by the daemon's own thread just after `ready`.
            daemon.awaitTrue(() -> read(state).contains("state=running"), Duration.ofSeconds(5), "state=running");
            assertThat(Files.readString(state)).contains("config-version=1", "reloads-ended=0");
            rewrite("shieldpool.pool.size = 4\n");
            // The daemon stopped: the command must not return until it has run again and applied the file.
            daemon.signal("STOP");
            CompletableFuture<ToolRun> reload = CompletableFuture.supplyAsync(() -> {
                try {
                    return reload();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            try {
                Thread.sleep(1500);
                assertThat(reload).as("reload while the daemon is stopped").isNotDone();
            } finally {
                daemon.signal("CONT");
            }
            ToolRun done = reload.get();
            assertThat(done.exitCode()).as(done.out()).isZero();
            assertThat(done.out()).contains("applied (config version 2)", "shieldpool.pool.size");
            daemon.awaitEvent("reload.complete", Duration.ofSeconds(5));
            assertThat(Files.readString(state)).contains("config-version=2", "last-reload=applied");
            // A restart-only key is named too: "no change" alone hid that the edit is not in force.
            rewrite("shieldpool.pool.size = 4\nshieldpool.pool.event-loops = 1\n");
            ToolRun restartOnly = reload();
            assertThat(restartOnly.exitCode()).as(restartOnly.out()).isZero();
            assertThat(restartOnly.out()).contains("applied (config version 3): no change; not applied until a restart: shieldpool.pool.event-loops");
            daemon.drainNow();
            assertThat(state).as("the state file after the exit").doesNotExist();
        }
        ToolRun none = reload();
        assertThat(none.exitCode()).as(none.out()).isEqualTo(69);
        assertThat(none.out()).contains("no running shieldpool daemon found");
    }

    @Test
    void aRejectedFileFailsTheCommandAndTheDaemonRunsOn() throws Exception {
        try (DaemonProcess daemon = start()) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            rewrite("shieldpool.pool.size = -1\n");
            ToolRun rejected = reload("--pid", String.valueOf(daemon.pid()));
            assertThat(rejected.exitCode()).as(rejected.out()).isEqualTo(78);
            assertThat(rejected.out()).contains("rejected", "shieldpool.pool.size: -1", "previous config (version 1)");
            assertThat(daemon.events("reload.failed")).isNotEmpty();
            assertThat(ProcessHandle.of(daemon.pid())).isPresent();
            ToolRun badTimeout = reload("--timeout", "soon");
            assertThat(badTimeout.exitCode()).as(badTimeout.out()).isEqualTo(64);
            assertThat(badTimeout.out()).contains("--timeout soon");
            ToolRun negativeTimeout = reload("--pid", String.valueOf(daemon.pid()), "--timeout", "-1s");
            assertThat(negativeTimeout.exitCode()).as(negativeTimeout.out()).isEqualTo(64);
            assertThat(negativeTimeout.out()).contains("--timeout -1s (expected: a duration > 0");
            assertThat(daemon.events("reload.begin")).as("no SIGHUP sent for a bad --timeout").hasSize(1);
            daemon.drainNow();
        }
        ToolRun gone = reload("--pid", "999999999");
        assertThat(gone.exitCode()).as(gone.out()).isEqualTo(69);
    }

    @Test
    void aPidThatIsNoDaemonFailsAtOnceNotAfterTheTimeout() throws Exception {
        runtime = Files.createDirectories(dir.resolve("run"));
        Process sleeper = new ProcessBuilder("sleep", "120").start();
        try {
            long began = System.nanoTime();
            ToolRun notOurs = reload("--pid", String.valueOf(sleeper.pid()), "--timeout", "30s");
            assertThat(notOurs.exitCode()).as(notOurs.out()).isEqualTo(69);
            assertThat(notOurs.out()).contains("pid " + sleeper.pid() + " is ", "sleep", "not a shieldpool daemon");
            assertThat(Duration.ofNanos(System.nanoTime() - began)).as("not the whole --timeout").isLessThan(Duration.ofSeconds(20));
            assertThat(sleeper.isAlive()).as("no signal sent").isTrue();
        } finally {
            sleeper.destroyForcibly().waitFor();
        }
    }
}
