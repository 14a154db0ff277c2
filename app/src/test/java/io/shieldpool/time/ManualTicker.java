package io.shieldpool.time;

import io.vertx.core.Context;
import io.vertx.core.Vertx;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * A ticker whose time moves only when the test says; timers fire on the context that set them
 * (at once on the advancing thread when set outside any context).
 */
public final class ManualTicker implements Ticker {

    private record Timer(long dueNanos, Context context, Runnable action) {
    }

    private final List<Timer> timers = new ArrayList<>();
    private long now = 1_000_000_000L;

    @Override
    public synchronized long nanoTime() {
        return now;
    }

    @Override
    public synchronized Runnable schedule(Duration delay, Runnable action) {
        Timer timer = new Timer(now + delay.toNanos(), Vertx.currentContext(), action);
        timers.add(timer);
        return () -> {
            synchronized (this) {
                timers.remove(timer);
            }
        };
    }

    /** Moves time on by {@code by} and fires the timers that came due. */
    public void advance(Duration by) {
        List<Timer> due;
        synchronized (this) {
            now += by.toNanos();
            due = timers.stream().filter(t -> t.dueNanos() - now <= 0).toList();
            timers.removeAll(due);
        }
        for (Timer t : due) {
            if (t.context() == null) {
                t.action().run();
            } else {
                t.context().runOnContext(v -> t.action().run());
            }
        }
    }

    /** Delays from now of the timers not yet fired, soonest first. */
    public synchronized List<Duration> pending() {
        return timers.stream().map(t -> Duration.ofNanos(t.dueNanos() - now)).sorted().toList();
    }
}
