package io.shieldpool.pool;

import io.shieldpool.view.SectionDurationSnapshot;

import java.util.Arrays;

/**
 * How long sections took, as a fixed-bucket histogram kept by one shard. Recording is a short
 * scan of a small array and two increments, on the shard's own thread: no allocation, no atomic,
 * no clock read of its own (the worker passes the duration it already has). Read only through
 * {@link #snapshot()} on that thread.
 */
final class SectionDurations {

    private static final long[] UPPER_BOUNDS_NANOS = SectionDurationSnapshot.UPPER_BOUNDS_NANOS;

    private final long[] counts = new long[UPPER_BOUNDS_NANOS.length + 1];
    private long sumNanos;

    void record(long nanos) {
        int bucket = 0;
        // why: a linear scan from the short end: sections of one work mostly land in the same
        // bucket, so the branch predicts well, and the shortest ones (the hot case) exit first.
        while (bucket < UPPER_BOUNDS_NANOS.length && nanos > UPPER_BOUNDS_NANOS[bucket]) {
            bucket++;
        }
        counts[bucket]++;
        sumNanos += nanos;
    }

    SectionDurationSnapshot snapshot() {
        return new SectionDurationSnapshot(UPPER_BOUNDS_NANOS, Arrays.copyOf(counts, counts.length), sumNanos);
    }
}
