package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** A section that always fails is logged, counted, backed off, and never crashes or spins. */
@Timeout(60)
class FailingSectionIT {

    @TempDir
    Path dir;

    @Test
    void alwaysFailingSectionsBackOffExponentially() throws Exception {
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 1
                shieldpool.work.demo.steps = 1
                shieldpool.work.demo.step-duration = 0
                shieldpool.work.demo.failure-probability = 1.0
                shieldpool.worker.backoff.initial = 100ms
                shieldpool.worker.backoff.max = 400ms
                """;
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            Thread.sleep(2500);
            JsonObject summary = daemon.drainNow();

            // Failures are WARN lines (logged even at INFO), one per failed section.
            List<JsonObject> failures = daemon.events("section.end");
            assertThat(failures).isNotEmpty();
            assertThat(failures).allSatisfy(f -> {
                assertThat(f.getString("level")).isEqualTo("WARN");
                assertThat(f.getString("outcome")).isEqualTo("failed");
                assertThat(f.getString("error")).contains("simulated failure");
            });
            assertThat(summary.getLong("failed")).isEqualTo((long) failures.size());
            // 2.5 s of pauses jittered in [base/2, base) with bases 100, 200, 400, 400, ... ms: 7 to 13
            // attempts; a spinning loop makes millions.
            assertThat(failures.size()).isBetween(4, 16);
            long[] expectedMinGapMs = {50, 100, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200};
            for (int i = 1; i < failures.size(); i++) {
                Duration gap = Duration.between(DaemonProcess.timestamp(failures.get(i - 1)),
                        DaemonProcess.timestamp(failures.get(i)));
                assertThat(gap.toMillis()).as("gap before failure %d", i + 1)
                        .isGreaterThanOrEqualTo(expectedMinGapMs[i - 1] - 5);
            }
        }
    }

    @Test
    void someFailuresAmongSuccessesAreCountedAndTheDrainIsStillClean() throws Exception {
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 8
                shieldpool.work.demo.steps = 2
                shieldpool.work.demo.step-duration = 20ms
                shieldpool.work.demo.failure-probability = 0.3
                shieldpool.worker.backoff.initial = 10ms
                shieldpool.worker.backoff.max = 50ms
                """;
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            Instant until = Instant.now().plusMillis(1500);
            while (Instant.now().isBefore(until)) {
                Thread.sleep(100);
            }
            JsonObject summary = daemon.drainNow();
            assertThat(summary.getLong("failed")).isPositive();
            assertThat(summary.getLong("completed")).isGreaterThan(summary.getLong("failed"));
        }
    }
}
