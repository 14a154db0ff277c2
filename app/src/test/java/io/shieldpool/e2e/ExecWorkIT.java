package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The exec kind against the real daemon and real child processes: a Ctrl+C to the daemon's whole
 * process group and a SIGTERM both let every started command finish all its steps; exit statuses,
 * timeouts and the grace cap end sections as documented, and no child process outlives them.
 */
@Timeout(120)
class ExecWorkIT {

    @TempDir
    Path dir;

    /**
     * A script that writes a marker line per step and sleeps between steps; its pid and the pid of
     * a background helper go to pid files, so the test can look for them in /proc afterwards.
     */
    private Path script(String body) throws IOException {
        Path script = dir.resolve("work.sh");
        Files.writeString(script, "#!/bin/sh\n"
                + "markers=\"" + dir.resolve("markers") + "\"\n"
                + "pids=\"" + dir.resolve("pids") + "\"\n"
                + "mkdir -p \"$markers\" \"$pids\"\n"
                + "out=\"$markers/$SHIELDPOOL_SECTION\"\n"
                + body);
        script.toFile().setExecutable(true);
        return script;
    }

    private static final String THREE_STEPS = """
            echo "worker $SHIELDPOOL_WORKER section $SHIELDPOOL_SECTION starts, batch $BATCH_NAME"
            for step in 1 2 3; do
              echo "step $step" >> "$out"
              sleep 0.3
            done
            echo done >> "$out"
            """;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"Ctrl+C to the process group", "SIGTERM to the daemon"})
    void everyStartedCommandCompletesAllItsSteps(String how) throws Exception {
        Path script = script(THREE_STEPS);
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 3
                shieldpool.work.type = exec
                shieldpool.work.exec.command = ["%s"]
                shieldpool.work.exec.environment { BATCH_NAME = nightly }
                shieldpool.work.exec.directory = "%s"
                """.formatted(script, dir);
        try (DaemonProcess daemon = DaemonProcess.startInOwnProcessGroup(dir, config)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            // Mid-step: some command has written its first marker and sleeps before its second.
            daemon.await(e -> "exec.output".equals(e.getString("event")), Duration.ofSeconds(10), "a command's output");
            awaitMarker(daemon, "step 1");
            if (how.startsWith("Ctrl+C")) {
                daemon.signalProcessGroup("INT");
            } else {
                daemon.signal("TERM");
            }
            assertThat(daemon.awaitExit(Duration.ofSeconds(30))).as(daemon.transcript()).isZero();
            JsonObject summary = DrainInvariants.check(daemon, false);
            assertThat(daemon.events("shutdown.begin").getFirst().getLong("in_flight")).isPositive();
            assertThat(summary.getLong("failed")).as(daemon.transcript()).isZero();

            List<JsonObject> starts = daemon.events("section.start");
            for (JsonObject start : starts) {
                Path markers = dir.resolve("markers").resolve(String.valueOf(start.getLong("section")));
                assertThat(Files.readAllLines(markers)).as("markers of section %s", start.getLong("section"))
                        .containsExactly("step 1", "step 2", "step 3", "done");
            }
            // The command's output is logged with its worker and section, and it saw its environment.
            JsonObject line = daemon.events("exec.output").getFirst();
            assertThat(line.getString("message")).matches("worker \\d+ section \\d+ starts, batch nightly");
            assertThat(line.getString("message")).contains("worker " + line.getValue("worker") + " section "
                    + line.getValue("section"));
        }
    }

    @Test
    void aReloadChangesTheCommandsOfSectionsStartedAfterIt() throws Exception {
        Path script = script("echo \"batch $BATCH_NAME\"\nsleep 0.2\n");
        String config = """
                shieldpool.pool.size = 2
                shieldpool.work.type = exec
                shieldpool.work.exec.command = ["%s"]
                shieldpool.work.exec.environment { BATCH_NAME = %s }
                """;
        try (DaemonProcess daemon = DaemonProcess.start(dir, config.formatted(script, "first"))) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            daemon.await(e -> "batch first".equals(e.getString("message")), Duration.ofSeconds(10), "a first batch");
            Path file = Path.of(daemon.events("config").getFirst().getString("file"));
            Path next = dir.resolve("next.conf");
            Files.writeString(next, "shieldpool.log.format = json\nshieldpool.admin.port = 0\n"
                    + config.formatted(script, "second"));
            Files.move(next, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            daemon.signal("HUP");
            JsonObject reload = daemon.awaitEvent("reload.complete", Duration.ofSeconds(10));
            assertThat(reload.getJsonArray("changed").getList()).containsExactly("shieldpool.work.exec.environment.BATCH_NAME");
            daemon.await(e -> "batch second".equals(e.getString("message")), Duration.ofSeconds(10), "a second batch");
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).as(daemon.transcript()).isZero();
            // After the first "batch second", no section starts with the old value.
            List<String> batches = daemon.events("exec.output").stream().map(e -> e.getString("message")).toList();
            int firstSecond = batches.indexOf("batch second");
            assertThat(batches.subList(firstSecond, batches.size()).stream().filter("batch first"::equals).count())
                    .as("old-value batches after the first new one (at most the sections in flight at the reload)")
                    .isLessThanOrEqualTo(2);
        }
    }

    @Test
    void aNonZeroExitIsAFailedSectionWithTheBackoff() throws Exception {
        Path script = script("echo oops >&2\nexit 3\n");
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 1
                shieldpool.work.type = exec
                shieldpool.work.exec.command = ["%s"]
                shieldpool.worker.backoff.initial = 200ms
                shieldpool.worker.backoff.max = 200ms
                """.formatted(script);
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            JsonObject summary = daemon.drainAfterSections(3, Duration.ofSeconds(10));
            List<JsonObject> ends = daemon.events("section.end");
            assertThat(ends).allSatisfy(end -> {
                assertThat(end.getString("outcome")).isEqualTo("failed");
                assertThat(end.getString("error")).isEqualTo(script + " exited with status 3");
            });
            assertThat(summary.getLong("completed")).isZero();
            assertThat(daemon.events("exec.output")).anySatisfy(e -> {
                assertThat(e.getString("message")).isEqualTo("oops");
                assertThat(e.getString("stream")).isEqualTo("stderr");
                assertThat(e.getString("level")).isEqualTo("WARN");
            });
            for (int i = 1; i < ends.size(); i++) {
                assertThat(Duration.between(DaemonProcess.timestamp(ends.get(i - 1)),
                        DaemonProcess.timestamp(ends.get(i))).toMillis()).as("backoff between failures")
                        .isGreaterThanOrEqualTo(95); // the jitter's floor: half of 200 ms
            }
        }
    }

    /** A command that ignores SIGTERM and leaves a background child: only SIGKILL to the group ends both. */
    private static final String STUBBORN = """
            trap '' TERM
            sleep 300 &
            echo $! > "$pids/$SHIELDPOOL_SECTION.helper"
            echo $$ > "$pids/$SHIELDPOOL_SECTION.main"
            echo started >> "$out"
            sleep 300
            echo done >> "$out"
            """;

    @Test
    void aTimeoutTerminatesTheCommandsWholeProcessGroup() throws Exception {
        Path script = script(STUBBORN);
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 1
                shieldpool.work.type = exec
                shieldpool.work.timeout = 1s
                shieldpool.work.exec.command = ["%s"]
                shieldpool.work.exec.kill-after = 300ms
                shieldpool.worker.backoff.initial = 30s
                """.formatted(script);
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            JsonObject end = daemon.awaitEvent("section.end", Duration.ofSeconds(15));
            assertThat(end.getString("outcome")).isEqualTo("timed_out");
            assertThat(end.getString("level")).isEqualTo("WARN");
            assertThat(end.getString("error")).startsWith("work.timeout of 1000 ms passed; command terminated");
            assertThat(daemon.events("exec.kill")).as("SIGTERM was ignored, so SIGKILL followed").hasSize(1);
            // The section ended only once the group was gone: the script and its background child.
            assertThat(recordedPids()).hasSize(2).allSatisfy(pid -> assertThat(isRunning(pid)).as("pid %d", pid).isFalse());
            JsonObject summary = daemon.drainNow();
            assertThat(summary.getLong("timed_out")).isEqualTo(1);
            assertThat(summary.getLong("failed")).isZero();
        }
    }

    @Test
    void afterAForcedExitNoChildProcessRemains() throws Exception {
        Path script = script(STUBBORN);
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 3
                shieldpool.shutdown.grace = 1s
                shieldpool.work.type = exec
                shieldpool.work.exec.command = ["%s"]
                shieldpool.work.exec.kill-after = 500ms
                """.formatted(script);
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            daemon.awaitTrue(() -> pidFiles() == 6, Duration.ofSeconds(10), "three commands started");
            List<Long> pids = recordedPids();
            assertThat(pids).allSatisfy(pid -> assertThat(isRunning(pid)).isTrue());
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(30))).as(daemon.transcript()).isEqualTo(75);
            JsonObject summary = DrainInvariants.check(daemon, true);
            assertThat(summary.getLong("abandoned")).isEqualTo(3);
            assertThat(daemon.events("exec.terminate")).hasSize(3);
            // No script, no background child, nothing in their process groups: checked in /proc.
            assertThat(pids).allSatisfy(pid -> assertThat(isRunning(pid)).as("pid %d after the exit", pid).isFalse());
            Set<Long> groups = Set.copyOf(pids);
            assertThat(processesInGroups(groups)).as("processes left in the commands' groups").isEmpty();
        }
    }

    private void awaitMarker(DaemonProcess daemon, String line) throws InterruptedException {
        daemon.awaitTrue(() -> {
            try (Stream<Path> files = Files.list(dir.resolve("markers"))) {
                return files.anyMatch(f -> {
                    try {
                        return Files.readAllLines(f).contains(line);
                    } catch (IOException e) {
                        return false;
                    }
                });
            } catch (IOException e) {
                return false;
            }
        }, Duration.ofSeconds(10), "a marker '" + line + "'");
    }

    private long pidFiles() {
        try (Stream<Path> files = Files.list(dir.resolve("pids"))) {
            return files.filter(f -> {
                try {
                    return !Files.readString(f).isBlank();
                } catch (IOException e) {
                    return false;
                }
            }).count();
        } catch (IOException e) {
            return 0;
        }
    }

    private List<Long> recordedPids() throws IOException {
        List<Long> pids = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir.resolve("pids"))) {
            for (Path f : files.toList()) {
                pids.add(Long.parseLong(Files.readString(f).trim()));
            }
        }
        return pids;
    }

    /** Alive and not a zombie, per /proc/PID/stat (a reaped process has no entry at all). */
    static boolean isRunning(long pid) {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        try {
            String text = Files.readString(stat);
            String state = text.substring(text.lastIndexOf(')') + 2).split(" ")[0];
            return !state.equals("Z") && !state.equals("X");
        } catch (IOException gone) {
            return false;
        }
    }

    /** Every process (zombies included) whose process group is one of {@code groups}, from /proc. */
    static List<String> processesInGroups(Set<Long> groups) throws IOException {
        List<String> found = new ArrayList<>();
        try (Stream<Path> entries = Files.list(Path.of("/proc"))) {
            for (Path entry : entries.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String text = Files.readString(entry.resolve("stat"));
                    String[] fields = text.substring(text.lastIndexOf(')') + 2).split(" ");
                    long pgrp = Long.parseLong(fields[2]);
                    if (groups.contains(pgrp)) {
                        found.add(entry.getFileName() + " " + text);
                    }
                } catch (IOException | RuntimeException vanished) {
                    // the process ended while we looked
                }
            }
        }
        return found;
    }
}
