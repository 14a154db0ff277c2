package io.shieldpool.control;

import io.vertx.core.Vertx;

import java.time.Duration;

/**
 * Time as the control layer sees it: a monotonic reading and one-shot timers. Injected, so the
 * drain's grace logic is tested by moving a clock by hand instead of sleeping.
 */
public interface Clock {

    /** Monotonic nanoseconds, as {@link System#nanoTime()}. */
    long nanoTime();

    /**
     * Runs {@code action} once, after {@code delay}, on the context that called this method.
     *
     * @return cancels the timer if it has not fired yet
     */
    Runnable schedule(Duration delay, Runnable action);

    /** The real clock: {@link System#nanoTime()} and Vert.x timers. */
    static Clock of(Vertx vertx) {
        return new Clock() {
            @Override
            public long nanoTime() {
                return System.nanoTime();
            }

            @Override
            public Runnable schedule(Duration delay, Runnable action) {
                long id = vertx.setTimer(Math.max(1, delay.toMillis()), ignored -> action.run());
                return () -> vertx.cancelTimer(id);
            }
        };
    }
}
