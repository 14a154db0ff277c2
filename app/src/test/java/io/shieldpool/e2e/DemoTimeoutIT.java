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

    /** What a drained run of demo sections under a work.timeout ended with. */
    private record Run(JsonObject summary, List<JsonObject> ends) {
    }

    /** The daemon with {@code workers} demo sections of {@code steps} x {@code step}, drained after {@code sections} ended. */
    private Run run(int workers, int steps, String step, String timeout, String backoff, int sections) throws Exception {
        String config = """
                shieldpool.log.level = debug
                shieldpool.pool.size = %d
                shieldpool.work.demo.steps = %d
                shieldpool.work.demo.step-duration = %s
                shieldpool.work.timeout = %s
                shieldpool.worker.backoff.initial = %s
                shieldpool.worker.backoff.max = %s
                """.formatted(workers, steps, step, timeout, backoff, backoff);
        try (DaemonProcess daemon = DaemonProcess.start(dir, config)) {
            daemon.awaitEvent("ready", Duration.ofSeconds(20));
            JsonObject summary = daemon.drainAfterSections(sections, Duration.ofSeconds(15));
            return new Run(summary, daemon.events("section.end"));
        }
    }

    @Test
    void aDemoSectionPastWorkTimeoutEndsAsTimedOutAtItsNextStep() throws Exception {
        Run run = run(2, 5, "300ms", "700ms", "200ms", 3);
        assertThat(run.ends()).allSatisfy(end -> {
            assertThat(end.getString("outcome")).isEqualTo("timed_out");
            assertThat(end.getInteger("step")).as("the first step boundary past 700 ms").isEqualTo(3);
            assertThat(end.getString("error")).isEqualTo("work.timeout of 700 ms passed at step 3 of 5");
        });
        assertThat(run.summary().getLong("timed_out")).isEqualTo(run.ends().size());
        assertThat(run.summary().getLong("failed")).isZero();
    }

    /** Issue 13: steps = 2 of 1 s against a 1500 ms limit ran to "completed"; the last step's end is checked too. */
    @Test
    void aDemoSectionPastWorkTimeoutAtItsLastStepIsTimedOutNotCompleted() throws Exception {
        Run run = run(1, 2, "1s", "1500ms", "100ms", 1);
        assertThat(run.ends()).isNotEmpty().allSatisfy(end -> {
            assertThat(end.getString("outcome")).isEqualTo("timed_out");
            assertThat(end.getInteger("step")).isEqualTo(2);
            assertThat(end.getString("error")).isEqualTo("work.timeout of 1500 ms passed at step 2 of 2");
        });
        assertThat(run.summary().getLong("completed")).isZero();
        assertThat(run.summary().getLong("timed_out")).isEqualTo(run.ends().size());
    }
}
