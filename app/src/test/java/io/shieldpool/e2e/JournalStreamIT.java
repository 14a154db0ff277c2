package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Text logs under journald: with JOURNAL_STREAM naming the daemon's stdout (as systemd sets it),
 * every line starts with its syslog priority and carries no timestamp; with JOURNAL_STREAM naming
 * another stream, lines are the usual timestamped ones.
 */
@Timeout(120)
class JournalStreamIT {

    private static final String CONFIG = """
            shieldpool.log.format = text
            shieldpool.log.level = debug
            shieldpool.admin.port = 0
            shieldpool.pool.size = 2
            shieldpool.pool.event-loops = 1
            shieldpool.work.demo.steps = 1
            shieldpool.work.demo.step-duration = 50ms
            shieldpool.work.demo.failure-probability = 1.0
            shieldpool.worker.backoff.initial = 200ms
            shieldpool.worker.backoff.max = 200ms
            """;

    @TempDir
    Path dir;

    /** Starts the launcher through sh, which sets JOURNAL_STREAM to {@code stream} (a shell expression). */
    private DaemonProcess start(Path file, String stream) throws Exception {
        String script = "JOURNAL_STREAM=" + stream + "; export JOURNAL_STREAM; exec \"$0\" --config \"$1\"";
        return DaemonProcess.launch(List.of("sh", "-c", script, DaemonProcess.LAUNCHER.toString(), file.toString()),
                Map.of());
    }

    @Test
    void linesCarryTheirSyslogPriorityAndNoTimestamp() throws Exception {
        Path file = dir.resolve("shieldpool.conf");
        Files.writeString(file, CONFIG);
        // The device:inode of the pipe that is the shell's (and so the daemon's) stdout.
        try (DaemonProcess daemon = start(file, "\"$(stat -L -c %d:%i /proc/$$/fd/1)\"")) {
            daemon.awaitTrue(() -> daemon.stdout().stream().anyMatch(l -> l.contains("event=section.end")),
                    Duration.ofSeconds(30), "a failed section (WARN)");
            Path next = dir.resolve("next.conf");
            Files.writeString(next, CONFIG + "shieldpool.pool.size = -1\n");
            Files.move(next, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            daemon.signal("HUP");
            daemon.awaitTrue(() -> daemon.stdout().stream().anyMatch(l -> l.contains("event=reload.failed")),
                    Duration.ofSeconds(30), "reload.failed (ERROR)");
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(30))).as(daemon.transcript()).isZero();

            List<String> lines = daemon.stdout();
            assertThat(lines).as(daemon.transcript()).isNotEmpty().allSatisfy(line ->
                    assertThat(line).matches("<3>ERROR .*|<4>WARN  .*|<6>INFO  .*|<7>(DEBUG|TRACE) .*"));
            assertThat(lines).anyMatch(l -> l.startsWith("<3>ERROR") && l.contains("event=reload.failed"));
            assertThat(lines).anyMatch(l -> l.startsWith("<4>WARN") && l.contains("event=section.end"));
            assertThat(lines).anyMatch(l -> l.startsWith("<6>INFO") && l.contains("event=ready"));
            assertThat(lines).anyMatch(l -> l.startsWith("<7>DEBUG") && l.contains("event=section.start"));
        }
    }

    @Test
    void jsonLinesCarryTheirPriorityToo() throws Exception {
        Path file = dir.resolve("shieldpool.conf");
        Files.writeString(file, CONFIG.replace("shieldpool.log.format = text", "shieldpool.log.format = json"));
        try (DaemonProcess daemon = start(file, "\"$(stat -L -c %d:%i /proc/$$/fd/1)\"")) {
            daemon.awaitTrue(() -> daemon.stdout().stream().anyMatch(l -> l.contains("\"event\":\"section.end\"")),
                    Duration.ofSeconds(30), "a failed section (WARN)");
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(30))).as(daemon.transcript()).isZero();
            // Every line after logging is set up: its priority, then one JSON object (what journald keeps).
            List<String> json = daemon.stdout().stream().filter(l -> l.matches("<\\d>\\{.*")).toList();
            assertThat(json).isNotEmpty().allSatisfy(line -> {
                JsonObject object = new JsonObject(line.substring(3));
                String level = object.getString("level");
                assertThat(line.substring(0, 3)).as(line).isEqualTo(switch (level) {
                    case "ERROR" -> "<3>";
                    case "WARN" -> "<4>";
                    case "INFO" -> "<6>";
                    default -> "<7>";
                });
            });
            assertThat(json).anyMatch(l -> l.startsWith("<4>{") && l.contains("\"event\":\"section.end\""));
            assertThat(json).anyMatch(l -> l.startsWith("<6>{") && l.contains("\"event\":\"ready\""));
        }
    }

    @Test
    void startUpErrorsOnStderrAreErrorsToTheJournal() throws Exception {
        // stderr is the journal stream, as under the unit (StandardError=inherit).
        String stderrStream = "\"$(stat -L -c %d:%i /proc/$$/fd/2)\"";
        Path bad = dir.resolve("bad.conf");
        Files.writeString(bad, "shieldpool.pool.size = -1\nshieldpool.pool.sise = 4\n");
        try (DaemonProcess daemon = start(bad, stderrStream)) {
            assertThat(daemon.awaitExit(Duration.ofSeconds(30))).isEqualTo(78);
            assertThat(daemon.stderr()).hasSize(3).allSatisfy(l -> assertThat(l).startsWith("<3>shieldpool: "));
            assertThat(daemon.stderr()).anyMatch(l -> l.startsWith("<3>shieldpool: config error: shieldpool.pool.size: -1"));
            assertThat(daemon.stderr().getLast()).contains("not started (exit 78)");
        }
        // picocli's "Unknown option" (64)
        try (DaemonProcess daemon = DaemonProcess.launch(List.of("sh", "-c", "JOURNAL_STREAM=" + stderrStream
                + "; export JOURNAL_STREAM; exec \"$0\" --no-such-option", DaemonProcess.LAUNCHER.toString()), Map.of())) {
            assertThat(daemon.awaitExit(Duration.ofSeconds(30))).isEqualTo(64);
            assertThat(daemon.stderr()).isNotEmpty().allSatisfy(l -> assertThat(l).startsWith("<3>"));
            assertThat(daemon.stderr().getFirst()).contains("Unknown option: '--no-such-option'");
        }
        // the launcher's die()
        try (DaemonProcess daemon = DaemonProcess.launch(List.of("sh", "-c", "JOURNAL_STREAM=" + stderrStream
                + "; export JOURNAL_STREAM; exec \"$0\"", DaemonProcess.LAUNCHER.toString()),
                Map.of("SHIELDPOOL_JAR", dir.resolve("missing.jar").toString()))) {
            assertThat(daemon.awaitExit(Duration.ofSeconds(30))).isEqualTo(70);
            assertThat(daemon.stderr()).containsExactly("<3>shieldpool: SHIELDPOOL_JAR=" + dir.resolve("missing.jar")
                    + " is not a readable file");
        }
        // ... and without a journal, the same lines as ever.
        try (DaemonProcess daemon = start(bad, "1:1")) {
            assertThat(daemon.awaitExit(Duration.ofSeconds(30))).isEqualTo(78);
            assertThat(daemon.stderr()).allSatisfy(l -> assertThat(l).startsWith("shieldpool: "));
        }
    }

    @Test
    void aJournalStreamThatIsNotStdoutChangesNothing() throws Exception {
        Path file = dir.resolve("shieldpool.conf");
        Files.writeString(file, CONFIG);
        try (DaemonProcess daemon = start(file, "1:1")) {
            daemon.awaitTrue(() -> daemon.stdout().stream().anyMatch(l -> l.contains("event=ready")),
                    Duration.ofSeconds(30), "ready");
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(30))).as(daemon.transcript()).isZero();
            assertThat(daemon.stdout()).allSatisfy(line ->
                    assertThat(line).matches("\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d\\.\\d{3} (ERROR|WARN|INFO|DEBUG|TRACE) .*"));
        }
    }
}
