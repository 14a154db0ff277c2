package io.shieldpool.control;

import io.shieldpool.view.PoolStatus;

import java.time.Duration;
import java.util.BitSet;

/** Bookkeeping of one drain; touched only on the supervisor's context. */
final class Drain {

    final String signal;
    final long startNanos;
    final Duration grace;
    boolean gatesClosed;
    private final BitSet drainedShards = new BitSet();

    Drain(String signal, long startNanos, Duration grace) {
        this.signal = signal;
        this.startNanos = startNanos;
        this.grace = grace;
    }

    PoolStatus.DrainProgress progress(long sectionsLeft, long nowNanos) {
        long elapsedMs = (nowNanos - startNanos) / 1_000_000;
        return new PoolStatus.DrainProgress(signal, sectionsLeft, elapsedMs, Math.max(0, grace.toMillis() - elapsedMs));
    }

    void shardDrained(int index) {
        drainedShards.set(index);
    }

    boolean allDrained(int shardCount) {
        return drainedShards.cardinality() == shardCount;
    }
}
