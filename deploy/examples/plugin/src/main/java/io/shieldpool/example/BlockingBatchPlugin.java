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
 * <p>With {@code stop-early = true} it also shows a safe point: between steps, once a shutdown has
 * begun, it ends its section there (as completed) instead of running all its steps. Without it,
 * the default and the rule, a section runs to its end whatever stop request comes.
 *
 * <pre>
 * shieldpool.work.type = example-blocking
 * shieldpool.work.example-blocking { steps = 3, step-duration = 200ms, stop-early = false }
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
        boolean stopEarly = settings.hasPath("stop-early") && settings.getBoolean("stop-early");
        section.stepsTotal(steps);
        for (int step = 1; step <= steps; step++) {
            if (stopEarly && step > 1 && section.stopRequested()) {
                section.logger().info("stop requested: ending the section early after step {} of {}", step - 1, steps);
                return;
            }
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
