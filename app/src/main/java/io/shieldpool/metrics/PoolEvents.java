package io.shieldpool.metrics;

import io.shieldpool.view.PoolListener;
import io.shieldpool.view.ShutdownReport;

import java.util.concurrent.atomic.AtomicLong;

/**
 * What the pool's news tells that its status does not: reloads by result, and how long the drain
 * took once the pool has stopped. Cheap, so it is registered before the supervisor starts and
 * misses nothing, while {@link PoolMetrics} itself may be built later.
 */
public final class PoolEvents implements PoolListener {

    private final AtomicLong reloadsApplied = new AtomicLong();
    private final AtomicLong reloadsFailed = new AtomicLong();
    private volatile long finalDrainMillis = -1;

    @Override
    public void reloadEnded(boolean applied, String summary) {
        (applied ? reloadsApplied : reloadsFailed).incrementAndGet();
    }

    @Override
    public void stopped(ShutdownReport report) {
        finalDrainMillis = report.drainMillis();
    }

    long reloadsApplied() {
        return reloadsApplied.get();
    }

    long reloadsFailed() {
        return reloadsFailed.get();
    }

    /** The drain's duration once the pool has stopped, else -1. */
    long finalDrainMillis() {
        return finalDrainMillis;
    }
}
