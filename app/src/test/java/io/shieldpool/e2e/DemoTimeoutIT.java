package io.shieldpool.e2e;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** work.timeout on the demo kind: checked at its step boundaries, counted as timed_out, backed off. */
@Timeout(60)
class DemoTimeoutIT {

    @TempDir
    Path dir;

    @Test
    void aDemoSectionPastWorkTimeoutEndsAsTimedOutAtItsNextStep() throws Exception {
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 2
                shieldpool.work.demo.steps = 5
                shieldpool.work.demo.step-duration = 300ms
                shieldpool.work.timeout = 700ms
                shieldpool.worker.backoff.initial = 200ms
                shieldpool.worker.backoff.max = 200ms
                """;
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            JsonObject summary = daemon.drainAfterSections(3, Duration.ofSeconds(15));
            List<JsonObject> ends = daemon.events("section.end");
            assertThat(ends).allSatisfy(end -> {
                assertThat(end.getString("outcome")).isEqualTo("timed_out");
                assertThat(end.getInteger("step")).as("the first step boundary past 700 ms").isEqualTo(3);
                assertThat(end.getString("error")).isEqualTo("work.timeout of 700 ms passed at step 3 of 5");
            });
            assertThat(summary.getLong("timed_out")).isEqualTo(ends.size());
            assertThat(summary.getLong("failed")).isZero();
        }
    }

    /** Issue 13: steps = 2 of 1 s against a 1500 ms limit ran to "completed"; the last step's end is checked too. */
    @Test
    void aDemoSectionPastWorkTimeoutAtItsLastStepIsTimedOutNotCompleted() throws Exception {
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = 1
                shieldpool.work.demo.steps = 2
                shieldpool.work.demo.step-duration = 1s
                shieldpool.work.timeout = 1500ms
                shieldpool.worker.backoff.initial = 100ms
                shieldpool.worker.backoff.max = 100ms
                """;
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            JsonObject summary = daemon.drainAfterSections(1, Duration.ofSeconds(15));
            List<JsonObject> ends = daemon.events("section.end");
            assertThat(ends).isNotEmpty().allSatisfy(end -> {
                assertThat(end.getString("outcome")).isEqualTo("timed_out");
                assertThat(end.getInteger("step")).isEqualTo(2);
                assertThat(end.getString("error")).isEqualTo("work.timeout of 1500 ms passed at step 2 of 2");
            });
            assertThat(summary.getLong("completed")).isZero();
            assertThat(summary.getLong("timed_out")).isEqualTo(ends.size());
        }
    }
}
