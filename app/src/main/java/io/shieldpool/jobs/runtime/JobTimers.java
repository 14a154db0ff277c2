package io.shieldpool.jobs.runtime;

import io.vertx.core.Vertx;

import java.time.Duration;

/**
 * Time as the job feeds and the retention sweep see it: a monotonic reading and one-shot timers.
 * Injected, so the poll and due-time logic is tested by moving time by hand instead of sleeping.
 * why not the control layer's {@code Clock}: the jobs layer sits below it and may not use it.
 */
interface JobTimers {

    /** Monotonic nanoseconds, as {@link System#nanoTime()}. */
    long nanoTime();

    /**
     * Runs {@code action} once, after {@code delay}, on the context that called this method (on
     * an event loop of Vert.x's choosing when called from outside one).
     *
     * @return cancels the timer if it has not fired yet
     */
    Runnable schedule(Duration delay, Runnable action);

    /** The real time: {@link System#nanoTime()} and Vert.x timers. */
    static JobTimers of(Vertx vertx) {
        return new JobTimers() {
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
