package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Issue 13, section 1: chatty exec commands froze the pool (their pipe readers were virtual threads
 * pinned in a blocking read), and lines of quiet commands were logged only when they exited. Here
 * eight workers run at once: worker 1 a slow printer whose lines carry the time they were written,
 * worker 2 one 200 kB line, the others 1 MB on stdout and 1 MB on stderr each, over and over.
 */
@Timeout(180)
class ExecOutputIT {

    @TempDir
    Path dir;

    private static final String SCRIPT = """
            #!/bin/sh
            case "$SHIELDPOOL_WORKER" in
            1) for i in 1 2 3 4 5 6; do echo "slow $i $(date +%s%N)"; sleep 0.4; done ;;
            2) head -c 200000 /dev/zero | tr '\\0' z; echo; echo "after the long line" ;;
            *) head -c 1000000 /dev/zero | tr '\\0' x | fold -w 100 &
               head -c 1000000 /dev/zero | tr '\\0' y | fold -w 100 >&2
               wait ;;
            esac
            """;

    @Test
    void chattyCommandsNeverStallThePoolAndEveryLineIsLoggedAsItIsWritten() throws Exception {
        Path script = dir.resolve("chatty.sh");
        Files.writeString(script, SCRIPT);
        script.toFile().setExecutable(true);
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 8
                shieldpool.work.type = exec
                shieldpool.work.exec.command = ["%s"]
                shieldpool.work.exec.max-line-length = 4096
                shieldpool.work.exec.max-lines-per-second = 100
                """.formatted(script);
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            // Every worker keeps completing sections: on the old code completions stopped within seconds.
            daemon.awaitTrue(() -> completedByWorker(daemon).size() == 8
                            && completedByWorker(daemon).values().stream().allMatch(n -> n >= 2),
                    Duration.ofSeconds(90), "every one of the 8 workers completed 2 sections");
            JsonObject summary = daemon.drainNow();
            assertThat(summary.getLong("abandoned")).isZero();

            // The slow printer: each line is in the log before the next one is written (0.4 s later).
            List<JsonObject> slow = daemon.events("exec.output").stream()
                    .filter(e -> e.getString("message", "").startsWith("slow ")).toList();
            assertThat(slow).hasSizeGreaterThanOrEqualTo(12);
            long worstLagMs = 0;
            for (int i = 0; i + 1 < slow.size(); i++) {
                String[] line = slow.get(i).getString("message").split(" ");
                String[] next = slow.get(i + 1).getString("message").split(" ");
                Instant logged = DaemonProcess.timestamp(slow.get(i));
                Instant written = epochNanos(line[2]);
                worstLagMs = Math.max(worstLagMs, Duration.between(written, logged).toMillis());
                if (!next[1].equals("1")) { // the same command's next line
                    assertThat(logged).as("line %s logged before line %s was written", line[1], next[1])
                            .isBefore(epochNanos(next[2]));
                }
            }
            System.out.println("ExecOutputIT: worst lag from a slow line's write to its log line: " + worstLagMs + " ms");

            // The 200 kB line is cut to max-line-length, marked, and said once per command at WARN.
            assertThat(daemon.events("exec.output")).anySatisfy(e ->
                    assertThat(e.getString("message")).isEqualTo("z".repeat(4096) + " [line truncated]"));
            assertThat(daemon.events("exec.output")).anySatisfy(e ->
                    assertThat(e.getString("message")).isEqualTo("after the long line"));
            assertThat(daemon.events("exec.output.truncated")).isNotEmpty().allSatisfy(e -> {
                assertThat(e.getString("level")).isEqualTo("WARN");
                assertThat(e.getLong("line_bytes")).isEqualTo(200_000L);
            });
            // Over 100 lines/s the chatty commands' lines are dropped and counted, never left in the pipe.
            assertThat(daemon.events("exec.output.dropped")).isNotEmpty().allSatisfy(e -> {
                assertThat(e.getString("level")).isEqualTo("WARN");
                assertThat(e.getLong("dropped")).isPositive();
            });
        }
    }

    private static Map<String, Long> completedByWorker(DaemonProcess daemon) {
        return daemon.events("section.end").stream().filter(e -> "completed".equals(e.getString("outcome")))
                .collect(Collectors.groupingBy(e -> String.valueOf(e.getValue("worker")), Collectors.counting()));
    }

    private static Instant epochNanos(String nanos) {
        long value = Long.parseLong(nanos);
        return Instant.ofEpochSecond(value / 1_000_000_000L, value % 1_000_000_000L);
    }
}
