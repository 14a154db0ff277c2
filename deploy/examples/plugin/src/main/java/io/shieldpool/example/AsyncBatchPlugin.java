package io.shieldpool.example;

import com.typesafe.config.Config;
import io.shieldpool.plugin.AsyncSectionPlugin;
import io.shieldpool.plugin.SectionContext;
import io.vertx.core.Future;

import java.time.Duration;

/**
 * The asynchronous style: a section is a chain of futures on the worker's event loop. Each step
 * waits {@code step-duration} on a Vert.x timer (a stand-in for a non-blocking call to an API),
 * then reports its progress. Never blocks: many sections share one event loop.
 *
 * <pre>
 * shieldpool.work.type = example-async
 * shieldpool.work.example-async { steps = 3, step-duration = 200ms }
 * </pre>
 */
public final class AsyncBatchPlugin implements AsyncSectionPlugin {

    @Override
    public String type() {
        return "example-async";
    }

    @Override
    public Future<?> runSection(SectionContext section) {
        Config settings = section.config();
        int steps = settings.hasPath("steps") ? settings.getInt("steps") : 3;
        Duration stepDuration = settings.hasPath("step-duration") ? settings.getDuration("step-duration")
                : Duration.ofMillis(200);
        section.stepsTotal(steps);
        Future<Void> chain = Future.succeededFuture();
        for (int i = 1; i <= steps; i++) {
            int step = i;
            chain = chain.compose(v -> section.vertx().timer(Math.max(1, stepDuration.toMillis())).map(t -> {
                section.stepDone();
                section.logger().info("async step {} of {} done", step, steps);
                return null;
            }));
        }
        return chain;
    }
}
