package io.shieldpool.e2e;

import io.shieldpool.logging.JsonLineEncoder;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The daemon's JSON lines as a typed log store sees them: every line parses, has an {@code event},
 * and each field keeps one JSON type across all lines of all runs (demo steps, exec output,
 * failures in a drain, resizes, ignored and repeated signals, a drain cut by the grace cap).
 */
@Timeout(120)
class LogLinesIT {

    @TempDir
    Path dir;

    @Test
    void everyLineHasAnEventAndEachFieldOneType() throws Exception {
        List<JsonObject> lines = new ArrayList<>();
        lines.addAll(demoRunWithFailuresResizesAndTwoSigterms());
        lines.addAll(execRunCutByTheGrace());
        lines.addAll(demoRunForcedBySecondSigint());

        Map<String, Set<String>> types = new TreeMap<>();
        for (JsonObject line : lines) {
            assertThat(line.getValue("event")).as("event of %s", line).isInstanceOf(String.class);
            if (line.getString("logger", "").startsWith("io.shieldpool")) {
                assertThat(line.getString("event")).as("shieldpool's own line names its event: %s", line)
                        .isNotEqualTo(JsonLineEncoder.LIBRARY_EVENT);
            }
            for (Map.Entry<String, Object> field : line) {
                types.computeIfAbsent(field.getKey(), k -> new TreeSet<>()).add(typeOf(field.getValue()));
            }
        }
        Map<String, Set<String>> mixed = new TreeMap<>();
        types.forEach((key, seen) -> {
            if (seen.size() > 1) {
                mixed.put(key, seen);
            }
        });
        assertThat(mixed).as("fields with more than one JSON type").isEmpty();
        assertThat(types.get("worker")).containsExactly("number");
        assertThat(types.get("section")).containsExactly("number");
    }

    /** Sections that always fail, steps logged, TTIN, TTOU, then SIGTERM twice: exit 0. */
    private List<JsonObject> demoRunWithFailuresResizesAndTwoSigterms() throws Exception {
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 3
                shieldpool.work.demo { steps = 3, step-duration = 150ms, failure-probability = 1.0, log-steps = true }
                shieldpool.worker.backoff.initial = 20ms
                shieldpool.worker.backoff.max = 20ms
                """;
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            daemon.signal("TTIN");
            daemon.awaitTrue(() -> daemon.events("pool.resized").size() == 1, Duration.ofSeconds(10), "resized up");
            daemon.signal("TTOU");
            daemon.awaitTrue(() -> daemon.events("pool.resized").size() == 2, Duration.ofSeconds(10), "resized down");
            daemon.awaitTrue(() -> daemon.events("section.end").size() >= 3, Duration.ofSeconds(10), "failed sections");
            // Mid-section (a first step of a section begun after those failures), so the sections
            // in flight fail after the drain began.
            int stepsSoFar = daemon.events("section.step").size();
            daemon.await(e -> "section.step".equals(e.getString("event")) && e.getLong("step") == 1
                    && daemon.events("section.step").indexOf(e) >= stepsSoFar, Duration.ofSeconds(5), "a first step");
            daemon.signal("TERM");
            JsonObject begin = daemon.awaitEvent("shutdown.begin", Duration.ofSeconds(5));
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).as(daemon.transcript()).isZero();
            List<JsonObject> lines = allJson(daemon);

            assertThat(daemon.events("pool.override")).extracting(e -> e.getString("signal"))
                    .containsExactly("SIGTTIN", "SIGTTOU");
            assertThat(daemon.events("signal.ignored")).as(daemon.transcript())
                    .anySatisfy(e -> assertThat(e.getString("signal")).isEqualTo("SIGTERM"));
            assertThat(daemon.events("section.step")).allSatisfy(e -> {
                assertThat(e.getValue("worker")).isInstanceOf(Number.class);
                assertThat(e.getValue("section")).isInstanceOf(Number.class);
            });
            assertThat(daemon.events("vertx.closing")).hasSize(1);
            assertThat(daemon.events("vertx.closed")).hasSize(1);

            // A failure in the drain says no next try comes; one before it names its backoff.
            Instant drainBegan = DaemonProcess.timestamp(begin);
            List<JsonObject> failures = daemon.events("section.end");
            List<JsonObject> inDrain = failures.stream()
                    .filter(e -> DaemonProcess.timestamp(e).isAfter(drainBegan)).toList();
            assertThat(inDrain).as("sections in flight failed during the drain\n%s", daemon.transcript()).isNotEmpty();
            assertThat(inDrain).allSatisfy(e -> assertThat(e.getString("message"))
                    .endsWith("; no next try: draining").doesNotContain("next try in"));
            assertThat(failures.getFirst().getString("message")).matches(".*; next try in \\d+ ms");

            JsonObject complete = daemon.awaitEvent("shutdown.complete", Duration.ZERO);
            assertThat(complete.getLong("exit_code")).isZero();
            assertThat(complete.getString("level")).isEqualTo("INFO");
            return lines;
        }
    }

    /** Commands that print and then outlast a 700 ms grace: cut, exit 75, logged at WARN. */
    private List<JsonObject> execRunCutByTheGrace() throws Exception {
        Path script = dir.resolve("chatty.sh");
        Files.writeString(script, "#!/bin/sh\necho \"out $SHIELDPOOL_SECTION\"\necho err >&2\nsleep 30\n");
        script.toFile().setExecutable(true);
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 1
                shieldpool.work.type = exec
                shieldpool.work.exec.command = %s
                shieldpool.shutdown.grace = 700ms
                """.formatted(new JsonArray().add(script.toString()).encode());
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            daemon.awaitTrue(() -> daemon.events("exec.output").size() >= 2, Duration.ofSeconds(10), "exec output");
            daemon.signal("TERM");
            assertThat(daemon.awaitExit(Duration.ofSeconds(20))).as(daemon.transcript()).isEqualTo(75);
            List<JsonObject> lines = allJson(daemon);

            assertThat(daemon.events("exec.output")).allSatisfy(e -> {
                assertThat(e.getValue("worker")).isInstanceOf(Number.class);
                assertThat(e.getValue("section")).isInstanceOf(Number.class);
            });
            JsonObject cut = daemon.awaitEvent("shutdown.cut", Duration.ZERO);
            assertThat(cut.getString("level")).isEqualTo("ERROR");
            assertThat(cut.getLong("abandoned")).isEqualTo(1L);
            JsonObject complete = daemon.awaitEvent("shutdown.complete", Duration.ZERO);
            assertThat(complete.getLong("exit_code")).isEqualTo(75L);
            assertThat(complete.getString("level")).as("exit 75 is not routine").isEqualTo("WARN");
            return lines;
        }
    }

    /** SIGINT, then a second SIGINT (a new press) forces the exit: exit 75. */
    private List<JsonObject> demoRunForcedBySecondSigint() throws Exception {
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 2
                shieldpool.work.demo { steps = 3, step-duration = 2s }
                """;
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            daemon.signal("INT");
            daemon.awaitEvent("shutdown.begin", Duration.ofSeconds(5));
            Thread.sleep(io.shieldpool.control.Supervisor.SAME_KEY_PRESS.toMillis() + 100);
            daemon.signal("INT");
            assertThat(daemon.awaitExit(Duration.ofSeconds(10))).as(daemon.transcript()).isEqualTo(75);
            List<JsonObject> lines = allJson(daemon);
            assertThat(daemon.awaitEvent("shutdown.forced", Duration.ZERO).getString("level")).isEqualTo("WARN");
            assertThat(daemon.awaitEvent("shutdown.cut", Duration.ZERO).getString("reason")).isEqualTo("second SIGINT");
            assertThat(daemon.awaitEvent("shutdown.complete", Duration.ZERO).getString("level")).isEqualTo("WARN");
            return lines;
        }
    }

    /** Every stdout line, each of which must be a JSON object. */
    private static List<JsonObject> allJson(DaemonProcess daemon) {
        List<String> raw = daemon.stdout();
        List<JsonObject> parsed = daemon.events();
        assertThat(parsed).as("every stdout line is JSON:\n%s", String.join("\n", raw)).hasSameSizeAs(raw);
        return parsed;
    }

    private static String typeOf(Object value) {
        return switch (value) {
            case null -> "null";
            case String s -> "string";
            case Number n -> "number";
            case Boolean b -> "boolean";
            case JsonArray a -> "array";
            case JsonObject o -> "object";
            default -> value.getClass().getSimpleName();
        };
    }
}
