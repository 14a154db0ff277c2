package io.shieldpool.time;

import io.vertx.core.Vertx;

import java.time.Duration;

/**
 * Time as the daemon's timing logic sees it: a monotonic reading and one-shot timers. Injected,
 * so the drain's grace cap and the job feeds' polls are tested by moving time by hand instead of
 * sleeping (a test's ticker fires its timers only when told).
 */
public interface Ticker {

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
    static Ticker of(Vertx vertx) {
        return new Ticker() {
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
