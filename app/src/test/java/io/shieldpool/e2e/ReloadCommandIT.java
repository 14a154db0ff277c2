package io.shieldpool.e2e;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

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
        return reloadAs(List.of(), args);
    }

    /** The command run through {@code prefix} (such as setpriv, to run it as another user). */
    private ToolRun reloadAs(List<String> prefix, String... args) throws Exception {
        List<String> command = new ArrayList<>(prefix);
        command.addAll(List.of(DaemonProcess.LAUNCHER.toString(), "reload"));
        command.addAll(List.of(args));
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("JAVA_HOME", System.getProperty("java.home"));
        builder.environment().put("SHIELDPOOL_RUNTIME_DIR", runtime.toString());
        builder.environment().remove("JOURNAL_STREAM");
        return ToolRun.of(builder);
    }

    private CompletableFuture<ToolRun> reloadInTheBackground(String... args) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return reload(args);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** A JVM of the test's own, started as a child: java, but not shieldpool. */
    public static final class Idle {
        public static void main(String[] args) throws InterruptedException {
            Thread.sleep(120_000);
        }
    }

    /** The command line of {@code pid} as the kernel shows it (empty once it is gone). */
    private static List<String> commandLine(long pid) {
        try {
            String text = new String(Files.readAllBytes(Path.of("/proc", Long.toString(pid), "cmdline")), StandardCharsets.UTF_8);
            return text.isEmpty() ? List.of() : List.of(text.split("\0"));
        } catch (IOException e) {
            return List.of();
        }
    }

    private static boolean isJava(List<String> argv) {
        // why not Path.getFileName: mid-exec reads are torn, "/" among them
        return !argv.isEmpty() && (argv.getFirst().equals("java") || argv.getFirst().endsWith("/java"));
    }

    /**
     * Stops {@code pid} (SIGSTOP) as soon as its command line matches {@code phase}, by a shell's
     * builtin kill that waits, started, for the pid: no process start between seeing and stopping.
     * Returns the command line it was stopped with.
     */
    private static List<String> stopWhen(long pid, Predicate<List<String>> phase, Process shell) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!phase.test(commandLine(pid))) {
            assertThat(System.nanoTime()).as("pid " + pid + " never matched; now " + commandLine(pid)).isLessThan(deadline);
            Thread.onSpinWait();
        }
        shell.outputWriter().write(pid + "\n");
        shell.outputWriter().flush();
        assertThat(shell.inputReader().readLine()).isEqualTo("stopped");
        return commandLine(pid);
    }

    private static Process stopper() throws IOException {
        Process shell = new ProcessBuilder("bash", "-c", "echo ready; read -r pid && kill -STOP \"$pid\" && echo stopped").start();
        assertThat(shell.inputReader().readLine()).isEqualTo("ready");
        return shell;
    }

    /**
     * A daemon stopped (SIGSTOP) in {@code phase} of its start, before its state file exists: the
     * command waits for it rather than turning it away, and reloads it once it runs on (SIGCONT).
     */
    private void waitsForADaemonStoppedWhile(Predicate<List<String>> phase, String what) throws Exception {
        for (int attempt = 1; ; attempt++) {
            Process shell = stopper();
            try (DaemonProcess daemon = start()) {
                List<String> stoppedAs = stopWhen(daemon.pid(), phase, shell);
                Path state = runtime.resolve("shieldpool-" + daemon.pid() + ".state");
                if (!phase.test(stoppedAs) || Files.exists(state)) {
                    // it ran past the phase between the look and the stop: try again
                    assertThat(attempt).as("stopped " + what + " in 3 tries; last " + stoppedAs).isLessThan(3);
                    continue;
                }
                CompletableFuture<ToolRun> reload = reloadInTheBackground("--pid", String.valueOf(daemon.pid()), "--timeout", "60s");
                try {
                    Thread.sleep(2000);
                    assertThat(reload).as("reload of a daemon stopped " + what + " (" + stoppedAs + ")").isNotDone();
                } finally {
                    daemon.signal("CONT");
                }
                ToolRun done = reload.get(60, TimeUnit.SECONDS);
                assertThat(done.exitCode()).as(done.out()).isZero();
                assertThat(done.out()).contains("applied (config version 2)");
                daemon.awaitEvent("ready", Duration.ofSeconds(20));
                daemon.drainNow();
                return;
            } finally {
                shell.destroyForcibly().waitFor();
            }
        }
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

    @Test
    void aDaemonInItsJvmBeforeItsStateFileIsWaitedFor() throws Exception {
        waitsForADaemonStoppedWhile(ReloadCommandIT::isJava, "in its JVM");
    }

    @Test
    void aDaemonStillInItsLauncherIsWaitedFor() throws Exception {
        // why: the launcher (env, then bash) is the daemon's pid until it execs java; turned away as "not a JVM" before
        waitsForADaemonStoppedWhile(argv -> !argv.isEmpty() && !isJava(argv), "in its launcher");
    }

    @Test
    void aJvmThatIsNoDaemonFailsAtOnceNamingItsCommand() throws Exception {
        runtime = Files.createDirectories(dir.resolve("run"));
        Path classes = Path.of(Idle.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process jvm = new ProcessBuilder(java, "-Xmx32m", "-cp", classes.toString(), Idle.class.getName()).start();
        try {
            long began = System.nanoTime();
            ToolRun notOurs = reload("--pid", String.valueOf(jvm.pid()), "--timeout", "30s");
            assertThat(notOurs.exitCode()).as(notOurs.out()).isEqualTo(69);
            assertThat(notOurs.out()).contains("pid " + jvm.pid() + " is '" + java + " [flags] " + Idle.class.getName() + "'",
                    "not a shieldpool daemon (a java process whose main class is " + Idle.class.getName() + ")",
                    "no shieldpool-" + jvm.pid() + ".state in [" + runtime + "]");
            assertThat(notOurs.out().strip()).as("one line").doesNotContain("\n");
            assertThat(Duration.ofNanos(System.nanoTime() - began)).as("not the whole --timeout").isLessThan(Duration.ofSeconds(20));
            assertThat(jvm.isAlive()).as("no signal sent").isTrue();
        } finally {
            jvm.destroyForcibly().waitFor();
        }
        // A shieldpool command line tool's JVM (stopped, so it stays): the jar is shieldpool's, the run is not the daemon.
        Files.writeString(dir.resolve("check.conf"), BASE);
        Process shell = stopper();
        ProcessBuilder checking = new ProcessBuilder(DefaultSignals.command(List.of(DaemonProcess.LAUNCHER.toString(),
                "check-config", dir.resolve("check.conf").toString())));
        checking.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process tool = checking.redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
        try {
            stopWhen(tool.pid(), ReloadCommandIT::isJava, shell);
            long began = System.nanoTime();
            ToolRun cli = reload("--pid", String.valueOf(tool.pid()), "--timeout", "30s");
            assertThat(cli.exitCode()).as(cli.out()).isEqualTo(69);
            assertThat(cli.out()).contains("pid " + tool.pid() + " is '", "shieldpool.jar check-config " + dir.resolve("check.conf"),
                    "not a shieldpool daemon (the shieldpool command 'check-config', not the daemon)");
            assertThat(Duration.ofNanos(System.nanoTime() - began)).as("not the whole --timeout").isLessThan(Duration.ofSeconds(20));
        } finally {
            tool.destroyForcibly().waitFor();
            shell.destroyForcibly().waitFor();
        }
    }

    @Test
    void aDaemonKeepingItsStateFileElsewhereIsNamedWithItsDirectoryAtOnce() throws Exception {
        try (DaemonProcess daemon = start()) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            Path theirs = runtime;
            runtime = Files.createDirectories(dir.resolve("elsewhere"));
            long began = System.nanoTime();
            ToolRun elsewhere = reload("--pid", String.valueOf(daemon.pid()), "--timeout", "30s");
            assertThat(elsewhere.exitCode()).as(elsewhere.out()).isEqualTo(69);
            assertThat(elsewhere.out()).contains("pid " + daemon.pid() + " is a shieldpool daemon ('",
                    "keeps its state file in " + theirs + ", not in [" + runtime + "]: pass --runtime-dir " + theirs);
            assertThat(Duration.ofNanos(System.nanoTime() - began)).as("not the whole --timeout").isLessThan(Duration.ofSeconds(20));
            // The hint works.
            ToolRun there = reload("--pid", String.valueOf(daemon.pid()), "--runtime-dir", theirs.toString());
            assertThat(there.exitCode()).as(there.out()).isZero();
            assertThat(daemon.events("reload.begin")).as("one SIGHUP: the hinted run's").hasSize(1);
            daemon.drainNow();
        }
    }

    @Test
    void aDaemonOfAnotherUserIsSaidToBeOutOfReachAtOnce() throws Exception {
        Assumptions.assumeTrue(System.getProperty("user.name").equals("root"), "needs root, to run the command as nobody");
        try (DaemonProcess daemon = start()) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            long began = System.nanoTime();
            ToolRun nobody = reloadAs(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"),
                    "--pid", String.valueOf(daemon.pid()), "--timeout", "30s");
            assertThat(nobody.exitCode()).as(nobody.out()).isEqualTo(69);
            assertThat(nobody.out()).contains("cannot signal pid " + daemon.pid() + " (user root): not permitted",
                    "looked for its shieldpool-" + daemon.pid() + ".state in [" + runtime + "]");
            assertThat(Duration.ofNanos(System.nanoTime() - began)).as("not the whole --timeout").isLessThan(Duration.ofSeconds(20));
            daemon.drainNow();
        }
    }

    @Test
    void withoutPidTwoDaemonsAreNamedAndNeitherIsSignalled() throws Exception {
        try (DaemonProcess first = start(); DaemonProcess second = start()) {
            for (DaemonProcess daemon : List.of(first, second)) {
                daemon.awaitEvent("ready", Duration.ofSeconds(20));
                Path state = runtime.resolve("shieldpool-" + daemon.pid() + ".state");
                daemon.awaitTrue(() -> read(state).contains("state=running"), Duration.ofSeconds(5), "state=running");
            }
            ToolRun both = reload();
            assertThat(both.exitCode()).as(both.out()).isEqualTo(69);
            long low = Math.min(first.pid(), second.pid());
            long high = Math.max(first.pid(), second.pid());
            assertThat(both.out()).contains("2 daemons run (pids [" + low + ", " + high + "], their state files in [" + runtime
                    + "]): choose one with --pid PID");
            assertThat(first.events("reload.begin")).as("no SIGHUP").isEmpty();
            assertThat(second.events("reload.begin")).as("no SIGHUP").isEmpty();
            ToolRun chosen = reload("--pid", String.valueOf(second.pid()));
            assertThat(chosen.exitCode()).as(chosen.out()).isZero();
            assertThat(first.events("reload.begin")).as("only the chosen one reloads").isEmpty();
            first.drainNow();
            second.drainNow();
        }
    }
}
