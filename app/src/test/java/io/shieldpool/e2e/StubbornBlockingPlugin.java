package io.shieldpool.e2e;

import com.typesafe.config.Config;
import io.shieldpool.plugin.BlockingSectionPlugin;
import io.shieldpool.plugin.SectionContext;

import java.time.Duration;

/**
 * A blocking plug-in that ignores the interrupt of its timeout for a while, as code stuck in a
 * call that swallows {@link InterruptedException} does: it waits {@code step-duration}; once
 * interrupted it keeps going for {@code hold}, still ignoring interrupts, then returns normally.
 * Packed into a plug-in jar by {@link PluginTimeoutIT} (type {@code test-stubborn}).
 */
public final class StubbornBlockingPlugin implements BlockingSectionPlugin {

    @Override
    public String type() {
        return "test-stubborn";
    }

    @Override
    public void runSection(SectionContext section) {
        Config settings = section.config();
        Duration stepDuration = settings.getDuration("step-duration");
        Duration hold = settings.getDuration("hold");
        section.logger().info("stubborn section started");
        try {
            Thread.sleep(stepDuration);
            section.stepDone();
            section.logger().info("stubborn section returns (not interrupted)");
            return;
        } catch (InterruptedException e) {
            section.logger().info("stubborn section: interrupt swallowed, going on for {} ms", hold.toMillis());
        }
        long until = System.nanoTime() + hold.toNanos();
        for (long left = hold.toNanos(); left > 0; left = until - System.nanoTime()) {
            try {
                Thread.sleep(Duration.ofNanos(Math.min(left, 50_000_000L)));
            } catch (InterruptedException again) {
                // swallowed as well: this plug-in does not stop early
            }
        }
        section.stepDone();
        section.logger().info("stubborn section returns");
    }
}
