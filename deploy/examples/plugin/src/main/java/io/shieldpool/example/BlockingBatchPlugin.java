package io.shieldpool.example;

import com.typesafe.config.Config;
import io.shieldpool.plugin.BlockingSectionPlugin;
import io.shieldpool.plugin.SectionContext;

import java.time.Duration;

/**
 * The blocking style: a section is plain sequential code on a virtual thread, the seed's
 * {@code for step in steps: await work_chunk()}. It awaits a Vert.x future (a timer, a stand-in for
 * an API call made with a Vert.x client) and may also block outright ({@code Thread.sleep}, JDBC).
 *
 * <pre>
 * shieldpool.work.type = example-blocking
 * shieldpool.work.example-blocking { steps = 3, step-duration = 200ms }
 * </pre>
 */
public final class BlockingBatchPlugin implements BlockingSectionPlugin {

    @Override
    public String type() {
        return "example-blocking";
    }

    @Override
    public void runSection(SectionContext section) throws Exception {
        Config settings = section.config();
        int steps = settings.hasPath("steps") ? settings.getInt("steps") : 3;
        Duration stepDuration = settings.hasPath("step-duration") ? settings.getDuration("step-duration")
                : Duration.ofMillis(200);
        section.stepsTotal(steps);
        for (int step = 1; step <= steps; step++) {
            if (step % 2 == 1) {
                section.vertx().timer(Math.max(1, stepDuration.toMillis())).await();
            } else {
                Thread.sleep(stepDuration);
            }
            section.stepDone();
            section.logger().info("blocking step {} of {} done", step, steps);
        }
    }
}
